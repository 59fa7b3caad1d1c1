//! Doubts: a send that may or may not have been accepted (a lost answer, a
//! crash between intent and answer) is settled before anyone sends it
//! again. Each doubtful order is looked up in 1MSG's message history and
//! decided: found (track it), proved unsent (send it; only when the
//! operator says the history is complete, `--history-proves-absence`, and
//! never for a send the API accepted), or still in doubt (`unknown`, for a
//! person, with the reason). Earlier runs' doubts are looked up before this
//! run sends; this run's own, and those still open, after its sends, pass
//! after pass until each is settled or the look-up budget ends.

mod decide;
mod history;
mod morning;
mod passes;

pub(crate) use morning::look_again;
pub(crate) use passes::{Settling, Timing, settle_this_run};
