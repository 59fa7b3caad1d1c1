//! What became of each row: the [`Outcome`] vocabulary that the report,
//! the exit code and `handoff rerun --only` share, the [`ReportRow`], and
//! [`reconcile`], the one place that turns the ledger's facts about a row
//! into its verdict.

use chrono::{DateTime, Utc};

use super::cost::{Money, RateCard};
use super::notes::{join, status_notes};
use super::plain::{Clues, Plain, explain};
use crate::codes::Actor;
pub(crate) use crate::fate::Outcome;
use crate::fate::outcome;
use crate::ledger::{Pricing, ReportFacts, RunId, SendClass, Status, Verdict};

/// One line of the reconciliation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReportRow {
    pub row: u64,
    pub line: u64,
    pub order_number: String,
    /// The partner id the row names, and the contact of the partners file
    /// written to (`--partners`).
    pub partner_id: Option<String>,
    pub contact: Option<String>,
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
    /// The run that sent the message, when it was not this one.
    pub reused_from_run: Option<RunId>,
    /// The channel that accepted that message (another real channel counts too: its
    /// partner was messaged).
    pub reused_from_channel: Option<String>,
    pub notes: Option<String>,
    /// The input's other columns (`--keep-columns`), after ours.
    pub extra: Vec<String>,
    /// The `reason` a person in finance understands, who acts on the row
    /// and what to do (`next_step`, starting with who does it).
    pub plain: Plain,
    /// What may be wrong with a row that went through (a number outside
    /// the numbering plan, conflicting statuses), apart from real problems.
    pub warnings: Option<String>,
    /// When 1MSG said the message was delivered, read, failed.
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    /// What Meta said the message is billed as, and what it cost by the
    /// rate card (`--rate-card`, [`super::cost::estimate`]).
    pub pricing: Option<Pricing>,
    pub cost: Option<(Money, String)>,
}

impl ReportRow {
    /// Whether the report's run delivered the message, and so paid for it
    /// (an earlier run's message was counted on its own night).
    pub(crate) fn billed_here(&self) -> bool {
        self.outcome.is_fine() && self.reused_from_run.is_none()
    }

    /// Minutes from acceptance to the delivery 1MSG reported, to a tenth.
    /// 1MSG's times have whole seconds and ours milliseconds, so a delivery
    /// up to a second "before" acceptance took no time; `None` without both
    /// times, or when the clocks disagree by more than that.
    pub(crate) fn minutes_to_delivery(&self) -> Option<f64> {
        let ms = (self.delivered_at? - self.sent_at?).num_milliseconds();
        (ms >= -1000).then(|| (ms.max(0) as f64 / 6_000.0).round() / 10.0)
    }
}

/// What the row's message cost: a price when it was delivered, billable and
/// sent by the report's run (a reused message was paid for on its own
/// night), nothing for a free one, and the reason in the row's warnings
/// when the card has no rate for it.
pub(crate) fn estimate(row: &mut ReportRow, card: Option<&RateCard>) {
    let Some(card) = card else {
        return;
    };
    if !row.billed_here() {
        return;
    }
    let Some(pricing) = &row.pricing else {
        let why = "no estimated cost: 1MSG's statuses said nothing of the message's pricing";
        row.warnings = join(row.warnings.take(), Some(why.into()));
        return;
    };
    let category = pricing.category.as_deref().unwrap_or("utility");
    let day = row.delivered_at.or(row.sent_at).unwrap_or_else(Utc::now);
    match card.rate(&row.phone, category, day.date_naive()) {
        Ok(rate) if pricing.billable == Some(false) => {
            row.cost = Some((Money(0), rate.currency.clone()));
        }
        Ok(rate) => row.cost = Some((rate.price, rate.currency.clone())),
        Err(why) if pricing.billable != Some(false) => {
            row.warnings = join(row.warnings.take(), Some(why));
        }
        Err(_) => {}
    }
}

/// Why a pending row that Meta holds for a quality check has no final
/// status yet.
const HELD: &str = "accepted and held by Meta for a quality check (held_for_quality_assessment); no final status before tracking ended (`handoff track` polls again)";

