//! The webhook during one sending run: the receiver started and our URL
//! registered before the first send, both undone when sending and tracking
//! end, whatever the exit code. Registrations a killed run left behind are
//! undone first, whether or not this run uses a webhook.

use std::net::SocketAddr;

use tokio::sync::mpsc;

use super::registration::{register, restore, restore_leftovers, shown};
use super::{Counts, ReceiverSettings, Running, start};
use crate::api::client::Client;
use crate::error::Failure;
use crate::exit;
use crate::ledger::{Registration, RunId};
use crate::recorder::Recorder;

/// `--webhook-listen`, `--webhook-url`, `--webhook-secret`, `--no-poll`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunWebhook {
    pub listen: Option<SocketAddr>,
    pub url: Option<String>,
    pub secret: Option<String>,
    pub no_poll: bool,
}

/// Refuses a receiver other machines can reach without a shared secret
/// (exit 78, before anything is sent): it faces the internet by design,
/// and whoever reaches it could otherwise write statuses into the night's
/// report. On loopback none is needed (a proxy in front adds the header).
pub(crate) fn guarded(listen: SocketAddr, secret: Option<&str>) -> Result<(), Failure> {
    if listen.ip().is_loopback() || secret.is_some_and(|s| !s.is_empty()) {
        return Ok(());
    }
    Err(Failure::new(
        exit::CONFIG,
        format!(
            "the webhook receiver on {listen} takes requests from other machines, and without \
             a secret anyone who reaches it could write statuses into the report; set \
             --webhook-secret (or HANDOFF_WEBHOOK_SECRET), or listen on 127.0.0.1 behind a \
             proxy that adds it; nothing was sent"
        ),
    ))
}

/// The receiver of a run and the registration to undo.
pub(crate) struct Live {
    running: Running,
    registration: Option<Registration>,
    /// Wamids final by webhook, for the tracker (taken once).
    pub finals: Option<mpsc::UnboundedReceiver<String>>,
}

/// Undoes leftovers, then starts the receiver and registers, if asked.
pub(crate) async fn begin(
    settings: &RunWebhook,
    client: &Client,
    recorder: &Recorder,
    run: RunId,
    channel: &str,
) -> Result<Option<Live>, Failure> {
    if let Err(e) = restore_leftovers(client, recorder, channel).await {
        tracing::warn!(
            "an earlier run's webhook registration could not be undone ({e}); the next run tries again"
        );
    }
    let (Some(listen), Some(url)) = (settings.listen, settings.url.as_deref()) else {
        return Ok(None);
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let receiver = ReceiverSettings {
        listen,
        secret: settings.secret.clone(),
    };
    let running = start(receiver, recorder.clone(), Some(tx))
        .await
        .map_err(|e| {
            Failure::because(
                exit::CONFIG,
                format!("failed to listen for webhooks on {listen}; nothing was sent"),
                e,
            )
        })?;
    let registration = match register(client, recorder, Some(run), channel, url).await {
        Ok(r) => Some(r),
        Err(e) if settings.no_poll => {
            let _ = running.stop().await;
            return Err(Failure::new(
                exit::CONFIG,
                format!(
                    "the webhook could not be registered ({e}); with --no-poll no status could be learned, so nothing was sent"
                ),
            ));
        }
        Err(e) => {
            tracing::warn!("the webhook could not be registered ({e}); statuses are polled");
            None
        }
    };
    Ok(Some(Live {
        running,
        registration,
        finals: Some(rx),
    }))
}

impl Live {
    /// Undoes the registration, then stops the receiver; what it saw.
    pub(crate) async fn end(self, client: &Client, recorder: &Recorder) -> Counts {
        if let Some(registration) = &self.registration
            && let Err(e) = restore(client, recorder, registration).await
        {
            tracing::warn!(
                url = %shown(&registration.our_url),
                "the webhook registration could not be undone ({e}); the next run on this ledger tries again"
            );
        }
        self.running.stop().await
    }
}
