//! A pending row when tracking could not work at all (`hookInfo` answers
//! 404 for every message, or refuses the token): the row says why it has
//! no status, since "no final status before tracking ended" would suggest
//! that waiting longer helps.

use super::outcome::{Outcome, PENDING, ReportRow};
use super::plain::{Clues, explain};

/// Says `why` in `row`'s detail if the row is pending, keeping any status
/// notes that follow the usual reason.
pub(crate) fn untracked(row: &mut ReportRow, why: &str) {
    if row.outcome != Outcome::Pending {
        return;
    }
    let reason = format!("accepted; {why}, so no status is known (`handoff track` polls again)");
    let rest = row
        .error_detail
        .as_deref()
        .and_then(|d| d.strip_prefix(PENDING))
        .unwrap_or_default();
    row.error_detail = Some(format!("{reason}{rest}"));
    let clues = Clues {
        untracked: true,
        ..Clues::default()
    };
    row.set_plain(explain(Outcome::Pending, clues));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Verdict;
    use crate::report::outcome::reconcile;
    use crate::report::outcome::tests::facts;

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
        let before = row.reason.clone();
        untracked(&mut row, "statuses unavailable: hookInfo answered 404");
        assert_eq!(
            row.error_detail.as_deref(),
            Some(
                "accepted; statuses unavailable: hookInfo answered 404, so no status is known (`handoff track` polls again)"
            )
        );
        assert_ne!(row.reason, before, "the plain reason says it too");
        assert!(
            row.reason.contains("could not be fetched"),
            "{}",
            row.reason
        );
        assert!(row.next_step.starts_with("operations: "));
        let mut read = pending();
        read.outcome = Outcome::Read;
        read.error_detail = None;
        untracked(&mut read, "x");
        assert_eq!(read.error_detail, None);
    }
}
