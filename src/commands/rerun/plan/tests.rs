//! The rerun's plan for each row, against a ledger's message.

use super::*;
use crate::input::Origin;
use crate::ledger::{AttemptInfo, MessageInfo};

fn message(status: Option<&str>, is_final: bool) -> MessageInfo {
    MessageInfo {
        wamid: "wamid.A".into(),
        order_key: "R-1".into(),
        run_id: 1,
        attempt_id: None,
        phone: Some("4915123456701".into()),
        params: ["Müller GmbH", "R-1", "Stuhl", "Montag"]
            .map(String::from)
            .to_vec(),
        accepted_at: chrono::Utc::now(),
        status: status.map(String::from),
        status_at: None,
        error_code: None,
        error_title: None,
        is_final,
        polls: 0,
    }
}

fn row(phone: &str, product: &str, outcome: Option<Outcome>) -> BackRow {
    BackRow {
        raw: RawRow {
            row: 1,
            line: 2,
            fields: RawFields {
                partner_name: "Müller GmbH".into(),
                partner_phone: phone.into(),
                order_number: "R-1".into(),
                product_name: product.into(),
                delivery_note: "Montag".into(),
                ..RawFields::default()
            },
            problem: None,
            extra: Vec::new(),
        },
        cells: BackCells {
            outcome,
            wamid: None,
        },
    }
}

fn rules() -> Rules {
    Rules {
        origin: Some(Origin::default()),
        ..Rules::default()
    }
}

/// `judge_back` with the ledger holding `m` (its phone the last
/// attempt's), `selected` asked for, `--force` or not.
fn jb(row: BackRow, m: Option<&MessageInfo>, selected: &[Outcome], force: bool) -> Judged {
    let earlier = Known {
        message: m.cloned(),
        ..Known::default()
    };
    let rules = rules();
    let ask = Asking {
        rules: &rules,
        asked: Asked {
            selected,
            resend_unknown: false,
            force,
            now: chrono::Utc::now(),
        },
    };
    judge_back(row, &earlier, &ask)
}

const ALL: [Outcome; 5] = crate::report::read_back::RESENDABLE;

#[test]
fn a_delivered_row_with_a_rounded_phone_is_held_with_what_was_sent() {
    let m = message(Some("delivered"), true);
    let j = jb(
        row("4.91512E+12", "Stuhl", Some(Outcome::Delivered)),
        Some(&m),
        &ALL,
        false,
    );
    assert_eq!(j.ask, Ask::Hold(Outcome::Delivered));
    assert_eq!(j.raw.fields.partner_phone, "4915123456701");
    assert_eq!(
        j.note.as_deref(),
        Some(
            "edited in the file, not sent: phone 4915123456701 → `4.91512E+12`; \
             the message wamid.A (run 1) went to 4915123456701"
        )
    );
}

#[test]
fn an_unchanged_row_says_nothing_and_a_changed_one_names_the_change() {
    let m = message(Some("read"), true);
    let same = jb(
        row("+49 151 2345 6701", "Stuhl", Some(Outcome::Read)),
        Some(&m),
        &[],
        false,
    );
    assert_eq!(same.note, None, "the same number, written otherwise");
    // Selected in the file (a person typed `skipped`), but the ledger
    // holds a message that did not fail: held all the same, --force
    // or not.
    for force in [false, true] {
        let changed = jb(
            row("+4915123456709", "Tisch", Some(Outcome::Skipped)),
            Some(&m),
            &ALL,
            force,
        );
        assert_eq!(changed.ask, Ask::Hold(Outcome::Skipped));
        assert_eq!(changed.raw.fields.product_name, "Stuhl", "as sent");
        let note = changed.note.expect("a note");
        assert!(
            note.contains("phone 4915123456701 → 4915123456709, product_name `Stuhl` → `Tisch`"),
            "{note}"
        );
    }
}

