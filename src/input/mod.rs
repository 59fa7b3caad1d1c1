//! Reading the nightly export: bytes on disk become a stream of [`RawRow`]s.
//!
//! This module owns everything about the file as a file: its encoding, its
//! delimiter, its header names and its physical line numbers. It does not
//! judge the values (that is [`crate::delivery::validate`]), so a bad value
//! in one row never stops the file, while a file we cannot read correctly
//! (missing columns, an encoding we would have to guess) stops before
//! anything is sent.
//!
//! The exports come from TMS/OMS systems and from Excel, and Excel is where
//! most surprises come from: a `;` delimiter in European locales, a `sep=;`
//! first line, a UTF-8 BOM, UTF-16 "Unicode text", or the machine's ANSI code
//! page. We never guess an encoding: a single-byte decoder never fails, so a
//! wrong guess would send mojibake to partners. A file that is not UTF-8 and
//! has no BOM needs `--encoding`.
//!
//! The reader streams: it keeps one record and a bounded peek of the start
//! of the file, so a large export costs no more memory than a small one.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use encoding_rs::{Encoding, UTF_8};
use encoding_rs_io::DecodeReaderBytesBuilder;

use crate::delivery::{Field, Origin, ProblemKind, RawFields, RowProblem};

/// How much of the decoded start of the file is examined to find the
/// delimiter. A header line longer than this is not a delivery export.
const PEEK_BYTES: u64 = 64 * 1024;

/// Delimiters tried, in order of preference when they do equally well.
const CANDIDATE_DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// How the user told us to read the file; everything left `None` or empty is
/// detected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputOptions {
    /// `None` = detect (`sep=` line, then the header).
    pub delimiter: Option<u8>,
    /// An encoding label (`windows-1252`, `cp1251`, `latin1`, …) for files
    /// without a BOM that are not UTF-8. `None` = BOM or UTF-8.
    pub encoding: Option<String>,
    /// User overrides: this field lives in the column with this header.
    pub column_map: Vec<(Field, String)>,
}

/// A file-level failure: nothing in the file should be sent.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("failed to open {}: the file does not exist", .path.display())]
    NotFound { path: PathBuf },

    #[error("failed to read {}: {source}", .path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "failed to decode {} at line {line}: {detail}; the file is not UTF-8 \
         and nothing was sent; {suggestion}",
        .path.display()
    )]
    Undecodable {
        path: PathBuf,
        line: u64,
        detail: String,
        /// What to pass, from a look at the bytes (chardetng): a hint, never
        /// acted on by itself.
        suggestion: String,
    },

    #[error(
        "failed to find {} in {}; the header has {}; rename the columns or \
         map them with --map FIELD=\"HEADER\" (e.g. --map {}=\"Your Header\")",
        describe_missing(.missing),
        .path.display(),
        describe_found(.found),
        .missing.first().map_or("partner_phone", |f| f.name())
    )]
    MissingColumns {
        path: PathBuf,
        missing: Vec<Field>,
        found: Vec<String>,
    },

    #[error("failed to read {}: the file is empty (no header line)", .path.display())]
    Empty { path: PathBuf },

    #[error(
        "failed to use encoding `{label}`: not a known encoding label; try \
         windows-1252, windows-1251, iso-8859-15 or utf-16le"
    )]
    UnknownEncoding { label: String },

    #[error("failed to parse {} at line {line}: {source}", .path.display())]
    Csv {
        path: PathBuf,
        line: u64,
        #[source]
        source: csv::Error,
    },
}

impl InputError {
    /// The process exit code (design.md): 66 when the file cannot be read
    /// at all, 78 for a bad `--encoding` value (a configuration error), and
    /// 65 when the content is unusable.
    pub fn exit_code(&self) -> u8 {
        match self {
            InputError::NotFound { .. } | InputError::Unreadable { .. } => 66,
            InputError::UnknownEncoding { .. } => 78,
            InputError::Undecodable { .. }
            | InputError::MissingColumns { .. }
            | InputError::Empty { .. }
            | InputError::Csv { .. } => 65,
        }
    }
}

fn describe_missing(missing: &[Field]) -> String {
    let names: Vec<&str> = missing.iter().map(|f| f.name()).collect();
    match names.len() {
        1 => format!("the {} column", names[0]),
        _ => format!("the columns {}", names.join(", ")),
    }
}

fn describe_found(found: &[String]) -> String {
    if found.is_empty() {
        return "no columns".to_string();
    }
    let quoted: Vec<String> = found.iter().map(|h| format!("{h:?}")).collect();
    format!("columns {}", quoted.join(", "))
}

/// One data row as read, before validation.
#[derive(Debug, Clone)]
pub struct RawRow {
    /// 1-based data-row number: header excluded, blank lines not counted.
    pub row: u64,
    /// 1-based physical line where the record starts, so a user can find
    /// it in an editor.
    pub line: u64,
    pub fields: RawFields,
    /// A problem with the row's shape (ragged row); value problems are
    /// found later by `validate`.
    pub problem: Option<RowProblem>,
    /// The values of the columns no field uses, in [`InputReader::extra_headers`]
    /// order, when [`InputReader::keep_extra_columns`] asked for them.
    pub extra: Vec<String>,
}

