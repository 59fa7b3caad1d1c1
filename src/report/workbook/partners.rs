//! The `Partners` sheet: per partner, how many orders, how many confirmed
//! (delivered or read), how many not, and the main reason why not, so the
//! account manager sees which partners to call first.

use std::collections::HashMap;

use rust_xlsxwriter::{Format, Worksheet, XlsxError};

use super::rows::{fitted, header};
use super::style::Styles;
use crate::report::columns::Cell;
use crate::report::cost::Cost;
use crate::report::csv::for_workbook;
use crate::report::{Outcome, ReportRow};

/// The sheet's headers.
const HEADER: [&str; 8] = [
    "Partner name",
    "Orders",
    "Confirmed",
    "Not confirmed",
    "Main reason",
    "Billable messages",
    "Estimated cost",
    "Currency",
];

/// One partner's line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Tally {
    pub partner: String,
    /// Rows that are orders of their own (a duplicate line is not).
    pub orders: u64,
    pub confirmed: u64,
    /// The most frequent reason of the orders not confirmed (the first
    /// seen of equally frequent ones).
    pub main_reason: Option<String>,
    /// The partner's billable messages and their cost.
    pub cost: Cost,
}

impl Tally {
    pub(super) fn not_confirmed(&self) -> u64 {
        self.orders - self.confirmed
    }
}

/// The partners counted as the rows go by: memory grows with the partners,
/// not with their rows.
#[derive(Default)]
pub(super) struct Tallies {
    /// The partners in the order first seen, so equal ones keep it.
    order: Vec<String>,
    /// Each partner's line and its reasons not confirmed, with how often.
    by: HashMap<String, (Tally, Vec<(String, u64)>)>,
}

impl Tallies {
    pub(super) fn add(&mut self, r: &ReportRow) {
        if r.outcome == Outcome::Duplicate {
            return;
        }
        let name = r.partner_name.trim();
        // A partners file's id is the partner (`--partners`); else its name.
        let key = r.partner_id.as_deref().unwrap_or(name);
        let (t, reasons) = self.by.entry(key.to_string()).or_insert_with(|| {
            self.order.push(key.to_string());
            let partner = name.to_string();
            (
                Tally {
                    partner,
                    ..Tally::default()
                },
                Vec::new(),
            )
        });
        t.orders += 1;
        if r.billed_here() {
            t.cost.add(r.pricing.as_ref(), r.cost.as_ref());
        }
        if r.outcome.is_fine() {
            t.confirmed += 1;
        } else {
            match reasons
                .iter_mut()
                .find(|(reason, _)| *reason == r.plain.reason)
            {
                Some((_, n)) => *n += 1,
                None => reasons.push((r.plain.reason.clone(), 1)),
            }
        }
    }

    /// The partners, those with most orders not confirmed first, then by
    /// name.
    pub(super) fn done(mut self) -> Vec<Tally> {
        let mut out: Vec<Tally> = std::mem::take(&mut self.order)
            .into_iter()
            .filter_map(|name| self.by.remove(&name))
            .map(|(mut t, reasons)| {
                // `max_by_key` keeps the last of equals: reversed, the first.
                t.main_reason = reasons
                    .into_iter()
                    .rev()
                    .max_by_key(|(_, n)| *n)
                    .map(|(reason, _)| reason);
                t
            })
            .collect();
        out.sort_by(|a, b| {
            b.not_confirmed()
                .cmp(&a.not_confirmed())
                .then_with(|| a.partner.to_lowercase().cmp(&b.partner.to_lowercase()))
        });
        out
    }
}

pub(super) fn sheet(
    sheet: &mut Worksheet,
    tallies: &[Tally],
    night: &Cost,
    styles: &Styles,
) -> Result<(), XlsxError> {
    sheet.set_name("Partners")?;
    header(sheet, HEADER, styles)?;
    for (line, t) in (1..).zip(tallies) {
        let partner = fitted(for_workbook(&t.partner));
        sheet.write_string_with_format(line, 0, partner, &styles.plain.text)?;
        sheet.write_number(line, 1, t.orders as f64)?;
        sheet.write_number(line, 2, t.confirmed as f64)?;
        sheet.write_number(line, 3, t.not_confirmed() as f64)?;
        if let Some(reason) = &t.main_reason {
            sheet.write_string(line, 4, reason)?;
        }
        cost(sheet, line, &t.cost, &Format::new())?;
    }
    // The night's totals, a line apart so a filter or a sort of the
    // partners leaves them where they are.
    let total = tallies.len() as u32 + 2;
    let sum = |count: fn(&Tally) -> u64| tallies.iter().map(count).sum::<u64>() as f64;
    let label = format!("total ({} partners)", tallies.len());
    sheet.write_string_with_format(total, 0, label, &styles.header)?;
    sheet.write_number_with_format(total, 1, sum(|t| t.orders), &styles.header)?;
    sheet.write_number_with_format(total, 2, sum(|t| t.confirmed), &styles.header)?;
    sheet.write_number_with_format(total, 3, sum(Tally::not_confirmed), &styles.header)?;
    cost(sheet, total, night, &styles.header)?;
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, tallies.len() as u32, HEADER.len() as u16 - 1)?;
    sheet.set_column_width(0, 30)?;
    sheet.set_column_width(3, 14)?;
    sheet.set_column_width(4, 60)?;
    Ok(())
}

