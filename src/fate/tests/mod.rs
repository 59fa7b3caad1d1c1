//! A row's fate as tables: every state of an order's facts against every
//! ask a command can make, in plain unit tests.

// Only ever compiled under test, as its parent is; said again so that a
// line counter reading files one at a time knows it too.
#[cfg(test)]
mod fallback;
#[cfg(test)]
mod limits;
#[cfg(test)]
mod resend;
#[cfg(test)]
mod take;

use chrono::{Duration, Utc};

use super::*;
use crate::ledger::SendClass;

fn delivery(phone: &str, product: &str) -> Delivery {
    Delivery {
        order_key: "R-1".into(),
        partner_name: "Ada".into(),
        phone: phone.into(),
        order_number: "R-1".into(),
        product_name: product.into(),
        delivery_note: "Thanks".into(),
        notes: Vec::new(),
        warnings: Vec::new(),
        language: None,
    }
}

/// The order's message: `status` `None` is accepted without a status yet.
fn message(status: Option<&str>) -> MessageInfo {
    let is_final = status.is_some_and(|s| Status::of(s).is_final());
    MessageInfo {
        wamid: "wamid.M".into(),
        order_key: "R-1".into(),
        run_id: 1,
        attempt_id: None,
        phone: Some("491510000001".into()),
        params: ["Ada", "R-1", "Lamp", "Thanks"].map(String::from).to_vec(),
        accepted_at: Utc::now() - Duration::hours(1),
        status: status.map(String::from),
        status_at: None,
        error_code: None,
        error_title: None,
        is_final,
        polls: 0,
    }
}

fn attempt(after_message: bool, result: Option<SendClass>) -> AttemptInfo {
    let m = message(None);
    let minutes = if after_message { 30 } else { -1 };
    AttemptInfo {
        language: None,
        attempt_id: 7,
        run_id: 2,
        order_key: "R-1".into(),
        attempt_no: 1,
        phone: "491510000001".into(),
        params: m.params.clone(),
        intent_at: m.accepted_at + Duration::minutes(minutes),
        answered_at: None,
        result,
        http_status: None,
        error_code: None,
        error_detail: None,
        wamid: None,
    }
}

fn doubt() -> Doubt {
    Doubt {
        attempt: attempt(true, None),
    }
}

/// The facts of one order, by name, as the tables use them.
fn known(name: &str) -> Known {
    let with = |m: MessageInfo| Known {
        message: Some(m),
        ..Known::default()
    };
    match name {
        "nothing" => Known::default(),
        "duplicate" => Known {
            first_row: Some(3),
            ..Known::default()
        },
        "accepted" => with(message(None)),
        "delivered" => with(message(Some("delivered"))),
        "read" => with(message(Some("read"))),
        "failed" => with(message(Some("failed"))),
        "in doubt" => Known {
            doubts: vec![doubt()],
            ..Known::default()
        },
        // A send to the partner's next contact, in doubt, after the
        // message to the first one failed (`--fallback backup`).
        "failed, then in doubt" => Known {
            doubts: vec![doubt()],
            ..with(message(Some("failed")))
        },
        other => panic!("no facts named {other}"),
    }
}

fn reused(open: bool) -> Fate {
    Fate::Reused {
        wamid: "wamid.M".into(),
        open,
        changed: Vec::new(),
    }
}

fn new_send() -> Fate {
    Fate::Send {
        replaces: None,
        changes: Vec::new(),
    }
}

