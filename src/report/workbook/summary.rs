//! The `Summary` sheet: which night and which input file, the counts by
//! outcome with what each outcome means, how long delivery took, and a
//! native Excel chart of each, so the morning's question "how did it go?"
//! is answered without reading a row.

use chrono::Utc;
use rust_xlsxwriter::{Chart, ChartType, Worksheet, XlsxError};

use super::Night;
use super::style::Styles;
use crate::exit;
use crate::report::columns::Cell::{self, Date, Number, Text};
use crate::report::columns::SCHEMA_VERSION;
use crate::report::cost::Cost;
use crate::report::csv::for_workbook;
use crate::report::{Outcome, ReportRow, Summary};

const NAME: &str = "Summary";

/// Everything the sheet tells.
pub(super) struct Facts<'a> {
    pub summary: &'a Summary,
    /// How many delivered rows fall in each bucket of [`LATENCY`].
    pub latency: [u64; LATENCY.len()],
    pub run_id: i64,
    pub exit_code: u8,
    pub night: &'a Night,
}

/// The latency buckets, as (label, upper bound in minutes).
pub(super) const LATENCY: [(&str, f64); 6] = [
    ("under 1 minute", 1.0),
    ("1 to 5 minutes", 5.0),
    ("5 to 15 minutes", 15.0),
    ("15 to 60 minutes", 60.0),
    ("1 to 6 hours", 360.0),
    ("over 6 hours", f64::INFINITY),
];

/// The bucket of [`LATENCY`] a delivered row falls in.
pub(super) fn bucket(r: &ReportRow) -> Option<usize> {
    let minutes = r.minutes_to_delivery()?;
    LATENCY.iter().position(|(_, upper)| minutes < *upper)
}

/// How much of the daily recipient budget the last 24 hours used.
fn daily(summary: &Summary) -> Cell {
    Text(match summary.daily_recipients {
        Some(d) => format!(
            "{} of {} in the 24 hours before the report",
            d.used, d.limit
        ),
        None => "no budget (--daily-recipients)".into(),
    })
}

/// The night's estimated cost, or why there is none.
fn estimated(cost: &Cost) -> Cell {
    match super::partners::cost_cell(cost) {
        _ if !cost.rated => Text("no rate card given (--rate-card)".into()),
        Number(None) | Text(_) if cost.estimated_cost.is_empty() => Text("nothing priced".into()),
        cell => cell,
    }
}

/// What an exit code tells a person (docs/exit-codes.md).
fn exit_meaning(code: u8) -> &'static str {
    match code {
        exit::OK => "every row reached the partner",
        exit::NEEDS_ATTENTION => "finished; some rows need a person (see Needs action)",
        exit::DATA => "the input was unusable; nothing sent",
        exit::UNAVAILABLE => "the 1MSG API was unavailable; the rest was not sent",
        exit::TEMPFAIL => "interrupted or stopped by the sending window; a rerun continues",
        exit::NO_PERM => "1MSG refused our credentials",
        exit::CONFIG => "the configuration is wrong",
        _ => "the run did not finish normally",
    }
}

