//! Bad input, end to end: the real binary on files that are broken the
//! ways real exports are (an unclosed quote, a NUL, a 5 MB value, a gzip,
//! two phone columns). For each: no panic, the documented exit code, and a
//! message that names the file, the line and the column; no line of the
//! file goes unreported. `fixtures/input/make_bad_input.py` made the
//! fixtures; the long values are made here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) const HEADER: &str =
    "partner_name,partner_phone,order_number,product_name,delivery_note";

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/input")
        .join(name)
}

pub(crate) struct Out {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Out {
    /// Exit 101 is Rust's panic; the message is the other sign of one.
    #[track_caller]
    pub(crate) fn assert_no_panic(&self) {
        assert_ne!(self.code, 101, "{}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
    }
}

fn handoff(args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args(args)
        .env_remove("ONEMSG_TOKEN")
        .output()
        .expect("handoff runs");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `handoff run PATH --dry-run --simulate ARGS`.
pub(crate) fn dry(path: &Path, args: &[&str]) -> Out {
    let mut all = vec!["run", path.to_str().unwrap(), "--dry-run", "--simulate"];
    all.extend_from_slice(args);
    let out = handoff(&all);
    out.assert_no_panic();
    out
}

pub(crate) type Report = Vec<HashMap<String, String>>;

/// A full run against the built-in simulator: its output, the
/// reconciliation's rows (none if the input was refused) and its bytes.
pub(crate) fn full(path: &Path, args: &[&str]) -> (Out, Report, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let out_csv = dir.path().join("r.csv");
    let ledger = dir.path().join("l.sqlite");
    let mut all = vec![
        "run",
        path.to_str().unwrap(),
        "--simulate",
        "--pair-interval",
        "0",
        "--rate",
        "200",
        "--first-poll",
        "50ms",
        "--track-for",
        "2s",
        "--quiet",
        "--out",
        out_csv.to_str().unwrap(),
        "--ledger",
        ledger.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let out = handoff(&all);
    out.assert_no_panic();
    let Ok(bytes) = std::fs::read(&out_csv) else {
        return (out, Vec::new(), Vec::new());
    };
    let mut rdr = csv::Reader::from_reader(&bytes[..]);
    let headers = rdr.headers().unwrap().clone();
    let rows = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect();
    (out, rows, bytes)
}

/// The physical lines (1-based) of `text`: `\r\n`, `\r` and `\n` each end
/// one.
pub(crate) fn physical_lines(text: &str) -> Vec<&str> {
    text.split("\r\n")
        .flat_map(|l| l.split(['\r', '\n']))
        .collect()
}

/// Every line after the header that has any letter or digit on it is
/// within one report row: from its `line` over the line breaks of its
/// values (the report keeps values as read). Blank lines, and lines of
/// nothing but delimiters and quotes, are the only ones no row covers.
#[track_caller]
pub(crate) fn assert_every_line_reported(text: &str, report: &Report) {
    let lines = physical_lines(text);
    let mut covered = vec![0u32; lines.len() + 2];
    for r in report {
        let first: usize = r["line"].parse().unwrap();
        let breaks: usize = [
            "partner_name",
            "phone",
            "order_number",
            "product_name",
            "delivery_note",
        ]
        .iter()
        .map(|c| r[*c].matches('\n').count())
        .sum();
        for c in covered.iter_mut().skip(first).take(breaks + 1) {
            *c += 1;
        }
    }
    for (i, line) in lines.iter().enumerate().skip(1) {
        let n = i + 1;
        let content = line.chars().any(char::is_alphanumeric);
        assert!(
            covered[n] == 1 || (!content && covered[n] == 0),
            "line {n} {line:?} is covered by {} rows: {report:#?}",
            covered[n]
        );
    }
}

fn row<'a>(report: &'a Report, order: &str) -> &'a HashMap<String, String> {
    report
        .iter()
        .find(|r| r["order_number"] == order)
        .unwrap_or_else(|| panic!("no row for {order}: {report:#?}"))
}

#[track_caller]
fn assert_sent(r: &HashMap<String, String>) {
    assert!(
        ["delivered", "read", "pending"].contains(&r["outcome"].as_str()),
        "{r:?}"
    );
}

#[track_caller]
fn assert_invalid(r: &HashMap<String, String>, line: u64, why: &str) {
    assert_eq!(r["outcome"], "invalid", "{r:?}");
    assert_eq!(r["line"], line.to_string(), "{r:?}");
    assert!(
        r["error_detail"].starts_with(&format!("line {line}: ")),
        "{r:?}"
    );
    assert!(r["error_detail"].contains(why), "{r:?}\nwants {why:?}");
    assert_eq!(r["wamid"], "", "{r:?}");
}

#[test]
fn a_long_value_is_echoed_as_a_prefix_and_its_length() {
    let dir = tempfile::tempdir().unwrap();
    // One 5 MB line: the "header" matches nothing. (50 MB behaves the
    // same and takes ten times as long in a debug build.)
    let one_line = dir.path().join("one_line.csv");
    std::fs::write(&one_line, "x".repeat(5_000_000)).unwrap();
    let out = dry(&one_line, &[]);
    assert_eq!(out.code, 65, "{}", out.stderr);
    assert!(
        out.stderr.len() < 2_000,
        "{} bytes on stderr",
        out.stderr.len()
    );
    let cut = format!("`{}…` (5000000 characters)", "x".repeat(40));
    assert!(out.stderr.contains(&cut), "{}", out.stderr);
    assert!(out.stderr.contains("one_line.csv"), "{}", out.stderr);

    // A 5 MB phone: the row is invalid, its reason names file, line and
    // column and quotes 40 digits and the length, everywhere it is shown.
    let long = dir.path().join("long_phone.csv");
    let phone = "9".repeat(5_000_000);
    let text =
        format!("{HEADER}\nAlpha,+49 151 2345 6701,U-1,Chair,ok\nBeta,{phone},U-2,Desk,ok\n");
    std::fs::write(&long, &text).unwrap();
    let quoted = format!("`{}…` (5000000 characters)", "9".repeat(40));
    let at = "line 3: partner_phone (column \"partner_phone\" of long_phone.csv): ";
    let out = dry(&long, &[]);
    assert_eq!(out.code, 10, "{}", out.stderr);
    assert!(
        out.stdout.len() + out.stderr.len() < 4_000,
        "{}",
        out.stdout.len()
    );
    assert!(
        out.stdout
            .contains(&format!("row 2: {at}{quoted} has 5000000 digits")),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("first at line 3: partner_phone (column"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(&quoted), "{}", out.stderr);

    let (out, report, _) = full(&long, &[]);
    assert_eq!(out.code, 10, "{}", out.stderr);
    assert!(out.stderr.len() < 2_000, "{}", out.stderr.len());
    assert_sent(row(&report, "U-1"));
    let r = row(&report, "U-2");
    assert_invalid(r, 3, &format!("{at}{quoted}"));
    assert!(r["error_detail"].len() < 400, "{}", r["error_detail"].len());
    assert!(r["notes"].len() < 400, "{}", r["notes"].len());
    // The value itself is kept as read, for the person fixing it.
    assert_eq!(r["phone"].len(), 5_000_000);
}

#[test]
fn control_characters_are_refused_with_the_field_named_and_never_reach_the_report() {
    let path = fixture("control_chars.csv");
    let (out, report, bytes) = full(&path, &["--keep-columns"]);
    assert_eq!(out.code, 10, "{}", out.stderr);
    let at = |field: &str, column: &str| {
        format!(
            "{field} (column \"{column}\" of control_chars.csv): the value has a control character, "
        )
    };
    let name = at("partner_name", "Partner Name");
    assert_invalid(
        row(&report, "R-1"),
        2,
        &format!("{name}NUL (U+0000), character 3 on line 2: `Al\\0pha`"),
    );
    let note = at("delivery_note", "Delivery Note");
    assert_invalid(
        row(&report, "R-2"),
        3,
        &format!("{note}ESC (U+001B), character 1 on line 3"),
    );
    let product = at("product_name", "Product Name");
    assert_invalid(row(&report, "R-3"), 4, &format!("{product}DEL (U+007F)"));
    assert_invalid(
        row(&report, "R-4"),
        5,
        &format!("{product}a C1 control (U+009B)"),
    );
    // Tab, CR LF in a quoted value and a vertical tab are folded, as before.
    let sent = row(&report, "R-5");
    assert_sent(sent);
    assert!(
        sent["notes"].contains("delivery_note: line breaks, tabs folded"),
        "{sent:?}"
    );
    // What the report keeps shows each character, visibly.
    assert_eq!(row(&report, "R-1")["partner_name"], "Al␀pha");
    assert_eq!(row(&report, "R-2")["delivery_note"], "␛[31mred␛[0m");
    assert_eq!(sent["Cost Centre"], "C␇C5");
    let text = String::from_utf8(bytes).expect("the report is UTF-8");
    let raw = text
        .chars()
        .find(|&c| c.is_control() && !['\t', '\n', '\r', '\u{b}'].contains(&c));
    assert_eq!(raw, None, "a control character in the report");
    // Nor on the terminal: the messages escape them.
    let out = dry(&path, &[]);
    assert!(!out.stdout.contains('\u{1b}') && !out.stderr.contains('\u{1b}'));
    assert!(!out.stdout.contains('\0') && !out.stderr.contains('\0'));
    assert!(out.stderr.contains("control_character"), "{}", out.stderr);
}

#[test]
fn an_unclosed_quote_costs_its_own_row_and_every_line_is_reported() {
    let path = fixture("unclosed_quote.csv");
    let (out, report, _) = full(&path, &[]);
    assert_eq!(out.code, 10, "{}", out.stderr);
    let lines: Vec<&str> = report.iter().map(|r| r["line"].as_str()).collect();
    assert_eq!(lines, ["2", "3", "4", "5", "7", "9", "10"], "{report:#?}");
    for order in ["Q-1", "Q-3", "Q-4", "Q-6"] {
        assert_sent(row(&report, order));
    }
    let quote = |column: &str, line: u64, character: u64| {
        format!(
            "the quote that opens the value of column \"{column}\" on line {line} \
             (character {character}) of unclosed_quote.csv is never closed: "
        )
    };
    let q2 = quote("Product Name", 3, 28)
        + "the row ends with line 3, because line 4 reads as a row of its own";
    assert_invalid(row(&report, "Q-2"), 3, &q2);
    let q5 = quote("Product Name", 7, 31)
        + "lines 7–8 were read as this one row, which ends there because line 9 reads as a row of its own";
    assert_invalid(row(&report, "Q-5"), 7, &q5);
    let q7 = quote("Delivery Note", 10, 31)
        + "lines 10–11, to the end of the file, were read as this one row";
    assert_invalid(row(&report, "Q-7"), 10, &q7);
    assert_eq!(row(&report, "Q-4")["delivery_note"], "Gate 3\nring twice");
    assert_eq!(row(&report, "Q-6")["product_name"], "Table");

    let text = std::fs::read_to_string(&path).unwrap();
    let data_lines = physical_lines(&text).len() - 2; // the header, the last `\n`
    assert_eq!(data_lines, 10);
    assert_every_line_reported(&text, &report);
    let out = dry(&path, &[]);
    assert!(
        out.stdout
            .contains("7 rows: 4 to send, 3 invalid, 0 duplicate."),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("unclosed_quote              3  first at line 3"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_compressed_file_is_named_as_compressed() {
    for (name, what) in [("orders.csv.gz", "gzip"), ("orders.zip", "zip")] {
        let out = dry(&fixture(name), &[]);
        assert_eq!(out.code, 65, "{}", out.stderr);
        let want = format!(
            "{name}: the file is compressed ({what}); decompress it first and \
             pass the CSV inside; nothing was sent"
        );
        assert!(out.stderr.contains(&want), "{}", out.stderr);
        assert!(!out.stderr.contains("--encoding"), "{}", out.stderr);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
    }
}

#[test]
fn two_columns_for_one_field_stop_until_map_chooses() {
    let competing = fixture("competing_columns.csv");
    let out = dry(&competing, &[]);
    assert_eq!(out.code, 65, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "competing_columns.csv: in the header (line 1), columns \
             \"Phone\" (column 2) and \"Mobile\" (column 3) could both be partner_phone; \
             say which one with --map partner_phone=\"Phone\" or --map partner_phone=\"Mobile\""
        ),
        "{}",
        out.stderr
    );
    for (map, phone) in [
        ("partner_phone=Mobile", "4915123456701"),
        ("partner_phone=Phone", "49301234567"),
    ] {
        let (out, report, _) = full(&competing, &["--map", map]);
        assert!(out.code == 0 || out.code == 10, "{}", out.stderr);
        assert_sent(row(&report, "S-1"));
        assert_eq!(row(&report, "S-1")["phone"], phone, "{map}");
    }

    let duplicate = fixture("duplicate_columns.csv");
    let out = dry(&duplicate, &[]);
    assert_eq!(out.code, 65, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "duplicate_columns.csv: in the header (line 1), columns 2 and 6 \
             are both named \"Phone\", and partner_phone could be either; say which with \
             --map partner_phone=#2 or --map partner_phone=#6"
        ),
        "{}",
        out.stderr
    );
    // A name cannot choose between namesakes; the column's number does.
    assert_eq!(dry(&duplicate, &["--map", "partner_phone=Phone"]).code, 65);
    let (out, report, _) = full(&duplicate, &["--map", "partner_phone=#6"]);
    assert!(out.code == 0 || out.code == 10, "{}", out.stderr);
    assert_eq!(row(&report, "S-1")["phone"], "4915123456701");
}