#[test]
fn every_ask_against_every_state_of_the_order() {
    let same = delivery("491510000001", "Lamp");
    let send_again = Fate::Send {
        replaces: Some("wamid.M".into()),
        changes: Vec::new(),
    };
    let dup = Fate::Duplicate { first_row: 3 };
    let held = Ask::Hold(Outcome::Skipped);
    #[rustfmt::skip]
    let table: Vec<(Ask, bool, &str, Fate, Verdict)> = vec![
        // ask          valid  the order's facts   fate                      verdict
        (Ask::Send,     true,  "nothing",    new_send(),                       Verdict::Send),
        (Ask::Send,     false, "nothing",    Fate::Invalid,                    Verdict::Invalid),
        (Ask::Send,     true,  "duplicate",  dup.clone(),                      Verdict::Duplicate),
        (Ask::Send,     true,  "accepted",   reused(true),                     Verdict::Reused),
        (Ask::Send,     true,  "delivered",  reused(false),                    Verdict::Reused),
        (Ask::Send,     true,  "read",       reused(false),                    Verdict::Reused),
        // A run never sends a failed order again: a rerun does, when asked.
        (Ask::Send,     true,  "failed",     reused(false),                    Verdict::Reused),
        (Ask::Send,     true,  "in doubt",   Fate::LookUp,                     Verdict::Unknown),
        (Ask::Send,     false, "in doubt",   Fate::Invalid,                    Verdict::Invalid),
        (Ask::Send,     true,  "failed, then in doubt", Fate::LookUp,          Verdict::Unknown),
        (Ask::Again,    true,  "nothing",    new_send(),                       Verdict::Send),
        (Ask::Again,    false, "failed",     Fate::Invalid,                    Verdict::Invalid),
        (Ask::Again,    true,  "failed",     send_again,                       Verdict::Send),
        (Ask::Again,    true,  "delivered",  reused(false),                    Verdict::Reused),
        (Ask::Again,    true,  "accepted",   reused(true),                     Verdict::Reused),
        (Ask::Again,    true,  "in doubt",   Fate::LookUp,                     Verdict::Unknown),
        // Never sent again while the later send may have been accepted.
        (Ask::Again,    true,  "failed, then in doubt", Fate::LookUp,          Verdict::Unknown),
        (Ask::Again,    true,  "duplicate",  dup.clone(),                      Verdict::Duplicate),
        // A held row is never judged by its cells, nor looked up.
        (held,          false, "nothing",    Fate::NotSelected(Outcome::Skipped), Verdict::Skipped),
        (held,          false, "duplicate",  dup,                              Verdict::Duplicate),
        (held,          false, "failed",     reused(false),                    Verdict::Reused),
        (held,          true,  "accepted",   reused(true),                     Verdict::Reused),
        (Ask::Hold(Outcome::Unknown),   true, "in doubt", Fate::NotSelected(Outcome::Unknown),   Verdict::Unknown),
        (Ask::Hold(Outcome::Duplicate), true, "nothing",  Fate::NotSelected(Outcome::Duplicate), Verdict::Duplicate),
        (Ask::Hold(Outcome::Rejected),  true, "nothing",  Fate::NotSelected(Outcome::Rejected),  Verdict::Skipped),
    ];
    for (ask, valid, facts, want, verdict) in table {
        for resend_changed in [false, true] {
            let got = decide(ask, valid.then_some(&same), &known(facts), resend_changed);
            assert_eq!(
                got, want,
                "{ask:?} valid={valid} {facts} --resend-changed={resend_changed}"
            );
            assert_eq!(got.verdict(), verdict, "{ask:?} {facts}");
        }
    }
}

#[test]
fn a_changed_order_is_reused_and_said_unless_resend_changed_sends_it() {
    let moved = delivery("491510000009", "Desk");
    let changes = vec![
        "phone 491510000001 → 491510000009".to_string(),
        "product_name `Lamp` → `Desk`".to_string(),
    ];
    let kept = decide(Ask::Send, Some(&moved), &known("delivered"), false);
    assert_eq!(
        kept,
        Fate::Reused {
            wamid: "wamid.M".into(),
            open: false,
            changed: changes.clone()
        }
    );
    let reason = kept.reason(4, "R-1").expect("says what changed");
    assert!(
        reason.starts_with("changed since wamid.M was accepted: phone 491510000001 → 491510000009")
            && reason.contains("--resend-changed"),
        "{reason}"
    );
    let sent = decide(Ask::Send, Some(&moved), &known("delivered"), true);
    assert_eq!(
        sent,
        Fate::Send {
            replaces: Some("wamid.M".into()),
            changes
        }
    );
    assert!(sent.note().is_some_and(|n| n.contains("replaces wamid.M")));
}

#[test]
fn what_a_fate_says_to_people() {
    let dup = Fate::Duplicate { first_row: 3 };
    assert_eq!(
        dup.reason(9, "R-1").as_deref(),
        Some("line 9: order number `R-1` already appears in row 3; not sent twice")
    );
    assert_eq!(
        Fate::NotSelected(Outcome::Delivered)
            .reason(2, "R-1")
            .as_deref(),
        Some("not selected for this rerun (outcome `delivered` in the file)")
    );
    let again = Fate::Send {
        replaces: Some("wamid.F".into()),
        changes: Vec::new(),
    };
    assert_eq!(
        again.note().as_deref(),
        Some("sent again: the earlier message wamid.F failed")
    );
    for quiet in [new_send(), reused(false), Fate::LookUp, Fate::Invalid] {
        assert_eq!(quiet.reason(1, "R-1"), None, "{quiet:?}");
        assert_eq!(quiet.note(), None, "{quiet:?}");
    }
}

