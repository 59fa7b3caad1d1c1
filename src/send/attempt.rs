//! One attempt at one delivery: its turn at the rate, its intent
//! committed, the request, its answer committed. Kept apart from the
//! dispatcher, which decides what to send; this only carries it out.

use chrono::Utc;
use tokio::time::Instant;

use super::dispatcher::Context;
use super::{Accepted, Job};
use crate::api::client::{SendAnswer, SendClass};
use crate::api::wire::SendTemplateRequest;
use crate::ledger::Intent;
use crate::ledger::{Answer, HELD, StatusUpdate};

/// One attempt: intent (committed), request, answer (committed).
pub(super) async fn attempt(
    ctx: &Context,
    job: &Job,
    sent_at: &mut Option<Instant>,
) -> Result<SendAnswer, String> {
    let d = &job.delivery;
    let s = &ctx.settings;
    let params: Vec<String> = d.params().iter().map(|p| p.to_string()).collect();
    // The rate's slot first: an intent is committed only for a request
    // about to leave, so a process killed while it waits for its turn
    // leaves nothing in doubt.
    let limiter = ctx.slot().await;
    // Grouped: committed (with whatever other writes were queued) before
    // this returns, so the request below never leaves ahead of its intent.
    let intent = ctx
        .recorder
        .record_intent(Intent {
            run: s.run,
            order_key: d.order_key.clone(),
            attempt_no: job.attempts,
            phone: d.phone.clone(),
            params: params.clone(),
            at: Utc::now(),
            language: d.language.clone(),
            contact: job.contact.clone(),
        })
        .await
        .map_err(|e| e.to_string())?;
    crate::crash::point("after_intent");

    ctx.leave(limiter).await;
    *sent_at = Some(Instant::now());
    let texts: Vec<&str> = params.iter().map(String::as_str).collect();
    let request = SendTemplateRequest::with_body(
        &d.phone,
        &s.template,
        s.namespace.as_deref(),
        d.language.as_deref().unwrap_or(&s.language),
        &texts,
    );
    let answer = ctx.client.send_template(&request).await;

    let record = Answer {
        result: answer.class.clone(),
        http_status: answer.http_status,
        error_code: answer.error_code,
        error_detail: answer.detail.clone(),
        at: Utc::now(),
    };
    ctx.recorder
        .record_answer(intent, record)
        .await
        .map_err(|e| e.to_string())?;
    crate::crash::point("after_answer");
    let phone = crate::logging::mask_phone(&d.phone);
    let detail = answer.detail.as_deref().unwrap_or("");
    // A retry is not a send yet: its request provably did not go through.
    if !matches!(answer.class, SendClass::Retry(_)) {
        ctx.progress.sent();
    }
    match &answer.class {
        SendClass::Accepted { wamid } => {
            tracing::debug!(order = %d.order_key, %phone, %wamid, attempt = job.attempts, "accepted");
            if answer.held {
                // Meta holds it for a quality check: its first status, so
                // the report says why it waits until a later one comes.
                let now = Utc::now();
                let held = StatusUpdate {
                    wamid: wamid.clone(),
                    status: HELD.to_string(),
                    status_at: Some(now),
                    seen_at: now,
                    ..StatusUpdate::default()
                };
                ctx.recorder
                    .record_ack(wamid.clone(), vec![held])
                    .await
                    .map_err(|e| e.to_string())?;
            }
            ctx.progress.accepted();
            let _ = ctx.accepted.send(Accepted {
                wamid: wamid.clone(),
            });
        }
        SendClass::Retry(kind) => {
            tracing::info!(order = %d.order_key, %phone, attempt = job.attempts, ?kind, detail, "not sent; will retry");
        }
        SendClass::Ambiguous { .. } => {
            tracing::warn!(order = %d.order_key, %phone, http_status = answer.http_status, detail, "may or may not have been accepted; will look it up");
        }
        SendClass::Rejected => {
            tracing::warn!(order = %d.order_key, %phone, http_status = answer.http_status, error_code = answer.error_code, detail, "rejected");
        }
        SendClass::Fatal(kind) => {
            tracing::error!(order = %d.order_key, %phone, ?kind, detail, "the API refused the run; stopping");
        }
    }
    Ok(answer)
}
