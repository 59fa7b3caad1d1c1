//! Properties of the reader over generated files: it never panics, and
//! every line of a file becomes a row (sent or reported) at the line where
//! it starts, an unclosed quote included.

use std::io::Cursor;
use std::path::Path;

use crate::input::test_support::HEADER;
use crate::input::{InputOptions, ProblemKind, RawRow, from_reader};
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
            // A ragged record is judged unsound, so one whose quoted value
            // has a line that reads as a row would be cut there (see
            // quotes.rs; the next property is about cutting): ragged
            // records here keep to one line.
            let rec: Vec<String> = if rec.len() == 5 {
                rec.clone()
            } else {
                rec.iter().map(|f| f.replace(['\r', '\n'], "")).collect()
            };
            let start = bytes.len();
            let mut w = csv::WriterBuilder::new()
                .terminator(term)
                .flexible(true)
                .from_writer(Vec::new());
            w.write_record(&rec).unwrap();
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

    /// A quote opened at the start of any field of any row, and never
    /// closed, costs that row only: it is reported as an unclosed quote at
    /// its line, and every other row is read as written, at its line.
    #[test]
    fn an_unclosed_quote_costs_its_row_only(
        rows in prop::collection::vec(
            prop::collection::vec("[a-z0-9+][a-z0-9 +]{0,7}", 5),
            1..20,
        ),
        blank_after in prop::collection::vec(0usize..3, 20),
        damaged in any::<prop::sample::Index>(),
        field in 0usize..5,
        terminator in prop::sample::select(vec!["\n", "\r\n", "\r"]),
    ) {
        let damaged = damaged.index(rows.len());
        let mut text = format!("{HEADER}{terminator}");
        let mut lines = Vec::new();
        let mut line = 2;
        for (i, row) in rows.iter().enumerate() {
            let mut fields = row.clone();
            if i == damaged {
                fields[field].insert(0, '"');
            }
            text.push_str(&fields.join(","));
            text.push_str(terminator);
            lines.push(line);
            line += 1;
            for _ in 0..blank_after[i] {
                text.push_str(terminator);
                line += 1;
            }
        }
        let items = read_bytes(text.into_bytes(), &InputOptions::default());
        prop_assert_eq!(items.len(), rows.len());
        for (i, item) in items.into_iter().enumerate() {
            let got = item.map_err(TestCaseError::fail)?;
            prop_assert_eq!(got.line, lines[i]);
            if i == damaged {
                let p = got.problem.expect("a problem");
                prop_assert_eq!(p.kind, ProblemKind::UnclosedQuote);
                let at = format!("on line {} (character ", lines[i]);
                prop_assert!(p.message.contains(&at), "{}", p.message);
            } else {
                prop_assert!(got.problem.is_none(), "{:?}", got.problem);
                let read: Vec<&str> = crate::input::Field::ALL
                    .iter()
                    .map(|&f| got.fields.get(f))
                    .collect();
                prop_assert_eq!(read, rows[i].iter().map(String::as_str).collect::<Vec<_>>());
            }
        }
    }
}
