//! The webhook receiver: 1MSG pushes each status change to a registered
//! URL, so a message whose final status arrives this way needs no
//! `hookInfo` call at all. Every ack goes through the recorder into the same
//! monotonic merge as a poll, so a duplicate or out-of-order ack changes
//! nothing; an ack for a wamid the ledger does not know is counted, not
//! stored.
//!
//! The receiver faces the internet (through an ingress or a proxy), so
//! every request is suspect: bodies are capped, a shared secret (a path
//! segment or the `X-Handoff-Secret` header) is checked when one is set,
//! and a request that is not an ack body gets a 4xx and is counted. None of
//! that ever stops the run: polling is the fallback for whatever does not
//! arrive. 1MSG pushes carry no signature (`instanceId` is not
//! authentication), hence the secret.
//!
//! The answer is 2xx only once the ack is committed, so a push that could
//! not be recorded (503) is retried by 1MSG rather than lost.

mod parse;
pub(crate) mod registration;
mod run;

pub(crate) use run::{RunWebhook, begin, guarded};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use chrono::Utc;
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use crate::api::hooks::Hook;
use crate::recorder::Recorder;
use parse::Refused;

/// The largest body read. An ack body is a few hundred bytes per event
/// and 1MSG batches a handful; anything near this is not an ack.
pub(crate) const MAX_BODY: usize = 1 << 20;

/// The header that may carry the shared secret (for a proxy that adds it).
pub(crate) const SECRET_HEADER: &str = "x-handoff-secret";

/// How the receiver listens.
#[derive(Debug, Clone)]
pub(crate) struct ReceiverSettings {
    pub listen: SocketAddr,
    /// Required in the path or the header when set.
    pub secret: Option<String>,
}

/// What the receiver saw, for the run's summary.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Counts {
    pub requests: u64,
    /// Status items read from accepted bodies.
    pub acks: u64,
    /// Acks that moved a message's merged status.
    pub merged: u64,
    /// Acks that changed nothing (a duplicate, or older than what we had).
    pub unchanged: u64,
    /// Acks for wamids the ledger did not know when they arrived: counted,
    /// not stored (unless matched late).
    pub unknown_wamids: u64,
    /// Of those, the ones whose wamid the ledger knew a moment later (an
    /// ack can overtake the send's answer being recorded) and were merged.
    pub matched_late: u64,
    /// Status items without an id or a status.
    pub unreadable_items: u64,
    /// Inbound messages and echoes (not ours to record).
    pub messages_ignored: u64,
    pub unauthorized: u64,
    pub not_json: u64,
    pub unknown_shape: u64,
    pub too_large: u64,
    pub wrong_method: u64,
    /// Acks that could not be recorded (answered 503, for 1MSG to retry).
    pub record_failures: u64,
}

struct App {
    recorder: Recorder,
    secret: Option<String>,
    counts: std::sync::Mutex<Counts>,
    /// Wamids that have a final status after an ack (for the tracker).
    finals: Option<mpsc::UnboundedSender<String>>,
    /// Set when the receiver stops: the server shuts down gracefully and
    /// late matches give up.
    stopping: watch::Sender<bool>,
}

impl App {
    /// Adds `n` to the count `pick` chooses; what it held before.
    fn add(&self, pick: impl FnOnce(&mut Counts) -> &mut u64, n: u64) -> u64 {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let count = pick(&mut counts);
        *count += n;
        *count - n
    }
}

/// When an ack for an unknown wamid is tried again, after its arrival.
/// 1MSG can push the `sent` ack before the send's answer is recorded; a
/// wamid still unknown after the last try is another tool's message.
const LATE_TRIES: [Duration; 3] = [
    Duration::from_millis(250),
    Duration::from_secs(1),
    Duration::from_secs(3),
];

/// A receiver listening; [`Running::stop`] ends it.
pub(crate) struct Running {
    pub addr: SocketAddr,
    app: Arc<App>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops listening once the requests in flight are answered.
    pub(crate) async fn stop(self) -> Counts {
        self.app.stopping.send_replace(true);
        let _ = self.task.await;
        let counts = self.app.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.clone()
    }
}

/// Binds `settings.listen` and serves until stopped. Each wamid an ack
/// leaves final is sent on `finals`.
pub(crate) async fn start(
    settings: ReceiverSettings,
    recorder: Recorder,
    finals: Option<mpsc::UnboundedSender<String>>,
) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(settings.listen).await?;
    let addr = listener.local_addr()?;
    let app = Arc::new(App {
        recorder,
        secret: settings.secret.filter(|s| !s.is_empty()),
        counts: Default::default(),
        finals,
        stopping: watch::channel(false).0,
    });
    let router = Router::new().fallback(receive).with_state(Arc::clone(&app));
    let mut stopping = app.stopping.subscribe();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopping.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = served {
            tracing::warn!("the webhook receiver stopped: {e}");
        }
    });
    tracing::info!(%addr, "webhook receiver listening");
    Ok(Running { addr, app, task })
}

/// Compares without stopping at the first difference, so the secret cannot
/// be guessed byte by byte from answer times.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

fn authorized(secret: Option<&str>, uri: &Uri, headers: &HeaderMap) -> bool {
    let Some(secret) = secret else {
        return true;
    };
    let in_header = headers
        .get(SECRET_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| same(v.trim(), secret));
    let in_path = uri.path().split('/').any(|seg| same(seg, secret));
    in_header || in_path
}

