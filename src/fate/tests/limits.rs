//! The limits on a row the command would send, whatever its order: a
//! suppressed phone and the daily budget ([`crate::fate::within`]).

use chrono::Utc;

use super::delivery;
use crate::fate::*;
use crate::ledger::{Suppression, Verdict};

/// The daily budget holds back only what would be sent (or looked up and
/// perhaps sent), to a new recipient past the budget.
#[test]
fn the_budget_holds_back_only_sends_to_new_recipients() {
    let budget = Limits {
        budget: Some(Budget::new(
            1,
            std::collections::HashSet::from(["49100".to_string()]),
        )),
        ..Limits::default()
    };
    let new = delivery("49200", "Lamp");
    let known = delivery("49100", "Lamp");
    let held = within(Fate::send(), Some(&new), &budget);
    assert_eq!(held, Fate::OverBudget { limit: 1 });
    assert_eq!(held.verdict(), Verdict::Skipped);
    assert!(
        held.reason(3, "A-1")
            .unwrap()
            .contains("--daily-recipients 1")
    );
    // A doubt is looked up whatever the budget: holding it would report
    // `skipped` for an order whose earlier send may have been accepted.
    assert_eq!(within(Fate::LookUp, Some(&new), &budget), Fate::LookUp);
    assert_eq!(within(Fate::send(), Some(&known), &budget), Fate::send());
    assert_eq!(
        within(Fate::send(), Some(&new), &Limits::default()),
        Fate::send()
    );
    let duplicate = Fate::Duplicate { first_row: 1 };
    assert_eq!(within(duplicate.clone(), Some(&new), &budget), duplicate);
}

/// A suppressed phone is never sent to, and spends no budget; a doubt to
/// it is still looked up (its earlier send may have been accepted).
#[test]
fn a_suppressed_phone_is_held_before_the_budget_counts_it() {
    let refused = Suppression {
        phone: "49100".into(),
        since: Utc::now(),
        refused: Some((131050, "wamid.X".into())),
    };
    let limits = Limits {
        suppressed: std::sync::Arc::new(std::collections::HashMap::from([(
            "49100".to_string(),
            refused.clone(),
        )])),
        budget: Some(Budget::new(1, std::collections::HashSet::new())),
    };
    let d = delivery("49100", "Lamp");
    let held = within(Fate::send(), Some(&d), &limits);
    assert_eq!(held, Fate::Suppressed(refused));
    assert_eq!(held.verdict(), Verdict::Skipped);
    let why = held.reason(2, "A-1").unwrap();
    assert!(
        why.contains("131050") && why.contains("suppressions remove +49100"),
        "{why}"
    );
    let other = delivery("49200", "Lamp");
    assert_eq!(within(Fate::send(), Some(&other), &limits), Fate::send());
    // The budget of one went to 49200, not to the suppressed phone; the
    // doubt is looked up all the same.
    assert_eq!(within(Fate::LookUp, Some(&d), &limits), Fate::LookUp);
}
