//! What a row says about its message's status history beyond the merged
//! status: a failure next to a proof of delivery ("conflicting statuses"),
//! and status words handoff does not know. The ledger keeps both verbatim;
//! this is where they become words for the person reading the report.

use crate::ledger::{Status, StatusUpdate};

/// The note for a message's history, if it needs one.
pub(super) fn status_notes(history: &[StatusUpdate]) -> Option<String> {
    let mut notes = Vec::new();
    if conflicting(history) {
        let sequence: Vec<String> = history.iter().map(describe).collect();
        notes.push(format!(
            "conflicting statuses: {}; the proof of delivery stands and the row is not sent again",
            sequence.join(" → ")
        ));
    }
    let unknown: Vec<String> = history
        .iter()
        .filter(|h| Status::of(&h.status) == Status::Other)
        .map(|h| format!("`{}`", h.status))
        .collect();
    if !unknown.is_empty() {
        notes.push(format!(
            "1MSG also reported {}, a status handoff does not know (kept as reported, not final)",
            unknown.join(", ")
        ));
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// The two notes joined with `; `, or whichever there is.
pub(super) fn join(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a.filter(|a| !a.is_empty()), b.filter(|b| !b.is_empty())) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    }
}

/// Whether the history holds both a failure and a proof of delivery.
pub(crate) fn conflicting(history: &[StatusUpdate]) -> bool {
    let has = |f: fn(Status) -> bool| history.iter().any(|h| f(Status::of(&h.status)));
    has(|s| s == Status::Failed) && has(Status::proves_delivery)
}

/// `failed (131026 Message undeliverable)`, or the bare status.
fn describe(h: &StatusUpdate) -> String {
    let code = h.error_code.map(|c| c.to_string());
    let title = h.error_title.as_deref().filter(|t| !t.is_empty());
    let detail: Vec<&str> = [code.as_deref(), title].into_iter().flatten().collect();
    match detail.join(" ") {
        detail if detail.is_empty() => h.status.clone(),
        detail => format!("{} ({detail})", h.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(status: &str, code: Option<i64>, title: Option<&str>) -> StatusUpdate {
        StatusUpdate {
            status: status.into(),
            error_code: code,
            error_title: title.map(str::to_string),
            pricing: None,
            ..StatusUpdate::default()
        }
    }

    #[test]
    fn a_failure_beside_a_delivery_proof_is_a_conflict() {
        let history = [
            seen("sent", None, None),
            seen("failed", Some(131_026), Some("Message undeliverable")),
            seen("read", None, None),
        ];
        assert_eq!(
            status_notes(&history).unwrap(),
            "conflicting statuses: sent → failed (131026 Message undeliverable) → read; \
             the proof of delivery stands and the row is not sent again"
        );
        assert!(conflicting(&[
            seen("delivered", None, None),
            seen("undelivered", None, None)
        ]));
        assert!(conflicting(&[
            seen("FAILED", None, None),
            seen("viewed", None, None)
        ]));
        assert!(!conflicting(&[
            seen("sent", None, None),
            seen("failed", None, None)
        ]));
        assert!(status_notes(&[seen("sent", None, None), seen("failed", Some(1), None)]).is_none());
        assert!(status_notes(&[]).is_none());
    }

    /// The numbering-plan warning validation really writes is a warning of
    /// its own, apart from the cleaning notes beside it: the report's
    /// `warnings` column is the row's, never found in its notes by words.
    #[test]
    fn a_number_outside_the_plan_is_a_warning() {
        let fields = crate::input::RawFields {
            partner_name: "P".into(),
            partner_phone: "+44 7700 900123".into(),
            order_number: "A1".into(),
            product_name: "X".into(),
            delivery_note: "N\tN".into(),
            ..crate::input::RawFields::default()
        };
        let rules = crate::delivery::Rules::default();
        let d = crate::delivery::validate(&fields, &rules).expect("possible, so sent");
        assert_eq!(d.warnings.len(), 1, "{d:?}");
        assert!(
            d.warnings[0].starts_with("partner_phone: not in a range "),
            "{d:?}"
        );
        assert!(!d.notes.is_empty(), "the tab is a cleaning note: {d:?}");
        assert!(
            d.notes.iter().all(|n| !n.contains("not in a range")),
            "{d:?}"
        );
        let valid = crate::input::RawFields {
            partner_phone: "+44 7911 123456".into(),
            ..fields
        };
        let d = crate::delivery::validate(&valid, &rules).expect("valid");
        assert!(d.warnings.is_empty(), "{d:?}");
    }

    #[test]
    fn unknown_words_are_named() {
        let note = status_notes(&[seen("sent", None, None), seen("deleted", None, None)]).unwrap();
        assert_eq!(
            note,
            "1MSG also reported `deleted`, a status handoff does not know (kept as reported, not final)"
        );
        let both = status_notes(&[
            seen("failed", Some(131_050), None),
            seen("played", None, None),
            seen("archived", None, None),
        ])
        .unwrap();
        assert!(
            both.starts_with("conflicting statuses: failed (131050) → played → archived"),
            "{both}"
        );
        assert!(
            both.ends_with(
                "`archived`, a status handoff does not know (kept as reported, not final)"
            ),
            "{both}"
        );
    }
}
