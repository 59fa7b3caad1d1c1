//! Unclosed quotes. A `"` that opens a value and is never closed makes csv
//! read every following line into that one value, up to the end of the file
//! or the next stray quote: the orders on those lines would get no row at
//! all. So the lines pass through [`QuoteGuard`] on their way to csv, which
//! follows csv's own quoting rules line by line. When a line ends inside a
//! quoted value, it looks ahead to where the record would end: a record
//! that ends with its quotes closed cleanly (a `"` followed by the
//! delimiter or the line end) and with the header's field count is a value
//! with line breaks, read as before. Any other is taken to have an unclosed
//! quote: the guard closes it at the end of the line before the first line
//! that reads as a row of its own (or at the end of the file), so the row
//! stops there, and notes where the quote opened for the problem message.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};

use super::scan::{Event, Scan, State, reads_as_record};

/// How far ahead the guard looks for the end of a quoted value. A value
/// that runs on longer is no delivery note (WhatsApp takes 1024 characters
/// for the whole message), so the record is judged unsound.
const AHEAD_LINES: usize = 200;
const AHEAD_BYTES: usize = 64 * 1024;
/// How far past a line that reads as a row the guard still looks for the
/// quote's close: far enough for a note with a row-like line in it, short
/// enough that a file with many unclosed quotes is not read many times over.
const PAST_A_ROW: usize = 20;

/// A quote the guard closed because it was never closed in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unclosed {
    /// Offset in the guard's output just past the row (its `\n`, or the end
    /// of the file): csv's position after the record, to match them up.
    end: u64,
    /// Physical line (1-based, counted in the guard's input) of the quote.
    pub(super) line: u64,
    /// 1-based character position of the quote in that line.
    pub(super) column: u64,
    /// 1-based field of the row the quote opens.
    pub(super) field: usize,
    /// The last line the row took.
    pub(super) last_line: u64,
    /// The file ended inside the quote (else the next line reads as a row).
    pub(super) at_eof: bool,
}

/// What the look ahead decided for the lines of an open quote.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Lines to pass before acting; 0 = the line just scanned.
    left: usize,
    /// Close the quote at the end of that line (else only stop looking).
    close: bool,
    at_eof: bool,
}

/// The lines on their way to csv, every line end made `\n` and unclosed
/// quotes closed (see the module comment). It holds the line being handed out and, while a quote
/// is open, up to [`AHEAD_LINES`] lines after it.
pub(super) struct QuoteGuard<R> {
    inner: BufReader<R>,
    /// The last line read ended with a CR: a LF next is part of its end.
    after_cr: bool,
    scan: Scan,
    /// The header's field count, once the header ended: the count a line
    /// must have to read as a row of its own.
    expected: Option<usize>,
    /// Lines scanned.
    lines: u64,
    /// The quote now open: line, character position, field.
    open: Option<(u64, u64, usize)>,
    ahead: VecDeque<Vec<u8>>,
    plan: Option<Plan>,
    out: Vec<u8>,
    pos: usize,
    /// Bytes queued into `out` so far: at the end of the input, every byte
    /// handed to csv, to tell whether csv has reached the end.
    pub(super) queued: u64,
    unclosed: VecDeque<Unclosed>,
    /// The last byte queued.
    pub(super) last: Option<u8>,
    /// Every line has been handed to csv.
    pub(super) eof: bool,
}

impl<R: Read> QuoteGuard<R> {
    pub(super) fn new(inner: R, delimiter: u8) -> Self {
        QuoteGuard {
            inner: BufReader::with_capacity(64 * 1024, inner),
            after_cr: false,
            scan: Scan::new(delimiter),
            expected: None,
            lines: 0,
            open: None,
            ahead: VecDeque::new(),
            plan: None,
            out: Vec::new(),
            pos: 0,
            queued: 0,
            unclosed: VecDeque::new(),
            last: None,
            eof: false,
        }
    }

    /// The quote the guard closed for the record csv just ended at `end`
    /// (its position after the record), if it closed one. Earlier entries
    /// belong to records the reader skipped as blank.
    pub(super) fn take_unclosed(&mut self, end: u64) -> Option<Unclosed> {
        while self.unclosed.front().is_some_and(|u| u.end < end) {
            self.unclosed.pop_front();
        }
        self.unclosed.front().filter(|u| u.end == end)?;
        self.unclosed.pop_front()
    }