/// A streaming reader over one export.
pub struct InputReader {
    path: PathBuf,
    delimiter: u8,
    encoding: &'static Encoding,
    headers: Vec<String>,
    /// Column index per field, in [`Field::ALL`] order.
    columns: [usize; 5],
    rdr: csv::Reader<LineEnds<Box<dyn Read + Send>>>,
    record: csv::ByteRecord,
    row: u64,
    /// Lines before the CSV proper (a `sep=` line), added to csv's count.
    line_offset: u64,
    /// The raw start of a UTF-8 file, to suggest an encoding if a later
    /// line is not UTF-8 (bounded: [`PEEK_BYTES`]).
    sample: Vec<u8>,
    done: bool,
    /// Carry the other columns along (`--keep-columns`).
    keep_extra: bool,
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

/// Opens an export, settles encoding, delimiter and column mapping, and
/// reads the header. Everything that can make the whole file unusable is
/// reported here, before the first row is handed out.
pub fn open(path: &Path, opts: &InputOptions) -> Result<InputReader, InputError> {
    configured_encoding(opts)?;
    let file = File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => InputError::NotFound {
            path: path.to_path_buf(),
        },
        _ => InputError::Unreadable {
            path: path.to_path_buf(),
            source: e,
        },
    })?;
    from_reader(path, file, opts)
}

fn configured_encoding(opts: &InputOptions) -> Result<Option<&'static Encoding>, InputError> {
    match &opts.encoding {
        None => Ok(None),
        Some(label) => Encoding::for_label(label.trim().as_bytes())
            .map(Some)
            .ok_or_else(|| InputError::UnknownEncoding {
                label: label.clone(),
            }),
    }
}

/// [`open`] over any byte source; `path` only names it in messages. For
/// tests and fuzzing, which have bytes rather than files.
pub fn from_reader<R: Read + Send + 'static>(
    path: &Path,
    source: R,
    opts: &InputOptions,
) -> Result<InputReader, InputError> {
    let configured = configured_encoding(opts)?;
    let unreadable = |source: io::Error| InputError::Unreadable {
        path: path.to_path_buf(),
        source,
    };

    // A BOM decides the encoding, even over --encoding: it is the one
    // unambiguous statement a file makes about itself.
    let mut raw = BufReader::with_capacity(64 * 1024, source);
    let (bom_encoding, bom_len) = sniff_bom(raw.fill_buf().map_err(unreadable)?);
    raw.consume(bom_len);
    let encoding = bom_encoding.or(configured).unwrap_or(UTF_8);
    // UTF-8 passes through undecoded so that invalid bytes surface as an
    // error naming the line instead of silently becoming U+FFFD.
    let decoded: Box<dyn Read + Send> = if encoding == UTF_8 {
        Box::new(raw)
    } else {
        Box::new(
            DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding))
                .build(raw),
        )
    };

    let mut peek = decoded.take(PEEK_BYTES);
    let mut prefix = Vec::new();
    peek.read_to_end(&mut prefix).map_err(unreadable)?;
    let decoded = peek.into_inner();
    let sample = if encoding == UTF_8 {
        if let Some(err) = utf16_without_bom(path, &prefix) {
            return Err(err);
        }
        prefix.clone()
    } else {
        Vec::new()
    };

    let mut line_offset = 0;
    let mut sep_delimiter = None;
    if let Some((d, len)) = sep_line(&prefix) {
        sep_delimiter = Some(d);
        prefix.drain(..len);
        line_offset = 1;
    }
    let delimiter = opts
        .delimiter
        .or(sep_delimiter)
        .unwrap_or_else(|| detect_delimiter(&prefix, &opts.column_map));

    let source: Box<dyn Read + Send> = Box::new(Cursor::new(prefix).chain(decoded));
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(LineEnds::new(source));

    let mut record = csv::ByteRecord::new();
    let has_header = rdr
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(path, line_offset + 1, e))?;
    if !has_header {
        return Err(InputError::Empty {
            path: path.to_path_buf(),
        });
    }
    let header_line = record_start_line(&rdr, &record) + line_offset;
    let mut headers = Vec::with_capacity(record.len());
    for (i, bytes) in record.iter().enumerate() {
        match std::str::from_utf8(bytes) {
            Ok(s) => headers.push(s.trim().to_string()),
            Err(e) => {
                return Err(undecodable(
                    path,
                    header_line,
                    &record,
                    i,
                    &e,
                    &format!("header column {}", i + 1),
                    &sample,
                ));
            }
        }
    }
    let columns =
        map_columns(&headers, &opts.column_map).map_err(|missing| InputError::MissingColumns {
            path: path.to_path_buf(),
            missing,
            found: headers.clone(),
        })?;

    Ok(InputReader {
        path: path.to_path_buf(),
        delimiter,
        encoding,
        headers,
        columns,
        rdr,
        record,
        row: 0,
        line_offset,
        sample,
        done: false,
        keep_extra: false,
    })
}

