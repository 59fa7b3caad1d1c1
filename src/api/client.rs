//! Our 1MSG client: one method per endpoint we use. Every answer to
//! `sendTemplate` becomes one decision in `classify.rs`, whose types are
//! re-exported here; there is deliberately no retry middleware on this
//! client (see there why).
//!
//! The token travels only in the `Authorization` header, marked sensitive,
//! and errors are stripped of their URL before they are shown.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};

use super::wire::{
    HistoryMessage, Hook, HookInfoResponse, MessagesResponse, SendTemplateRequest, TemplateInfo,
    TemplatesResponse,
};

pub(crate) use super::classify::{
    ApiError, Fatal, RetryKind, SendAnswer, SendClass, classify, parse_retry_after,
};
use super::classify::{classify_status_only, error_text};
pub(crate) use super::token::Token;

/// Timeouts for the HTTP client.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub connect: Duration,
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(30),
        }
    }
}

/// A 1MSG channel client.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    /// `<api_url>/<channel>`: each method's URL is this plus one segment.
    channel_url: reqwest::Url,
    /// The two URLs of the hot path, built once instead of per request.
    send_template_url: reqwest::Url,
    hook_info_url: reqwest::Url,
    auth: HeaderValue,
    /// Requests by (endpoint, HTTP status or none when no answer arrived),
    /// for the metrics file.
    requests: Arc<Mutex<RequestCounts>>,
}

/// Requests by endpoint and HTTP status (none: no answer arrived).
type RequestCounts = BTreeMap<(&'static str, Option<StatusCode>), u64>;

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("channel_url", &self.channel_url.as_str())
            .finish()
    }
}

/// `channel_url` plus the method's segment. `channel_url` is http(s)
/// (checked in [`Client::new`]), so it has a path to add to.
fn method_url(channel_url: &reqwest::Url, method: &str) -> reqwest::Url {
    let mut url = channel_url.clone();
    url.path_segments_mut()
        .expect("an http(s) URL has path segments")
        .push(method);
    url
}

/// A reqwest error as text, without the URL (which could carry a token if
/// someone configured one in the query) and with its cause chain.
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = String::new();
    let mut source: Option<&dyn Error> = e.source();
    let head = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off"
    } else {
        "the request failed"
    };
    text.push_str(head);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