    /// Reads the next line onto `line`, its end (CRLF, a lone CR or LF) made
    /// `\n`, so that csv's line counter (which counts `\n` only) counts
    /// physical lines in every file, classic-Mac CR files included. Inside a
    /// quoted value this turns `\r\n` into `\n`, which cleaning folds to a
    /// space anyway. `false` at the end of the input.
    fn read_line(&mut self, line: &mut Vec<u8>) -> io::Result<bool> {
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(!line.is_empty());
            }
            if std::mem::take(&mut self.after_cr) && buf[0] == b'\n' {
                self.inner.consume(1);
                continue;
            }
            let Some(end) = buf.iter().position(|&b| b == b'\n' || b == b'\r') else {
                let n = buf.len();
                line.extend_from_slice(buf);
                self.inner.consume(n);
                continue;
            };
            line.extend_from_slice(&buf[..end]);
            line.push(b'\n');
            self.after_cr = buf[end] == b'\r';
            self.inner.consume(end + 1);
            return Ok(true);
        }
    }

    /// Queues the next line into `out`; `false` at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        let mut line = match self.ahead.pop_front() {
            Some(l) => l,
            None => {
                // The line handed out last is spent: its buffer is reused.
                let mut line = std::mem::take(&mut self.out);
                line.clear();
                if !self.read_line(&mut line)? {
                    return Ok(false);
                }
                line
            }
        };
        self.lines += 1;
        self.scan_line(&line);
        match &mut self.plan {
            None if self.scan.state == State::InQuoted => self.plan = Some(self.decide()?),
            Some(p) => p.left = p.left.saturating_sub(1),
            None => {}
        }
        if let Some(p) = self.plan.filter(|p| p.left == 0) {
            self.plan = None;
            if p.close && self.scan.state == State::InQuoted {
                self.close_quote(&mut line, p.at_eof);
            }
        }
        self.queued += line.len() as u64;
        self.last = line.last().copied();
        self.out = line;
        self.pos = 0;
        Ok(true)
    }

    fn scan_line(&mut self, line: &[u8]) {
        for (i, &b) in line.iter().enumerate() {
            match self.scan.step(b) {
                Event::Nothing => {}
                Event::QuoteOpened => {
                    let column = line[..i].iter().filter(|&&c| c & 0xC0 != 0x80).count() as u64;
                    self.open = Some((self.lines, column + 1, self.scan.fields));
                }
                Event::RecordEnded(fields) => self.record_ended(fields),
            }
        }
    }

    fn record_ended(&mut self, fields: usize) {
        self.open = None;
        self.expected.get_or_insert(fields);
    }

    /// Follows the open quote through the lines ahead (reading them in) to
    /// where its record ends, and decides: a sound record passes; an
    /// unsound one is cut before the first line that reads as a row.
    fn decide(&mut self) -> io::Result<Plan> {
        let mut sim = self.scan;
        let (mut i, mut bytes) = (0, 0);
        let mut row_at = None;
        let mut at_eof = false;
        while row_at.is_none_or(|k| i <= k + PAST_A_ROW) {
            if i == self.ahead.len() {
                if i >= AHEAD_LINES || bytes >= AHEAD_BYTES {
                    break;
                }
                let mut line = Vec::new();
                if !self.read_line(&mut line)? {
                    at_eof = true;
                    break;
                }
                self.ahead.push_back(line);
            }
            let line = &self.ahead[i];
            if row_at.is_none()
                && self
                    .expected
                    .is_some_and(|n| reads_as_record(line, sim.delimiter, n))
            {
                row_at = Some(i);
            }
            bytes += line.len();
            i += 1;
            let ended = line.iter().find_map(|&b| match sim.step(b) {
                Event::RecordEnded(n) => Some(n),
                _ => None,
            });
            if let Some(fields) = ended {
                if sim.clean && self.expected.is_none_or(|n| n == fields) {
                    // A value with line breaks: csv reads it as it is.
                    row_at = None;
                }
                // Else a bad record: cut before its row, if it has one.
                break;
            }
        }
        // Cut before the line that reads as a row; with none, close at the
        // end of the file, or (the look ahead ran out) leave it to csv.
        let (left, close) = row_at.map_or((i, at_eof), |k| (k, true));
        Ok(Plan {
            left,
            close,
            at_eof: close && row_at.is_none(),
        })
    }

    /// Closes the open quote at the end of `line` (before its `\n`), so csv
    /// ends the record there, and notes it.
    fn close_quote(&mut self, line: &mut Vec<u8>, at_eof: bool) {
        let at = line.len() - usize::from(line.last() == Some(&b'\n'));
        line.insert(at, b'"');
        let (quote_line, column, field) = self.open.unwrap_or((self.lines, 1, self.scan.fields));
        self.unclosed.push_back(Unclosed {
            end: self.queued + line.len() as u64,
            line: quote_line,
            column,
            field,
            last_line: self.lines,
            at_eof,
        });
        self.scan.state = State::StartRecord;
        self.record_ended(self.scan.fields);
    }
}

