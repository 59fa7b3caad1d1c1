//! The sending part of `run` and `rerun`: earlier doubts settled, then the
//! send stage and the track stage side by side (every accepted wamid goes
//! straight to the tracker), then this run's own doubts looked up until
//! settled or the look-up budget ends, the proved-unsent ones sent once
//! more (and their doubts, if any, looked up in turn).

use tokio::sync::mpsc;

use crate::cli::{PollArgs, SendingArgs};
use crate::delivery::Rules;
use crate::error::Failure;
use crate::exit;
use crate::fate::Policy;
use crate::ingest::Decided;
use crate::send::{self, Job, SendSettings, Stop};
use crate::settle::{Settling, Timing, settle_this_run};
use crate::track::{self, TrackSettings};
use crate::window::Window;

use super::session::Session;

/// How the send and track stages ended.
pub(super) struct Delivered {
    pub(super) stop: Option<Stop>,
    pub(super) tracked: track::TrackSummary,
    /// What the webhook receiver saw, when there was one.
    pub(super) webhook: Option<crate::webhook::Counts>,
    /// The daily recipient budget (`--daily-recipients`), to say at the
    /// end how much of it the window has used.
    pub(super) daily_recipients: Option<usize>,
}

/// Starts the webhook receiver and registers it (if asked), delivers, and
/// undoes the registration however delivering ended.
pub(super) async fn deliver(
    s: &Session,
    decided: Decided,
    rules: &Rules,
    args: &SendingArgs,
) -> Result<Delivered, Failure> {
    let w = &args.webhook;
    let settings = crate::webhook::RunWebhook {
        listen: w.webhook_listen,
        url: w.webhook_url.clone(),
        secret: w.webhook_secret.clone(),
        no_poll: w.no_poll,
    };
    let mut live = crate::webhook::begin(
        &settings,
        &s.conn.client,
        &s.recorder,
        s.run_id,
        &s.conn.target.channel,
    )
    .await?;
    let pushed = live.as_mut().and_then(|l| l.finals.take());
    let delivered = send_and_track(s, decided, rules, args, pushed).await;
    let counts = match live {
        Some(l) => Some(l.end(&s.conn.client, &s.recorder).await),
        None => None,
    };
    let mut delivered = delivered?;
    delivered.webhook = counts;
    Ok(delivered)
}

/// Tells the progress how many rows are to be sent, and how fast they can
/// go (the channel's rate and the busiest partner's pair pacing).
async fn announce(s: &Session, send_args: &crate::cli::SendArgs) -> Result<(), Failure> {
    let run_id = s.run_id;
    let (to_send, busiest) = s.recorder.read(move |l| l.send_load(run_id)).await?;
    s.progress.will_send(to_send);
    let pair = send_args.pair_interval;
    s.progress.pacing(to_send, send_args.rate, busiest, pair);
    Ok(())
}

/// Settles earlier doubts, then sends and tracks concurrently, then settles
/// this run's doubts (sending once more what the history proves unsent).
async fn send_and_track(
    s: &Session,
    decided: Decided,
    rules: &Rules,
    args: &SendingArgs,
    pushed: Option<mpsc::UnboundedReceiver<String>>,
) -> Result<Delivered, Failure> {
    let (api, send_args, poll) = (&args.api, &args.send, &args.poll);
    let run_id = s.run_id;
    let policy = Policy {
        resend_unknown: send_args.resend_unknown,
        history_proves_absence: send_args.history_proves_absence,
    };
    let mut settling = Settling::new(&s.conn.client, &s.recorder, run_id, &api.template, policy);
    let mut tracked_open = decided.open;
    tracked_open.extend(settling.earlier(decided.doubts, decided.suppressed).await?);
    if let Some(not_after) = send_args.not_after {
        let window = Window {
            not_before: send_args.not_before,
            not_after,
            tz: args.output.timezone,
        };
        crate::signal::sending_window(window, &s.interrupt_tx);
    }
    announce(s, send_args).await?;
    let feed = send::feed(s.recorder.clone(), run_id, rules.clone());

    let (accepted_tx, accepted_rx) = mpsc::unbounded_channel();
    // The messages the tracker still polls, for the fallback to wait on.
    let watched = track::Watched::default();
    let tracker = tokio::spawn(track::run(
        track_settings(poll, !args.webhook.no_poll),
        s.conn.client.clone(),
        s.recorder.clone(),
        s.progress.clone(),
        tracked_open,
        accepted_rx,
        pushed,
        s.interrupt.clone(),
        args.fallback.is_some().then(|| watched.clone()),
    ));
    let send_settings = SendSettings {
        run: run_id,
        template: api.template.clone(),
        namespace: s.conn.template.namespace.clone(),
        language: api.language.clone(),
        rate: send_args.rate,
        pair_interval: send_args.pair_interval,
        concurrency: send_args.concurrency as usize,
        max_attempts: send_args.max_attempts,
    };
    let send = |work| {
        send::run(
            send_settings.clone(),
            s.conn.client.clone(),
            s.recorder.clone(),
            s.progress.clone(),
            work,
            accepted_tx.clone(),
            s.interrupt.clone(),
        )
    };
    let mut stop = send(send::Work::Feed(feed)).await;

    // This run's doubts: look them up once the API has had time to record
    // them, again and again while the budget lasts; found ones are tracked,
    // proved-unsent ones are sent once more.
    if stop.is_none() && s.interrupt.borrow().is_none() {
        let timing = Timing {
            lookup_after: send_args.lookup_after,
            lookup_for: send_args.lookup_for,
            max_attempts: send_args.max_attempts,
        };
        let mut interrupt = s.interrupt.clone();
        let found = |wamid| {
            let _ = accepted_tx.send(send::Accepted { wamid });
        };
        let resend = |jobs: Vec<Job>| {
            s.progress.will_send(jobs.len() as u64);
            send(send::Work::Jobs(jobs))
        };
        stop = settle_this_run(&mut settling, timing, &mut interrupt, found, resend).await?;
    }
    // The partners' next contacts, where a message provably cannot arrive
    // (`--fallback backup`); their messages are tracked as the others.
    if args.fallback.is_some() && stop.is_none() && s.interrupt.borrow().is_none() {
        let resend = |jobs: Vec<Job>| send(send::Work::Jobs(jobs));
        let daily = args.send.daily_recipients;
        let watched = watched.clone();
        stop = super::fallback::fall_back(s, rules, poll.track_for, daily, watched, resend).await?;
    }
    if stop.is_some() {
        // The rows the stop kept from being sent (queued, or never fed)
        // say why.
        let why = send::skip_reason(stop.as_ref());
        s.recorder
            .skip_unattempted(run_id, why, send_args.max_attempts)
            .await?;
    }
    drop(accepted_tx);
    let tracked = tracker
        .await
        .map_err(|e| Failure::because(exit::INTERNAL, "the tracker failed", e))?
        .map_err(|e| Failure::new(exit::INTERNAL, format!("the tracker failed: {e}")))?;
    Ok(Delivered {
        stop,
        tracked,
        webhook: None,
        daily_recipients: args.send.daily_recipients,
    })
}

/// How to track, as the poll flags say; `poll`: whether hookInfo is
/// polled at all (not with `--no-poll`, the webhook alone).
pub(super) fn track_settings(args: &PollArgs, poll: bool) -> TrackSettings {
    TrackSettings {
        poll_rate: args.poll_rate,
        first_poll: args.first_poll,
        track_for: args.track_for,
        poll,
    }
}