impl Client {
    /// `api_url` is the base (`https://api.1msg.io`), `channel` the
    /// instance id.
    pub(crate) fn new(
        api_url: &str,
        channel: &str,
        token: &Token,
        timeouts: Timeouts,
    ) -> Result<Client, ApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            // Below common server keep-alives, so a pooled connection is
            // rarely reset under a POST (an ambiguous loss).
            .pool_idle_timeout(Duration::from_secs(20))
            .user_agent(concat!("handoff/", env!("CARGO_PKG_VERSION")))
            // The API does not redirect. Following a 307/308 would POST a
            // sendTemplate again to wherever it points (a second send, and
            // the token with it); a redirect is classified like any other
            // unexpected status: ambiguous, looked up, never blindly resent.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ApiError::Transport(describe(&e)))?;
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                ApiError::Transport(
                    "the token contains characters not allowed in an HTTP header".into(),
                )
            })?;
        auth.set_sensitive(true);
        let channel_url =
            reqwest::Url::parse(&format!("{}/{channel}", api_url.trim_end_matches('/'))).map_err(
                |e| ApiError::Transport(format!("the API URL `{api_url}` is not valid: {e}")),
            )?;
        // Any other scheme (`localhost:8080` parses as scheme `localhost`)
        // has no path to add a method to.
        if !matches!(channel_url.scheme(), "http" | "https") {
            return Err(ApiError::Transport(format!(
                "the API URL `{api_url}` must start with http:// or https://"
            )));
        }
        Ok(Client {
            http,
            send_template_url: method_url(&channel_url, "sendTemplate"),
            hook_info_url: method_url(&channel_url, "hookInfo"),
            channel_url,
            auth,
            requests: Arc::default(),
        })
    }

    fn count(&self, endpoint: &'static str, status: Option<StatusCode>) {
        let mut map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry((endpoint, status)).or_default() += 1;
    }

    /// Requests made so far by (endpoint, result), where the result is the
    /// HTTP status or `error` when no answer arrived.
    pub(crate) fn requests(&self) -> Vec<(&'static str, String, u64)> {
        let map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        map.iter()
            .map(|((e, status), n)| {
                let result = status.as_ref().map_or("error", StatusCode::as_str);
                (*e, result.to_string(), *n)
            })
            .collect()
    }

    fn url(&self, method: &str) -> reqwest::Url {
        match method {
            "sendTemplate" => self.send_template_url.clone(),
            "hookInfo" => self.hook_info_url.clone(),
            _ => method_url(&self.channel_url, method),
        }
    }

    /// Sends one template message and classifies the answer.
    pub(crate) async fn send_template(&self, request: &SendTemplateRequest<'_>) -> SendAnswer {
        let result = self
            .http
            .post(self.url("sendTemplate"))
            .header(AUTHORIZATION, self.auth.clone())
            .json(request)
            .send()
            .await;
        let response = match result {
            Ok(r) => {
                self.count("sendTemplate", Some(r.status()));
                r
            }
            Err(e) => {
                self.count("sendTemplate", None);
                let class = if e.is_connect() {
                    SendClass::Retry {
                        kind: RetryKind::Connect,
                        after: None,
                    }
                } else {
                    SendClass::Ambiguous
                };
                return SendAnswer {
                    class,
                    http_status: None,
                    error_code: None,
                    detail: Some(describe(&e)),
                };
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = response.bytes().await;
        let body = match body {
            Ok(b) => b,
            Err(e) => {
                // The status line arrived but the body did not: if it was a
                // 2xx the message may well have been accepted.
                let class = classify_status_only(status, retry_after);
                return SendAnswer {
                    class,
                    http_status: Some(status.as_u16()),
                    error_code: None,
                    detail: Some(describe(&e)),
                };
            }
        };
        classify(status, retry_after, &body)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        method: &'static str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let response = self
            .http
            .get(self.url(method))
            .header(AUTHORIZATION, self.auth.clone())
            .query(query)
            .send()
            .await
            .map_err(|e| {
                self.count(method, None);
                ApiError::Transport(describe(&e))
            })?;
        let status = response.status();
        self.count(method, Some(status));
        let body = response
            .bytes()
            .await
            .map_err(|e| ApiError::Transport(describe(&e)))?;
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(ApiError::Credentials {
                status: status.as_u16(),
            });
        }
        if !status.is_success() {
            return Err(ApiError::Status {
                status: status.as_u16(),
                detail: error_text(&body),
            });
        }
        serde_json::from_slice(&body).map_err(|e| ApiError::Body(e.to_string()))
    }

    /// The statuses received so far for one message.
    pub(crate) async fn hook_info(&self, wamid: &str) -> Result<Vec<Hook>, ApiError> {
        match self
            .get_json::<HookInfoResponse>("hookInfo", &[("messageId", wamid.to_string())])
            .await
        {
            Ok(r) => Ok(r.hooks),
            // Some deployments answer 404 for an id with no hooks yet; that
            // is "nothing yet", not a failure.
            Err(ApiError::Status { status: 404, .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Every template of the channel. Pages through `limit`/`offset` and
    /// stops when a page adds nothing new, because the real list sometimes
    /// ignores `offset` and answers the first page again.
    pub(crate) async fn templates(&self) -> Result<Vec<TemplateInfo>, ApiError> {
        const PAGE: usize = 100;
        let mut all: Vec<TemplateInfo> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for page in 0..20 {
            let r: TemplatesResponse = self
                .get_json(
                    "templates",
                    &[
                        ("limit", PAGE.to_string()),
                        ("offset", (page * PAGE).to_string()),
                    ],
                )
                .await?;
            let count = r.templates.len();
            let mut added = 0;
            for t in r.templates {
                let key = format!("{}\u{0}{}", t.name, t.language_code().unwrap_or_default());
                if seen.insert(key) {
                    all.push(t);
                    added += 1;
                }
            }
            let total_reached = r.total.is_some_and(|t| all.len() as u64 >= t);
            if added == 0 || count < PAGE || total_reached {
                break;
            }
        }
        Ok(all)
    }

    /// Outgoing and incoming history of one chat between two instants
    /// (unix seconds); `Ok(None)` when the channel keeps no history.
    pub(crate) async fn messages(
        &self,
        phone: &str,
        min_time: i64,
        max_time: i64,
    ) -> Result<Option<Vec<HistoryMessage>>, ApiError> {
        let r: MessagesResponse = self
            .get_json(
                "messages",
                &[
                    ("chatId", format!("{phone}@c.us")),
                    ("min_time", min_time.to_string()),
                    ("max_time", max_time.to_string()),
                    ("limit", "0".to_string()),
                ],
            )
            .await?;
        if r.notice.is_some() && r.messages.is_empty() {
            Ok(None)
        } else {
            Ok(Some(r.messages))
        }
    }
}

#[cfg(test)]
mod tests {
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
        let client = Client::new("HTTP://h:8/prefix/", "C1", &token, Timeouts::default()).unwrap();
        for method in ["sendTemplate", "hookInfo", "templates", "messages"] {
            assert_eq!(
                client.url(method).as_str(),
                format!("http://h:8/prefix/C1/{method}")
            );
        }
        let e = Client::new("localhost:8080", "C1", &token, Timeouts::default()).unwrap_err();
        assert!(e.to_string().contains("http:// or https://"), "{e}");
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed_so_a_send_is_posted_once() {
        let (base, hits) = redirecting_server();
        let token = Token::new("t0ken".to_string());
        let client = Client::new(&base, "C1", &token, Timeouts::default()).unwrap();
        let request = SendTemplateRequest::with_body("4915112345678", "tpl", None, "en", &["a"]);
        let answer = client.send_template(&request).await;
        assert_eq!(answer.class, SendClass::Ambiguous);
        assert_eq!(answer.http_status, Some(307));
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(client.requests(), [("sendTemplate", "307".to_string(), 1)]);
    }
}
