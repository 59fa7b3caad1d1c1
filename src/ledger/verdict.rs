//! A row's verdict and its stored spelling: the one enum the ledger writes to and reads from
//! SQL directly, so the CHECK constraint and the code agree on the words.

use super::answer::stored_as_words;

/// What the input stage decided about one row; drives whether it is sent and its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Valid and new: to be sent in this run.
    Send,
    /// Failed validation; never sent.
    Invalid,
    /// Same order key earlier in the same file; not sent.
    Duplicate,
    /// Accepted by an earlier run; not sent again, its message is reported.
    Reused,
    /// Not attempted in this run (stopped early, limit reached).
    Skipped,
    /// An earlier send of this order may or may not have been accepted, and
    /// the API's history could not settle it: not sent, a person decides.
    Unknown,
}

stored_as_words!(Verdict:
    Send => "send",
    Invalid => "invalid",
    Duplicate => "duplicate",
    Reused => "reused",
    Skipped => "skipped",
    Unknown => "unknown",
);

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::{FromSql, ValueRef};

    #[test]
    fn verdict_round_trips() {
        for v in [
            Verdict::Send,
            Verdict::Invalid,
            Verdict::Duplicate,
            Verdict::Reused,
            Verdict::Skipped,
        ] {
            let stored = ValueRef::Text(v.as_str().as_bytes());
            assert_eq!(Verdict::column_result(stored).ok(), Some(v));
        }
        assert!(Verdict::column_result(ValueRef::Text(b"SEND")).is_err());
    }
}
