//! The resend rule for a failed row, moved with the rule from the rerun.

use chrono::{DateTime, Duration, Utc};

use super::delivery;
use super::rerun::{Asked, resend};
use crate::codes;
use crate::ledger::MessageInfo;

fn failed(code: Option<i64>, at: DateTime<Utc>) -> MessageInfo {
    MessageInfo {
        wamid: "wamid.F".into(),
        order_key: "R-1".into(),
        run_id: 1,
        attempt_id: None,
        phone: Some("15550200001".into()),
        params: ["Ada", "R-1", "Lamp", "Thanks"].map(String::from).to_vec(),
        accepted_at: at,
        status: Some("failed".into()),
        status_at: Some(at),
        error_code: code,
        error_title: None,
        is_final: true,
        polls: 0,
    }
}

fn asked(force: bool, now: DateTime<Utc>) -> Asked<'static> {
    Asked {
        selected: &[],
        resend_unknown: false,
        force,
        now,
    }
}

#[test]
fn a_permanent_failure_with_the_same_data_is_held_unless_forced() {
    let now = Utc::now();
    for code in [131_050, 131_026] {
        let m = failed(Some(code), now);
        let same = delivery("15550200001", "Lamp");
        let Err(note) = resend(&same, &m, asked(false, now)) else {
            panic!("{code} sent again unchanged");
        };
        assert!(
            note.contains("--force") && note.contains(&code.to_string()),
            "{note}"
        );
        assert!(note.contains(codes::lookup(code).unwrap().reason), "{note}");
        let Ok(Some(forced)) = resend(&same, &m, asked(true, now)) else {
            panic!("--force did not send {code}");
        };
        assert!(forced.contains("--force"));
        // A corrected phone or text goes, without --force.
        assert_eq!(
            resend(&delivery("491510000002", "Lamp"), &m, asked(false, now)),
            Ok(None)
        );
        assert_eq!(
            resend(&delivery("15550200001", "Desk"), &m, asked(false, now)),
            Ok(None)
        );
    }
}

#[test]
fn a_passing_failure_goes_and_a_waiting_one_goes_when_its_time_came() {
    let now = Utc::now();
    let same = delivery("15550200001", "Lamp");
    // 131047 (re-engagement) may pass; an unknown code and no code too.
    for code in [Some(131_047), Some(4242), None] {
        assert_eq!(
            resend(&same, &failed(code, now), asked(false, now)),
            Ok(None),
            "{code:?}"
        );
    }
    // 131049 and 130472: not before a day after the failure.
    for code in [131_049, 130_472] {
        let recent = failed(Some(code), now - Duration::hours(2));
        let Err(note) = resend(&same, &recent, asked(false, now)) else {
            panic!("{code} sent again within the day");
        };
        let from = (now + Duration::hours(22))
            .format("%Y-%m-%d %H:%M")
            .to_string();
        assert!(note.contains(&from), "{note}");
        let old = failed(Some(code), now - Duration::hours(25));
        assert_eq!(resend(&same, &old, asked(false, now)), Ok(None));
    }
}
