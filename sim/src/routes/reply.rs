//! The answers the routes share: error bodies in the shapes the real API
//! uses (they are not uniform), a proxy's HTML pages, hanging up.

use std::time::Duration;

use axum::Extension;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::scenario::meta_error_title;
use crate::server::Killer;

/// What the API answers for a path it does not have.
pub(super) const NO_SUCH_METHOD: &str = "could not find that method";

/// `{"error": text}` with `status`.
pub(super) fn error(status: StatusCode, text: impl Into<String>) -> Response {
    (status, Json(json!({ "error": text.into() }))).into_response()
}

/// HTTP 200 `sent:false` with a Meta code, as 1MSG relays Meta's refusals.
pub(super) fn refused(code: i64, details: &str) -> Response {
    let title = meta_error_title(code);
    Json(json!({
        "sent": false,
        "message": format!("(#{code}) {title}"),
        "error": {"code": code, "message": format!("(#{code}) {title}"), "error_data": {"details": details}},
    }))
    .into_response()
}

/// A Laravel validation failure: 422 `{"message":…,"errors":{field:[…]}}`.
pub(super) fn unprocessable(field: &str, text: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"message": text, "errors": {field: [text]}})),
    )
        .into_response()
}

/// 429, with `Retry-After` seconds when `retry_after` is given.
pub(super) fn too_many(retry_after: Option<u64>) -> Response {
    let mut resp = error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// The page nginx answers for a 502 or 504 in front of the API.
pub(super) fn html_page(status: StatusCode) -> Response {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default()
    );
    let page = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

/// A failure of `status` in the form the API's front answers it: an HTML
/// page for 502/504, a JSON error otherwise; a 429 with `retry_after`.
pub(super) fn failure(status: StatusCode, retry_after: Option<u64>) -> Response {
    match status {
        StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT => html_page(status),
        StatusCode::TOO_MANY_REQUESTS => too_many(retry_after),
        StatusCode::INTERNAL_SERVER_ERROR => error(status, "Internal server error"),
        _ => error(status, status.canonical_reason().unwrap_or("error")),
    }
}

pub(super) async fn sleep(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

/// Closes the connection without an answer. Without a killer (the router
/// served by something other than [`crate::server`]) the best we can do
/// is a 502, which a client must treat just as ambiguously.
pub(super) async fn drop_connection(killer: Option<Extension<Killer>>) -> Response {
    match killer {
        Some(Extension(k)) => {
            k.kill();
            std::future::pending::<()>().await;
            unreachable!("the connection is gone")
        }
        None => error(StatusCode::BAD_GATEWAY, "connection dropped"),
    }
}
