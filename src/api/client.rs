//! Our 1MSG client: one method per endpoint we use, and a classifier that
//! turns every possible answer to `sendTemplate` into one decision.
//!
//! The classification is the heart of "nothing sent twice": 1MSG has no
//! idempotency key, so a send is retried only when the request provably did
//! not reach the API or was refused for pace; anything that *may* have been
//! accepted is `Ambiguous` and never resent automatically
//! (`shared/docs/reliability.md` §1–2). There is deliberately no retry
//! middleware on this client.
//!
//! The token travels only in the `Authorization` header, marked sensitive,
//! and errors are stripped of their URL before they are shown.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use serde_json::Value;

use super::wire::{
    HistoryMessage, Hook, HookInfoResponse, MessagesResponse, SendTemplateRequest,
    SendTemplateResponse, TemplateInfo, TemplatesResponse,
};

/// The channel token, in a `secrecy` box: it has no `Display`, its
/// `Debug` prints `[REDACTED]`, it is zeroed when dropped, and it is read
/// (`expose`) in exactly one place, where the request header is built.
#[derive(Clone)]
pub struct Token(secrecy::SecretString);

impl Token {
    pub fn new(s: impl Into<String>) -> Token {
        Token(secrecy::SecretString::from(s.into()))
    }

    fn expose(&self) -> &str {
        use secrecy::ExposeSecret;
        self.0.expose_secret()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([REDACTED])")
    }
}

/// Timeouts for the HTTP client.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
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

/// Why the whole run must stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fatal {
    /// 401/403: the token or the channel is wrong (exit 77).
    Credentials,
    /// The template, its language or its parameters do not fit (exit 78).
    Configuration,
    /// The API is down: a run of 5xx or timeouts (exit 69).
    Unavailable,
}

/// Why a send may be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryKind {
    /// The connection could not be made: the request never left.
    Connect,
    /// HTTP 429: every sender pauses until `after`.
    TooManyRequests,
    /// Meta 130429: the channel's throughput; slow down globally.
    Throughput,
    /// Meta 131056: this recipient was sent to too soon; re-pace it only.
    PairRate,
    /// Meta 131000: "something went wrong", explicitly not processed.
    Transient,
}

/// The decision about one `sendTemplate` answer.
#[derive(Debug, Clone, PartialEq)]
pub enum SendClass {
    /// `sent:true` with an id: store the wamid at once.
    Accepted { wamid: String },
    /// Provably not processed; may be sent again after `after` (if given).
    Retry {
        kind: RetryKind,
        after: Option<Duration>,
    },
    /// May or may not have been accepted: never resent automatically.
    Ambiguous,
    /// Refused for this row: `rejected`.
    Rejected,
    /// Refused in a way that will refuse every row: stop the run.
    Fatal(Fatal),
}

/// One answer with everything the ledger and the report keep of it.
#[derive(Debug, Clone, PartialEq)]
pub struct SendAnswer {
    pub class: SendClass,
    pub http_status: Option<u16>,
    pub error_code: Option<i64>,
    /// Human text: the API's message, or what went wrong on the wire.
    pub detail: Option<String>,
}

/// A failure of a read-only call (templates, hookInfo, messages).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the API refused our credentials (HTTP {status})")]
    Credentials { status: u16 },
    #[error("the API answered HTTP {status}: {detail}")]
    Status { status: u16, detail: String },
    #[error("failed to reach the API: {0}")]
    Transport(String),
    #[error("the API's answer could not be read: {0}")]
    Body(String),
}

impl ApiError {
    /// Whether trying again later might help.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Credentials { .. } => false,
            ApiError::Status { status, .. } => *status == 429 || *status >= 500,
            ApiError::Transport(_) | ApiError::Body(_) => true,
        }
    }
}

