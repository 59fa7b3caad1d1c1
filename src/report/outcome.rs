//! What became of each row: the [`Outcome`] vocabulary that the report,
//! the exit code and `handoff rerun --only` share, the [`ReportRow`], and
//! [`reconcile`], the one place that turns the ledger's facts about a row
//! into its verdict.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::notes::status_notes;
use crate::ledger::{ReportFacts, RunId, Status, Verdict};

/// One line of the reconciliation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReportRow {
    pub row: u64,
    pub line: u64,
    pub order_number: String,
    pub partner_name: String,
    pub phone: String,
    pub product_name: String,
    pub delivery_note: String,
    pub outcome: Outcome,
    pub status: Option<String>,
    pub wamid: Option<String>,
    pub http_status: Option<u16>,
    pub error_code: Option<i64>,
    pub error_detail: Option<String>,
    pub attempts: u32,
    pub sent_at: Option<DateTime<Utc>>,
    pub status_at: Option<DateTime<Utc>>,
    /// The run that sent the message, when it was not this one.
    pub reused_from_run: Option<RunId>,
    pub notes: Option<String>,
    /// The input's other columns (`--keep-columns`), after ours.
    pub extra: Vec<String>,
}

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
}

/// Why a pending row has no final status, when tracking worked.
pub(super) const PENDING: &str =
    "accepted; no final status before tracking ended (`handoff track` polls again)";

/// Decides the outcome of one row from what the ledger knows.
pub(crate) fn reconcile(mut f: ReportFacts, run: RunId) -> ReportRow {
    use std::mem::take;
    let mut row = ReportRow {
        row: f.row,
        line: f.line,
        order_number: take(&mut f.order_number),
        partner_name: take(&mut f.partner_name),
        phone: take(&mut f.phone),
        product_name: take(&mut f.product_name),
        delivery_note: take(&mut f.delivery_note),
        outcome: Outcome::Skipped,
        status: None,
        wamid: None,
        http_status: None,
        error_code: None,
        error_detail: f.reason.clone(),
        attempts: 0,
        sent_at: None,
        status_at: None,
        reused_from_run: None,
        notes: f.notes.take(),
        extra: f
            .extra
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default(),
    };
    match f.verdict {
        Verdict::Invalid => row.outcome = Outcome::Invalid,
        Verdict::Duplicate => row.outcome = Outcome::Duplicate,
        Verdict::Skipped => row.outcome = Outcome::Skipped,
        Verdict::Unknown => row.outcome = Outcome::Unknown,
        Verdict::Send | Verdict::Reused => {
            row.attempts = f.attempts;
            let message_counts = f.wamid.is_some()
                && (f.verdict == Verdict::Reused || f.message_run_id == Some(run));
            if message_counts {
                of_message(&mut row, f, run);
            } else {
                of_answer(&mut row, f);
            }
        }
    }
    row
}

/// A row whose message counts: its outcome is the message's status.
fn of_message(row: &mut ReportRow, f: ReportFacts, run: RunId) {
    row.wamid = f.wamid;
    row.sent_at = f.accepted_at;
    row.status_at = f.status_at;
    if f.message_run_id != Some(run) {
        row.reused_from_run = f.message_run_id;
    }
    row.outcome = match f.status.as_deref().map(Status::of) {
        Some(Status::Read) => Outcome::Read,
        Some(Status::Delivered) => Outcome::Delivered,
        Some(Status::Failed) => Outcome::Failed,
        _ => Outcome::Pending,
    };
    if row.outcome == Outcome::Failed {
        row.error_code = f.msg_error_code;
        row.error_detail = f.msg_error_title;
    } else if row.outcome == Outcome::Pending {
        row.error_detail = Some(PENDING.into());
    }
    if let Some(note) = status_notes(&f.history) {
        row.error_detail = Some(match row.error_detail.take() {
            Some(d) if !d.is_empty() => format!("{d}; {note}"),
            _ => note,
        });
    }
    row.status = f.status;
}

