//! The HTTP face of the simulated channel: the 1MSG routes under
//! `/{instanceId}/` and the `/__sim` introspection routes.
//!
//! Answers follow 1MSG's documentation: rejections by Meta are HTTP 200
//! with `sent:false`; request and credential problems are 4xx with
//! `{"error": "..."}`; the validation order is that of its §10.2. The
//! scenario's variants (docs/simulator.md, "Variants of the real API") bend each route's answers.

mod auth;
mod channel;
mod history;
mod hooks;
mod introspect;
mod reply;
mod request;
mod send;
mod templates;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use super::state::SimState;

type Shared = Arc<SimState>;

pub(crate) fn router(state: Shared) -> Router {
    let mut router = Router::new()
        .route("/__sim/messages", get(introspect::sim_messages))
        .route("/__sim/stats", get(introspect::sim_stats))
        .route("/__sim/revoke", post(introspect::sim_revoke))
        .route("/{instance}/sendTemplate", post(send::send_template))
        .route("/{instance}/templates", get(templates::templates))
        .route("/{instance}/status", get(channel::status))
        .route("/{instance}/me", get(channel::me))
        .route(
            "/{instance}/webhook",
            get(channel::get_webhook).post(channel::set_webhook),
        )
        .route(
            "/{instance}/settings",
            get(channel::get_settings).post(channel::set_settings),
        )
        .route("/{instance}/messages", get(history::messages))
        .route("/{instance}/blockedUsers", get(channel::blocked_users));
    // `hooks.not_found_for_all`: the route is gone, as if retired (it is
    // absent from the NEW spec); the fallback answers for it.
    if !state.scenario.hooks.not_found_for_all {
        router = router.route("/{instance}/hookInfo", get(hooks::hook_info));
    }
    router
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .with_state(state)
}

/// Counts every answer by route and status for `/__sim/stats`. The
/// simulator's own `/__sim` routes are not counted: `/__sim/messages`
/// would otherwise count as the API's `messages` route.
async fn count_requests(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/__sim/") {
        return next.run(req).await;
    }
    let route = path.rsplit('/').next().unwrap_or_default().to_string();
    let response = next.run(req).await;
    state.count(&route, response.status().as_str());
    response
}

async fn not_found() -> Response {
    reply::error(StatusCode::NOT_FOUND, reply::NO_SUCH_METHOD)
}
