//! Adding our URL to the channel's webhooks for a run, and taking it off
//! again. `POST webhook` replaces the whole list, and other tools (a CRM,
//! an n8n trigger) may have theirs there, so the list is read first, ours
//! added beside the others, and at the end only ours is taken off: a URL
//! someone else added during the run stays. `ackNotificationsOn` is
//! switched on only if it was off, and off again only if we switched it.
//!
//! What we change is recorded in the ledger before we change it. A run
//! killed with SIGKILL cannot clean up, so every run first undoes the
//! registrations on its channel that no run has undone yet.

use crate::api::client::{ApiError, Client};
use crate::api::webhook::MAX_WEBHOOK_URLS;
use crate::ledger::{Registration, RunId};
use crate::recorder::Recorder;

/// Why a registration failed (the run falls back to polling, or with
/// `--no-poll` stops before sending).
#[derive(Debug, thiserror::Error)]
pub(crate) enum RegistrationError {
    #[error("the channel already has {0} webhook URLs, the most it takes; ours was not added")]
    Full(usize),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("the ledger: {0}")]
    Ledger(String),
}

fn ledger(e: impl std::fmt::Display) -> RegistrationError {
    RegistrationError::Ledger(e.to_string())
}

/// `url` as logged: its origin only, since its path may carry the shared
/// secret (`…/hook/SECRET`).
pub(crate) fn shown(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) if u.path() != "/" => format!("{}/…", u.origin().ascii_serialization()),
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => "(not a URL)".into(),
    }
}

/// Adds `our_url` to the channel's webhooks and switches acks on; returns
/// the registration to [`restore`] at the end.
pub(crate) async fn register(
    client: &Client,
    recorder: &Recorder,
    run: Option<RunId>,
    channel: &str,
    our_url: &str,
) -> Result<Registration, RegistrationError> {
    let original = client.webhook_urls().await?;
    let present = original.iter().any(|u| u == our_url);
    if !present && original.len() >= MAX_WEBHOOK_URLS {
        return Err(RegistrationError::Full(original.len()));
    }
    let acks_on = client.ack_notifications().await? == Some(true);
    let id = recorder
        .record_webhook_registration(
            run,
            channel.to_string(),
            our_url.to_string(),
            original.clone(),
            !acks_on,
            chrono::Utc::now(),
        )
        .await
        .map_err(ledger)?;
    let registration = Registration {
        id,
        our_url: our_url.to_string(),
        original_urls: original.clone(),
        turned_acks_on: !acks_on,
    };
    if !present {
        let mut urls = original;
        urls.push(our_url.to_string());
        client.set_webhook_urls(&urls).await?;
    }
    if !acks_on {
        client.set_ack_notifications(true).await?;
    }
    tracing::info!(
        url = %shown(our_url),
        others = registration.original_urls.len(),
        acks_switched_on = !acks_on,
        "webhook registered"
    );
    Ok(registration)
}

/// Takes our URL off the channel's current list (keeping every other URL,
/// also ones added since), switches acks off if we switched them on, and
/// records it done.
pub(crate) async fn restore(
    client: &Client,
    recorder: &Recorder,
    registration: &Registration,
) -> Result<(), RegistrationError> {
    let ours = &registration.our_url;
    // Ours was there before we came: not ours to take off.
    if !registration.original_urls.contains(ours) {
        let current = client.webhook_urls().await?;
        if current.contains(ours) {
            let kept: Vec<String> = current.into_iter().filter(|u| u != ours).collect();
            client.set_webhook_urls(&kept).await?;
        }
    }
    if registration.turned_acks_on {
        client.set_ack_notifications(false).await?;
    }
    recorder
        .webhook_restored(registration.id)
        .await
        .map_err(ledger)?;
    tracing::info!(url = %shown(ours), "webhook registration undone");
    Ok(())
}

#[cfg(test)]
#[test]
fn a_logged_url_never_shows_its_path() {
    assert_eq!(
        shown("https://hooks.example.com/handoff/s3cret"),
        "https://hooks.example.com/…"
    );
    assert_eq!(shown("http://127.0.0.1:8088"), "http://127.0.0.1:8088");
    assert_eq!(shown("not a url"), "(not a URL)");
}

/// Undoes the registrations on `channel` that a run left behind (killed
/// before its end). Returns how many.
pub(crate) async fn restore_leftovers(
    client: &Client,
    recorder: &Recorder,
    channel: &str,
) -> Result<usize, RegistrationError> {
    let open = recorder
        .open_webhook_registrations(channel.to_string())
        .await
        .map_err(ledger)?;
    for registration in &open {
        tracing::warn!(
            url = %shown(&registration.our_url),
            "an earlier run ended without undoing its webhook registration; undoing it now"
        );
        restore(client, recorder, registration).await?;
    }
    Ok(open.len())
}
