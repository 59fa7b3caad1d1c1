//! `/__sim`: what the simulated channel holds, outside the 1MSG namespace,
//! for tests and benchmarks. `/__sim/messages` is the ground truth: every
//! accepted message, whatever its answer said (no id, a 504, queued,
//! nothing at all).

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;

pub(super) async fn sim_messages(State(state): State<Shared>) -> Response {
    let now = Instant::now();
    let inner = state.lock();
    let list: Vec<Value> = inner
        .messages
        .iter()
        .map(|m| {
            let at: chrono::DateTime<chrono::Utc> = m.accepted_at.into();
            json!({
                "number": m.number,
                "wamid": m.wamid,
                "phone": m.phone,
                "template": m.template,
                "namespace": m.namespace,
                "language": m.language,
                "params": m.params,
                "body": m.body,
                "accepted_at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "accepted_unix_ms": at.timestamp_millis(),
                "status": m.status_at(now),
                "statuses": m.hooks_at(now).map(|h| h.status).collect::<Vec<_>>(),
                "outcome": m.outcome.name(),
                "job_id": m.job_id,
                "answer": m.answer.name(),
                "wamid_told": m.answer.tells_wamid(),
            })
        })
        .collect();
    Json(json!({"count": list.len(), "messages": list})).into_response()
}

pub(super) async fn sim_stats(State(state): State<Shared>) -> Response {
    let stats = state.lock().stats.clone();
    Json(stats).into_response()
}

pub(super) async fn sim_revoke(State(state): State<Shared>) -> Response {
    state.revoke_token();
    Json(json!({"revoked": true})).into_response()
}