impl InputReader {
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// The WHATWG name of the encoding actually used (`UTF-8`, `UTF-16LE`,
    /// `windows-1252`, …); `latin1` resolves to `windows-1252`.
    pub fn encoding_name(&self) -> &'static str {
        self.encoding.name()
    }

    /// Header names as read (trimmed), in file order.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

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
        (0..self.headers.len()).filter(|i| !self.columns.contains(i))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's name without its directory, as messages show it.
    pub fn file_name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// The file and the column of each field, for problem messages.
    pub fn origin(&self) -> Origin {
        Origin {
            file: self.file_name(),
            columns: Field::ALL.map(|f| self.column_for(f).to_string()),
        }
    }

    /// The header each field was read from, for a run summary that shows
    /// the user how their columns were understood.
    pub fn column_for(&self, field: Field) -> &str {
        let i = Field::ALL.iter().position(|&f| f == field).unwrap_or(0);
        self.headers.get(self.columns[i]).map_or("", String::as_str)
    }

    fn next_row(&mut self) -> Result<Option<RawRow>, InputError> {
        loop {
            let more = self.rdr.read_byte_record(&mut self.record).map_err(|e| {
                let line = e.position().map_or(0, |p| p.line()) + self.line_offset;
                csv_error(&self.path, line, e)
            })?;
            if !more {
                return Ok(None);
            }
            // Excel writes `;;;;` for rows that were formatted but never
            // filled in; they are blank lines in all but name.
            if self
                .record
                .iter()
                .all(|f| f.iter().all(u8::is_ascii_whitespace))
            {
                continue;
            }
            let line = record_start_line(&self.rdr, &self.record) + self.line_offset;
            for (i, bytes) in self.record.iter().enumerate() {
                if let Err(e) = std::str::from_utf8(bytes) {
                    let column = self
                        .headers
                        .get(i)
                        .map_or_else(|| format!("column {}", i + 1), |h| format!("column {h:?}"));
                    return Err(undecodable(
                        &self.path,
                        line,
                        &self.record,
                        i,
                        &e,
                        &column,
                        &self.sample,
                    ));
                }
            }
            let mut fields = RawFields::default();
            for (f, &col) in Field::ALL.into_iter().zip(&self.columns) {
                if let Some(v) = self.record.get(col) {
                    // Validated above; lossy is only a fallback that cannot
                    // trigger.
                    fields.set(f, String::from_utf8_lossy(v).into_owned());
                }
            }
            self.row += 1;
            let (got, want) = (self.record.len(), self.headers.len());
            let problem = (got != want).then(|| {
                RowProblem::new(
                    None,
                    ProblemKind::RaggedRow,
                    format!(
                        "the row has {got} field{} and the header of {} has \
                         {want} (delimiter {}); check the row for a missing \
                         value, or quote a value that contains the delimiter",
                        if got == 1 { "" } else { "s" },
                        self.file_name(),
                        describe_delimiter(self.delimiter),
                    ),
                )
            });
            let extra = if self.keep_extra {
                self.extra_indices()
                    .map(|i| {
                        self.record
                            .get(i)
                            .map(|v| String::from_utf8_lossy(v).into_owned())
                            .unwrap_or_default()
                    })
                    .collect()
            } else {
                Vec::new()
            };
            return Ok(Some(RawRow {
                row: self.row,
                line,
                fields,
                problem,
                extra,
            }));
        }
    }
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

/// The physical line where the record just read starts.
///
/// csv stamps a record with the position where the previous one ended, which
/// is before any blank lines and, with CRLF, before the `\n`. So we count
/// back from where the record ends instead: every line end is `\n` by then
/// (see [`LineEnds`]), and it was consumed unless the file ended without one.
fn record_start_line<R: Read>(rdr: &csv::Reader<LineEnds<R>>, record: &csv::ByteRecord) -> u64 {
    let end = rdr.position();
    let inside: u64 = record
        .iter()
        .map(|f| f.iter().filter(|&&b| b == b'\n').count() as u64)
        .sum();
    let src = rdr.get_ref();
    let unterminated = src.eof && end.byte() == src.produced && src.last != Some(b'\n');
    let terminator = u64::from(!unterminated);
    end.line().saturating_sub(inside + terminator).max(1)
}

/// Turns CRLF and lone CR into LF before csv sees the bytes, so csv's line
/// counter (which counts `\n` only) counts physical lines in every file,
/// including classic-Mac CR files. Inside a quoted value this turns `\r\n`
/// into `\n`, which cleaning folds to a space anyway.
struct LineEnds<R> {
    inner: R,
    after_cr: bool,
    /// Bytes handed to csv so far, to tell whether csv has reached the end.
    produced: u64,
    last: Option<u8>,
    eof: bool,
}

impl<R: Read> LineEnds<R> {
    fn new(inner: R) -> Self {
        LineEnds {
            inner,
            after_cr: false,
            produced: 0,
            last: None,
            eof: false,
        }
    }
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                self.eof = !buf.is_empty();
                return Ok(0);
            }
            let mut w = 0;
            for i in 0..n {
                let b = buf[i];
                if self.after_cr && b == b'\n' {
                    self.after_cr = false;
                    continue;
                }
                self.after_cr = b == b'\r';
                buf[w] = if b == b'\r' { b'\n' } else { b };
                w += 1;
            }
            if w > 0 {
                self.produced += w as u64;
                self.last = Some(buf[w - 1]);
                return Ok(w);
            }
        }
    }
}

fn csv_error(path: &Path, line: u64, e: csv::Error) -> InputError {
    if let csv::ErrorKind::Io(io) = e.kind() {
        // Keep the io kind for callers; the csv error displays the io one.
        return InputError::Unreadable {
            path: path.to_path_buf(),
            source: io::Error::new(io.kind(), e),
        };
    }
    InputError::Csv {
        path: path.to_path_buf(),
        line,
        source: e,
    }
}

/// Names the physical line and the offending bytes: a quoted field can span
/// lines, so the record's first line is not necessarily the bad one.
fn undecodable(
    path: &Path,
    record_line: u64,
    record: &csv::ByteRecord,
    field: usize,
    err: &std::str::Utf8Error,
    column: &str,
    sample: &[u8],
) -> InputError {
    let bytes = record.get(field).unwrap_or_default();
    let good = &bytes[..err.valid_up_to()];
    let newlines = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count() as u64;
    let line = record_line + record.iter().take(field).map(newlines).sum::<u64>() + newlines(good);
    let bad_len = err.error_len().unwrap_or(bytes.len() - good.len()).max(1);
    let bad: Vec<String> = bytes[good.len()..]
        .iter()
        .take(bad_len)
        .map(|b| format!("0x{b:02X}"))
        .collect();
    InputError::Undecodable {
        path: path.to_path_buf(),
        line,
        detail: format!(
            "byte {} in {column} (after {:?}) is not valid UTF-8",
            bad.join(" "),
            String::from_utf8_lossy(&good[good.len().saturating_sub(20)..])
        ),
        suggestion: suggest_encoding(sample, bytes),
    }
}

