//! The send stage: paces, sends and classifies every delivery that is due.
//!
//! One dispatcher task owns the schedule; workers (one per request in
//! flight) record the intent, send, record the answer and report back. The
//! dispatcher takes a concurrency slot, then picks the delivery; the worker
//! commits its intent and only then takes a permit from the global rate
//! limiter (a [`Pacer`]) and sends at once. Slot before permit keeps permits
//! from bunching into bursts (reliability.md §3); permit after the commit
//! keeps the fsync's jitter out of the spacing the API sees.
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
