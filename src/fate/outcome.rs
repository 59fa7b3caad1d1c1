//! The outcome vocabulary that the report, the exit code, the workbook
//! and `handoff rerun --only` share, with what each word means to a reader.

use serde::{Deserialize, Serialize};

use crate::ledger::{ReportFacts, RetryKind, RunId, SendClass, Status, Verdict};

/// The verdict of the reconciliation for one row (docs/reconciliation.md, "The outcomes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
    Suppressed,
}

impl Outcome {
    pub const ALL: [Outcome; 10] = [
        Outcome::Delivered,
        Outcome::Read,
        Outcome::Failed,
        Outcome::Pending,
        Outcome::Rejected,
        Outcome::Invalid,
        Outcome::Duplicate,
        Outcome::Unknown,
        Outcome::Skipped,
        Outcome::Suppressed,
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
            Outcome::Suppressed => "suppressed",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// What the word means, for the workbook's summary and the outcomes
    /// table (docs/reconciliation.md, "The outcomes").
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
            Outcome::Suppressed => {
                "not sent: the partner's phone is suppressed (they stopped business messages, or a person said so)"
            }
        }
    }

    /// Whether the row needs nobody: the partner's phone has the message.
    pub(crate) fn is_fine(self) -> bool {
        matches!(self, Outcome::Delivered | Outcome::Read)
    }
}

/// A row's outcome, from the ledger's typed facts about it: its verdict,
/// and for a row that was sent (or reuses a message) the message's status
/// when the message counts for this report, else its latest attempt's
/// answer. The report only words it.
pub(crate) fn of(f: &ReportFacts, run: RunId) -> Outcome {
    match f.verdict {
        Verdict::Invalid => Outcome::Invalid,
        Verdict::Duplicate => Outcome::Duplicate,
        Verdict::Skipped if f.problem.as_deref() == Some(super::SUPPRESSED) => Outcome::Suppressed,
        Verdict::Skipped => Outcome::Skipped,
        Verdict::Unknown => Outcome::Unknown,
        Verdict::Send | Verdict::Reused if message_counts(f, run) => {
            match f.status.as_deref().map(Status::of) {
                Some(Status::Read) => Outcome::Read,
                Some(Status::Delivered) => Outcome::Delivered,
                Some(Status::Failed) => Outcome::Failed,
                _ => Outcome::Pending,
            }
        }
        Verdict::Send | Verdict::Reused if f.attempts == 0 => Outcome::Skipped,
        Verdict::Send | Verdict::Reused if f.unanswered => Outcome::Unknown,
        Verdict::Send | Verdict::Reused => match &f.last_result {
            Some(SendClass::Ambiguous { .. }) | None => Outcome::Unknown,
            Some(SendClass::Rejected | SendClass::Fatal(_)) => Outcome::Rejected,
            // The request never left, or the API said it did not process
            // it (a 503): not sent.
            Some(SendClass::Retry(RetryKind::Connect | RetryKind::Unavailable)) => Outcome::Skipped,
            Some(SendClass::Retry(_)) => Outcome::Rejected,
            Some(SendClass::Accepted { .. }) => Outcome::Pending,
        },
    }
}

/// Whether this run wrote to the partner's next contact after the row's
/// message failed (`--fallback backup`): the row's outcome is then that
/// later attempt's (in doubt, refused), not the failure it followed. A
/// failed message is sent again in no other way within a run.
fn fell_back(f: &ReportFacts) -> bool {
    let failed = f.status.as_deref().map(Status::of) == Some(Status::Failed);
    let its_own = matches!(&f.last_result, Some(SendClass::Accepted { wamid }) if f.wamid.as_ref() == Some(wamid));
    f.verdict == Verdict::Send && failed && f.attempts > 1 && !its_own
}

/// Whether the row's outcome is its message's: a message this run sent,
/// or the earlier one a reused row reports; not a failed one this run fell
/// back from, whose row reports the later attempt (its wamid, status and
/// cost are not the row's).
pub(crate) fn message_counts(f: &ReportFacts, run: RunId) -> bool {
    f.wamid.is_some()
        && (f.verdict == Verdict::Reused || f.message_run_id == Some(run))
        && !fell_back(f)
}
