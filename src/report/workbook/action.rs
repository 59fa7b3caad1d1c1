//! The `Needs action` sheet: only the rows someone has to act on, grouped
//! by who acts (the partner's account manager, whoever keeps the export,
//! operations), so each person reads their own list and nothing else.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use rust_xlsxwriter::{Worksheet, XlsxError};

use super::Night;
use super::rows::{Heights, header, lines, put, widths};
use super::style::Styles;
use crate::codes::Actor;
use crate::report::columns::{Cell, Column, column};
use crate::report::{Needs, Outcome, ReportRow};

/// The workbook's columns the sheet shows.
const SHOWN: [&str; 10] = [
    "who_acts",
    "next_step",
    "reason",
    "order_number",
    "partner_name",
    "phone",
    "outcome",
    "error_code",
    "error_detail",
    "row",
];

/// The rows of each group, waiting in a temporary file for their turn (the
/// sheet lists the groups one after the other, the report's rows come in
/// input order), so a night of rows that need a person is not held either.
#[derive(Default)]
pub(super) struct Groups {
    groups: Vec<Group>,
}

/// One group's rows: its outcome and the cells of [`SHOWN`], a JSON line
/// each.
struct Group {
    actor: Actor,
    rows: u64,
    file: BufWriter<File>,
}

impl Groups {
    pub(super) fn new(dir: &Path) -> Result<Groups, XlsxError> {
        let groups = Needs::ACTORS.into_iter().map(|actor| {
            Ok(Group {
                actor,
                rows: 0,
                file: BufWriter::new(tempfile::tempfile_in(dir)?),
            })
        });
        let groups = groups
            .collect::<io::Result<_>>()
            .map_err(XlsxError::IoError)?;
        Ok(Groups { groups })
    }

    pub(super) fn add(&mut self, r: &ReportRow) -> Result<(), XlsxError> {
        let Some(g) = self.groups.iter_mut().find(|g| g.actor == r.plain.actor) else {
            return Ok(());
        };
        let cells: Vec<Cell> = shown().map(|(.., cell)| cell(r)).collect();
        serde_json::to_writer(&mut g.file, &(r.outcome, cells)).map_err(io::Error::from)?;
        g.file.write_all(b"\n")?;
        g.rows += 1;
        Ok(())
    }
}

fn shown() -> impl Iterator<Item = &'static Column> {
    SHOWN.iter().filter_map(|name| column(name))
}

/// Writes the sheet, each group's rows read back from its file.
pub(super) fn sheet(
    sheet: &mut Worksheet,
    groups: Groups,
    styles: &Styles,
) -> Result<(), XlsxError> {
    sheet.set_name("Needs action")?;
    header(sheet, shown().map(|(_, words, ..)| *words), styles)?;
    let night = Night::default();
    let mut heights = Heights::default();
    let mut line = 1;
    for g in groups.groups.into_iter().filter(|g| g.rows > 0) {
        let plural = if g.rows == 1 { "" } else { "s" };
        let heading = format!("{} — {} row{plural}", g.actor.person(), g.rows);
        heights.next(sheet, line, 1)?;
        sheet.write_string_with_format(line, 0, heading, &styles.title)?;
        line += 1;
        let mut file = g.file.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        for spilled in BufReader::new(file).lines() {
            let (outcome, cells): (Outcome, Vec<Cell>) =
                serde_json::from_str(&spilled?).map_err(io::Error::from)?;
            let f = styles.of(outcome);
            let tallest = shown()
                .zip(&cells)
                .map(|((_, _, width, _), c)| lines(c, *width));
            heights.next(sheet, line, tallest.max().unwrap_or(1))?;
            for (col, cell) in (0..).zip(cells) {
                put(sheet, line, col, cell, f, &night)?;
            }
            line += 1;
        }
        line += 1;
    }
    if line == 1 {
        sheet.write_string(1, 0, "Nothing to do: every row went through.")?;
    }
    sheet.set_freeze_panes(1, 0)?;
    widths(sheet, 0, shown())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_shown_is_a_reconciliation_column() {
        assert!(SHOWN.iter().all(|name| column(name).is_some()));
    }
}
