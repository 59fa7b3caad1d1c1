use super::*;

/// A server that answers every request with a 307 to itself, and
/// counts the requests it got.
fn redirecting_server() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (count, location) = (Arc::clone(&hits), base.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 8192];
            let _ = stream.read(&mut buf);
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = write!(
                stream,
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}/C1/sendTemplate\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (base, hits)
}

#[test]
fn method_urls_keep_the_api_path_and_other_schemes_are_refused() {
    let token = Token::new("t0ken".to_string());
    let client = Client::new(
        "HTTP://h:8/prefix/",
        "C1",
        &token,
        Timeouts::default(),
        TokenIn::Header,
    )
    .unwrap();
    for method in ["sendTemplate", "hookInfo", "templates", "messages"] {
        assert_eq!(
            client.url(method).as_str(),
            format!("http://h:8/prefix/C1/{method}")
        );
    }
    let e = Client::new(
        "localhost:8080",
        "C1",
        &token,
        Timeouts::default(),
        TokenIn::Header,
    )
    .unwrap_err();
    assert!(e.to_string().contains("http:// or https://"), "{e}");
}

#[tokio::test]
async fn a_redirect_is_not_followed_so_a_send_is_posted_once() {
    let (base, hits) = redirecting_server();
    let token = Token::new("t0ken".to_string());
    let client = Client::new(&base, "C1", &token, Timeouts::default(), TokenIn::Header).unwrap();
    let request = SendTemplateRequest::with_body("4915112345678", "tpl", None, "en", &["a"]);
    let answer = client.send_template(&request).await;
    assert_eq!(answer.class, SendClass::UNSAID);
    assert_eq!(answer.http_status, Some(307));
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(client.requests(), [("sendTemplate", "307".to_string(), 1)]);
}

/// A server that answers every request with `status` and `body`, and
/// keeps each request's head (request line and headers) as text.
fn canned_server(status: &'static str, body: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&heads);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = vec![0u8; 16384];
            let n = stream.read(&mut buf).unwrap_or(0);
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            let head = text.split("\r\n\r\n").next().unwrap_or("").to_string();
            seen.lock().unwrap().push(head);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, heads)
}

const SECRET: &str = "CANARY-secret-0123456789";

fn client_for(base: &str, token_in: TokenIn) -> Client {
    Client::new(
        base,
        "C1",
        &Token::new(SECRET),
        Timeouts::default(),
        token_in,
    )
    .unwrap()
}

#[tokio::test]
async fn the_token_goes_in_the_query_or_the_header_never_both() {
    let (base, heads) = canned_server("200 OK", r#"{"hooks":[]}"#);
    let info = client_for(&base, TokenIn::Query)
        .hook_info("wamid.1")
        .await
        .unwrap();
    assert_eq!(info, crate::api::reads::HookInfo::default());
    let head = heads.lock().unwrap().remove(0);
    let line = head.lines().next().unwrap();
    assert!(line.contains(&format!("token={SECRET}")), "{line}");
    assert!(line.contains("messageId=wamid.1"), "{line}");
    assert!(
        !head.to_ascii_lowercase().contains("authorization:"),
        "{head}"
    );

    client_for(&base, TokenIn::Header)
        .hook_info("wamid.1")
        .await
        .unwrap();
    let head = heads.lock().unwrap().remove(0);
    assert!(!head.lines().next().unwrap().contains("token="), "{head}");
    assert!(head.contains(&format!("Bearer {SECRET}")), "{head}");

    let request = SendTemplateRequest::with_body("4915112345678", "tpl", None, "en", &["a"]);
    let _ = client_for(&base, TokenIn::Query)
        .send_template(&request)
        .await;
    let head = heads.lock().unwrap().remove(0);
    assert!(head.starts_with("POST /C1/sendTemplate?token="), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("authorization:"),
        "{head}"
    );
}

#[tokio::test]
async fn a_403_shows_its_text_without_the_token() {
    let (base, _) = canned_server(
        "403 Forbidden",
        "Channel is in trial mode (token CANARY-secret-0123456789)",
    );
    for token_in in [TokenIn::Header, TokenIn::Query] {
        let client = client_for(&base, token_in);
        let request = SendTemplateRequest::with_body("4915112345678", "tpl", None, "en", &["a"]);
        let answer = client.send_template(&request).await;
        assert_eq!(answer.class, SendClass::Fatal(Fatal::Credentials));
        let detail = answer.detail.unwrap();
        assert!(detail.contains("Channel is in trial mode"), "{detail}");
        assert!(!detail.contains("CANARY"), "{detail}");
        let e = client.hook_info("wamid.1").await.unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("on hookInfo (HTTP 403): Channel is in trial mode"),
            "{text}"
        );
        assert!(!text.contains("CANARY"), "{text}");
    }
}

#[tokio::test]
async fn a_404_on_hook_info_is_marked_and_no_answer_never_shows_the_url() {
    let (base, _) = canned_server("404 Not Found", "could not find that method");
    let info = client_for(&base, TokenIn::Query)
        .hook_info("w")
        .await
        .unwrap();
    assert!(info.not_found && info.hooks.is_empty());
    // Nothing listens on port 1: the error names no URL, so no token.
    let client = client_for("http://127.0.0.1:1", TokenIn::Query);
    let e = client.hook_info("w").await.unwrap_err().to_string();
    assert!(!e.contains("CANARY") && !e.contains("token="), "{e}");
    let request = SendTemplateRequest::with_body("4915112345678", "tpl", None, "en", &["a"]);
    let answer = client.send_template(&request).await;
    let detail = answer.detail.unwrap();
    assert!(
        !detail.contains("CANARY") && !detail.contains("token="),
        "{detail}"
    );
    assert!(!format!("{client:?}").contains("CANARY"));
}