pub(super) fn sheet(s: &mut Worksheet, f: &Facts<'_>, styles: &Styles) -> Result<(), XlsxError> {
    s.set_name(NAME)?;
    let title = "Delivery confirmations: the night's reconciliation";
    s.write_string_with_format(0, 0, title, &styles.title)?;
    let night = f.night;
    let run = night.run.as_ref();
    let kind = run.map_or("run", |r| r.kind.as_str());
    let input = run.and_then(|r| r.input.as_deref()).unwrap_or("-");
    let exit = format!("{}: {}", f.exit_code, exit_meaning(f.exit_code));
    let facts = [
        ("run", Text(format!("{} (handoff {kind})", f.run_id))),
        ("input file", Text(for_workbook(input).into_owned())),
        ("started", Date(run.map(|r| r.started_at))),
        ("finished", Date(run.and_then(|r| r.finished_at))),
        (
            "messages sent",
            Text(format!(
                "{} this run, {} sent by earlier runs",
                f.summary.sent_this_run, f.summary.reused
            )),
        ),
        ("billable messages", Text(f.summary.cost.counts())),
        ("estimated cost", estimated(&f.summary.cost)),
        ("daily recipients", daily(f.summary)),
        ("report written", Date(Some(Utc::now()))),
        ("times shown in", Text(night.zone_name())),
        ("exit code", Text(exit)),
        ("report schema", Text(format!("version {SCHEMA_VERSION}"))),
    ];
    let top = facts.len() as u32 + 3;
    for (line, (name, value)) in (2..).zip(facts) {
        s.write_string_with_format(line, 0, name, &styles.header)?;
        match value {
            Text(text) => s.write_string(line, 1, text)?,
            Date(Some(t)) => {
                s.write_datetime_with_format(line, 1, night.excel(t)?, &styles.plain.date)?
            }
            Number(Some(n)) => s.write_number(line, 1, n)?,
            _ => s.write_string(line, 1, "-")?,
        };
    }

    let outcomes = outcome_table(s, f.summary, top, styles)?;
    let latency_top = outcomes + 2;
    let latency_end = latency_table(s, &f.latency, latency_top, styles)?;

    let outcomes_end = top + Outcome::ALL.len() as u32;
    let chart = column_chart("rows", "Rows by outcome", top + 1, outcomes_end);
    s.insert_chart(2, 4, &chart)?;
    let title = "Time from acceptance to delivery";
    let chart = column_chart("messages", title, latency_top + 1, latency_end);
    s.insert_chart(18, 4, &chart)?;

    s.set_column_width(0, 22)?;
    s.set_column_width(1, 24)?;
    s.set_column_width(2, 62)?;
    Ok(())
}

/// A column chart of the table in lines `first` to `last`: its labels in
/// the first column, its values in the second.
fn column_chart(series: &str, title: &str, first: u32, last: u32) -> Chart {
    let mut chart = Chart::new(ChartType::Column);
    chart
        .add_series()
        .set_name(series)
        .set_categories((NAME, first, 0, last, 0))
        .set_values((NAME, first, 1, last, 1));
    chart.title().set_name(title);
    chart.legend().set_hidden();
    chart
}

/// The counts by outcome from `top`; returns the table's last line.
fn outcome_table(
    s: &mut Worksheet,
    summary: &Summary,
    top: u32,
    styles: &Styles,
) -> Result<u32, XlsxError> {
    for (col, name) in ["outcome", "rows", "meaning"].into_iter().enumerate() {
        s.write_string_with_format(top, col as u16, name, &styles.header)?;
    }
    let mut line = top + 1;
    for o in Outcome::ALL {
        let f = styles.of(o);
        s.write_string_with_format(line, 0, o.as_str(), &f.text)?;
        s.write_number_with_format(line, 1, summary.count(o) as f64, &f.number)?;
        s.write_string_with_format(line, 2, o.meaning(), &f.text)?;
        line += 1;
    }
    s.write_string_with_format(line, 0, "total", &styles.header)?;
    s.write_number_with_format(line, 1, summary.rows as f64, &styles.header)?;
    Ok(line)
}

/// The delivery latency from `top`; returns the table's last line.
fn latency_table(
    s: &mut Worksheet,
    counts: &[u64; LATENCY.len()],
    top: u32,
    styles: &Styles,
) -> Result<u32, XlsxError> {
    s.write_string_with_format(top, 0, "minutes to delivery", &styles.header)?;
    s.write_string_with_format(top, 1, "messages", &styles.header)?;
    for ((line, (name, _)), n) in (top + 1..).zip(&LATENCY).zip(counts) {
        s.write_string(line, 0, *name)?;
        s.write_number(line, 1, *n as f64)?;
    }
    Ok(top + LATENCY.len() as u32)
}
