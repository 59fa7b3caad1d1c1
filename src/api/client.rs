//! Our 1MSG client: one method per endpoint we use. Every answer to
//! `sendTemplate` becomes one decision in `classify.rs`, whose types are
//! re-exported here; there is deliberately no retry middleware on this
//! client (see there why). The read-only endpoints are in `reads.rs`.
//!
//! The token travels in the `Authorization` header, marked sensitive, or,
//! with `--token-in query`, in the query string, where the specs put it
//! (docs/real-api.md, A4). Either way no text leaves this client
//! with the token in it: errors are stripped of their URL, and every detail
//! and error text is redacted before it is shown.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};

use super::classify::classify_status_only;
pub(crate) use super::classify::{
    ApiError, Fatal, RetryKind, SendAnswer, SendClass, classify, parse_retry_after,
};
use super::detail::{error_text, redact};
pub(crate) use super::token::Token;
use super::wire::SendTemplateRequest;

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

/// Where each request carries the token (`--token-in`; each variant's `///`
/// line is its `--help` text).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TokenIn {
    /// `Authorization: Bearer <token>`.
    // As the vendor's n8n node and agent guide send it.
    #[default]
    Header,
    /// `?token=<token>` in the query string, as the API's specs declare.
    // On every request, as both OpenAPI specs declare it: for routes that
    // refuse the header.
    Query,
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
    /// The `Authorization` value; `None` when the token travels in the
    /// query.
    header: Option<HeaderValue>,
    /// Kept for the query, and to redact it from any text an answer brings
    /// back.
    token: Token,
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
            .field("token_in", &self.token_in())
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

/// A reqwest error as text, without the URL (which carries the token with
/// `--token-in query`) and with its cause chain.
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off"
    } else {
        "the request failed"
    }
    .to_string();
    for cause in std::iter::successors(e.source(), |s| (*s).source()) {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
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
        token_in: TokenIn,
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
        let header = match token_in {
            TokenIn::Header => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                    .map_err(|_| {
                        ApiError::Transport(
                            "the token contains characters not allowed in an HTTP header".into(),
                        )
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
            TokenIn::Query => None,
        };
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
            header,
            token: token.clone(),
            requests: Arc::default(),
        })
    }

    /// Where this client puts the token.
    pub(crate) fn token_in(&self) -> TokenIn {
        if self.header.is_some() {
            TokenIn::Header
        } else {
            TokenIn::Query
        }
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

    /// A request to `method` carrying the token where it was configured.
    fn request(&self, http_method: reqwest::Method, method: &str) -> reqwest::RequestBuilder {
        let builder = self.http.request(http_method, self.url(method));
        match &self.header {
            Some(value) => builder.header(AUTHORIZATION, value.clone()),
            None => builder.query(&[("token", self.token.expose())]),
        }
    }

    /// `text` without the token.
    fn clean(&self, text: &str) -> String {
        redact(text, self.token.expose())
    }

    /// Sends one template message and classifies the answer.
    pub(crate) async fn send_template(&self, request: &SendTemplateRequest<'_>) -> SendAnswer {
        let mut answer = self.send_template_raw(request).await;
        answer.detail = answer.detail.map(|d| self.clean(&d));
        answer
    }

    async fn send_template_raw(&self, request: &SendTemplateRequest<'_>) -> SendAnswer {
        let result = self
            .request(reqwest::Method::POST, "sendTemplate")
            .json(request)
            .send()
            .await;
        self.count("sendTemplate", result.as_ref().ok().map(|r| r.status()));
        let (class, http_status, retry_after, e) = match result {
            Ok(response) => {
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after);
                match response.bytes().await {
                    Ok(body) => return classify(status, retry_after, &body),
                    // The status line arrived but the body did not: if it
                    // was a 2xx the message may well have been accepted.
                    Err(e) => (
                        classify_status_only(status),
                        Some(status.as_u16()),
                        retry_after,
                        e,
                    ),
                }
            }
            Err(e) if e.is_connect() => (SendClass::Retry(RetryKind::Connect), None, None, e),
            Err(e) => (SendClass::UNSAID, None, None, e),
        };
        SendAnswer {
            class,
            http_status,
            error_code: None,
            detail: Some(describe(&e)),
            retry_after,
            held: false,
        }
    }

    /// GETs `method` and returns its JSON (also the preflight's probes). A
    /// 401/403 is `Credentials` (naming the route), any other error status
    /// `Status`; every text is redacted.
    pub(crate) async fn get_value(
        &self,
        method: &'static str,
        query: &[(&str, String)],
    ) -> Result<serde_json::Value, ApiError> {
        let builder = self.request(reqwest::Method::GET, method).query(query);
        self.answer_of(method, builder).await
    }

    /// A POST of a JSON body to `method`, read like a GET's answer (the
    /// webhook registration's writes).
    pub(super) async fn post_value(
        &self,
        method: &'static str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ApiError> {
        let builder = self.request(reqwest::Method::POST, method).json(body);
        self.answer_of(method, builder).await
    }

    /// The JSON of an answer, or its error without the token.
    async fn answer_of(
        &self,
        method: &'static str,
        builder: reqwest::RequestBuilder,
    ) -> Result<serde_json::Value, ApiError> {
        let mut result = self.read_answer(method, builder).await;
        if let Err(
            ApiError::Status { detail: text, .. }
            | ApiError::Credentials { said: text, .. }
            | ApiError::Transport(text)
            | ApiError::Body(text)
            | ApiError::Answered(text),
        ) = &mut result
        {
            *text = self.clean(text);
        }
        result
    }

    async fn read_answer(
        &self,
        method: &'static str,
        builder: reqwest::RequestBuilder,
    ) -> Result<serde_json::Value, ApiError> {
        let response = builder.send().await.map_err(|e| {
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
                route: method,
                status: status.as_u16(),
                said: if status == StatusCode::FORBIDDEN {
                    format!(": {}", error_text(&body))
                } else {
                    String::new()
                },
            });
        }
        if !status.is_success() {
            return Err(ApiError::Status {
                status: status.as_u16(),
                detail: error_text(&body),
            });
        }
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::Body(format!("{e}: {}", error_text(&body))))
    }
}

#[cfg(test)]
mod tests;
