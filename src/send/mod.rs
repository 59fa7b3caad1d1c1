//! The send stage: paces, sends and classifies every delivery that is due.
//!
//! One dispatcher task owns the schedule; workers (one per request in
//! flight) record the intent, send, record the answer and report back. The
//! dispatcher takes a concurrency slot, then picks the delivery; the worker
//! waits for its instant on the global rate limiter's grid (a [`Pacer`]),
//! commits its intent, passes the limiter's one-second window (counted as
//! it leaves) and sends at once. Slot before permit keeps permits from
//! bunching into bursts; the grid before the commit means an intent is
//! durable only for a request about to leave, so a crash leaves in doubt
//! only what may have reached the API; the window after the commit keeps a
//! slow fsync from putting one request too many into the API's second.
//!
//! Each recipient has its own queue, in input order, and its own "not
//! before" instant (the pair interval after its previous send). The schedule
//! is a heap of recipients by that instant, so while one partner with forty
//! orders waits for its pace, the others keep flowing.
//!
//! [`Pacer`]: crate::pace::Pacer

mod attempt;
mod breaker;
mod dispatcher;
mod feed;
mod job;
mod schedule;
mod stage;
mod stop;

pub(crate) use feed::feed;
pub(crate) use job::{Accepted, Job, SendSettings, Work};
pub(crate) use stage::run;
pub(crate) use stop::{Stop, skip_reason};