/// A reported row: its verdict, attempts, whether the last went unanswered,
/// the last answer, the message's run and status, and the outcome.
type Row<'a> = (
    Verdict,
    u32,
    bool,
    Option<SendClass>,
    Option<(i64, Option<&'a str>)>,
    Outcome,
);

#[test]
fn a_rows_outcome_from_its_verdict_its_message_and_its_answer() {
    use super::outcome::{message_counts, of};
    use crate::ledger::RetryKind;
    use crate::report::outcome::tests::facts;
    const RUN: i64 = 2;
    let accepted = || SendClass::Accepted {
        wamid: "wamid.M".into(),
    };
    // (verdict, attempts, unanswered, the last answer, the message's run
    // and status) → outcome.
    #[rustfmt::skip]
    let table: Vec<Row<'_>> = vec![
        (Verdict::Invalid,   0, false, None, None, Outcome::Invalid),
        (Verdict::Duplicate, 0, false, None, Some((RUN, Some("read"))), Outcome::Duplicate),
        (Verdict::Skipped,   0, false, None, None, Outcome::Skipped),
        (Verdict::Unknown,   1, true,  None, None, Outcome::Unknown),
        // This run's message: its status.
        (Verdict::Send, 1, false, Some(accepted()), Some((RUN, Some("read"))),      Outcome::Read),
        (Verdict::Send, 1, false, Some(accepted()), Some((RUN, Some("delivered"))), Outcome::Delivered),
        (Verdict::Send, 1, false, Some(accepted()), Some((RUN, Some("failed"))),    Outcome::Failed),
        (Verdict::Send, 1, false, Some(accepted()), Some((RUN, Some("sent"))),      Outcome::Pending),
        (Verdict::Send, 1, false, Some(accepted()), Some((RUN, None)),              Outcome::Pending),
        // An earlier run's message counts for a reused row only.
        (Verdict::Reused, 0, false, None, Some((1, Some("delivered"))), Outcome::Delivered),
        (Verdict::Send,   0, false, None, Some((1, Some("delivered"))), Outcome::Skipped),
        // No message: the answer.
        (Verdict::Send, 1, true,  None, None, Outcome::Unknown),
        (Verdict::Send, 1, false, Some(SendClass::UNSAID), None, Outcome::Unknown),
        (Verdict::Send, 1, false, Some(SendClass::Rejected), None, Outcome::Rejected),
        (Verdict::Send, 3, false, Some(SendClass::Retry(RetryKind::TooManyRequests)), None, Outcome::Rejected),
        (Verdict::Send, 3, false, Some(SendClass::Retry(RetryKind::Connect)), None, Outcome::Skipped),
        (Verdict::Send, 1, false, Some(accepted()), None, Outcome::Pending),
        // A send to the partner's next contact after this run's message
        // failed (`--fallback backup`): that send's answer, not the failure.
        (Verdict::Send, 2, true,  None, Some((RUN, Some("failed"))), Outcome::Unknown),
        (Verdict::Send, 2, false, Some(SendClass::Rejected), Some((RUN, Some("failed"))), Outcome::Rejected),
        (Verdict::Send, 2, false, Some(accepted()), Some((RUN, Some("failed"))), Outcome::Failed),
    ];
    for (i, (verdict, attempts, unanswered, last, message, want)) in table.into_iter().enumerate() {
        let mut f = facts(verdict);
        f.attempts = attempts;
        f.unanswered = unanswered;
        f.last_result = last;
        if let Some((run, status)) = message {
            f.wamid = Some("wamid.M".into());
            f.message_run_id = Some(run);
            f.status = status.map(String::from);
        }
        assert_eq!(of(&f, RUN), want, "case {i}: {verdict:?}");
        if matches!(verdict, Verdict::Send | Verdict::Reused) {
            // The message counts exactly when the outcome is its status.
            let counts = f.wamid.is_some()
                && matches!(
                    want,
                    Outcome::Read | Outcome::Delivered | Outcome::Failed | Outcome::Pending
                );
            assert_eq!(message_counts(&f, RUN), counts, "case {i}");
        }
    }
}
