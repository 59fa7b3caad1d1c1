//! The send stage's loop: one dispatcher task that keeps the schedule fed,
//! learns from every finished attempt, and hands the next due delivery to
//! a worker; then marks what it did not send. Each step is a function of
//! its own, so the loop reads as the order they happen in.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;

use super::attempt::attempt;
use super::dispatcher::{Context, Dispatcher, Finished};
use super::schedule::{Recipient, Schedule};
use super::{Accepted, Job, SendSettings, Stop, Work};
use crate::api::client::Client;
use crate::pace::sleep_until_opt;
use crate::progress::Progress;
use crate::recorder::Recorder;
use crate::signal::Interrupt;

/// How many deliveries the send stage keeps queued when it is fed from the
/// ledger: enough to keep every recipient of a window fairly ordered, few
/// enough that a night of a million rows does not live in memory.
const FEED_WINDOW: usize = 20_000;

/// Sends `jobs` and returns why it stopped early, if it did. Rows not sent
/// because of a stop are marked `skipped` in the ledger with the reason.
pub(crate) async fn run(
    settings: SendSettings,
    client: Client,
    recorder: Recorder,
    progress: Progress,
    work: Work,
    accepted: mpsc::UnboundedSender<Accepted>,
    mut interrupt: Interrupt,
) -> Option<Stop> {
    let (jobs, mut feed) = match work {
        Work::Jobs(jobs) => (jobs, None),
        Work::Feed(rx) => (Vec::new(), Some(rx)),
    };
    let ctx = Arc::new(Context::new(settings, client, recorder, progress, accepted));
    let mut d = Dispatcher::new(Arc::clone(&ctx), jobs);
    let slots = Arc::new(Semaphore::new(ctx.settings.concurrency.max(1)));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Finished>();

    loop {
        if d.stop.is_none()
            && let Some(why) = interrupt.borrow().clone()
        {
            d.stop = Some(Stop::Interrupted(why));
        }
        top_up(&mut d.schedule, &mut feed);
        let fed = feed.is_none() || d.stop.is_some();
        if (d.stop.is_some() || (d.schedule.pending == 0 && fed)) && d.in_flight == 0 {
            break;
        }
        let hungry = d.stop.is_none() && d.schedule.pending < FEED_WINDOW;
        let dispatchable = d.stop.is_none() && d.schedule.pending > 0;
        let wake = match (dispatchable, d.schedule.next_due()) {
            (true, Some(due)) => Some(d.paused_until.map_or(due, |p| p.max(due))),
            _ => None,
        };
        tokio::select! {
            biased;
            finished = done_rx.recv() => {
                let Some(f) = finished else { break };
                d.handle(f);
            }
            _ = interrupt.changed() => {
                if let Some(why) = interrupt.borrow().clone() {
                    d.stop.get_or_insert(Stop::Interrupted(why));
                }
            }
            job = async { feed.as_mut()?.recv().await }, if hungry && feed.is_some() => {
                match job {
                    Some(job) => d.schedule.add(job, Instant::now()),
                    None => feed = None,
                }
            }
            _ = sleep_until_opt(wake), if wake.is_some() => {
                // A concurrency slot first; the worker takes its rate permit
                // after its intent is committed, right before it sends.
                let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { break };
                dispatch(&mut d, slot, &mut done_rx, &done_tx, &interrupt);
            }
        }
    }
    let stop = d.stop.clone();
    count_the_rest(&ctx, d.schedule);
    stop
}

/// Keeps a window of deliveries queued; the rest waits in the ledger.
/// Takes only what the feed has ready, and forgets the feed once it closes.
fn top_up(schedule: &mut Schedule, feed: &mut Option<mpsc::Receiver<Job>>) {
    if let Some(rx) = feed.as_mut() {
        while schedule.pending < FEED_WINDOW {
            match rx.try_recv() {
                Ok(job) => schedule.add(job, Instant::now()),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    *feed = None;
                    break;
                }
            }
        }
    }
}

/// Hands the next due delivery to a worker on `slot`, unless what finished
/// meanwhile (or an interrupt) says that nothing may leave now.
fn dispatch(
    d: &mut Dispatcher,
    slot: OwnedSemaphorePermit,
    done_rx: &mut mpsc::UnboundedReceiver<Finished>,
    done_tx: &mpsc::UnboundedSender<Finished>,
    interrupt: &Interrupt,
) {
    // A worker reports before it frees its slot, so whatever
    // finished while we waited is in the channel now: a 401 or a
    // 429 must be seen before one more request leaves.
    while let Ok(f) = done_rx.try_recv() {
        d.handle(f);
    }
    if d.stop.is_some() || interrupt.borrow().is_some() {
        return;
    }
    if d.paused_until.is_some_and(|p| p > Instant::now())
        || d.schedule.next_due().is_none_or(|due| due > Instant::now())
    {
        return;
    }
    let Some(mut job) = d.schedule.pop(Instant::now()) else {
        return;
    };
    job.attempts += 1;
    d.in_flight += 1;
    let ctx = Arc::clone(&d.ctx);
    let done = done_tx.clone();
    tokio::spawn(async move {
        let recipient = Recipient::of(&job.delivery.phone);
        let mut sent_at = None;
        let result = attempt(&ctx, &job, &mut sent_at).await;
        let _ = done.send(Finished {
            recipient,
            job,
            result,
            sent_at,
        });
        drop(slot);
    });
}

/// Counts every delivery still queued as not sent. Their rows are marked
/// `skipped` by the command, in one place with the rows the feed never
/// reached ([`crate::ledger::Ledger::skip_unattempted`]).
fn count_the_rest(ctx: &Context, mut schedule: Schedule) {
    for _ in schedule.drain() {
        ctx.progress.not_sent();
    }
}
