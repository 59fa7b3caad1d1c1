//! Which byte separates the columns. Excel picks it by locale (`;` in much
//! of Europe) and sometimes says so in a `sep=` first line; otherwise the
//! header decides: the delimiter that makes it name every field wins.

use super::headers::map_columns;
use super::{Field, Layout};

/// Delimiters tried, in order of preference when they do equally well.
const CANDIDATE_DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

pub(super) fn describe_delimiter(d: u8) -> String {
    match d {
        b'\t' => "tab".into(),
        d => format!("`{}`", d as char),
    }
}

/// Excel's `sep=;` (sometimes quoted) first line: returns the delimiter and
/// the length of the line including its terminator.
pub(super) fn sep_line(prefix: &[u8]) -> Option<(u8, usize)> {
    let quoted = prefix.first() == Some(&b'"');
    let body = if quoted { &prefix[1..] } else { prefix };
    if body.len() < 5 || !body[..4].eq_ignore_ascii_case(b"sep=") {
        return None;
    }
    let d = body[4];
    if !d.is_ascii() || d == b'\n' || d == b'\r' || d == b'"' {
        return None;
    }
    let closing_quote = quoted && body.get(5) == Some(&b'"');
    let i = 5 + usize::from(quoted) + usize::from(closing_quote);
    // `i` is now an index into `prefix` just after the (optional) quote.
    let rest = &prefix[i..];
    let term = match rest {
        [] => 0,
        _ => [&b"\r\n"[..], b"\n", b"\r"]
            .into_iter()
            .find(|t| rest.starts_with(t))?
            .len(),
    };
    Some((d, i + term))
}

/// Picks the delimiter that makes the header name every required column.
/// Several do: the one that splits the header into most columns. None does:
/// the one that finds the most, so the error lists real header names.
pub(super) fn detect_delimiter(
    prefix: &[u8],
    column_map: &[(Field, String)],
    layout: Layout,
) -> u8 {
    let required = layout.required().len();
    // `max_by_key` keeps the last of equals: reversed, earlier candidates
    // win ties.
    let scored = CANDIDATE_DELIMITERS.into_iter().rev().filter_map(|d| {
        let headers = first_record(prefix, d)?;
        let score = match map_columns(&headers, column_map, layout) {
            Ok(_) => (true, required, headers.len()),
            Err(missing) => (false, required.saturating_sub(missing.len()), 0),
        };
        Some((score, d))
    });
    scored
        .max_by_key(|&(score, _)| score)
        .map_or(b',', |(_, d)| d)
}

/// The csv reader every read of the file uses: no header row of csv's own
/// (the header is mapped here) and rows of any length (a ragged row is a
/// problem of that row, not the end of the file).
pub(super) fn csv_reader<R: std::io::Read>(delimiter: u8, source: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(source)
}

fn first_record(prefix: &[u8], delimiter: u8) -> Option<Vec<String>> {
    let record = csv_reader(delimiter, prefix)
        .into_byte_records()
        .next()?
        .ok()?;
    Some(
        record
            .iter()
            .map(|b| String::from_utf8_lossy(b).trim().to_string())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::sep_line;
    use crate::input::test_support::{HEADER, Tmp, read_str};
    use crate::input::{InputError, InputOptions, open};

    #[test]
    fn semicolon_and_tab_and_pipe_are_detected() {
        for d in [';', '\t', '|'] {
            let h = HEADER.replace(',', &d.to_string());
            let row = ["Müller, GmbH", "+49 151", "A-1", "Chair", "ok"].join(&d.to_string());
            let (r, rows, _t) = read_str(&format!("{h}\n{row}\n"));
            assert_eq!(r.delimiter, d as u8, "{d:?}");
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
        assert_eq!(r.delimiter, b';');
        assert_eq!(r.headers[0], "partner_name");
        assert_eq!(rows[0].fields.partner_name, "a,b");
        assert_eq!((rows[0].row, rows[0].line), (1, 3));
    }

    #[test]
    fn several_delimiters_work_prefer_most_columns() {
        // Both `,` (6 columns) and `;` (8 columns) name every field.
        let h = "partner_name,partner_phone,order_number,product_name,delivery_note,;partner_name;partner_phone;order_number;product_name;delivery_note;x;y";
        let (r, _, _t) = read_str(&format!("{h}\n"));
        assert_eq!(r.delimiter, b';');
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
