//! Which encoding the bytes are in. We never guess: a single-byte decoder
//! never fails, so a wrong guess would send mojibake to partners. A BOM or
//! `--encoding` decides; anything else must be UTF-8, and when it is not,
//! the error names the line and suggests the flag to pass.

use std::path::Path;

use encoding_rs::Encoding;

use super::lines::newlines;
use super::{InputError, InputOptions};

pub(super) fn configured_encoding(
    opts: &InputOptions,
) -> Result<Option<&'static Encoding>, InputError> {
    match &opts.encoding {
        None => Ok(None),
        Some(label) => Encoding::for_label(label.trim().as_bytes())
            .map(Some)
            .ok_or_else(|| InputError::UnknownEncoding {
                label: label.clone(),
            }),
    }
}

/// Every value of `record` (starting at `record_line`) is UTF-8, or the
/// error names the physical line, the column (`column(i)` for the `i`th)
/// and the offending bytes: a quoted field can span lines, so the record's
/// first line is not necessarily the bad one.
pub(super) fn check_utf8(
    path: &Path,
    record_line: u64,
    record: &csv::ByteRecord,
    column: impl Fn(usize) -> String,
    sample: &[u8],
) -> Result<(), InputError> {
    for (field, bytes) in record.iter().enumerate() {
        let Err(err) = std::str::from_utf8(bytes) else {
            continue;
        };
        let good = &bytes[..err.valid_up_to()];
        let before: u64 = record.iter().take(field).map(newlines).sum();
        let bad_len = err.error_len().unwrap_or(bytes.len() - good.len()).max(1);
        let bad: Vec<String> = bytes[good.len()..]
            .iter()
            .take(bad_len)
            .map(|b| format!("0x{b:02X}"))
            .collect();
        return Err(InputError::Undecodable {
            path: path.to_path_buf(),
            line: record_line + before + newlines(good),
            detail: format!(
                "byte {} in {} (after {:?}) is not valid UTF-8",
                bad.join(" "),
                column(field),
                String::from_utf8_lossy(&good[good.len().saturating_sub(20)..])
            ),
            suggestion: suggest_encoding(sample, bytes),
        });
    }
    Ok(())
}

/// A hint for `--encoding` from chardetng (Firefox's detector), fed with the
/// start of the file and the bad value. Only a hint: the user confirms it by
/// passing the flag, because a single-byte decoder never fails and a wrong
/// code page would send mojibake.
fn suggest_encoding(sample: &[u8], bad_value: &[u8]) -> String {
    let guess = guess_encoding(&[sample, bad_value]);
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

/// What chardetng (Firefox's detector) makes of `parts`, read in order:
/// a guess, never UTF-8, for a person or the ledger to confirm.
pub(crate) fn guess_encoding(parts: &[&[u8]]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    for (i, part) in parts.iter().enumerate() {
        detector.feed(part, i + 1 == parts.len());
    }
    detector.guess(None, chardetng::Utf8Detection::Deny)
}

/// A file whose first line has a NUL every other byte is UTF-16 without a
/// byte-order mark: valid UTF-8 byte by byte, but no header would match.
pub(super) fn utf16_without_bom(path: &Path, prefix: &[u8]) -> Result<(), InputError> {
    let head = &prefix[..prefix.len().min(512)];
    if head.len() < 8 {
        return Ok(());
    }
    let nul_at = |parity| {
        head.iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (nul_at(0), nul_at(1));
    let half = head.len() / 2;
    let label = if odd * 4 >= half * 3 {
        "utf-16le"
    } else if even * 4 >= half * 3 {
        "utf-16be"
    } else {
        return Ok(());
    };
    Err(InputError::Undecodable {
        path: path.to_path_buf(),
        line: 1,
        detail: "every other byte is 0x00, which is UTF-16 without a \
                 byte-order mark"
            .into(),
        suggestion: format!("run again with `--encoding {label}`"),
    })
}

#[cfg(test)]
mod tests {
    use crate::input::test_support::{HEADER, Tmp, read_all, read_str};
    use crate::input::{InputError, InputOptions, open};

    #[test]
    fn utf8_bom_is_stripped() {
        let (r, rows, _t) = read_str(&format!("\u{feff}{HEADER}\nA,1,O,P,N\n"));
        assert_eq!(r.headers[0], "partner_name");
        assert_eq!(r.encoding.name(), "UTF-8");
        assert_eq!(rows[0].fields.partner_name, "A");
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
            assert_eq!(r.encoding.name(), "windows-1252");
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
            assert_eq!(r.encoding.name(), name);
            assert_eq!(r.delimiter, b'\t');
            assert_eq!(r.headers[0], "partner_name");
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
        assert_eq!(r.encoding.name(), "UTF-8");
        assert_eq!(rows[0].fields.partner_name, "Müller");
    }
}