/// A hint for `--encoding` from chardetng (Firefox's detector), fed with the
/// start of the file and the bad value. Only a hint: the user confirms it by
/// passing the flag, because a single-byte decoder never fails and a wrong
/// code page would send mojibake.
fn suggest_encoding(sample: &[u8], bad_value: &[u8]) -> String {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(sample, false);
    detector.feed(bad_value, true);
    let guess = detector.guess(None, chardetng::Utf8Detection::Deny);
    let what = match guess.name() {
        "windows-1252" => " (Western European Excel)",
        "windows-1251" => " (Cyrillic Excel)",
        "windows-1250" => " (Central European Excel)",
        "windows-1253" => " (Greek Excel)",
        "windows-1254" => " (Turkish Excel)",
        "ISO-8859-2" | "ISO-8859-5" | "KOI8-U" | "IBM866" => " (older Unix or DOS export)",
        _ => "",
    };
    let name = guess.name().to_ascii_lowercase();
    format!(
        "it looks like {name}{what}: if that is how it was saved, run again \
         with `--encoding {name}`; the usual Excel code pages are \
         `--encoding windows-1252` (Western Europe) and \
         `--encoding windows-1251` (Cyrillic)"
    )
}

/// A file whose first line has a NUL every other byte is UTF-16 without a
/// byte-order mark: valid UTF-8 byte by byte, but no header would match.
fn utf16_without_bom(path: &Path, prefix: &[u8]) -> Option<InputError> {
    let head = &prefix[..prefix.len().min(512)];
    if head.len() < 8 {
        return None;
    }
    let nul_at = |parity: usize| {
        head.iter()
            .enumerate()
            .filter(|&(i, &b)| i % 2 == parity && b == 0)
            .count()
    };
    let (even, odd) = (nul_at(0), nul_at(1));
    let half = head.len() / 2;
    let label = if odd * 4 >= half * 3 {
        "utf-16le"
    } else if even * 4 >= half * 3 {
        "utf-16be"
    } else {
        return None;
    };
    Some(InputError::Undecodable {
        path: path.to_path_buf(),
        line: 1,
        detail: "every other byte is 0x00, which is UTF-16 without a \
                 byte-order mark"
            .into(),
        suggestion: format!("run again with `--encoding {label}`"),
    })
}

fn describe_delimiter(d: u8) -> String {
    match d {
        b'\t' => "tab".into(),
        d => format!("`{}`", d as char),
    }
}

fn sniff_bom(start: &[u8]) -> (Option<&'static Encoding>, usize) {
    match Encoding::for_bom(start) {
        Some((enc, len)) => (Some(enc), len),
        None => (None, 0),
    }
}

/// Excel's `sep=;` (sometimes quoted) first line: returns the delimiter and
/// the length of the line including its terminator.
fn sep_line(prefix: &[u8]) -> Option<(u8, usize)> {
    let quoted = prefix.first() == Some(&b'"');
    let body = if quoted { &prefix[1..] } else { prefix };
    if body.len() < 5 || !body[..4].eq_ignore_ascii_case(b"sep=") {
        return None;
    }
    let d = body[4];
    if !d.is_ascii() || d == b'\n' || d == b'\r' || d == b'"' {
        return None;
    }
    let mut i = 5 + usize::from(quoted);
    if quoted && body.get(5) == Some(&b'"') {
        i += 1;
    }
    // `i` is now an index into `prefix` just after the (optional) quote.
    let rest = &prefix[i..];
    let term = if rest.starts_with(b"\r\n") {
        2
    } else if rest.starts_with(b"\n") || rest.starts_with(b"\r") {
        1
    } else if rest.is_empty() {
        0
    } else {
        return None;
    };
    Some((d, i + term))
}

/// Picks the delimiter that makes the header name every required column.
/// Several do: the one that splits the header into most columns. None does:
/// the one that finds the most, so the error lists real header names.
fn detect_delimiter(prefix: &[u8], column_map: &[(Field, String)]) -> u8 {
    let mut best: Option<(bool, usize, usize, u8)> = None;
    for d in CANDIDATE_DELIMITERS {
        let Some(headers) = first_record(prefix, d) else {
            continue;
        };
        let score = match map_columns(&headers, column_map) {
            Ok(_) => (true, Field::ALL.len(), headers.len(), d),
            Err(missing) => (false, Field::ALL.len() - missing.len(), 0, d),
        };
        // Strictly better only, so earlier candidates win ties.
        if best.is_none_or(|b| (score.0, score.1, score.2) > (b.0, b.1, b.2)) {
            best = Some(score);
        }
    }
    best.map_or(b',', |b| b.3)
}

fn first_record(prefix: &[u8], delimiter: u8) -> Option<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(prefix);
    let mut record = csv::ByteRecord::new();
    match rdr.read_byte_record(&mut record) {
        Ok(true) => Some(
            record
                .iter()
                .map(|b| String::from_utf8_lossy(b).trim().to_string())
                .collect(),
        ),
        _ => None,
    }
}