/// A 1MSG channel client.
#[derive(Clone)]
pub struct Client {
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
    pub fn new(
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
    pub fn requests(&self) -> Vec<(&'static str, String, u64)> {
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
    pub async fn send_template(&self, request: &SendTemplateRequest<'_>) -> SendAnswer {
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
    pub async fn hook_info(&self, wamid: &str) -> Result<Vec<Hook>, ApiError> {
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
    pub async fn templates(&self) -> Result<Vec<TemplateInfo>, ApiError> {
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
    pub async fn messages(
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

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// The text of an `{"error": …}` body, or the raw body, shortened.
fn error_text(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(v) => message_of(&v).unwrap_or_else(|| v.to_string()),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    shorten(text.trim(), 300)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// The human message of an error body, looking where 1MSG puts it:
/// `message`, then `error` as a string, then Meta's error object.
fn message_of(v: &Value) -> Option<String> {
    if let Some(m) = v.get("message").and_then(Value::as_str) {
        return Some(m.to_string());
    }
    match v.get("error")? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => ["error_user_msg", "error_user_title", "message"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str))
            .map(str::to_string),
        _ => None,
    }
}

/// The Meta error code of a `sent:false` answer: `error.code`,
/// `error.error_code`, or `(#NNN)` in the message.
fn meta_code(r: &SendTemplateResponse) -> Option<i64> {
    if let Some(Value::Object(o)) = &r.error {
        for key in ["code", "error_code"] {
            match o.get(key) {
                Some(Value::Number(n)) => return n.as_i64(),
                Some(Value::String(s)) => {
                    if let Ok(n) = s.parse() {
                        return Some(n);
                    }
                }
                _ => {}
            }
        }
    }
    let text = r.message.as_deref()?;
    let start = text.find("(#")? + 2;
    let end = start + text[start..].find(')')?;
    text[start..end].parse().ok()
}

/// What a status alone says: an error status whatever its body, or a
/// status whose body could not be read.
fn classify_status_only(status: StatusCode, retry_after: Option<Duration>) -> SendClass {
    match status.as_u16() {
        401 | 403 => SendClass::Fatal(Fatal::Credentials),
        429 => SendClass::Retry {
            kind: RetryKind::TooManyRequests,
            after: retry_after,
        },
        400 | 404 | 422 => SendClass::Rejected,
        // 5xx, a 2xx cut off, anything unexpected: the request reached the
        // API and we cannot know what it did.
        _ => SendClass::Ambiguous,
    }
}

/// Classifies a complete answer. Public so the table can be unit-tested.
pub fn classify(status: StatusCode, retry_after: Option<Duration>, body: &[u8]) -> SendAnswer {
    let code = status.as_u16();
    let answer = |class, error_code, detail: Option<String>| SendAnswer {
        class,
        http_status: Some(code),
        error_code,
        detail,
    };
    if !status.is_success() {
        // 1MSG's 401 text echoes the token it was given ("Wrong token
        // \"xxx…xxx\""), barely masked: never carry it into a report or log.
        let detail = Some(if matches!(code, 401 | 403) {
            format!("the API refused the token for this channel (HTTP {code})")
        } else {
            error_text(body)
        });
        return answer(classify_status_only(status, retry_after), None, detail);
    }
    let parsed: SendTemplateResponse = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(_) => {
            return answer(
                SendClass::Ambiguous,
                None,
                Some(format!(
                    "HTTP {code} with an unreadable body: {}",
                    shorten(&String::from_utf8_lossy(body), 200)
                )),
            );
        }
    };
    match (parsed.sent, parsed.id.as_deref()) {
        (Some(true), Some(id)) if !id.trim().is_empty() => {
            return answer(
                SendClass::Accepted {
                    wamid: id.trim().to_string(),
                },
                None,
                None,
            );
        }
        (Some(true), _) => {
            return answer(
                SendClass::Ambiguous,
                None,
                Some("the API said sent:true but gave no message id".into()),
            );
        }
        _ => {}
    }
    if let Some(job) = &parsed.job_id {
        return answer(
            SendClass::Ambiguous,
            None,
            Some(format!(
                "the API queued the send as job {job} and gave no message id"
            )),
        );
    }
    let meta = meta_code(&parsed);
    let detail = message_of(&serde_json::to_value(&parsed).unwrap_or_default())
        .or_else(|| Some("the API answered sent:false without a reason".into()));
    let class = match meta {
        Some(130429) => SendClass::Retry {
            kind: RetryKind::Throughput,
            after: None,
        },
        Some(131056) => SendClass::Retry {
            kind: RetryKind::PairRate,
            after: None,
        },
        Some(131000) => SendClass::Retry {
            kind: RetryKind::Transient,
            after: None,
        },
        Some(132000 | 132001 | 132015 | 132016) => SendClass::Fatal(Fatal::Configuration),
        _ => SendClass::Rejected,
    };
    answer(class, meta, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> SendAnswer {
        classify(StatusCode::OK, None, body.as_bytes())
    }

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

    #[test]
    fn acceptance_needs_sent_true_and_an_id() {
        assert_eq!(
            ok(r#"{"sent":true,"id":"wamid.1","message":"Sent to 1@c.us"}"#).class,
            SendClass::Accepted {
                wamid: "wamid.1".into()
            }
        );
        assert_eq!(ok(r#"{"sent":true}"#).class, SendClass::Ambiguous);
        assert_eq!(ok("not json").class, SendClass::Ambiguous);
        assert_eq!(
            ok(r#"{"sent":false,"message":"queued","jobId":"j1"}"#).class,
            SendClass::Ambiguous
        );
    }

    #[test]
    fn meta_codes_decide_retry_reject_or_stop() {
        let a = ok(r#"{"sent":false,"message":"(#131056) pair rate limit hit"}"#);
        assert_eq!(a.error_code, Some(131056));
        assert!(matches!(
            a.class,
            SendClass::Retry {
                kind: RetryKind::PairRate,
                ..
            }
        ));
        let a = ok(r#"{"sent":false,"message":"x","error":{"code":130429,"message":"x"}}"#);
        assert!(matches!(
            a.class,
            SendClass::Retry {
                kind: RetryKind::Throughput,
                ..
            }
        ));
        let a = ok(r#"{"sent":false,"message":"(#132001) Template name does not exist"}"#);
        assert_eq!(a.class, SendClass::Fatal(Fatal::Configuration));
        let a = ok(r#"{"sent":false,"message":"rejected"}"#);
        assert_eq!(a.class, SendClass::Rejected);
        assert_eq!(a.detail.as_deref(), Some("rejected"));
        let a = ok(r#"{"sent":false,"error":{"error_code":"131026","message":"undeliverable"}}"#);
        assert_eq!(a.error_code, Some(131026));
        assert_eq!(a.class, SendClass::Rejected);
    }

    #[test]
    fn http_statuses() {
        let c =
            |s: u16| classify(StatusCode::from_u16(s).unwrap(), None, b"{\"error\":\"x\"}").class;
        assert_eq!(c(401), SendClass::Fatal(Fatal::Credentials));
        assert_eq!(c(403), SendClass::Fatal(Fatal::Credentials));
        assert_eq!(c(400), SendClass::Rejected);
        assert_eq!(c(500), SendClass::Ambiguous);
        assert_eq!(c(503), SendClass::Ambiguous);
        let a = classify(
            StatusCode::TOO_MANY_REQUESTS,
            Some(Duration::from_secs(3)),
            b"{\"error\":\"Too many requests\"}",
        );
        assert_eq!(
            a.class,
            SendClass::Retry {
                kind: RetryKind::TooManyRequests,
                after: Some(Duration::from_secs(3))
            }
        );
        assert_eq!(a.detail.as_deref(), Some("Too many requests"));
    }

    #[test]
    fn a_refused_token_is_never_echoed() {
        let a = classify(
            StatusCode::UNAUTHORIZED,
            None,
            br#"{"error":"Wrong token \"xxxRY-SECRET-VALUExxx\" for channel \"1\"."}"#,
        );
        let detail = a.detail.unwrap();
        assert!(!detail.contains("SECRET"), "{detail}");
        assert!(detail.contains("HTTP 401"));
    }

    #[test]
    fn retry_after_in_both_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        let later = chrono::Utc::now() + chrono::Duration::seconds(30);
        let d = parse_retry_after(&later.to_rfc2822()).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn token_never_prints() {
        let t = Token::new("CANARY-secret");
        assert!(!format!("{t:?}").contains("CANARY"));
    }
}
