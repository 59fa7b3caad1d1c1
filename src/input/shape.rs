//! What is wrong with a record as a record, before its values are judged:
//! a quote that never closes, a field count that is not the header's, a
//! control character. Each is a [`RowProblem`] of its own row: the row is
//! reported and not sent, and the rest of the file goes on.

use std::path::Path;

use super::controls::{first_refused, refusal};
use super::delimiter::describe_delimiter;
use super::quotes::Unclosed;
use super::{Field, ProblemKind, RowProblem};

/// The record just read and what it is read against.
pub(super) struct Record<'a> {
    /// The file, named in messages by its file name (only when there is a
    /// problem: most rows have none).
    pub(super) path: &'a Path,
    pub(super) headers: &'a [String],
    /// Column index per field, in [`Field::ALL`] order.
    pub(super) columns: &'a [usize],
    pub(super) delimiter: u8,
    pub(super) record: &'a csv::ByteRecord,
    /// The physical line it starts on.
    pub(super) line: u64,
    /// Lines before the guard's first line (a `sep=` line).
    pub(super) line_offset: u64,
}

impl Record<'_> {
    fn file(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// The last physical line of the record.
    fn last_line(&self) -> u64 {
        let inside: usize = self
            .record
            .iter()
            .map(|f| f.iter().filter(|&&b| b == b'\n').count())
            .sum();
        self.line + inside as u64
    }

    fn lines(&self) -> String {
        match self.last_line() {
            last if last > self.line => format!("lines {}–{last}", self.line),
            _ => format!("line {}", self.line),
        }
    }

    fn field_of(&self, column: usize) -> Option<Field> {
        Field::ALL
            .into_iter()
            .zip(self.columns)
            .find_map(|(f, &c)| (c == column).then_some(f))
    }

    fn column_name(&self, column: usize) -> String {
        self.headers
            .get(column)
            .map_or_else(|| format!("{}", column + 1), |h| format!("{h:?}"))
    }

    /// The first problem of the record's shape, if any.
    pub(super) fn problem(&self, unclosed: Option<&Unclosed>) -> Option<RowProblem> {
        unclosed
            .map(|u| self.unclosed(u))
            .or_else(|| self.ragged())
            .or_else(|| self.control())
    }

    fn unclosed(&self, u: &Unclosed) -> RowProblem {
        let column = u.field.saturating_sub(1);
        let (quote_line, last) = (u.line + self.line_offset, u.last_line + self.line_offset);
        let why = match (last > self.line, u.at_eof) {
            (true, true) => format!(
                "lines {}–{last}, to the end of the file, were read as this one row",
                self.line
            ),
            (false, true) => "it is on the last line of the file".to_string(),
            (true, false) => format!(
                "lines {}–{last} were read as this one row, which ends there \
                 because line {} reads as a row of its own",
                self.line,
                last + 1
            ),
            (false, false) => format!(
                "the row ends with line {last}, because line {} reads as a \
                 row of its own",
                last + 1
            ),
        };
        RowProblem::new(
            self.field_of(column),
            ProblemKind::UnclosedQuote,
            format!(
                "the quote that opens the value of column {} on line \
                 {quote_line} (character {}) of {} is never closed: {why}; \
                 close the quote, or double it (\"\") if it is part of the \
                 value, and run again",
                self.column_name(column),
                u.column,
                self.file(),
            ),
        )
    }

    /// The problem of a record whose field count is not the header's.
    fn ragged(&self) -> Option<RowProblem> {
        let (got, want) = (self.record.len(), self.headers.len());
        let lines = if self.last_line() > self.line {
            format!(" ({}, a quoted value with line breaks)", self.lines())
        } else {
            String::new()
        };
        (got != want).then(|| {
            RowProblem::new(
                None,
                ProblemKind::RaggedRow,
                format!(
                    "the row{lines} has {got} field{} and the header of {} \
                     has {want} (delimiter {}); check the row for a missing \
                     value, or quote a value that contains the delimiter",
                    if got == 1 { "" } else { "s" },
                    self.file(),
                    describe_delimiter(self.delimiter),
                ),
            )
        })
    }

    /// The first field, in field order, with a control character.
    fn control(&self) -> Option<RowProblem> {
        Field::ALL
            .into_iter()
            .zip(self.columns)
            .find_map(|(f, &col)| {
                let value = std::str::from_utf8(self.record.get(col)?).ok()?;
                let (index, c, newlines) = first_refused(value)?;
                let before: usize = (0..col)
                    .filter_map(|i| self.record.get(i))
                    .map(|v| v.iter().filter(|&&b| b == b'\n').count())
                    .sum();
                let line = self.line + before as u64 + newlines;
                let at = format!("{f} (column {} of {})", self.column_name(col), self.file());
                Some(RowProblem::new(
                    Some(f),
                    ProblemKind::ControlCharacter,
                    refusal(&at, value, index, c, line),
                ))
            })
    }
}
