//! Opening an export: everything that can make the whole file unusable
//! (encoding, delimiter, header, column mapping) is settled here, before
//! the first row is handed out, so a file we cannot read correctly stops
//! before anything is sent.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::Path;

use encoding_rs::{Encoding, UTF_8};
use encoding_rs_io::DecodeReaderBytesBuilder;

use super::delimiter::{detect_delimiter, sep_line};
use super::encoding::{configured_encoding, sniff_bom, undecodable, utf16_without_bom};
use super::error::csv_error;
use super::headers::map_columns;
use super::lines::{LineEnds, record_start_line};
use super::reader::Records;
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
        .from_reader(LineEnds::new(source));

    let mut record = csv::ByteRecord::new();
    let headers = read_header(path, &mut rdr, &mut record, line_offset, &sample)?;
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
    let (bom_encoding, bom_len) = sniff_bom(raw.fill_buf().map_err(|e| unreadable(path, e))?);
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

/// Reads the header line into `record` and returns its names, trimmed.
fn read_header(
    path: &Path,
    rdr: &mut Records,
    record: &mut csv::ByteRecord,
    line_offset: u64,
    sample: &[u8],
) -> Result<Vec<String>, InputError> {
    let has_header = rdr
        .read_byte_record(record)
        .map_err(|e| csv_error(path, line_offset + 1, e))?;
    if !has_header {
        return Err(InputError::Empty {
            path: path.to_path_buf(),
        });
    }
    let header_line = record_start_line(rdr, record) + line_offset;
    let mut headers = Vec::with_capacity(record.len());
    for (i, bytes) in record.iter().enumerate() {
        match std::str::from_utf8(bytes) {
            Ok(s) => headers.push(s.trim().to_string()),
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
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::path::Path;

    use crate::input::test_support::{HEADER, Tmp};
    use crate::input::{InputError, InputOptions, RawRow, from_reader, open};

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
}
