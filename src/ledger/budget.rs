//! The recipients a rolling 24-hour messaging limit counts. Meta sets that
//! limit per business portfolio, in unique recipients of business-initiated
//! messages (250, 2,000, 10,000, 100,000); no documented error says when a
//! night crosses it, so the ledger counts them itself.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::codec::ts;
use super::{Ledger, LedgerError};

impl Ledger {
    /// The phones sent to since `since`, across every run and channel of
    /// this ledger: an accepted message, and a send still in doubt (it may
    /// have been accepted, so it may count). A send the API refused counts
    /// for nothing.
    pub fn recipients_since(&self, since: DateTime<Utc>) -> Result<HashSet<String>, LedgerError> {
        self.all(
            "SELECT DISTINCT phone FROM attempts_sent
             WHERE intent_at >= ?1 AND phone IS NOT NULL
               AND (result IS NULL OR result IN ('accepted', 'ambiguous'))",
            [ts(&since)],
            |r| r.get(0),
        )
    }
}