/// A row sent in this run without a message: its outcome is its latest
/// attempt's answer.
fn of_answer(row: &mut ReportRow, f: ReportFacts) {
    row.http_status = f.http_status;
    row.error_code = f.error_code;
    // Settling a doubt of this run leaves its reason on the row (how often
    // it was looked up, why it is not resent): that is what an `unknown`
    // row says, rather than the bare answer.
    let settled_reason = f.reason.clone().filter(|_| f.attempts > 0);
    row.error_detail = f.error_detail.or(f.reason);
    if f.attempts == 0 {
        row.outcome = Outcome::Skipped;
        row.error_detail
            .get_or_insert_with(|| "not attempted in this run".into());
        return;
    }
    if f.unanswered {
        row.outcome = Outcome::Unknown;
        row.error_detail = Some(
            "the send was recorded but its answer was not: it may or may not have been accepted"
                .into(),
        );
    } else {
        row.outcome = match f.last_result.as_deref() {
            Some("ambiguous") => Outcome::Unknown,
            Some("rejected") | Some("fatal") => Outcome::Rejected,
            Some("retry") if f.http_status.is_none() => Outcome::Skipped,
            Some("retry") => Outcome::Rejected,
            Some("accepted") => Outcome::Pending,
            _ => Outcome::Unknown,
        };
        if f.last_result.as_deref() == Some("retry") {
            let detail = row.error_detail.take().unwrap_or_default();
            row.error_detail = Some(format!("gave up after {} attempts: {detail}", f.attempts));
        }
        if row.outcome == Outcome::Unknown {
            let detail = row.error_detail.take().unwrap_or_default();
            row.error_detail = Some(format!(
                "may or may not have been accepted ({detail}); never resent automatically"
            ));
        }
    }
    if row.outcome == Outcome::Unknown
        && let Some(reason) = settled_reason
    {
        row.error_detail = Some(reason);
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::report) fn facts(verdict: Verdict) -> ReportFacts {
        ReportFacts {
            row: 1,
            line: 2,
            order_key: Some("A1".into()),
            partner_name: "P".into(),
            phone: "491511234567".into(),
            order_number: "A1".into(),
            product_name: "X".into(),
            delivery_note: "N".into(),
            verdict,
            reason: None,
            notes: None,
            attempts: 0,
            last_result: None,
            unanswered: false,
            http_status: None,
            error_code: None,
            error_detail: None,
            first_intent_at: None,
            wamid: None,
            message_run_id: None,
            accepted_at: None,
            status: None,
            status_at: None,
            msg_error_code: None,
            msg_error_title: None,
            is_final: false,
            extra: None,
            history: Vec::new(),
        }
    }

    #[test]
    fn statuses_map_to_outcomes() {
        for (status, outcome) in [
            (Some("read"), Outcome::Read),
            (Some("delivered"), Outcome::Delivered),
            (Some("failed"), Outcome::Failed),
            (Some("sent"), Outcome::Pending),
            (None, Outcome::Pending),
            // The case the poller ignores when it stops polling: a final
            // status in capitals is final here too, not pending forever.
            (Some("DELIVERED"), Outcome::Delivered),
            (Some("Undelivered"), Outcome::Failed),
            (Some("deleted"), Outcome::Pending),
        ] {
            let mut f = facts(Verdict::Send);
            f.attempts = 1;
            f.last_result = Some("accepted".into());
            f.wamid = Some("wamid.1".into());
            f.message_run_id = Some(3);
            f.status = status.map(str::to_string);
            assert_eq!(reconcile(f, 3).outcome, outcome, "{status:?}");
        }
    }

    #[test]
    fn answers_map_to_outcomes() {
        let case = |last: Option<&str>, unanswered: bool, http: Option<u16>| {
            let mut f = facts(Verdict::Send);
            f.attempts = 2;
            f.last_result = last.map(str::to_string);
            f.unanswered = unanswered;
            f.http_status = http;
            reconcile(f, 1)
        };
        assert_eq!(case(None, true, None).outcome, Outcome::Unknown);
        assert_eq!(
            case(Some("ambiguous"), false, Some(500)).outcome,
            Outcome::Unknown
        );
        assert_eq!(
            case(Some("rejected"), false, Some(200)).outcome,
            Outcome::Rejected
        );
        assert_eq!(
            case(Some("retry"), false, Some(429)).outcome,
            Outcome::Rejected
        );
        assert_eq!(case(Some("retry"), false, None).outcome, Outcome::Skipped);
        assert!(
            case(Some("retry"), false, Some(429))
                .error_detail
                .unwrap()
                .starts_with("gave up after 2 attempts")
        );
        let mut f = facts(Verdict::Send);
        f.attempts = 0;
        assert_eq!(reconcile(f, 1).outcome, Outcome::Skipped);
    }

    /// B2: a failure beside a proof of delivery: the merged status (the
    /// proof) decides the outcome, and the row names the conflict.
    #[test]
    fn conflicting_statuses_are_said_and_the_proof_stands() {
        use crate::ledger::StatusSeen;
        let seen = |status: &str, code: Option<i64>| StatusSeen {
            status: status.into(),
            error_code: code,
            error_title: None,
        };
        let mut f = facts(Verdict::Send);
        f.attempts = 1;
        f.last_result = Some("accepted".into());
        f.wamid = Some("wamid.1".into());
        f.message_run_id = Some(3);
        f.status = Some("read".into());
        f.history = vec![
            seen("sent", None),
            seen("failed", Some(131_026)),
            seen("read", None),
        ];
        let r = reconcile(f.clone(), 3);
        assert_eq!(r.outcome, Outcome::Read);
        assert_eq!(
            r.error_detail.as_deref(),
            Some(
                "conflicting statuses: sent → failed (131026) → read; the proof of delivery stands and the row is not sent again"
            )
        );
        // An unknown word is named; the message stays pending.
        f.status = Some("sent".into());
        f.history = vec![seen("sent", None), seen("deleted", None)];
        let r = reconcile(f, 3);
        assert_eq!(r.outcome, Outcome::Pending);
        let detail = r.error_detail.unwrap();
        assert!(detail.starts_with("accepted; no final status"), "{detail}");
        assert!(
            detail.contains("`deleted`, a status handoff does not know"),
            "{detail}"
        );
    }

    /// A doubt of this run that settling could not settle says why, in the
    /// words settling left on the row.
    #[test]
    fn an_unsettled_doubt_of_this_run_shows_its_reason() {
        let mut f = facts(Verdict::Send);
        f.attempts = 1;
        f.last_result = Some("ambiguous".into());
        f.http_status = Some(500);
        f.error_detail = Some("Internal server error".into());
        let r = reconcile(f.clone(), 1);
        assert_eq!(r.outcome, Outcome::Unknown);
        assert!(r.error_detail.unwrap().contains("(Internal server error)"));
        f.reason = Some("looked up 3 times, not found".into());
        let r = reconcile(f, 1);
        assert_eq!(r.outcome, Outcome::Unknown);
        assert_eq!(r.http_status, Some(500));
        assert_eq!(
            r.error_detail.as_deref(),
            Some("looked up 3 times, not found")
        );
    }

    #[test]
    fn earlier_runs_message_is_reused_and_said_so() {
        let mut f = facts(Verdict::Reused);
        f.wamid = Some("wamid.old".into());
        f.message_run_id = Some(1);
        f.status = Some("read".into());
        let r = reconcile(f, 2);
        assert_eq!(r.outcome, Outcome::Read);
        assert_eq!(r.reused_from_run, Some(1));
        // A duplicate row shares the first row's message in the ledger,
        // but its own outcome is duplicate.
        let mut f = facts(Verdict::Duplicate);
        f.wamid = Some("wamid.x".into());
        f.message_run_id = Some(2);
        assert_eq!(reconcile(f, 2).outcome, Outcome::Duplicate);
    }
}