impl<R: Read> Read for QuoteGuard<R> {
    /// Fills `buf` with as many lines as fit: csv's reader zeroes the rest
    /// of its buffer on each call, so a line a call would cost a memset of
    /// the buffer for every line.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            if self.pos >= self.out.len() {
                if self.eof || !self.fill()? {
                    self.eof = true;
                    break;
                }
                continue;
            }
            let k = (buf.len() - n).min(self.out.len() - self.pos);
            buf[n..n + k].copy_from_slice(&self.out[self.pos..self.pos + k]);
            self.pos += k;
            n += k;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use crate::input::test_support::{HEADER, Tmp, read_str};
    use crate::input::{Field, InputError, InputOptions, ProblemKind, RawRow, open};

    fn unclosed(row: &RawRow) -> &str {
        let p = row.problem.as_ref().expect("a problem");
        assert_eq!(p.kind, ProblemKind::UnclosedQuote, "{p}");
        &p.message
    }

    #[test]
    fn the_row_stops_at_the_next_line_that_reads_as_a_row() {
        let (_, rows, _t) = read_str(&format!(
            "{HEADER}\nA,1,O1,P,N\nB,2,O2,\"P,N\nC,3,O3,P,N\nD,4,O4,P,N\n"
        ));
        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 4, 5]);
        let m = unclosed(&rows[1]);
        assert_eq!(
            m,
            "the quote that opens the value of column \"product_name\" on line 3 \
             (character 8) of in.csv is never closed: the row ends with line 3, \
             because line 4 reads as a row of its own; close the quote, or double \
             it (\"\") if it is part of the value, and run again"
        );
        assert_eq!(
            rows[1].problem.as_ref().unwrap().field,
            Some(Field::ProductName)
        );
        assert_eq!(rows[1].fields.product_name, "P,N");
        assert_eq!(rows[2].fields.order_number, "O3");
        assert!(rows[2].problem.is_none() && rows[3].problem.is_none());
    }

    #[test]
    fn lines_that_are_no_row_stay_with_the_quote_and_are_named() {
        let (_, rows, _t) = read_str(&format!(
            "{HEADER}\nB,2,O2,P,\"N\nnot a row\n\nC,3,O3,P,N\n"
        ));
        assert_eq!(rows.len(), 2);
        assert!(
            unclosed(&rows[0]).contains(
                "lines 2–4 were read as this one row, which ends there because \
                 line 5 reads as a row of its own"
            ),
            "{:?}",
            rows[0].problem
        );
        assert_eq!(rows[1].line, 5);
    }

    #[test]
    fn a_quote_open_to_the_end_of_the_file() {
        let (_, rows, _t) = read_str(&format!("{HEADER}\nA,1,O1,P,N\nB,2,O2,P,\"N"));
        assert!(unclosed(&rows[1]).contains("it is on the last line of the file"));
        let (_, rows, _t) = read_str(&format!("{HEADER}\nB,2,\"O2,P,N\nx\ny\n"));
        assert_eq!(rows.len(), 1);
        assert!(
            unclosed(&rows[0]).contains("lines 2–4, to the end of the file, were read"),
            "{:?}",
            rows[0].problem
        );
    }

    #[test]
    fn a_stray_quote_further_down_does_not_close_it() {
        // csv alone would close the quote at `"Chair` and read lines 3–5 as
        // one row of five fields.
        let (_, rows, _t) = read_str(&format!(
            "{HEADER}\nB,2,O2,\"P,N\nC,3,O3,P,N\nF,6,O6,\"Chair\",N\n"
        ));
        assert_eq!(rows.len(), 3);
        unclosed(&rows[0]);
        assert_eq!(rows[2].fields.product_name, "Chair");
        assert!(rows[2].problem.is_none());
    }

    #[test]
    fn a_value_with_line_breaks_is_read_whole() {
        let (_, rows, _t) = read_str(&format!(
            "{HEADER}\nA,1,O1,P,\"first\na,b,c,d,e\nlast\"\nB,2,O2,P,N\n"
        ));
        assert_eq!(rows.len(), 2);
        assert!(rows[0].problem.is_none(), "{:?}", rows[0].problem);
        assert_eq!(rows[0].fields.delivery_note, "first\na,b,c,d,e\nlast");
        assert_eq!(rows[1].line, 5);
    }

    #[test]
    fn an_unclosed_quote_in_the_header_stops_the_file() {
        let t = Tmp::new();
        let p = t.write("in.csv", format!("a,\"b,{HEADER}\nA,1,O1,P,N\n").as_bytes());
        let err = open(&p, &InputOptions::default()).expect_err("unclosed");
        assert!(matches!(
            err,
            InputError::UnclosedHeaderQuote {
                line: 1,
                column: 3,
                ..
            }
        ));
        assert_eq!(err.exit_code(), 65);
        assert!(
            err.to_string()
                .contains("in.csv: the quote at line 1, character 3"),
            "{err}"
        );
    }
}
