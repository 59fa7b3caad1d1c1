//! What is wrong with a record as a record, before its values are judged:
//! a quote that never closes, a field count that is not the header's, a
//! control character. Each is a [`RowProblem`] of its own row: the row is
//! reported and not sent, and the rest of the file goes on.

use super::controls::{first_refused, refusal};
use super::delimiter::describe_delimiter;
use super::lines::newlines;
use super::quotes::Unclosed;
use super::{InputReader, ProblemKind, RowProblem};

impl InputReader {
    /// The first problem of the shape of the record just read, which starts
    /// on the physical `line`, if any. Messages name the file by its file
    /// name (only when there is a problem: most rows have none).
    pub(super) fn shape_problem(
        &self,
        line: u64,
        unclosed: Option<&Unclosed>,
    ) -> Option<RowProblem> {
        unclosed
            .map(|u| self.unclosed(line, u))
            .or_else(|| self.ragged(line))
            .or_else(|| self.control(line))
    }

    /// A column as messages name it: its header quoted, or its number when
    /// the row is longer than the header.
    pub(super) fn column_name(&self, column: usize) -> String {
        self.headers
            .get(column)
            .map_or_else(|| format!("{}", column + 1), |h| format!("{h:?}"))
    }

    fn unclosed(&self, line: u64, u: &Unclosed) -> RowProblem {
        let column = u.field.saturating_sub(1);
        let (quote_line, last) = (u.line + self.line_offset, u.last_line + self.line_offset);
        let why = match (last > line, u.at_eof) {
            (true, true) => {
                format!("lines {line}–{last}, to the end of the file, were read as this one row")
            }
            (false, true) => "it is on the last line of the file".to_string(),
            (true, false) => format!(
                "lines {line}–{last} were read as this one row, which ends there \
                 because line {} reads as a row of its own",
                last + 1
            ),
            (false, false) => format!(
                "the row ends with line {last}, because line {} reads as a \
                 row of its own",
                last + 1
            ),
        };
        RowProblem {
            field: self
                .columns
                .iter()
                .find_map(|&(f, c)| (c == column).then_some(f)),
            kind: ProblemKind::UnclosedQuote,
            message: format!(
                "the quote that opens the value of column {} on line \
                 {quote_line} (character {}) of {} is never closed: {why}; \
                 close the quote, or double it (\"\") if it is part of the \
                 value, and run again",
                self.column_name(column),
                u.column,
                self.file_name(),
            ),
        }
    }

    /// The problem of a record whose field count is not the header's.
    fn ragged(&self, line: u64) -> Option<RowProblem> {
        let (got, want) = (self.record.len(), self.headers.len());
        if got == want {
            return None;
        }
        let last = line + self.record.iter().map(newlines).sum::<u64>();
        let lines = if last > line {
            format!(" (lines {line}–{last}, a quoted value with line breaks)")
        } else {
            String::new()
        };
        Some(RowProblem {
            field: None,
            kind: ProblemKind::RaggedRow,
            message: format!(
                "the row{lines} has {got} field{} and the header of {} \
                 has {want} (delimiter {}); check the row for a missing \
                 value, or quote a value that contains the delimiter",
                if got == 1 { "" } else { "s" },
                self.file_name(),
                describe_delimiter(self.delimiter),
            ),
        })
    }

    /// The first field, in field order, with a control character.
    fn control(&self, line: u64) -> Option<RowProblem> {
        self.columns.iter().find_map(|&(f, col)| {
            let value = std::str::from_utf8(self.record.get(col)?).ok()?;
            let (index, c, newlines_in) = first_refused(value)?;
            let before: u64 = self.record.iter().take(col).map(newlines).sum();
            let at = format!(
                "{f} (column {} of {})",
                self.column_name(col),
                self.file_name()
            );
            Some(RowProblem {
                field: Some(f),
                kind: ProblemKind::ControlCharacter,
                message: refusal(&at, value, index, c, line + before + newlines_in),
            })
        })
    }
}
