//! The typed records the ledger takes and hands back, so no other stage reads or writes SQL
//! rows itself.

use chrono::{DateTime, Utc};

use super::{Pricing, SendClass, Taken, Verdict};

/// Identifies one invocation of the tool (`run`, `rerun` or `track`) in the ledger.
pub type RunId = i64;
/// Identifies one recorded send attempt (one intent, at most one answer).
pub type AttemptId = i64;

/// Describes a run when it starts, so reports and `track` know what was sent with what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunMeta {
    /// `run`, `rerun` or `track`.
    pub kind: String,
    /// The input CSV (none for `track`).
    pub input_path: Option<String>,
    /// The API's base URL the run sent to (or polled).
    pub api_url: String,
    /// The 1MSG channel id.
    pub channel: String,
    /// A rehearsal against the built-in simulator (`run --simulate`): its messages reached
    /// no partner.
    pub simulated: bool,
    /// The template name.
    pub template: String,
    /// The template language code.
    pub language: String,
    /// When the run started.
    pub started_at: DateTime<Utc>,
}

/// An attempt about to be sent, committed before its request leaves (see
/// [`Ledger::record_intent`](super::Ledger::record_intent)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub run: RunId,
    pub order_key: String,
    /// 1-based within its run.
    pub attempt_no: u32,
    pub phone: String,
    pub params: Vec<String>,
    /// The template language; `None`: `--language`.
    pub language: Option<String>,
    pub at: DateTime<Utc>,
    /// The row moves to this contact in the same commit (a fallback).
    pub contact: Option<super::NewContact>,
}

/// The answer to one attempt, written after the HTTP call returned (or gave up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The client's classification, stored as it is (see `answer.rs`).
    pub result: SendClass,
    /// The HTTP status, when a response arrived.
    pub http_status: Option<u16>,
    /// The API's error code, when it gave one.
    pub error_code: Option<i64>,
    /// A human-readable error (never containing the token).
    pub error_detail: Option<String>,
    /// When the answer arrived; for an accepted attempt this is the message's `accepted_at`.
    pub at: DateTime<Utc>,
}

/// One status 1MSG reported for a message (a row of `status_history`), from `hookInfo` or a
/// webhook: merged into its message when recorded, and read back in an order's history and
/// the report's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusUpdate {
    /// The message.
    pub wamid: String,
    /// The status, verbatim (`sent`, `delivered`, `read`, `failed`, or anything else).
    pub status: String,
    /// The provider's timestamp for the status, if it gave one.
    pub status_at: Option<DateTime<Utc>>,
    /// The provider's error code (for `failed`).
    pub error_code: Option<i64>,
    /// The provider's error title (for `failed`).
    pub error_title: Option<String>,
    /// What Meta says the message is billed as, when the status says it.
    pub pricing: Option<Pricing>,
    /// When we saw it.
    pub seen_at: DateTime<Utc>,
}

/// An accepted message with its merged status (a row of `messages`): what decides resume and
/// cross-night dedupe, and, while not final, what `track` polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    /// The message id.
    pub wamid: String,
    /// The order it belongs to.
    pub order_key: String,
    /// The run that sent it.
    pub run_id: RunId,
    /// The attempt that produced it.
    pub attempt_id: Option<AttemptId>,
    /// The recipient it was sent to.
    pub phone: Option<String>,
    /// The template parameters it was sent with.
    pub params: Vec<String>,
    /// When `sendTemplate` accepted it.
    pub accepted_at: DateTime<Utc>,
    /// The latest merged status (`None` until the first observation).
    pub status: Option<String>,
    /// The provider's timestamp of that status.
    pub status_at: Option<DateTime<Utc>>,
    /// Error code of a failed status.
    pub error_code: Option<i64>,
    /// Error title of a failed status.
    pub error_title: Option<String>,
    /// Whether the status is final (delivered, read, failed, undelivered).
    pub is_final: bool,
    /// How many times it was polled.
    pub polls: u32,
}

/// One send attempt (a row of `attempts`): its intent, and its answer if one came. An intent
/// without an answer means the process died (or gave up) between the two, so the send may or
/// may not have happened: such orders are `unknown` and never resent silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptInfo {
    /// The attempt.
    pub attempt_id: AttemptId,
    /// The run that recorded it.
    pub run_id: RunId,
    /// The order.
    pub order_key: String,
    /// 1-based attempt number within its run.
    pub attempt_no: u32,
    /// The recipient.
    pub phone: String,
    /// The template parameters.
    pub params: Vec<String>,
    /// The template language it was written in; `None`: `--language`.
    pub language: Option<String>,
    /// When the intent was committed.
    pub intent_at: DateTime<Utc>,
    /// When the answer came.
    pub answered_at: Option<DateTime<Utc>>,
    /// How the API's answer was classified; `None`: no answer (in doubt).
    pub result: Option<SendClass>,
    /// The HTTP status, when a response arrived.
    pub http_status: Option<u16>,
    /// The API's error code, when it gave one.
    pub error_code: Option<i64>,
    /// What the answer said, for people (settling never reads it).
    pub error_detail: Option<String>,
    /// The accepted message's id.
    pub wamid: Option<String>,
}

/// A send that may or may not have been accepted: an intent with no answer
/// (the process died with the request on the wire) or an ambiguous answer
/// (a lost connection, a timeout, a 5xx, a queued send), for an order that
/// has no accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doubt {
    /// The attempt; its `result` is `None` for an unanswered intent,
    /// `Some(SendClass::Ambiguous { .. })` otherwise.
    pub attempt: AttemptInfo,
}

impl Doubt {
    /// What the answer said about whether the API took the send (nothing, for an intent
    /// never answered), and the id it named, if any.
    pub fn taken(&self) -> (Taken, Option<&str>) {
        match &self.attempt.result {
            Some(SendClass::Ambiguous { taken, named_id }) => (*taken, named_id.as_deref()),
            _ => (Taken::Unsaid, None),
        }
    }
}

/// One input row to record for a run (every input row, whatever its verdict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRecord {
    /// 1-based data row (the report's order).
    pub row: u64,
    /// 1-based physical line in the file where the row starts.
    pub line: u64,
    /// The order key, when the order number was usable.
    pub order_key: Option<String>,
    /// Partner name as read.
    pub partner_name: String,
    /// Normalised digits when valid, the raw text otherwise.
    pub phone: String,
    /// Order number as read.
    pub order_number: String,
    /// Product name as read.
    pub product_name: String,
    /// Delivery note as read.
    pub delivery_note: String,
    /// What the input stage decided.
    pub verdict: Verdict,
    /// Why (for invalid/duplicate/skipped), naming the field.
    pub reason: Option<String>,
    /// An invalid row's problem class (`bad_phone`, …), for the report's
    /// plain-language reason.
    pub problem: Option<String>,
    /// Free-form notes (e.g. normalisation applied).
    pub notes: Option<String>,
    /// What a person may want to check though nothing was changed (a phone outside the
    /// numbering plan's ranges), as validation said it: the report's `warnings`, never
    /// looked for in the notes.
    pub warnings: Option<String>,
    /// The input's other columns (`--keep-columns`), as a JSON array.
    pub extra: Option<String>,
    /// The partner id the row names (`--partners`).
    pub partner_id: Option<String>,
    /// The partners file's contact written to, as the report names it.
    pub contact: Option<String>,
    /// The template language that contact is written in, when not
    /// `--language`.
    pub language: Option<String>,
}
