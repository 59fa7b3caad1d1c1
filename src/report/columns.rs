//! The reconciliation's columns: their names, widths and cells, as the CSV
//! and the workbook both write them, the workbook's words for them, and
//! which headers a rerun takes for ours. One table, so the two files cannot
//! disagree.

use chrono::{DateTime, SecondsFormat, Utc};

use super::outcome::ReportRow;

/// The version of the columns below, as docs/reconciliation.md documents it: 4 since
/// the partners file and the cost (`partner_id`, `contact`, `pricing_category`,
/// `estimated_cost`, `currency`); 3 since issue 21 (`reused_from_channel`); 2 since issue 13 (plain-language
/// `reason`/`next_step`, `whatsapp_status`, `warnings`, the status times);
/// 1 was the first schema.
pub(crate) const SCHEMA_VERSION: u32 = 4;

/// One cell's value, typed as the workbook shows it; the CSV writes it as
/// text. Serialised only while the workbook holds a `Needs action` row in a
/// temporary file.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) enum Cell {
    Text(String),
    Number(Option<f64>),
    Date(Option<DateTime<Utc>>),
}

impl Cell {
    /// The cell as the CSV writes it: numbers as their digits (every number
    /// here is whole but the minutes), times in RFC 3339, blanks empty.
    pub(super) fn csv(self) -> String {
        match self {
            Cell::Text(s) => s,
            Cell::Number(n) => n.map(|n| n.to_string()).unwrap_or_default(),
            Cell::Date(t) => t
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
                .unwrap_or_default(),
        }
    }
}

fn text(v: &Option<String>) -> Cell {
    Cell::Text(v.clone().unwrap_or_default())
}

/// A reconciliation column: its name, its header in the workbook (in the
/// words of the people who read it; the CSV keeps the machine names, which
/// scripts read, and the five the export has are the names its reader
/// knows them by, so a rerun of the workbook finds them), its width in the
/// workbook (`None`: the sheet's default) and its cell of a row. The CSV, the workbook's
/// `Reconciliation` and `Needs action` sheets all take their columns from
/// here, so they cannot disagree.
pub(crate) type Column = (
    &'static str,
    &'static str,
    Option<u16>,
    fn(&ReportRow) -> Cell,
);

/// The columns, in the order both files write them.
pub(crate) const COLUMNS: [Column; 30] = {
    use Cell::{Date, Number, Text};
    [
        ("row", "Row", None, |r| Number(Some(r.row as f64))),
        ("line", "Line", None, |r| Number(Some(r.line as f64))),
        ("order_number", "Order number", Some(14), |r| {
            Text(r.order_number.clone())
        }),
        ("partner_name", "Partner name", Some(24), |r| {
            Text(r.partner_name.clone())
        }),
        ("partner_id", "Partner id", Some(14), |r| {
            text(&r.partner_id)
        }),
        ("phone", "Phone", Some(16), |r| Text(r.phone.clone())),
        ("contact", "Contact", Some(24), |r| text(&r.contact)),
        ("product_name", "Product name", Some(22), |r| {
            Text(r.product_name.clone())
        }),
        ("delivery_note", "Delivery note", Some(24), |r| {
            Text(r.delivery_note.clone())
        }),
        ("outcome", "Outcome", None, |r| {
            Text(r.outcome.as_str().to_string())
        }),
        ("reason", "Reason", Some(40), |r| {
            Text(r.plain.reason.clone())
        }),
        ("next_step", "Next step", Some(40), |r| {
            Text(r.plain.next_step())
        }),
        ("whatsapp_status", "WhatsApp status", None, |r| {
            text(&r.status)
        }),
        ("wamid", "WhatsApp message id", Some(36), |r| text(&r.wamid)),
        ("accepted_at", "Accepted at", Some(19), |r| Date(r.sent_at)),
        ("delivered_at", "Delivered at", Some(19), |r| {
            Date(r.delivered_at)
        }),
        ("read_at", "Read at", Some(19), |r| Date(r.read_at)),
        ("failed_at", "Failed at", Some(19), |r| Date(r.failed_at)),
        ("minutes_to_delivery", "Minutes to delivery", None, |r| {
            Number(r.minutes_to_delivery())
        }),
        ("attempts", "Send attempts", None, |r| {
            Number(Some(f64::from(r.attempts)))
        }),
        ("reused_from_run", "Sent by run", None, |r| {
            Number(r.reused_from_run.map(|n| n as f64))
        }),
        ("reused_from_channel", "Sent on channel", None, |r| {
            text(&r.reused_from_channel)
        }),
        ("http_status", "HTTP status", None, |r| {
            Number(r.http_status.map(f64::from))
        }),
        ("error_code", "Error code", None, |r| {
            Number(r.error_code.map(|c| c as f64))
        }),
        ("error_detail", "Error detail", Some(32), |r| {
            text(&r.error_detail)
        }),
        ("pricing_category", "Billed as", None, |r| {
            text(&r.pricing.as_ref().and_then(|p| p.category.clone()))
        }),
        ("estimated_cost", "Estimated cost", None, |r| {
            Number(r.cost.as_ref().map(|(m, _)| m.as_f64()))
        }),
        ("currency", "Currency", None, |r| {
            text(&r.cost.as_ref().map(|(_, c)| c.clone()))
        }),
        ("warnings", "Warnings", Some(28), |r| text(&r.warnings)),
        ("notes", "Notes", Some(28), |r| text(&r.notes)),
    ]
};

