//! Opening an export: everything that can make the whole file unusable
//! (encoding, delimiter, header, column mapping) is settled here, before
//! the first row is handed out, so a file we cannot read correctly stops
//! before anything is sent.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;

use encoding_rs::{Encoding, UTF_8};
use encoding_rs_io::DecodeReaderBytesBuilder;

use super::competing::competing;
use super::delimiter::{csv_reader, detect_delimiter, sep_line};
use super::encoding::{check_utf8, configured_encoding, utf16_without_bom};
use super::error::{csv_error, unopened, unreadable};
use super::headers::{map_columns, map_optional};
use super::lines::record_start_line;
use super::quotes::QuoteGuard;
use super::reader::{Decoded, Records, text};
use super::sniff::sniff_container;
use super::{Field, InputError, InputReader, Layout};

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
    /// Without `--sheet`, the sheet of this name if the workbook has one
    /// (a reconciliation workbook's rows, after its summary sheets), else
    /// the first.
    pub preferred_sheet: Option<&'static str>,
    /// Which fields the file is read for.
    pub layout: Layout,
}

/// Opens an export, settles encoding, delimiter and column mapping, and
/// reads the header. Everything that can make the whole file unusable is
/// reported here, before the first row is handed out.
pub fn open(path: &Path, opts: &InputOptions) -> Result<InputReader, InputError> {
    configured_encoding(opts)?;
    if super::xlsx::is_workbook(path) {
        // Its cells become CSV text, read below as any CSV.
        let (csv, rows) = super::xlsx::read_sheet(path, opts)?;
        let as_csv = InputOptions {
            delimiter: Some(b','),
            encoding: None,
            ..opts.clone()
        };
        let mut reader = from_reader(path, Cursor::new(csv), &as_csv)?;
        reader.sheet = Some(rows);
        return Ok(reader);
    }
    let file = File::open(path).map_err(|e| unopened(path, e))?;
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
    let (encoding, mut prefix, decoded) = decode(path, source, configured)?;
    let sample = if encoding == UTF_8 {
        utf16_without_bom(path, &prefix)?;
        prefix.clone()
    } else {
        Vec::new()
    };

    let sep = sep_line(&prefix);
    if let Some((_, len)) = sep {
        prefix.drain(..len);
    }
    let line_offset = u64::from(sep.is_some());
    let delimiter = opts
        .delimiter
        .or(sep.map(|(d, _)| d))
        .unwrap_or_else(|| detect_delimiter(&prefix, &opts.column_map, opts.layout));

    let source: Decoded = Box::new(Cursor::new(prefix).chain(decoded));
    let mut rdr = csv_reader(delimiter, QuoteGuard::new(source, delimiter));

    let mut record = csv::ByteRecord::new();
    let (headers, header_line) = read_header(path, &mut rdr, &mut record, line_offset, &sample)?;
    let missing = |missing| InputError::MissingColumns {
        path: path.to_path_buf(),
        missing,
        found: headers.clone(),
    };
    let mut columns = map_columns(&headers, &opts.column_map, opts.layout).map_err(missing)?;
    competing(path, header_line, &headers, &columns, &opts.column_map)?;
    for &f in opts.layout.mapped() {
        if let Some(c) =
            map_optional(&headers, &opts.column_map, f, &columns).map_err(|f| missing(vec![f]))?
        {
            columns.push((f, c));
        }
    }

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
        sheet: None,
    })
}

/// Settles the encoding and returns it, the decoded start of the file (at
/// most [`PEEK_BYTES`], to find the delimiter in) and the rest of the file
/// as UTF-8 bytes.
fn decode<R: Read + Send + 'static>(
    path: &Path,
    source: R,
    configured: Option<&'static Encoding>,
) -> Result<(&'static Encoding, Vec<u8>, Decoded), InputError> {
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
    let bom = Encoding::for_bom(start);
    raw.consume(bom.map_or(0, |(_, len)| len));
    let encoding = bom.map(|(e, _)| e).or(configured).unwrap_or(UTF_8);
    // UTF-8 passes through undecoded so that invalid bytes surface as an
    // error naming the line instead of silently becoming U+FFFD.
    let decoded: Decoded = if encoding == UTF_8 {
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
    peek.read_to_end(&mut prefix)
        .map_err(|e| unreadable(path, e))?;
    Ok((encoding, prefix, peek.into_inner()))
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
    let column = |i: usize| format!("header column {}", i + 1);
    check_utf8(path, header_line, record, column, sample)?;
    let headers = record.iter().map(|b| text(b).trim().to_string()).collect();
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
