//! Who may open the channel: the token from the body, the query or the
//! `Authorization` header, on the routes that read each.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::Shared;
use super::reply::error;
use crate::state::SimState;

/// The 401 answer, shaped like the old spec's. The token is masked the way
/// the real API's example masks it, so a log of this answer leaks little.
fn wrong_token(token: Option<&str>, instance: &str) -> Response {
    let shown = match token {
        Some(t) if t.chars().count() > 6 => {
            let middle: String = t.chars().skip(3).take(t.chars().count() - 6).collect();
            format!("xxx{middle}xxx")
        }
        Some(_) => "xxx".into(),
        None => String::new(),
    };
    error(
        StatusCode::UNAUTHORIZED,
        format!(
            "Wrong token \"{shown}\" for channel \"{instance}\". Please provide token as a GET parameter."
        ),
    )
}

/// The token from the body, then the query, then (where `route` reads it,
/// `auth.header_routes`) `Authorization` with or without `Bearer`, in the
/// precedence 1MSG documents.
pub(super) fn find_token<'a>(
    state: &SimState,
    route: &str,
    body: Option<&'a Value>,
    query: &'a HashMap<String, String>,
    headers: &'a HeaderMap,
) -> Option<&'a str> {
    if let Some(t) = body.and_then(|b| b.get("token")).and_then(Value::as_str) {
        return Some(t);
    }
    if let Some(t) = query.get("token") {
        return Some(t.as_str());
    }
    if !state.scenario.auth.header_allowed(route) {
        return None;
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    // The scheme name is case-insensitive (RFC 9110 §11.1); a bare token
    // is accepted too, as the vendor's MCP server does.
    match auth.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => Some(rest.trim()),
        _ => Some(auth),
    }
}

/// Checks instance and token; `Err` is the 401 to return.
pub(super) fn authorize(
    state: &SimState,
    instance: &str,
    token: Option<&str>,
) -> Result<(), Box<Response>> {
    if instance == state.scenario.instance_id && state.token_ok(token) {
        Ok(())
    } else {
        Err(Box::new(wrong_token(token, instance)))
    }
}

/// A request whose query or `Authorization` header opens the channel (the
/// GET routes, which have no body); it hands on the query parameters.
pub(super) struct Authorized(pub(super) HashMap<String, String>);

impl axum::extract::FromRequestParts<Shared> for Authorized {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Shared,
    ) -> Result<Self, Response> {
        let Path(instance) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Query(query) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let route = parts.uri.path().rsplit('/').next().unwrap_or_default();
        let token = find_token(state, route, None, &query, &parts.headers);
        authorize(state, &instance, token).map_err(|r| *r)?;
        Ok(Authorized(query))
    }
}
