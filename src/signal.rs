//! The run's stop signal: one reason to stop gracefully, given once and
//! seen by every stage, so that send and track share it without either
//! owning it.

use tokio::sync::watch;

/// Asks the run to stop gracefully, saying why; `None` while it may go on.
/// The first reason given stands.
pub type Interrupt = watch::Receiver<Option<String>>;

/// Sends `why` on the interrupt channel unless a reason is there already.
pub fn interrupt(tx: &watch::Sender<Option<String>>, why: &str) {
    tx.send_if_modified(|current| {
        if current.is_none() {
            *current = Some(why.to_string());
            true
        } else {
            false
        }
    });
}
