//! The row reader: one record in memory at a time, however large the
//! export, each handed out as a [`RawRow`] with the line it starts on. A
//! bad value in one row never stops the file; a line we cannot decode does,
//! because rows after it cannot be trusted.

use std::fmt;
use std::io::Read;
use std::path::PathBuf;

use encoding_rs::Encoding;

use super::controls::visible;
use super::echo::file_name;
use super::encoding::check_utf8;
use super::error::csv_error;
use super::headers::Columns;
use super::lines::record_start_line;
use super::quotes::{QuoteGuard, Unclosed};
use super::xlsx::SheetRows;
use super::{InputError, Origin, RawFields, RawRow};

/// The decoded file, as UTF-8 bytes.
pub(super) type Decoded = Box<dyn Read + Send>;

/// The csv reader over the decoded file, line ends made `\n` and unclosed
/// quotes closed.
pub(super) type Records = csv::Reader<QuoteGuard<Decoded>>;

/// A streaming reader over one export.
pub struct InputReader {
    pub(super) path: PathBuf,
    pub(super) delimiter: u8,
    pub(super) encoding: &'static Encoding,
    pub(super) headers: Vec<String>,
    /// The column of each field read, in reading order (the row's
    /// country, `--map country=…`, last).
    pub(super) columns: Columns,
    pub(super) rdr: Records,
    pub(super) record: csv::ByteRecord,
    pub(super) row: u64,
    /// Lines before the CSV proper (a `sep=` line), added to csv's count.
    pub(super) line_offset: u64,
    /// The raw start of a UTF-8 file, to suggest an encoding if a later
    /// line is not UTF-8 (bounded: [`PEEK_BYTES`](super::open::PEEK_BYTES)).
    pub(super) sample: Vec<u8>,
    pub(super) done: bool,
    /// Carry the other columns along (`--keep-columns`).
    pub(super) keep_extra: bool,
    /// A workbook's sheet read as CSV: its rows and its name, for messages.
    pub(super) sheet: Option<SheetRows>,
}

impl fmt::Debug for InputReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InputReader")
            .field("path", &self.path)
            .field("delimiter", &(self.delimiter as char))
            .field("encoding", &self.encoding.name())
            .field("headers", &self.headers)
            .field("row", &self.row)
            .finish_non_exhaustive()
    }
}

impl InputReader {
    /// Hands out the values of the columns no field uses with every row
    /// (`--keep-columns`), so the report can carry them for the reader of
    /// the reconciliation.
    pub fn keep_extra_columns(&mut self) {
        self.keep_extra = true;
    }

    /// The headers of the columns no field uses, in file order.
    pub fn extra_headers(&self) -> Vec<String> {
        self.extra_indices()
            .map(|i| self.headers[i].trim().to_string())
            .collect()
    }

    fn extra_indices(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.headers.len()).filter(|i| !self.columns.iter().any(|(_, c)| c == i))
    }

    /// The file's name without its directory, as messages show it (a
    /// workbook's: `sheet "Orders" of orders.xlsx`).
    pub fn file_name(&self) -> String {
        match &self.sheet {
            Some(sheet) => sheet.shown_as.clone(),
            None => file_name(&self.path),
        }
    }

    /// The file and the column of each field, for problem messages.
    pub fn origin(&self) -> Origin {
        Origin {
            file: self.file_name(),
            columns: self
                .columns
                .iter()
                .map(|&(f, c)| (f, self.headers[c].clone()))
                .collect(),
        }
    }

    fn next_row(&mut self) -> Result<Option<RawRow>, InputError> {
        let Some(unclosed) = self.next_record()? else {
            return Ok(None);
        };
        let line = record_start_line(&self.rdr, &self.record) + self.line_offset;
        let line = self.sheet.as_ref().map_or(line, |sheet| sheet.row_of(line));
        let column = |i: usize| format!("column {}", self.column_name(i));
        check_utf8(&self.path, line, &self.record, column, &self.sample)?;
        let mut fields = RawFields::default();
        for &(f, col) in &self.columns {
            if let Some(v) = self.record.get(col) {
                fields.set(f, text(v));
            }
        }
        let problem = self.shape_problem(line, unclosed.as_ref());
        self.row += 1;
        Ok(Some(RawRow {
            row: self.row,
            line,
            fields,
            problem,
            extra: self.extra_values(),
        }))
    }

    /// Reads the next record that is not blank into `self.record`, with the
    /// quote the guard had to close in it; `None` at the end of the file.
    fn next_record(&mut self) -> Result<Option<Option<Unclosed>>, InputError> {
        loop {
            let more = self.rdr.read_byte_record(&mut self.record).map_err(|e| {
                let line = e.position().map_or(0, |p| p.line()) + self.line_offset;
                csv_error(&self.path, line, e)
            })?;
            if !more {
                return Ok(None);
            }
            let end = self.rdr.position().byte();
            let unclosed = self.rdr.get_mut().take_unclosed(end);
            // Excel writes `;;;;` for rows that were formatted but never
            // filled in; they are blank lines in all but name.
            if !self.record.iter().flatten().all(u8::is_ascii_whitespace) {
                return Ok(Some(unclosed));
            }
        }
    }

    /// The record's values of the columns no field uses, when asked for.
    fn extra_values(&self) -> Vec<String> {
        if !self.keep_extra {
            return Vec::new();
        }
        self.extra_indices()
            .map(|i| self.record.get(i).map(text).unwrap_or_default())
            .collect()
    }
}

