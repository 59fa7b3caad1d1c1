//! A row's verdict and its stored spelling: the one enum the ledger writes to and reads from
//! SQL directly, so the CHECK constraint and the code agree on the words.

use rusqlite::ToSql;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};

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

impl Verdict {
    /// The spelling stored in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Send => "send",
            Verdict::Invalid => "invalid",
            Verdict::Duplicate => "duplicate",
            Verdict::Reused => "reused",
            Verdict::Skipped => "skipped",
            Verdict::Unknown => "unknown",
        }
    }
}

impl ToSql for Verdict {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

/// Reads the stored spelling back; anything else is an error.
impl FromSql for Verdict {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(match value.as_str()? {
            "send" => Verdict::Send,
            "invalid" => Verdict::Invalid,
            "duplicate" => Verdict::Duplicate,
            "reused" => Verdict::Reused,
            "skipped" => Verdict::Skipped,
            "unknown" => Verdict::Unknown,
            other => {
                let unknown = format!("unknown verdict `{other}`");
                return Err(FromSqlError::Other(unknown.into()));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