/// Header names each field answers to, best first. The canonical name comes
/// first so an export that uses it is never misread through an alias.
fn aliases(f: Field) -> &'static [&'static str] {
    match f {
        Field::PartnerName => &[
            "partner name",
            "partner",
            "company",
            "company name",
            "partner company",
        ],
        Field::PartnerPhone => &[
            "partner phone",
            "phone",
            "manager phone",
            "phone number",
            "mobile",
            "whatsapp",
        ],
        Field::OrderNumber => &["order number", "order", "order no", "order #", "order id"],
        Field::ProductName => &["product name", "product", "item"],
        Field::DeliveryNote => &["delivery note", "note", "notes", "comment"],
    }
}

/// `Order_No`, `order-no`, ` ORDER\u{a0}NO ` all become `order no`.
fn normalize_header(h: &str) -> String {
    let spaced: String = h
        .chars()
        .map(|c| match c {
            '_' | '-' => ' ',
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Column index per field, or the fields that have no column. `--map`
/// entries are placed first so an alias cannot take a column the user
/// assigned to another field.
fn map_columns(
    headers: &[String],
    column_map: &[(Field, String)],
) -> Result<[usize; 5], Vec<Field>> {
    let normalized: Vec<String> = headers.iter().map(|h| normalize_header(h)).collect();
    let mut taken = vec![false; headers.len()];
    let mut columns: [Option<usize>; 5] = [None; 5];

    for (slot, f) in Field::ALL.into_iter().enumerate() {
        // The last --map for a field wins, as with repeated flags elsewhere.
        if let Some((_, header)) = column_map.iter().rev().find(|(mf, _)| *mf == f) {
            let want = normalize_header(header);
            if let Some(i) = (0..headers.len()).find(|&i| !taken[i] && normalized[i] == want) {
                taken[i] = true;
                columns[slot] = Some(i);
            }
        }
    }
    for (slot, f) in Field::ALL.into_iter().enumerate() {
        if columns[slot].is_some() || column_map.iter().any(|(mf, _)| *mf == f) {
            continue;
        }
        'alias: for alias in aliases(f) {
            for i in 0..headers.len() {
                if !taken[i] && normalized[i] == *alias {
                    taken[i] = true;
                    columns[slot] = Some(i);
                    break 'alias;
                }
            }
        }
    }

    let missing: Vec<Field> = Field::ALL
        .into_iter()
        .zip(columns)
        .filter_map(|(f, c)| c.is_none().then_some(f))
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut out = [0; 5];
    for (o, c) in out.iter_mut().zip(columns) {
        *o = c.unwrap_or_default();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const HEADER: &str = "partner_name,partner_phone,order_number,product_name,delivery_note";

    struct Tmp {
        dir: tempfile::TempDir,
    }

    impl Tmp {
        fn new() -> Self {
            Tmp {
                dir: tempfile::tempdir().expect("temp dir"),
            }
        }

        fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
            let p = self.dir.path().join(name);
            let mut f = File::create(&p).expect("create");
            f.write_all(bytes).expect("write");
            p
        }
    }

    fn read_all(path: &Path, opts: &InputOptions) -> (InputReader, Vec<RawRow>) {
        let mut r = open(path, opts).expect("open");
        let rows: Vec<RawRow> = r.by_ref().map(|row| row.expect("row")).collect();
        (r, rows)
    }

    fn read_str(contents: &str) -> (InputReader, Vec<RawRow>, Tmp) {
        let t = Tmp::new();
        let p = t.write("in.csv", contents.as_bytes());
        let (r, rows) = read_all(&p, &InputOptions::default());
        (r, rows, t)
    }

    #[test]
    fn comma_file() {
        let (r, rows, _t) = read_str(&format!(
            "{HEADER}\nAda Ltd,+49 151 1,A-1,Chair,Thanks\nBob,+49 2,A-2,Desk,Bye\n"
        ));
        assert_eq!(r.delimiter(), b',');
        assert_eq!(r.encoding_name(), "UTF-8");
        assert_eq!(r.headers().len(), 5);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].fields.partner_name, "Ada Ltd");
        assert_eq!(rows[1].fields.order_number, "A-2");
        assert_eq!((rows[1].row, rows[1].line), (2, 3));
        assert!(rows.iter().all(|r| r.problem.is_none()));
    }

    #[test]
    fn semicolon_and_tab_and_pipe_are_detected() {
        for d in [';', '\t', '|'] {
            let h = HEADER.replace(',', &d.to_string());
            let row = ["Müller, GmbH", "+49 151", "A-1", "Chair", "ok"].join(&d.to_string());
            let (r, rows, _t) = read_str(&format!("{h}\n{row}\n"));
            assert_eq!(r.delimiter(), d as u8, "{d:?}");
            assert_eq!(rows[0].fields.partner_name, "Müller, GmbH");
            assert_eq!(rows[0].fields.delivery_note, "ok");
        }
    }

    #[test]
    fn explicit_delimiter_wins() {
        let t = Tmp::new();
        let h = HEADER.replace(',', ";");
        let p = t.write("in.csv", format!("{h}\na;b;c;d;e\n").as_bytes());
        let opts = InputOptions {
            delimiter: Some(b','),
            ..InputOptions::default()
        };
        match open(&p, &opts) {
            Err(InputError::MissingColumns { missing, .. }) => assert_eq!(missing.len(), 5),
            other => panic!("expected MissingColumns, got {other:?}"),
        }
    }

    #[test]
    fn sep_line_sets_delimiter_and_shifts_lines() {
        let h = HEADER.replace(',', ";");
        let (r, rows, _t) = read_str(&format!("sep=;\r\n{h}\r\na,b;+491;A-1;P;N\r\n"));
        assert_eq!(r.delimiter(), b';');
        assert_eq!(r.headers()[0], "partner_name");
        assert_eq!(rows[0].fields.partner_name, "a,b");
        assert_eq!((rows[0].row, rows[0].line), (1, 3));
    }

    #[test]
    fn utf8_bom_is_stripped() {
        let (r, rows, _t) = read_str(&format!("\u{feff}{HEADER}\nA,1,O,P,N\n"));
        assert_eq!(r.headers()[0], "partner_name");
        assert_eq!(r.encoding_name(), "UTF-8");
        assert_eq!(rows[0].fields.partner_name, "A");
    }

    #[test]
    fn crlf_and_cr_line_ends() {
        let (_, rows, _t) = read_str(&format!("{HEADER}\r\nA,1,O1,P,N\r\nB,2,O2,P,N\r\n"));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].fields.delivery_note, "N");
        assert_eq!(rows[1].line, 3);
        let (_, rows, _t) = read_str(&format!("{HEADER}\rA,1,O1,P,N\rB,2,O2,P,N\r"));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].fields.order_number, "O2");
        assert_eq!(rows[1].line, 3);
        // Last line without a line end, after a quoted CRLF inside a value.
        let (_, rows, _t) = read_str(&format!("{HEADER}\r\nA,1,O1,P,\"a\r\nb\"\r\nB,2,O2,P,N"));
        assert_eq!(rows[0].fields.delivery_note, "a\nb");
        assert_eq!((rows[1].row, rows[1].line), (2, 4));
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
    fn header_aliases_match_loosely() {
        let (r, rows, _t) = read_str(
            "Item;Notes;ORDER\u{a0}No;Company Name;Extra;Mobile\nChair;ring;A-7;Acme;x;+491\n",
        );
        assert_eq!(r.delimiter(), b';');
        let f = &rows[0].fields;
        assert_eq!(f.partner_name, "Acme");
        assert_eq!(f.partner_phone, "+491");
        assert_eq!(f.order_number, "A-7");
        assert_eq!(f.product_name, "Chair");
        assert_eq!(f.delivery_note, "ring");
        assert_eq!(r.column_for(Field::OrderNumber), "ORDER\u{a0}No");
    }

    #[test]
    fn canonical_name_beats_alias() {
        let (_, rows, _t) =
            read_str("phone,partner-phone,partner,order,product,note\n111,222,A,O,P,N\n");
        assert_eq!(rows[0].fields.partner_phone, "222");
    }

    #[test]
    fn map_override_wins() {
        let t = Tmp::new();
        let p = t.write(
            "in.csv",
            b"Kunde,Phone,Tel WA,Order No,Item,Comment\nAcme,111,222,O1,P,N\n",
        );
        let opts = InputOptions {
            column_map: vec![
                (Field::PartnerName, "kunde".into()),
                (Field::PartnerPhone, "TEL_WA".into()),
            ],
            ..InputOptions::default()
        };
        let (_, rows) = read_all(&p, &opts);
        assert_eq!(rows[0].fields.partner_name, "Acme");
        assert_eq!(rows[0].fields.partner_phone, "222");
    }

    #[test]
    fn missing_columns_lists_missing_and_found() {
        let t = Tmp::new();
        let p = t.write("in.csv", b"Name;Tel;Order;Product;Note\nA;1;O;P;N\n");
        let err = open(&p, &InputOptions::default()).expect_err("missing");
        assert_eq!(err.exit_code(), 65);
        match &err {
            InputError::MissingColumns { missing, found, .. } => {
                assert_eq!(missing, &[Field::PartnerName, Field::PartnerPhone]);
                assert_eq!(found, &["Name", "Tel", "Order", "Product", "Note"]);
            }
            other => panic!("expected MissingColumns, got {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("partner_name, partner_phone"), "{msg}");
        assert!(msg.contains("\"Tel\""), "{msg}");
        assert!(msg.contains("--map"), "{msg}");
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let t = Tmp::new();
        let mut bytes = format!("{HEADER}\nA,1,O1,P,N\n\"two\nlines\",2,O2,P,N\n").into_bytes();
        bytes.extend_from_slice(b"M\xfcller GmbH,3,O3,P,N\n");
        let p = t.write("in.csv", &bytes);
        let mut r = open(&p, &InputOptions::default()).expect("header is fine");
        assert!(matches!(r.next(), Some(Ok(_))));
        assert!(matches!(r.next(), Some(Ok(_))));
        let err = r.next().expect("an item").expect_err("undecodable");
        match &err {
            InputError::Undecodable { line, detail, .. } => {
                assert_eq!(*line, 5);
                assert!(detail.contains("0xFC"), "{detail}");
            }
            other => panic!("expected Undecodable, got {other:?}"),
        }
        assert!(err.to_string().contains("--encoding windows-1252"), "{err}");
        assert_eq!(err.exit_code(), 65);
        assert!(
            r.next().is_none(),
            "iteration stops after a file-level error"
        );
    }

    #[test]
    fn invalid_utf8_inside_multiline_field_names_that_line() {
        let t = Tmp::new();
        let mut bytes = format!("{HEADER}\nA,1,O1,P,\"first\nsecond ").into_bytes();
        bytes.extend_from_slice(b"\xe9\"\n");
        let p = t.write("in.csv", &bytes);
        let mut r = open(&p, &InputOptions::default()).expect("open");
        match r.next() {
            Some(Err(InputError::Undecodable { line, .. })) => assert_eq!(line, 3),
            other => panic!("expected Undecodable, got {other:?}"),
        }
    }

    #[test]
    fn invalid_utf8_in_header() {
        let t = Tmp::new();
        let p = t.write(
            "in.csv",
            b"partner_name,partner_phone,order_number,product_name,Bemerk\xfcng\n",
        );
        match open(&p, &InputOptions::default()) {
            Err(InputError::Undecodable { line, .. }) => assert_eq!(line, 1),
            other => panic!("expected Undecodable, got {other:?}"),
        }
    }

    #[test]
    fn windows_1252_label() {
        let t = Tmp::new();
        let mut bytes = format!("{HEADER}\n").into_bytes();
        bytes.extend_from_slice(b"M\xfcller GmbH,+49 151,A-1,Stuhl \x96 gro\xdf,\x84ok\x93\n");
        let p = t.write("in.csv", &bytes);
        for label in ["windows-1252", "cp1252", "latin1"] {
            let opts = InputOptions {
                encoding: Some(label.into()),
                ..InputOptions::default()
            };
            let (r, rows) = read_all(&p, &opts);
            assert_eq!(r.encoding_name(), "windows-1252");
            assert_eq!(rows[0].fields.partner_name, "Müller GmbH");
            assert_eq!(rows[0].fields.product_name, "Stuhl – groß");
            assert_eq!(rows[0].fields.delivery_note, "„ok“");
        }
    }

    #[test]
    fn windows_1251_label() {
        let t = Tmp::new();
        let mut bytes = format!("{HEADER}\n").into_bytes();
        // "Иван" in cp1251.
        bytes.extend_from_slice(b"\xc8\xe2\xe0\xed,+7 912,A-1,P,N\n");
        let p = t.write("in.csv", &bytes);
        let opts = InputOptions {
            encoding: Some("cp1251".into()),
            ..InputOptions::default()
        };
        let (_, rows) = read_all(&p, &opts);
        assert_eq!(rows[0].fields.partner_name, "Иван");
    }

    #[test]
    fn unknown_encoding_label() {
        let t = Tmp::new();
        let p = t.write("in.csv", HEADER.as_bytes());
        let opts = InputOptions {
            encoding: Some("klingon".into()),
            ..InputOptions::default()
        };
        let err = open(&p, &opts).expect_err("unknown label");
        assert!(matches!(err, InputError::UnknownEncoding { .. }));
        assert!(err.to_string().contains("`klingon`"), "{err}");
    }

    fn utf16(s: &str, le: bool) -> Vec<u8> {
        let mut out = if le {
            vec![0xFF, 0xFE]
        } else {
            vec![0xFE, 0xFF]
        };
        for u in s.encode_utf16() {
            out.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        out
    }

    #[test]
    fn utf16_with_bom() {
        let t = Tmp::new();
        let text = format!(
            "{}\r\nMüller GmbH\t+49 151\tA-1\t🚚 Stuhl\tok\r\n",
            HEADER.replace(',', "\t")
        );
        for (le, name) in [(true, "UTF-16LE"), (false, "UTF-16BE")] {
            let p = t.write("in.csv", &utf16(&text, le));
            let (r, rows) = read_all(&p, &InputOptions::default());
            assert_eq!(r.encoding_name(), name);
            assert_eq!(r.delimiter(), b'\t');
            assert_eq!(r.headers()[0], "partner_name");
            assert_eq!(rows[0].fields.partner_name, "Müller GmbH");
            assert_eq!(rows[0].fields.product_name, "🚚 Stuhl");
        }
    }

    #[test]
    fn bom_beats_configured_encoding() {
        let t = Tmp::new();
        let p = t.write(
            "in.csv",
            format!("\u{feff}{HEADER}\nMüller,1,O,P,N\n").as_bytes(),
        );
        let opts = InputOptions {
            encoding: Some("windows-1252".into()),
            ..InputOptions::default()
        };
        let (r, rows) = read_all(&p, &opts);
        assert_eq!(r.encoding_name(), "UTF-8");
        assert_eq!(rows[0].fields.partner_name, "Müller");
    }

    #[test]
    fn not_found_and_empty() {
        let t = Tmp::new();
        let err =
            open(&t.dir.path().join("nope.csv"), &InputOptions::default()).expect_err("not found");
        assert!(matches!(err, InputError::NotFound { .. }));
        assert_eq!(err.exit_code(), 66);
        assert!(err.to_string().starts_with("failed to open"), "{err}");

        let p = t.write("empty.csv", b"");
        let err = open(&p, &InputOptions::default()).expect_err("empty");
        assert!(matches!(err, InputError::Empty { .. }));
        assert_eq!(err.exit_code(), 65);

        let err = open(t.dir.path(), &InputOptions::default()).expect_err("a directory");
        assert_eq!(err.exit_code(), 66, "{err:?}");
    }

    #[test]
    fn several_delimiters_work_prefer_most_columns() {
        // Both `,` (6 columns) and `;` (8 columns) name every field.
        let h = "partner_name,partner_phone,order_number,product_name,delivery_note,;partner_name;partner_phone;order_number;product_name;delivery_note;x;y";
        let (r, _, _t) = read_str(&format!("{h}\n"));
        assert_eq!(r.delimiter(), b';');
    }

    #[test]
    fn streams_a_large_file_row_by_row() {
        // Rows are produced lazily: the reader holds at most the peek, so
        // the first row is available without the rest being read.
        let t = Tmp::new();
        let mut body = format!("{HEADER}\n");
        for i in 0..20_000 {
            body.push_str(&format!("Partner {i},+49151{i:07},O{i},Product,Note\n"));
        }
        let p = t.write("big.csv", body.as_bytes());
        let mut r = open(&p, &InputOptions::default()).expect("open");
        let first = r.next().expect("row").expect("ok");
        assert_eq!(first.fields.order_number, "O0");
        assert_eq!(r.count(), 19_999);
    }

    #[test]
    fn reader_can_move_to_another_thread() {
        fn assert_send<T: Send>(_: &T) {}
        let (r, rows, _t) = read_str(&format!("{HEADER}\nA,1,O,P,N\n"));
        assert_send(&r);
        assert_eq!(rows.len(), 1);
        assert_eq!(r.column_for(Field::DeliveryNote), "delivery_note");
    }

    #[test]
    fn header_normalization() {
        assert_eq!(normalize_header(" Order_No "), "order no");
        assert_eq!(normalize_header("ORDER\u{a0}-\u{a0}No"), "order no");
        assert_eq!(normalize_header("Order #"), "order #");
    }

    use proptest::prelude::*;

    fn read_bytes(bytes: Vec<u8>, opts: &InputOptions) -> Vec<Result<RawRow, String>> {
        match from_reader(Path::new("prop.csv"), Cursor::new(bytes), opts) {
            Err(e) => vec![Err(e.to_string())],
            Ok(r) => r.map(|row| row.map_err(|e| e.to_string())).collect(),
        }
    }

    /// Physical lines before `at`: `\r\n`, `\r` and `\n` each end one.
    fn lines_before(bytes: &[u8], at: usize) -> u64 {
        let mut n = 0;
        let mut i = 0;
        while i < at {
            match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') && i + 1 < at => {
                    n += 1;
                    i += 1;
                }
                b'\r' | b'\n' => n += 1,
                _ => {}
            }
            i += 1;
        }
        n
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the bytes and options, the reader ends: rows or one
        /// file-level error, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(
            body in prop::collection::vec(any::<u8>(), 0..600),
            with_header in any::<bool>(),
            delimiter in prop::option::of(prop::sample::select(vec![b',', b';', b'\t', b'|'])),
            encoding in prop::option::of(prop::sample::select(vec!["windows-1252", "utf-16le", "utf-8"])),
        ) {
            let mut bytes = Vec::new();
            if with_header {
                bytes.extend_from_slice(format!("{HEADER}\n").as_bytes());
            }
            bytes.extend_from_slice(&body);
            let opts = InputOptions {
                delimiter,
                encoding: encoding.map(String::from),
                ..InputOptions::default()
            };
            let items = read_bytes(bytes, &opts);
            // At most one error, and it is the last item.
            let errors = items.iter().filter(|i| i.is_err()).count();
            prop_assert!(errors <= 1);
            if errors == 1 {
                prop_assert!(items.last().is_some_and(Result::is_err));
            }
        }

        /// Every record written is read back as exactly one row, at the line
        /// where it starts, and becomes a delivery or a reported problem;
        /// blank records are the only ones skipped.
        #[test]
        fn every_line_is_a_delivery_or_a_problem(
            records in prop::collection::vec(
                prop::collection::vec("[a-z0-9 ,;\"\n\r+]{0,10}", 1..8),
                0..25,
            ),
            blank_after in prop::collection::vec(0usize..3, 25),
            terminator in prop::sample::select(vec!["\n", "\r\n", "\r"]),
        ) {
            let term = match terminator {
                "\r\n" => csv::Terminator::CRLF,
                t => csv::Terminator::Any(t.as_bytes()[0]),
            };
            let mut bytes = format!("{HEADER}{terminator}").into_bytes();
            let mut expected = Vec::new();
            for (i, rec) in records.iter().enumerate() {
                let start = bytes.len();
                let mut w = csv::WriterBuilder::new()
                    .terminator(term)
                    .flexible(true)
                    .from_writer(Vec::new());
                w.write_record(rec).unwrap();
                bytes.extend_from_slice(&w.into_inner().unwrap());
                let blank = rec
                    .iter()
                    .all(|f| f.bytes().all(|b| b.is_ascii_whitespace()));
                if !blank {
                    expected.push((lines_before(&bytes, start) + 1, rec.len()));
                }
                for _ in 0..blank_after[i] {
                    bytes.extend_from_slice(terminator.as_bytes());
                }
            }
            let items = read_bytes(bytes, &InputOptions::default());
            prop_assert_eq!(items.len(), expected.len());
            let rules = crate::delivery::Rules::default();
            let (mut delivered, mut problems) = (0, 0);
            for (n, (item, (line, fields))) in items.into_iter().zip(&expected).enumerate() {
                let row = item.map_err(TestCaseError::fail)?;
                prop_assert_eq!(row.row, n as u64 + 1);
                prop_assert_eq!(row.line, *line);
                prop_assert_eq!(row.problem.is_some(), *fields != 5);
                let verdict = match row.problem {
                    Some(p) => Err(p),
                    None => crate::delivery::validate(&row.fields, &rules),
                };
                match verdict {
                    Ok(_) => delivered += 1,
                    Err(p) => {
                        prop_assert!(!p.message.is_empty());
                        problems += 1;
                    }
                }
            }
            prop_assert_eq!(delivered + problems, expected.len());
        }
    }

    #[test]
    fn sep_line_variants() {
        assert_eq!(sep_line(b"sep=;\nx"), Some((b';', 6)));
        assert_eq!(sep_line(b"\"sep=|\"\r\nx"), Some((b'|', 9)));
        assert_eq!(sep_line(b"SEP=\t"), Some((b'\t', 5)));
        assert_eq!(sep_line(b"sep=;;\n"), None);
        assert_eq!(sep_line(b"separator,x\n"), None);
    }
}