/// Who acts, in the words of the people who read the workbook.
const WHO_ACTS: Column = ("who_acts", "Who acts", Some(20), |r| {
    Cell::Text(r.plain.actor.person().to_string())
});

/// The next step without who acts, which the workbook shows before it.
const STEP: Column = ("next_step", "Next step", Some(40), |r| {
    Cell::Text(r.plain.step.clone())
});

/// The workbook's columns, for the people who read it: the CSV's, with
/// who acts in their words before `next_step`, which then says only the
/// step (the CSV's starts with the machine word, which scripts and reruns
/// read).
pub(crate) fn workbook_columns() -> impl Iterator<Item = &'static Column> {
    COLUMNS
        .iter()
        .flat_map(|c| match c.0 {
            "next_step" => [Some(&WHO_ACTS), Some(&STEP)],
            _ => [Some(c), None],
        })
        .flatten()
}

/// The workbook's column called `name`.
pub(crate) fn column(name: &str) -> Option<&'static Column> {
    workbook_columns().find(|(n, ..)| *n == name)
}

/// The workbook's header of our column `name`.
pub(crate) fn words(name: &str) -> &str {
    column(name).map_or(name, |(_, words, ..)| words)
}

/// Whether `header` names our column `name`, by its name or by the
/// workbook's words for it, case and blanks aside.
pub(crate) fn names(header: &str, name: &str) -> bool {
    let header = header.trim();
    header.eq_ignore_ascii_case(name) || header.eq_ignore_ascii_case(words(name))
}

/// Columns of schema 1 that schema 2 renamed or dropped: still ours when a
/// rerun reads an old reconciliation, and a kept column of these names is
/// prefixed too, so that `status` in any file is always ours.
pub(crate) const OLD_HEADER: [&str; 3] = ["status", "sent_at", "status_at"];

/// What a kept column whose name is one of ours is called in the report.
pub(crate) const KEPT_PREFIX: &str = "input_";

/// Whether `name` is (or was) one of our columns, case and blanks aside.
pub(crate) fn is_ours(name: &str) -> bool {
    let ours = workbook_columns().map(|(h, ..)| h);
    ours.chain(&OLD_HEADER).any(|h| names(name, h))
}

/// The report's header, as the CSV and the workbook's rows write it: our
/// columns, then the kept columns' names, with `input_` before a name that
/// clashes with ours (`Status`, `Row`, `wamid`), so no column appears
/// twice and a rerun never takes the input's for ours.
pub(crate) fn header_names(extra: &[String]) -> Vec<String> {
    let kept = extra.iter().map(|name| {
        if is_ours(name) {
            format!("{KEPT_PREFIX}{}", name.trim())
        } else {
            name.clone()
        }
    });
    let ours = COLUMNS.iter().map(|(name, ..)| name.to_string());
    ours.chain(kept).collect()
}
