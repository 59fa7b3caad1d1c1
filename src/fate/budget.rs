//! The daily recipient budget (`--daily-recipients N`): at most N distinct
//! partners' phones messaged in any 24 hours, counted from the ledger
//! across runs, so a night that would cross the channel's messaging limit
//! sends what fits and leaves the rest `skipped` for a later run, instead
//! of failing row by row. A phone already messaged in the window costs
//! nothing more: the limit counts recipients, not messages.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// How long the window is.
pub(crate) const WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// The budget as the rows are decided; clones share it, so every batch of
/// a run (on the ledger thread) and the dry run spend from one count.
#[derive(Clone, Debug)]
pub(crate) struct Budget {
    limit: usize,
    recipients: Arc<Mutex<HashSet<String>>>,
}

impl Budget {
    /// `limit` recipients a window, of which `recent` were messaged in it.
    pub(crate) fn new(limit: usize, recent: HashSet<String>) -> Budget {
        Budget {
            limit,
            recipients: Arc::new(Mutex::new(recent)),
        }
    }

    /// Whether a message to `phone` fits, counting it if so.
    pub(crate) fn admit(&self, phone: &str) -> bool {
        let mut recipients = self.lock();
        if recipients.contains(phone) {
            return true;
        }
        if recipients.len() >= self.limit {
            return false;
        }
        recipients.insert(phone.to_string());
        true
    }

    /// The budget, and the recipients counted against it so far.
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.limit, self.lock().len())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.recipients.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recipient_counts_once_and_the_window_fills_up() {
        let b = Budget::new(3, HashSet::from(["1".to_string()]));
        assert!(b.admit("1"), "already in the window: costs nothing");
        assert!(b.admit("2"));
        assert!(b.admit("3"));
        assert!(!b.admit("4"), "full");
        assert!(b.admit("2"), "a recipient of the window still fits");
        assert_eq!(b.clone().counts(), (3, 3));
        let over = Budget::new(1, HashSet::from(["1".into(), "2".into()]));
        assert!(!over.admit("3"), "a window already over its budget");
    }
}
