//! The outcome vocabulary that the report, the exit code, the workbook
//! and `handoff rerun --only` share, with what each word means to a reader.

use serde::Serialize;

/// The verdict of the reconciliation for one row (design.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Delivered,
    Read,
    Failed,
    Pending,
    Rejected,
    Invalid,
    Duplicate,
    Unknown,
    Skipped,
}

impl Outcome {
    pub const ALL: [Outcome; 9] = [
        Outcome::Delivered,
        Outcome::Read,
        Outcome::Failed,
        Outcome::Pending,
        Outcome::Rejected,
        Outcome::Invalid,
        Outcome::Duplicate,
        Outcome::Unknown,
        Outcome::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Read => "read",
            Outcome::Failed => "failed",
            Outcome::Pending => "pending",
            Outcome::Rejected => "rejected",
            Outcome::Invalid => "invalid",
            Outcome::Duplicate => "duplicate",
            Outcome::Unknown => "unknown",
            Outcome::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// What the word means, for the workbook's summary and the README's
    /// table (design.md).
    pub(crate) fn meaning(self) -> &'static str {
        match self {
            Outcome::Delivered => "WhatsApp delivered the message to the partner's phone",
            Outcome::Read => "the partner opened the message",
            Outcome::Failed => "WhatsApp accepted the message, then could not deliver it",
            Outcome::Pending => "accepted, but no final status yet",
            Outcome::Rejected => "1MSG refused to send the message",
            Outcome::Invalid => "the row has a problem in the export and was not sent",
            Outcome::Duplicate => "the order number appears earlier in the file; sent once",
            Outcome::Unknown => "it is not known whether the message was accepted; not resent",
            Outcome::Skipped => "not sent in this run",
        }
    }

    /// Whether the row needs nobody: the partner's phone has the message.
    pub(crate) fn is_fine(self) -> bool {
        matches!(self, Outcome::Delivered | Outcome::Read)
    }
}