/// Why a pending row has no final status, when tracking worked.
const PENDING: &str =
    "accepted; no final status before tracking ended (`handoff track` polls again)";

/// Decides the outcome of one row from what the ledger knows.
pub(crate) fn reconcile(mut f: ReportFacts, run: RunId) -> ReportRow {
    use std::mem::take;
    let (notes, plan_warnings) = (f.notes.take(), f.warnings.take());
    let outcome = outcome::of(&f, run);
    let problem = f.problem.take();
    let not_selected =
        f.verdict == Verdict::Skipped && problem.as_deref() == Some(crate::fate::NOT_SELECTED);
    let mut row = ReportRow {
        row: f.row,
        line: f.line,
        order_number: take(&mut f.order_number),
        partner_id: f.partner_id.take(),
        contact: f.contact.take(),
        partner_name: take(&mut f.partner_name),
        phone: take(&mut f.phone),
        product_name: take(&mut f.product_name),
        delivery_note: take(&mut f.delivery_note),
        outcome,
        status: None,
        wamid: None,
        http_status: None,
        error_code: None,
        error_detail: f.reason.clone(),
        attempts: 0,
        sent_at: None,
        reused_from_run: None,
        reused_from_channel: None,
        notes,
        plain: Plain::new("", Actor::Nobody, ""),
        warnings: plan_warnings,
        delivered_at: None,
        read_at: None,
        failed_at: None,
        pricing: None,
        cost: None,
        extra: f
            .extra
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default(),
    };
    if matches!(f.verdict, Verdict::Send | Verdict::Reused) {
        row.attempts = f.attempts;
        if f.verdict == Verdict::Reused {
            // What changed since the reused message was accepted is a
            // warning: the row itself went through.
            row.warnings = join(row.warnings.take(), row.error_detail.take());
        }
        if outcome::message_counts(&f, run) {
            of_message(&mut row, f, run);
        } else {
            of_answer(&mut row, f);
        }
    }
    let clues = Clues {
        error_code: row.error_code,
        http_status: row.http_status,
        problem: problem.as_deref(),
        not_selected,
        untracked: false,
        held: row.status.as_deref().map(Status::of) == Some(Status::Held),
    };
    row.plain = explain(row.outcome, clues);
    row
}

/// A row whose message counts: its outcome is the message's status.
fn of_message(row: &mut ReportRow, f: ReportFacts, run: RunId) {
    row.wamid = f.wamid;
    row.sent_at = f.accepted_at;
    row.delivered_at = f.delivered_at;
    row.read_at = f.read_at;
    row.failed_at = f.failed_at;
    row.pricing = f.pricing;
    if f.message_run_id != Some(run) {
        row.reused_from_run = f.message_run_id;
        row.reused_from_channel = f.message_channel;
    }
    if row.outcome == Outcome::Failed {
        row.error_code = f.msg_error_code;
        row.error_detail = f.msg_error_title;
    } else if row.outcome == Outcome::Pending {
        let held = f.status.as_deref().map(Status::of) == Some(Status::Held);
        row.error_detail = Some(if held { HELD } else { PENDING }.into());
    }
    row.warnings = join(row.warnings.take(), status_notes(&f.history));
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
        row.error_detail
            .get_or_insert_with(|| "not attempted in this run".into());
        return;
    }
    if f.unanswered {
        row.error_detail = Some(
            "the send was recorded but its answer was not: it may or may not have been accepted"
                .into(),
        );
    } else {
        if matches!(f.last_result, Some(SendClass::Retry(_))) {
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

/// Says `why` in `row`'s detail if the row is pending, keeping any status
/// notes that follow the usual reason: for when tracking could not work at
/// all (`hookInfo` answers 404 for every message, or refuses the token),
/// since "no final status before tracking ended" would suggest that
/// waiting longer helps.
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
    row.plain = explain(Outcome::Pending, clues);
}

#[cfg(test)]
pub(crate) mod tests;
