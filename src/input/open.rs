//! Opening an export: everything that can make the whole file unusable
//! (encoding, delimiter, header, column mapping) is settled here, before
//! the first row is handed out, so a file we cannot read correctly stops
//! before anything is sent.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::Path;

use encoding_rs::{Encoding, UTF_8};
use encoding_rs_io::DecodeReaderBytesBuilder;

use super::competing::competing;
use super::controls::visible;
use super::delimiter::{detect_delimiter, sep_line};
use super::encoding::{configured_encoding, sniff_bom, undecodable, utf16_without_bom};
use super::error::csv_error;
use super::headers::{map_columns, map_optional};
use super::lines::{LineEnds, record_start_line};
use super::quotes::QuoteGuard;
use super::reader::Records;
use super::sniff::sniff_container;
use super::{Field, InputError, InputReader};

/// How much of the decoded start of the file is examined to find the
/// delimiter. A header line longer than this is not a delivery export.
pub(super) const PEEK_BYTES: u64 = 64 * 1024;

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
    /// A workbook's sheet to read (`--sheet`); `None` = the first.
    pub sheet: Option<String>,
}

/// Opens an export, settles encoding, delimiter and column mapping, and
/// reads the header. Everything that can make the whole file unusable is
/// reported here, before the first row is handed out.
pub fn open(path: &Path, opts: &InputOptions) -> Result<InputReader, InputError> {
    configured_encoding(opts)?;
    if super::xlsx::is_workbook(path) {
        // Its cells become CSV text, read below as any CSV.
        let sheet = super::xlsx::read_sheet(path, opts.sheet.as_deref(), &opts.column_map)?;
        let as_csv = InputOptions {
            delimiter: Some(b','),
            encoding: None,
            ..opts.clone()
        };
        let mut reader = from_reader(path, Cursor::new(sheet.csv), &as_csv)?;
        reader.sheet = Some(sheet.rows);
        return Ok(reader);
    }
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

/// [`open`] over any byte source; `path` only names it in messages. For
/// tests and fuzzing, which have bytes rather than files.
pub fn from_reader<R: Read + Send + 'static>(
    path: &Path,
    source: R,
    opts: &InputOptions,
) -> Result<InputReader, InputError> {
    let configured = configured_encoding(opts)?;
    let (encoding, decoded) = decode(path, source, configured)?;
    let (mut prefix, decoded) = peek(path, decoded)?;
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
        .from_reader(QuoteGuard::new(LineEnds::new(source), delimiter));

    let mut record = csv::ByteRecord::new();
    let (headers, header_line) = read_header(path, &mut rdr, &mut record, line_offset, &sample)?;
    let missing = |missing| InputError::MissingColumns {
        path: path.to_path_buf(),
        missing,
        found: headers.clone(),
    };
    let columns = map_columns(&headers, &opts.column_map).map_err(missing)?;
    if let Some(c) = competing(&headers, &columns, &opts.column_map) {
        return Err(InputError::CompetingColumns {
            path: path.to_path_buf(),
            line: header_line,
            field: c.field,
            columns: c.columns,
            same_name: c.same_name,
        });
    }
    let country_column = map_optional(&headers, &opts.column_map, Field::Country, &columns)
        .map_err(|f| missing(vec![f]))?;

    Ok(InputReader {
        path: path.to_path_buf(),
        delimiter,
        encoding,
        headers,
        columns,
        country_column,
        rdr,
        record,
        row: 0,
        line_offset,
        sample,
        done: false,
        keep_extra: false,
        sheet: None,
    })
}

fn unreadable(path: &Path, source: io::Error) -> InputError {
    InputError::Unreadable {
        path: path.to_path_buf(),
        source,
    }
}

/// Settles the encoding and returns the file as UTF-8 bytes.
fn decode<R: Read + Send + 'static>(
    path: &Path,
    source: R,
    configured: Option<&'static Encoding>,
) -> Result<(&'static Encoding, Box<dyn Read + Send>), InputError> {
    // A BOM decides the encoding, even over --encoding: it is the one
    // unambiguous statement a file makes about itself.
    let mut raw = BufReader::with_capacity(64 * 1024, source);
    let start = raw.fill_buf().map_err(|e| unreadable(path, e))?;
    if let Some(container) = sniff_container(start) {
        return Err(InputError::NotText {
            path: path.to_path_buf(),
            container,
        });
    }
    let (bom_encoding, bom_len) = sniff_bom(start);
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
    Ok((encoding, decoded))
}

/// The decoded start of the file (at most [`PEEK_BYTES`]), to find the
/// delimiter in, and the rest of the stream after it.
fn peek(
    path: &Path,
    decoded: Box<dyn Read + Send>,
) -> Result<(Vec<u8>, Box<dyn Read + Send>), InputError> {
    let mut peek = decoded.take(PEEK_BYTES);
    let mut prefix = Vec::new();
    peek.read_to_end(&mut prefix)
        .map_err(|e| unreadable(path, e))?;
    Ok((prefix, peek.into_inner()))
}

/// Reads the header line into `record` and returns its names, trimmed, and
/// the line it is on.
fn read_header(
    path: &Path,
    rdr: &mut Records,
    record: &mut csv::ByteRecord,
    line_offset: u64,
    sample: &[u8],
) -> Result<(Vec<String>, u64), InputError> {
    let has_header = rdr
        .read_byte_record(record)
        .map_err(|e| csv_error(path, line_offset + 1, e))?;
    if !has_header {
        return Err(InputError::Empty {
            path: path.to_path_buf(),
        });
    }
    let end = rdr.position().byte();
    if let Some(u) = rdr.get_mut().take_unclosed(end) {
        return Err(InputError::UnclosedHeaderQuote {
            path: path.to_path_buf(),
            line: u.line + line_offset,
            column: u.column,
        });
    }
    let header_line = record_start_line(rdr, record) + line_offset;
    let mut headers = Vec::with_capacity(record.len());
    for (i, bytes) in record.iter().enumerate() {
        match std::str::from_utf8(bytes) {
            Ok(s) => headers.push(visible(s.trim()).unwrap_or_else(|| s.trim().to_string())),
            Err(e) => {
                return Err(undecodable(
                    path,
                    header_line,
                    record,
                    i,
                    &e,
                    &format!("header column {}", i + 1),
                    sample,
                ));
            }
        }
    }
    Ok((headers, header_line))
}

#[cfg(test)]
mod tests {
    use crate::input::test_support::{HEADER, Tmp};
    use crate::input::{InputError, InputOptions, open};

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
}
