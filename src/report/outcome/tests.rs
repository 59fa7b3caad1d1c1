//! Tests of the parent module.

use super::*;
use crate::ledger::RetryKind;

pub(crate) fn facts(verdict: Verdict) -> ReportFacts {
    ReportFacts {
        row: 1,
        line: 2,
        partner_name: "P".into(),
        phone: "491511234567".into(),
        order_number: "A1".into(),
        product_name: "X".into(),
        delivery_note: "N".into(),
        verdict,
        reason: None,
        notes: None,
        warnings: None,
        attempts: 0,
        last_result: None,
        unanswered: false,
        http_status: None,
        error_code: None,
        error_detail: None,
        wamid: None,
        message_run_id: None,
        message_channel: None,
        accepted_at: None,
        status: None,
        msg_error_code: None,
        msg_error_title: None,
        extra: None,
        history: Vec::new(),
        problem: None,
        delivered_at: None,
        read_at: None,
        failed_at: None,
        pricing: None,
        partner_id: None,
        contact: None,
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
        f.last_result = Some(SendClass::Accepted {
            wamid: "wamid.1".into(),
        });
        f.wamid = Some("wamid.1".into());
        f.message_run_id = Some(3);
        f.status = status.map(str::to_string);
        assert_eq!(reconcile(f, 3).outcome, outcome, "{status:?}");
    }
}

#[test]
fn answers_map_to_outcomes() {
    let case = |last: Option<SendClass>, unanswered: bool, http: Option<u16>| {
        let mut f = facts(Verdict::Send);
        f.attempts = 2;
        f.last_result = last;
        f.unanswered = unanswered;
        f.http_status = http;
        reconcile(f, 1)
    };
    assert_eq!(case(None, true, None).outcome, Outcome::Unknown);
    assert_eq!(
        case(Some(SendClass::UNSAID), false, Some(500)).outcome,
        Outcome::Unknown
    );
    assert_eq!(
        case(Some(SendClass::Rejected), false, Some(200)).outcome,
        Outcome::Rejected
    );
    let too_many = || Some(SendClass::Retry(RetryKind::TooManyRequests));
    assert_eq!(
        case(too_many(), false, Some(429)).outcome,
        Outcome::Rejected
    );
    assert_eq!(
        case(Some(SendClass::Retry(RetryKind::Connect)), false, None).outcome,
        Outcome::Skipped
    );
    assert!(
        case(too_many(), false, Some(429))
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
    use crate::ledger::StatusUpdate;
    let seen = |status: &str, code: Option<i64>| StatusUpdate {
        status: status.into(),
        error_code: code,
        error_title: None,
        pricing: None,
        ..StatusUpdate::default()
    };
    let mut f = facts(Verdict::Send);
    f.attempts = 1;
    f.last_result = Some(SendClass::Accepted {
        wamid: "wamid.1".into(),
    });
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
    assert_eq!(r.error_detail, None, "a warning, not a problem");
    assert_eq!(
        r.warnings.as_deref(),
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
    let warnings = r.warnings.unwrap();
    assert!(
        warnings.contains("`deleted`, a status handoff does not know"),
        "{warnings}"
    );
}

/// A doubt of this run that settling could not settle says why, in the
/// words settling left on the row.
#[test]
fn an_unsettled_doubt_of_this_run_shows_its_reason() {
    let mut f = facts(Verdict::Send);
    f.attempts = 1;
    f.last_result = Some(SendClass::UNSAID);
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
fn minutes_to_delivery_allow_for_whole_seconds() {
    let t = |ms| chrono::DateTime::from_timestamp_millis(ms);
    let mut r = reconcile(facts(Verdict::Invalid), 1);
    assert_eq!(r.minutes_to_delivery(), None);
    r.sent_at = t(10_400);
    r.delivered_at = t(10_000);
    assert_eq!(r.minutes_to_delivery(), Some(0.0), "a truncated second");
    r.delivered_at = t(10_400 + 90_000);
    assert_eq!(r.minutes_to_delivery(), Some(1.5));
    r.delivered_at = t(5_000);
    assert_eq!(r.minutes_to_delivery(), None, "clocks too far apart");
}

#[test]
fn earlier_runs_message_is_reused_and_said_so() {
    let mut f = facts(Verdict::Reused);
    f.wamid = Some("wamid.old".into());
    f.message_run_id = Some(1);
    f.message_channel = Some("VID1".into());
    f.status = Some("read".into());
    let r = reconcile(f, 2);
    assert_eq!(r.outcome, Outcome::Read);
    assert_eq!(r.reused_from_run, Some(1));
    assert_eq!(r.reused_from_channel.as_deref(), Some("VID1"));
    // A duplicate row shares the first row's message in the ledger,
    // but its own outcome is duplicate.
    let mut f = facts(Verdict::Duplicate);
    f.wamid = Some("wamid.x".into());
    f.message_run_id = Some(2);
    assert_eq!(reconcile(f, 2).outcome, Outcome::Duplicate);
}

fn pending() -> ReportRow {
    let mut f = facts(Verdict::Send);
    f.attempts = 1;
    f.last_result = Some(crate::ledger::SendClass::Accepted {
        wamid: "wamid.1".into(),
    });
    f.wamid = Some("wamid.1".into());
    f.message_run_id = Some(1);
    f.status = Some("sent".into());
    reconcile(f, 1)
}

#[test]
fn a_pending_row_says_why_it_has_no_status() {
    let mut row = pending();
    let before = row.plain.reason.clone();
    untracked(&mut row, "statuses unavailable: hookInfo answered 404");
    assert_eq!(
        row.error_detail.as_deref(),
        Some(
            "accepted; statuses unavailable: hookInfo answered 404, so no status is known (`handoff track` polls again)"
        )
    );
    assert_ne!(row.plain.reason, before, "the plain reason says it too");
    assert!(
        row.plain.reason.contains("could not be fetched"),
        "{}",
        row.plain.reason
    );
    assert!(row.plain.next_step().starts_with("operations: "));
    let mut read = pending();
    read.outcome = Outcome::Read;
    read.error_detail = None;
    untracked(&mut read, "x");
    assert_eq!(read.error_detail, None);
}