#[test]
fn a_failed_message_is_sent_again_only_when_selected() {
    let m = message(Some("failed"), true);
    let selected = [Outcome::Failed];
    let again = jb(
        row("+49 151 2345 6709", "Stuhl", Some(Outcome::Failed)),
        Some(&m),
        &selected,
        false,
    );
    assert_eq!(again.ask, Ask::Again);
    assert_eq!(again.raw.fields.partner_phone, "+49 151 2345 6709");
    let held = jb(
        row("+49 151 2345 6709", "Stuhl", Some(Outcome::Failed)),
        Some(&m),
        &[Outcome::Rejected],
        false,
    );
    assert_eq!(held.ask, Ask::Hold(Outcome::Failed));
    // No message: the file's outcome decides; an unreadable one holds.
    let none = jb(row("12", "Stuhl", None), None, &selected, false);
    assert_eq!(none.ask, Ask::Hold(Outcome::Unknown));
    let invalid = jb(
        row("12", "Stuhl", Some(Outcome::Invalid)),
        None,
        &[Outcome::Invalid],
        false,
    );
    assert_eq!(invalid.ask, Ask::Again);
    assert!(invalid.result.is_err());
}

#[test]
fn an_opted_out_row_is_held_unchanged_and_sent_when_fixed_or_forced() {
    let mut m = message(Some("failed"), true);
    m.error_code = Some(131_050);
    // The report's own digits: the number the message went to.
    let same = jb(
        row("4915123456701", "Stuhl", Some(Outcome::Failed)),
        Some(&m),
        &ALL,
        false,
    );
    assert_eq!(same.ask, Ask::Hold(Outcome::Failed));
    let note = same.note.expect("says why");
    assert!(
        note.starts_with("not sent again:") && note.contains("131050"),
        "{note}"
    );
    let forced = jb(
        row("4915123456701", "Stuhl", Some(Outcome::Failed)),
        Some(&m),
        &ALL,
        true,
    );
    assert_eq!(forced.ask, Ask::Again);
    assert!(forced.note.is_some_and(|n| n.contains("--force")));
    let fixed = jb(
        row("+4915123456709", "Stuhl", Some(Outcome::Failed)),
        Some(&m),
        &ALL,
        false,
    );
    assert_eq!(fixed.ask, Ask::Again);
    assert_eq!(fixed.result.unwrap().phone, "4915123456709");
}

#[test]
fn a_phone_cell_reads_as_ours_only_when_it_is_where_the_last_attempt_went() {
    let mut p = "4915123456701".to_string();
    read_phone(&mut p, Some(Outcome::Failed), Some("4915123456701"));
    assert_eq!(p, "+4915123456701");
    // Edited by a person: as written, for --default-country to read.
    let mut p = "15123456709".to_string();
    read_phone(&mut p, Some(Outcome::Failed), Some("4915123456701"));
    assert_eq!(p, "15123456709");
    // Nothing sent (a skipped row): our normalised digits.
    let mut p = "4915123456701".to_string();
    read_phone(&mut p, Some(Outcome::Skipped), None);
    assert_eq!(p, "+4915123456701");
    let mut p = "4915123456701".to_string();
    read_phone(&mut p, Some(Outcome::Invalid), None);
    assert_eq!(p, "4915123456701", "an invalid row's cell is the input's");
}

#[test]
fn messages_are_found_by_order_number_then_by_wamid() {
    use crate::ledger::{Answer, RunMeta, SendClass};
    let mut l = Ledger::open_in_memory().unwrap();
    let now = chrono::Utc::now();
    let run = l
        .begin_run(&RunMeta {
            kind: "run".into(),
            input_path: None,
            api_url: "http://127.0.0.1:1".into(),
            channel: "SIM0001".into(),
            simulated: false,
            template: "t".into(),
            language: "en".into(),
            started_at: now,
        })
        .unwrap();
    let params = message(None, false).params;
    let a = l
        .record_intent(&crate::ledger::Intent {
            run,
            order_key: "12".into(),
            attempt_no: 1,
            phone: "4915123456701".into(),
            params: params.clone(),
            at: now,
            language: None,
            contact: None,
        })
        .unwrap();
    let accepted = SendClass::Accepted { wamid: "w1".into() };
    l.record_answer(
        a,
        &Answer {
            result: accepted,
            http_status: Some(200),
            error_code: None,
            error_detail: None,
            at: now,
        },
    )
    .unwrap();
    let found = messages(
        &l,
        &[
            ("12".into(), None),
            ("0012".into(), Some("w1".into())),
            ("nope".into(), Some("wamid.other".into())),
            (String::new(), None),
        ],
    )
    .unwrap();
    let wamid = |i: usize| found[i].message.as_ref().map(|m| m.wamid.as_str());
    assert_eq!(wamid(0), Some("w1"));
    assert_eq!(wamid(1), Some("w1"));
    assert!(wamid(2).is_none() && wamid(3).is_none());
    assert_eq!(last_phone(&found[1]), Some("4915123456701"));
    assert_eq!(last_phone(&found[2]), None);
}