/// An estimate as a cell: a number to sum with when it is in one currency
/// (the `currency` column says which), else each currency's.
pub(super) fn cost_cell(cost: &Cost) -> Cell {
    match cost.estimated_cost.len() {
        0 => Cell::Text(String::new()),
        1 => Cell::Number(cost.estimated_cost.values().next().map(|m| m.as_f64())),
        _ => Cell::Text(cost.total()),
    }
}

/// A partner's (or the night's) billable messages and estimated cost, in
/// the sheet's last three columns.
fn cost(sheet: &mut Worksheet, line: u32, cost: &Cost, format: &Format) -> Result<(), XlsxError> {
    let billable = cost.billable.values().sum::<u64>() as f64;
    sheet.write_number_with_format(line, 5, billable, format)?;
    match cost_cell(cost) {
        Cell::Number(Some(n)) => sheet.write_number_with_format(line, 6, n, format)?,
        Cell::Text(t) if !t.is_empty() => sheet.write_string_with_format(line, 6, t, format)?,
        _ => sheet,
    };
    if let [currency] = cost.estimated_cost.keys().collect::<Vec<_>>()[..] {
        sheet.write_string_with_format(line, 7, currency, format)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Verdict;
    use crate::report::outcome::reconcile;
    use crate::report::outcome::tests::facts;

    fn row(partner: &str, outcome: Outcome, reason: &str) -> ReportRow {
        let mut r = reconcile(facts(Verdict::Invalid), 1);
        r.partner_name = partner.into();
        r.outcome = outcome;
        r.plain.reason = reason.into();
        r
    }

    #[test]
    fn partners_are_counted_and_the_worst_come_first() {
        let rows = [
            row("Acme ", Outcome::Delivered, "ok"),
            row("Acme", Outcome::Failed, "opted out"),
            row("Acme", Outcome::Duplicate, "dup"),
            row("Beta", Outcome::Invalid, "bad phone"),
            row("Beta", Outcome::Failed, "opted out"),
            row("Beta", Outcome::Invalid, "bad phone"),
            row("Zed", Outcome::Read, "ok"),
        ];
        let mut tallies = Tallies::default();
        rows.iter().for_each(|r| tallies.add(r));
        let t = tallies.done();
        let names: Vec<&str> = t.iter().map(|t| t.partner.as_str()).collect();
        assert_eq!(names, ["Beta", "Acme", "Zed"]);
        assert_eq!(
            (t[0].orders, t[0].confirmed, t[0].not_confirmed()),
            (3, 0, 3)
        );
        assert_eq!(t[0].main_reason.as_deref(), Some("bad phone"));
        assert_eq!(
            (t[1].orders, t[1].confirmed),
            (2, 1),
            "a duplicate is no order"
        );
        assert_eq!(t[1].main_reason.as_deref(), Some("opted out"));
        assert_eq!(t[2].main_reason, None);
    }

    #[test]
    fn with_a_partners_file_a_partner_is_its_id() {
        let with_id = |id: &str, name: &str, outcome| ReportRow {
            partner_id: Some(id.into()),
            ..row(name, outcome, "why")
        };
        let rows = [
            with_id("P1", "Acme", Outcome::Delivered),
            with_id("P1", "", Outcome::Invalid),
            with_id("P2", "Acme", Outcome::Read),
        ];
        let mut tallies = Tallies::default();
        rows.iter().for_each(|r| tallies.add(r));
        let t = tallies.done();
        let seen: Vec<(&str, u64)> = t.iter().map(|t| (t.partner.as_str(), t.orders)).collect();
        assert_eq!(seen, [("Acme", 2), ("Acme", 1)], "two partners named alike");
    }
}