/// A value as the row hands it on: checked to be UTF-8 already (lossy is a
/// fallback that cannot trigger), a control character made visible (see
/// [`visible`]) so it never reaches the report.
pub(super) fn text(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    visible(&s).unwrap_or_else(|| s.into_owned())
}

impl Iterator for InputReader {
    type Item = Result<RawRow, InputError>;

    /// After a file-level error the iterator ends: rows after an undecodable
    /// line cannot be trusted.
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.next_row().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use crate::input::test_support::{HEADER, read_str};
    use crate::input::{Field, ProblemKind};

    #[test]
    fn comma_file() {
        let (r, rows, _t) = read_str(&format!(
            "{HEADER}\nAda Ltd,+49 151 1,A-1,Chair,Thanks\nBob,+49 2,A-2,Desk,Bye\n"
        ));
        assert_eq!(r.delimiter, b',');
        assert_eq!(r.encoding.name(), "UTF-8");
        assert_eq!(r.headers.len(), 5);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].fields.partner_name, "Ada Ltd");
        assert_eq!(rows[1].fields.order_number, "A-2");
        assert_eq!((rows[1].row, rows[1].line), (2, 3));
        assert!(rows.iter().all(|r| r.problem.is_none()));
    }

    #[test]
    fn quoted_newline_delimiter_and_quote() {
        let (_, rows, _t) = read_str(&format!(
            "{HEADER}\nA,1,O1,\"Chair, \"\"Oak\"\"\",\"line one\nline two\"\nB,2,O2,P,N\n"
        ));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].fields.product_name, "Chair, \"Oak\"");
        assert_eq!(rows[0].fields.delivery_note, "line one\nline two");
        assert_eq!((rows[1].row, rows[1].line), (2, 4));
    }

    #[test]
    fn ragged_row_keeps_going_with_its_line() {
        let (_, rows, _t) = read_str(&format!(
            "{HEADER}\nA,1,O1,P,N\n\"x\ny\",1,O2,P,N\nB,2,O3\nC,3,O4,P,N,extra\nD,4,O5,P,N\n"
        ));
        assert_eq!(rows.len(), 5);
        let short = &rows[2];
        assert_eq!((short.row, short.line), (3, 5));
        let p = short.problem.as_ref().expect("ragged");
        assert_eq!(p.kind, ProblemKind::RaggedRow);
        assert!(
            p.message
                .starts_with("the row has 3 fields and the header of in.csv has 5 (delimiter `,`)"),
            "{p}"
        );
        assert_eq!(short.fields.order_number, "O3");
        assert_eq!(short.fields.product_name, "");
        let long = &rows[3];
        assert_eq!(long.line, 6);
        assert!(
            long.problem
                .as_ref()
                .expect("ragged")
                .message
                .contains("has 6 fields")
        );
        assert!(rows[4].problem.is_none());
    }

    #[test]
    fn blank_lines_are_skipped_and_not_counted() {
        let (_, rows, _t) = read_str(&format!(
            "\n{HEADER}\n\nA,1,O1,P,N\n\n\n,,,,\n  \nB,2,O2,P,N\n\n"
        ));
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].row, rows[0].line), (1, 4));
        assert_eq!((rows[1].row, rows[1].line), (2, 9));
    }

    #[test]
    fn reader_can_move_to_another_thread() {
        fn assert_send<T: Send>(_: &T) {}
        let (r, rows, _t) = read_str(&format!("{HEADER}\nA,1,O,P,N\n"));
        assert_send(&r);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            r.origin().column(Field::DeliveryNote),
            Some("delivery_note")
        );
    }
}
