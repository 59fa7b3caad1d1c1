//! [`fallback`]: a partner's next contact only on positive proof that the
//! message to the one before cannot arrive.

use super::*;
use crate::delivery::{Contact, Role};
use crate::fate::fallback::fallback;

fn contact(phone: &str, role: Role) -> Contact {
    Contact {
        line: 2,
        role,
        phone: phone.into(),
        language: None,
        opt_out: false,
        label: format!("{role} (line 2 of partners.csv)"),
    }
}

const PRIMARY: &str = "491510000001";
const BACKUP: &str = "491510000002";

/// The order sent to the primary, its message in `status` with `code`.
fn sent(status: Option<&str>, code: Option<i64>) -> Known {
    let mut m = message(status);
    m.error_code = code;
    let mut last = attempt(
        false,
        Some(SendClass::Accepted {
            wamid: m.wamid.clone(),
        }),
    );
    last.http_status = Some(200);
    Known {
        message: Some(m),
        last: Some(last),
        ..Known::default()
    }
}

/// The order's send to the primary refused with `code`.
fn refused(code: i64) -> Known {
    let mut last = attempt(true, Some(SendClass::Rejected));
    last.error_code = Some(code);
    Known {
        last: Some(last),
        ..Known::default()
    }
}

#[test]
fn a_contact_that_cannot_be_reached_is_followed_by_the_next_one_once() {
    let contacts = [
        contact(PRIMARY, Role::Primary),
        contact(BACKUP, Role::Backup),
    ];
    let tried = [PRIMARY.to_string()];
    for (known, code, was_refused) in [
        (sent(Some("failed"), Some(131_026)), 131_026, false),
        (sent(Some("failed"), Some(131_050)), 131_050, false),
        (refused(131_026), 131_026, true),
    ] {
        let fate = fallback(&known, &tried, &contacts).expect("proof");
        let Fate::Fallback { after, to } = &fate else {
            panic!("{fate:?}");
        };
        assert_eq!(to.phone, BACKUP);
        let phone = PRIMARY.to_string();
        let proof = (&after.phone, after.code, after.refused);
        assert_eq!(proof, (&phone, code, was_refused), "{after:?}");
        assert_eq!(fate.verdict(), Verdict::Send);
        assert!(fate.note().is_some_and(|n| n.contains("backup (line 2")));
        // Every contact written to already: nobody is written to twice.
        let both = [PRIMARY.to_string(), BACKUP.to_string()];
        assert_eq!(fallback(&known, &both, &contacts), None);
    }
}

#[test]
fn no_proof_no_fallback() {
    let contacts = [
        contact(PRIMARY, Role::Primary),
        contact(BACKUP, Role::Backup),
    ];
    let tried = [PRIMARY.to_string()];
    let in_doubt = Known {
        doubts: vec![doubt()],
        ..Known::default()
    };
    let once_in_doubt = Known {
        was_in_doubt: true,
        ..sent(Some("failed"), Some(131_026))
    };
    let cases = [
        ("delivered", sent(Some("delivered"), None)),
        ("read", sent(Some("read"), None)),
        ("a status still to come", sent(None, None)),
        ("a late sent", sent(Some("sent"), None)),
        (
            "a failure that may pass",
            sent(Some("failed"), Some(131_049)),
        ),
        (
            "a failure of the message's text",
            sent(Some("failed"), Some(132_005)),
        ),
        ("a refusal of the text", refused(132_018)),
        ("a doubt", in_doubt),
        ("a doubt settled since", once_in_doubt),
        ("nothing sent", Known::default()),
    ];
    for (case, known) in cases {
        assert_eq!(fallback(&known, &tried, &contacts), None, "{case}");
    }
}

/// The next contact is held like any row: a suppressed phone (opted out in
/// the partners file, refused, blocked) or one past the daily budget gets
/// no fallback; and a message the partner's phone got is no proof, even
/// when a later send of the order was refused.
#[test]
fn a_suppressed_or_over_budget_backup_and_a_delivered_order_get_no_fallback() {
    let contacts = [
        contact(PRIMARY, Role::Primary),
        contact(BACKUP, Role::Backup),
    ];
    let tried = [PRIMARY.to_string()];
    let fate = fallback(&sent(Some("failed"), Some(131_026)), &tried, &contacts).expect("proof");
    let to_backup = crate::fate::tests::delivery(BACKUP, "Lamp");
    let opted_out = crate::ledger::Suppression {
        phone: BACKUP.into(),
        since: chrono::Utc::now(),
        refused: None,
    };
    let suppressed = crate::fate::Limits {
        suppressed: std::sync::Arc::new([(BACKUP.to_string(), opted_out.clone())].into()),
        budget: None,
    };
    let held = crate::fate::within(fate.clone(), Some(&to_backup), &suppressed);
    assert_eq!(held, Fate::Suppressed(opted_out));
    let full = crate::fate::Limits {
        budget: Some(crate::fate::Budget::new(1, [PRIMARY.to_string()].into())),
        ..crate::fate::Limits::default()
    };
    let held = crate::fate::within(fate, Some(&to_backup), &full);
    assert!(matches!(held, Fate::OverBudget { limit: 1 }), "{held:?}");

    let mut delivered_then_refused = refused(131_026);
    delivered_then_refused.message = sent(Some("delivered"), None).message;
    assert_eq!(fallback(&delivered_then_refused, &tried, &contacts), None);
}

#[test]
fn a_next_contact_held_back_is_said_with_the_proof_and_why() {
    use crate::fate::fallback::held_note;
    let backup = contact(BACKUP, Role::Backup);
    let Some(Fate::Fallback { after, to }) = fallback(
        &sent(Some("failed"), Some(131_026)),
        &[PRIMARY.to_string()],
        &[contact(PRIMARY, Role::Primary), backup.clone()],
    ) else {
        panic!("a fallback");
    };
    let over = held_note(&Fate::OverBudget { limit: 7 }, &after, &to).unwrap();
    assert!(over.starts_with(&after.said()), "{over}");
    assert!(
        over.ends_with(&format!(
            "the {} was not written to: 7 partners were messaged in the last 24 hours, the daily \
             budget (--daily-recipients 7)",
            backup.label
        )),
        "{over}"
    );
    let not_held = Fate::Fallback {
        after: after.clone(),
        to: to.clone(),
    };
    assert_eq!(held_note(&not_held, &after, &to), None);
}
