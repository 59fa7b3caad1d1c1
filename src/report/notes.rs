//! What a row says about its message's status history beyond the merged
//! status: a failure next to a proof of delivery ("conflicting statuses"),
//! and status words handoff does not know. The ledger keeps both verbatim;
//! this is where they become words for the person reading the report.

use crate::ledger::{Status, StatusSeen};

/// The note for a message's history, if it needs one.
pub(super) fn status_notes(history: &[StatusSeen]) -> Option<String> {
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

/// How validation words a phone outside the numbering plan's ranges
/// (`crate::delivery`): it is sent, and may well be delivered, so it is a
/// warning to check, not a change handoff made to the data.
const PLAN_NOTE_START: &str = "not in a range ";
const PLAN_NOTE_END: &str = "check the number if the message fails";

/// Splits a row's notes into what handoff did to the data (the notes) and
/// what a person may want to check (the warnings).
pub(super) fn split_warnings(notes: Option<String>) -> (Option<String>, Option<String>) {
    let Some(text) = notes else {
        return (None, None);
    };
    let Some(at) = text.find(PLAN_NOTE_START) else {
        return (Some(text), None);
    };
    // The note starts at its part's beginning (`partner_phone: not in …`).
    let start = text[..at].rfind("; ").map_or(0, |i| i + 2);
    let end = text[at..]
        .find(PLAN_NOTE_END)
        .map_or(text.len(), |i| at + i + PLAN_NOTE_END.len());
    let warning = text[start..end].to_string();
    let rest = join(
        Some(text[..start].trim_end_matches("; ").to_string()),
        Some(text[end..].trim_start_matches("; ").to_string()),
    );
    (rest, Some(warning))
}

/// Whether the history holds both a failure and a proof of delivery.
pub(crate) fn conflicting(history: &[StatusSeen]) -> bool {
    let has = |f: fn(Status) -> bool| history.iter().any(|h| f(Status::of(&h.status)));
    has(|s| s == Status::Failed) && has(Status::proves_delivery)
}

/// `failed (131026 Message undeliverable)`, or the bare status.
fn describe(h: &StatusSeen) -> String {
    match (
        h.error_code,
        h.error_title.as_deref().filter(|t| !t.is_empty()),
    ) {
        (Some(code), Some(title)) => format!("{} ({code} {title})", h.status),
        (Some(code), None) => format!("{} ({code})", h.status),
        (None, Some(title)) => format!("{} ({title})", h.status),
        (None, None) => h.status.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(status: &str, code: Option<i64>, title: Option<&str>) -> StatusSeen {
        StatusSeen {
            status: status.into(),
            error_code: code,
            error_title: title.map(str::to_string),
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

    /// The numbering-plan note validation really writes becomes a warning;
    /// the cleaning notes beside it stay notes.
    #[test]
    fn a_number_outside_the_plan_is_a_warning() {
        let fields = crate::input::RawFields {
            partner_name: "P".into(),
            partner_phone: "+44 7700 900123".into(),
            order_number: "A1".into(),
            product_name: "X".into(),
            delivery_note: "N".into(),
            ..crate::input::RawFields::default()
        };
        let rules = crate::delivery::Rules::default();
        let d = crate::delivery::validate(&fields, &rules).expect("possible, so sent");
        let plan = d.notes.join("; ");
        assert!(plan.contains(PLAN_NOTE_START), "{plan}");
        let notes = format!("delivery_note: tabs folded to one space; {plan}; trunk removed");
        let (rest, warning) = split_warnings(Some(notes));
        assert_eq!(warning.as_deref(), Some(plan.as_str()));
        assert_eq!(
            rest.as_deref(),
            Some("delivery_note: tabs folded to one space; trunk removed")
        );
        assert_eq!(split_warnings(Some(plan.clone())), (None, Some(plan)));
        assert_eq!(split_warnings(Some("x".into())), (Some("x".into()), None));
        assert_eq!(split_warnings(None), (None, None));
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