#[test]
fn an_edit_to_an_unknown_row_is_reported_beside_the_send_in_doubt() {
    let m = message(None, false);
    let attempt = AttemptInfo {
        language: None,
        attempt_id: 1,
        run_id: 1,
        order_key: m.order_key.clone(),
        attempt_no: 1,
        phone: "4915123456701".into(),
        params: m.params.clone(),
        intent_at: chrono::Utc::now(),
        answered_at: None,
        result: None,
        http_status: None,
        error_code: None,
        error_detail: None,
        wamid: None,
    };
    let earlier = Known {
        last: Some(attempt),
        ..Known::default()
    };
    let rules = rules();
    let ask = Asking {
        rules: &rules,
        asked: Asked {
            selected: &ALL,
            resend_unknown: false,
            force: true,
            now: chrono::Utc::now(),
        },
    };
    let j = judge_back(
        row("+4915123456709", "Stuhl", Some(Outcome::Unknown)),
        &earlier,
        &ask,
    );
    assert_eq!(j.ask, Ask::Hold(Outcome::Unknown));
    assert_eq!(j.raw.fields.partner_phone, "4915123456701", "as attempted");
    let note = j.note.expect("the edit is reported");
    assert!(
        note.contains("phone 4915123456701 → 4915123456709")
            && note.contains("the send in doubt (run 1, attempt 1)"),
        "{note}"
    );
}

#[test]
fn a_failed_message_whose_resend_is_in_doubt_is_not_sent_a_third_time() {
    let mut m = message(Some("failed"), true);
    m.accepted_at = chrono::Utc::now() - chrono::Duration::hours(1);
    let resend = |result: Option<crate::ledger::SendClass>, after: bool| AttemptInfo {
        language: None,
        attempt_id: 2,
        run_id: 2,
        order_key: m.order_key.clone(),
        attempt_no: 1,
        phone: "4915123456701".into(),
        params: m.params.clone(),
        intent_at: m.accepted_at + chrono::Duration::minutes(if after { 30 } else { -1 }),
        answered_at: None,
        result,
        http_status: None,
        error_code: None,
        error_detail: None,
        wamid: None,
    };
    let rules = rules();
    let ask = Asking {
        rules: &rules,
        asked: Asked {
            selected: &ALL,
            resend_unknown: false,
            force: true,
            now: chrono::Utc::now(),
        },
    };
    // The older report still says `failed`; even --force does not send.
    for result in [None, Some(crate::ledger::SendClass::UNSAID)] {
        let earlier = Known {
            message: Some(m.clone()),
            last: Some(resend(result.clone(), true)),
            ..Known::default()
        };
        let j = judge_back(
            row("+4915123456701", "Stuhl", Some(Outcome::Failed)),
            &earlier,
            &ask,
        );
        assert_eq!(j.ask, Ask::Hold(Outcome::Unknown), "{result:?}");
        let note = j.note.expect("says why");
        assert!(note.contains("run 2, attempt 1"), "{note}");
    }
    // The failed message's own attempt (before it was accepted) is no doubt.
    let earlier = Known {
        message: Some(m.clone()),
        last: Some(resend(None, false)),
        ..Known::default()
    };
    let j = judge_back(
        row("+4915123456701", "Stuhl", Some(Outcome::Failed)),
        &earlier,
        &ask,
    );
    assert_eq!(j.ask, Ask::Again);
}