/// Logs the first of each kind of refusal as a warning, later ones at
/// debug level (one per request would flood a night's log).
fn refuse(app: &App, status: StatusCode, why: &str) -> (StatusCode, &'static str) {
    let before = app.add(
        |c| match status {
            StatusCode::UNAUTHORIZED => &mut c.unauthorized,
            StatusCode::METHOD_NOT_ALLOWED => &mut c.wrong_method,
            StatusCode::PAYLOAD_TOO_LARGE => &mut c.too_large,
            StatusCode::BAD_REQUEST => &mut c.not_json,
            _ => &mut c.unknown_shape,
        },
        1,
    );
    if before == 0 {
        tracing::warn!(
            status = status.as_u16(),
            "webhook request refused: {why} (counted in the run's summary)"
        );
    } else {
        tracing::debug!(status = status.as_u16(), "webhook request refused: {why}");
    }
    (status, "refused")
}

async fn receive(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> (StatusCode, &'static str) {
    app.add(|c| &mut c.requests, 1);
    if !authorized(app.secret.as_deref(), &uri, &headers) {
        return refuse(&app, StatusCode::UNAUTHORIZED, "no or wrong secret");
    }
    if method == Method::GET || method == Method::HEAD {
        // A platform checking that the URL answers.
        return (StatusCode::OK, "handoff webhook receiver");
    }
    if method != Method::POST {
        return refuse(&app, StatusCode::METHOD_NOT_ALLOWED, "not a POST");
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return refuse(
            &app,
            StatusCode::PAYLOAD_TOO_LARGE,
            "body over the size cap (or cut short)",
        );
    };
    let pushed = match parse::read(&bytes) {
        Ok(p) => p,
        Err(Refused::NotJson) => {
            return refuse(&app, StatusCode::BAD_REQUEST, "body is not JSON");
        }
        Err(Refused::UnknownShape) => {
            return refuse(
                &app,
                StatusCode::UNPROCESSABLE_ENTITY,
                "JSON without ack, messages or a Meta envelope",
            );
        }
    };
    app.add(|c| &mut c.unreadable_items, pushed.skipped);
    app.add(|c| &mut c.messages_ignored, pushed.messages);
    app.add(|c| &mut c.acks, pushed.acks.len() as u64);
    let mut failed = false;
    let mut unknown = Vec::new();
    for (wamid, hook) in pushed.acks {
        match record(&app, &wamid, &hook).await {
            Ok(true) => {}
            Ok(false) => {
                if app.add(|c| &mut c.unknown_wamids, 1) == 0 {
                    tracing::info!(
                        wamid,
                        "an ack for a message this ledger does not know yet; tried again shortly, then ignored (counted)"
                    );
                }
                unknown.push((wamid, hook));
            }
            Err(e) => {
                failed = true;
                if app.add(|c| &mut c.record_failures, 1) == 0 {
                    tracing::warn!("an ack could not be recorded: {e}");
                }
            }
        }
    }
    if !unknown.is_empty() {
        tokio::spawn(match_late(Arc::clone(&app), unknown));
    }
    if failed {
        (StatusCode::SERVICE_UNAVAILABLE, "not recorded")
    } else {
        (StatusCode::OK, "ok")
    }
}

/// Merges one ack; `Ok(false)` if the ledger does not know its wamid.
///
/// 1MSG's normalized ack carries no time. It is pushed as the status
/// changes, so its arrival is taken as the status's time (late by the
/// push's delay only); without it a row final by webhook would show no
/// `status_at` at all. A time the ack does carry (a raw Meta envelope's
/// `timestamp`) wins.
async fn record(app: &App, wamid: &str, hook: &Hook) -> Result<bool, crate::error::Failure> {
    let now = Utc::now();
    let mut updates = crate::track::updates(wamid, std::slice::from_ref(hook), now);
    for u in &mut updates {
        u.status_at = u.status_at.or(Some(now));
    }
    let Some(merged) = app.recorder.record_ack(wamid.to_string(), updates).await? else {
        return Ok(false);
    };
    app.add(
        |c| match merged.changed {
            true => &mut c.merged,
            false => &mut c.unchanged,
        },
        1,
    );
    // Only a proof of delivery takes it off the poll schedule: a failed
    // message keeps its follow-up polls, as when polled.
    if merged.status.proves_delivery()
        && let Some(tx) = &app.finals
    {
        let _ = tx.send(wamid.to_string());
    }
    Ok(true)
}

/// Tries acks for unknown wamids again at [`LATE_TRIES`] after their
/// arrival, until the receiver stops. The push was answered already: what
/// the ledger did not know then was not ours to keep durable.
async fn match_late(app: Arc<App>, mut unknown: Vec<(String, Hook)>) {
    let mut stopping = app.stopping.subscribe();
    let mut waited = Duration::ZERO;
    for at in LATE_TRIES {
        tokio::select! {
            () = tokio::time::sleep(at - waited) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        waited = at;
        let mut still = Vec::new();
        for (wamid, hook) in unknown {
            match record(&app, &wamid, &hook).await {
                Ok(true) => {
                    app.add(|c| &mut c.matched_late, 1);
                }
                Ok(false) => still.push((wamid, hook)),
                Err(_) => return,
            }
        }
        unknown = still;
        if unknown.is_empty() {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
