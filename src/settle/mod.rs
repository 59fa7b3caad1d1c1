//! Doubts: a send that may or may not have been accepted (a lost answer, a
//! crash between intent and answer) is settled before anyone sends it
//! again. Each doubtful order is looked up in 1MSG's message history and
//! decided: found (track it), proved unsent (send it), or still in doubt
//! (`unknown`, for a person). Two passes: earlier runs' doubts before this
//! run sends, and this run's own once the API has had time to record them.

mod decide;
mod history;
mod passes;

pub(crate) use passes::{settle_earlier, settle_this_run};
