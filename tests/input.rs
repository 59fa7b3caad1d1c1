//! Excel-proof input, end to end: each fixture in `fixtures/input/` goes
//! through the real binary, either as a full run against the built-in
//! simulator (and its reconciliation CSV is read back) or as a dry run (and
//! its preview, problem list and problem summary are read back).
//!
//! The fixtures are checked in byte for byte (`make_fixtures.py` beside them
//! says how each was made): the encodings, BOMs and line ends are the test.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/input")
        .join(name)
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
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

/// `handoff run FIXTURE --dry-run --simulate ARGS`.
fn dry(name: &str, args: &[&str]) -> Out {
    let path = fixture(name);
    let mut all = vec!["run", path.to_str().unwrap(), "--dry-run", "--simulate"];
    all.extend_from_slice(args);
    handoff(&all)
}

type Report = Vec<HashMap<String, String>>;

/// A full run against the built-in simulator; the reconciliation rows.
fn full(name: &str, args: &[&str]) -> (Out, Report) {
    let dir = tempfile::tempdir().unwrap();
    let out_csv = dir.path().join("r.csv");
    let ledger = dir.path().join("l.sqlite");
    let path = fixture(name);
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
    assert!(
        out.code == 0 || out.code == 10,
        "exit {}: {}",
        out.code,
        out.stderr
    );
    let mut rdr = csv::Reader::from_path(&out_csv).expect("a reconciliation");
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
    (out, rows)
}

/// What one reconciliation row must say.
struct Want {
    line: u64,
    order: &'static str,
    name: &'static str,
    /// The phone sent to; for an invalid row, the phone column as reported.
    phone: Option<&'static str>,
    /// `None` = sent (delivered, read or pending); `Some(text)` = invalid,
    /// with `text` in its reason.
    invalid: Option<&'static str>,
    /// Text that must be in the notes column.
    note: Option<&'static str>,
    /// Text that must be in the warnings column (and not in the notes).
    warning: Option<&'static str>,
}

const fn sent(line: u64, order: &'static str, name: &'static str, phone: &'static str) -> Want {
    Want {
        line,
        order,
        name,
        phone: Some(phone),
        invalid: None,
        note: None,
        warning: None,
    }
}

const fn invalid(line: u64, order: &'static str, name: &'static str, why: &'static str) -> Want {
    Want {
        line,
        order,
        name,
        phone: None,
        invalid: Some(why),
        note: None,
        warning: None,
    }
}

impl Want {
    const fn noted(mut self, note: &'static str) -> Want {
        self.note = Some(note);
        self
    }

    const fn warned(mut self, warning: &'static str) -> Want {
        self.warning = Some(warning);
        self
    }
}

#[track_caller]
fn assert_report(report: &Report, want: &[Want]) {
    assert_eq!(report.len(), want.len(), "{report:#?}");
    for (i, (r, w)) in report.iter().zip(want).enumerate() {
        let ctx = format!("row {}: {r:?}", i + 1);
        assert_eq!(r["row"], (i + 1).to_string(), "{ctx}");
        assert_eq!(r["line"], w.line.to_string(), "{ctx}");
        assert_eq!(r["order_number"], w.order, "{ctx}");
        assert_eq!(r["partner_name"], w.name, "{ctx}");
        match w.invalid {
            None => {
                assert!(
                    ["delivered", "read", "pending"].contains(&r["outcome"].as_str()),
                    "{ctx}"
                );
                assert!(r["wamid"].starts_with("wamid."), "{ctx}");
            }
            Some(why) => {
                assert_eq!(r["outcome"], "invalid", "{ctx}");
                assert!(r["error_detail"].contains(why), "{ctx}: wants {why:?}");
                assert!(
                    r["error_detail"].starts_with(&format!("line {}: ", w.line)),
                    "{ctx}"
                );
                assert_eq!(r["wamid"], "", "{ctx}");
            }
        }
        if let Some(phone) = w.phone {
            assert_eq!(r["phone"], phone, "{ctx}");
        }
        if let Some(note) = w.note {
            assert!(r["notes"].contains(note), "{ctx}: wants note {note:?}");
        }
        if let Some(warning) = w.warning {
            assert!(r["warnings"].contains(warning), "{ctx}: wants {warning:?}");
            assert!(
                !r["notes"].contains(warning),
                "{ctx}: a warning, not a note"
            );
        }
    }
}

const ABC: [Want; 3] = [
    sent(2, "A-1001", "Müller GmbH", "4915123456701"),
    sent(3, "A-1002", "Иван Петров", "79123456789"),
    sent(4, "A-1003", "Café Zoë 🚚", "33612345678"),
];

#[test]
fn utf8_with_bom_comma_crlf() {
    let (out, report) = full("utf8_bom_comma_crlf.csv", &[]);
    assert_report(&report, &ABC);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("Problems in"), "{}", out.stderr);
}

#[test]
fn utf8_without_bom_tab() {
    let (_, report) = full("utf8_nobom_tab.csv", &[]);
    assert_report(&report, &ABC);
}

#[test]
fn utf16le_with_bom_tab() {
    let (_, report) = full("utf16le_bom_tab.csv", &[]);
    assert_report(&report, &ABC);
}

#[test]
fn utf16be_with_bom_pipe() {
    let (_, report) = full("utf16be_bom_pipe.csv", &[]);
    assert_report(&report, &ABC);
}

#[test]
fn utf16_without_bom_is_refused_with_the_flag_to_pass() {
    let out = dry("utf16le_nobom_tab.csv", &[]);
    assert_eq!(out.code, 65, "{}", out.stderr);
    assert!(
        out.stderr.contains("utf16le_nobom_tab.csv"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--encoding utf-16le"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    // With the flag it reads like the others.
    let (_, report) = full("utf16le_nobom_tab.csv", &["--encoding", "utf-16le"]);
    assert_report(&report, &ABC);
}

#[test]
fn sep_line_semicolon_and_quoted_fields() {
    let (_, report) = full("sep_semicolon_quoted.csv", &[]);
    assert_report(
        &report,
        &[
            sent(3, "B-1", "Smith; Jones & Co", "447911123456")
                .noted("delivery_note: line breaks folded to one space"),
            sent(5, "B-2", "Nørre Ltd", "4520123456"),
        ],
    );
    assert_eq!(report[0]["product_name"], "Desk \"Oak\" 2m");
    // The report keeps the value as read; the notes say what was sent.
    assert_eq!(report[0]["delivery_note"], "Gate 3\nring twice");
    let out = dry("sep_semicolon_quoted.csv", &[]);
    assert!(
        out.stdout.contains(
            "Hello, Smith; Jones & Co! Order #B-1 for \"Desk \"Oak\" 2m\" has been \
             delivered to your partner pickup point. Gate 3 ring twice."
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn windows_1252_needs_the_flag_and_then_reads() {
    // Without --encoding: nothing sent, the line of the first bad byte, and
    // the encoding it probably is.
    let out = dry("windows1252_semicolon.csv", &[]);
    assert_eq!(out.code, 65, "{}", out.stderr);
    let err = &out.stderr;
    assert!(err.contains("windows1252_semicolon.csv at line 2"), "{err}");
    assert!(err.contains("byte 0xFC"), "{err}");
    assert!(err.contains("column \"Partner\""), "{err}");
    assert!(
        err.contains("it looks like windows-1252 (Western European Excel)"),
        "{err}"
    );
    assert!(err.contains("--encoding windows-1252"), "{err}");

    let want = [
        sent(2, "C-1", "Müller & Söhne", "4916098765402"),
        sent(3, "C-2", "François Café", "33612345678"),
    ];
    for label in ["windows-1252", "latin1"] {
        let (_, report) = full("windows1252_semicolon.csv", &["--encoding", label]);
        assert_report(&report, &want);
        assert_eq!(report[0]["product_name"], "Stuhl – groß");
        assert_eq!(report[0]["delivery_note"], "„Lieferung“ ok");
        assert_eq!(report[1]["delivery_note"], "€ 20 bezahlt");
    }
}

#[test]
fn cp1251_with_russian_national_numbers() {
    let out = dry("cp1251_national.csv", &[]);
    assert_eq!(out.code, 65, "{}", out.stderr);
    assert!(out.stderr.contains("at line 2"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("it looks like windows-1251 (Cyrillic Excel)"),
        "{}",
        out.stderr
    );

    let (out, report) = full(
        "cp1251_national.csv",
        &["--encoding", "cp1251", "--default-country", "RU"],
    );
    assert_report(
        &report,
        &[
            sent(2, "D-1", "ООО Ромашка", "79123456789").noted("national number read as RU (+7)"),
            sent(3, "D-2", "Иван Петров", "74951234567"),
            sent(4, "D-3", "Сергей Иванович", "78005553535"),
            invalid(
                5,
                "D-4",
                "Ольга",
                "partner_phone (column \"partner_phone\" of cp1251_national.csv): \
                 `8 912 345 67` has 8 digits after +7, and numbers in RU (+7) have 10",
            ),
        ],
    );
    assert_eq!(report[1]["delivery_note"], "Оставлено у охраны");
    assert!(
        out.stderr
            .contains("Problems in cp1251_national.csv: 1 row will not be sent"),
        "{}",
        out.stderr
    );
}

#[test]
fn classic_mac_cr_line_ends() {
    let (_, report) = full("cr_only.csv", &[]);
    assert_report(
        &report,
        &[
            sent(2, "E-1", "Alpha", "4915123456701"),
            invalid(3, "E-2", "Beta", "`+49 151` has 5 digits"),
            sent(4, "E-3", "Gamma", "4915123456703"),
        ],
    );
}

#[test]
fn blank_lines_are_skipped_and_lines_still_count() {
    let (_, report) = full("blank_lines.csv", &[]);
    assert_report(
        &report,
        &[
            sent(4, "F-1", "Alpha", "4915123456701"),
            sent(8, "F-2", "Beta", "4915123456702"),
        ],
    );
}

#[test]
fn ragged_rows_are_invalid_with_their_line() {
    let (out, report) = full("ragged.csv", &[]);
    assert_report(
        &report,
        &[
            sent(2, "G-1", "Alpha", "4915123456701"),
            invalid(
                3,
                "G-2",
                "Beta",
                "the row has 3 fields and the header of ragged.csv has 5 (delimiter `,`)",
            ),
            invalid(4, "G-3", "Gamma", "the row has 6 fields"),
            sent(5, "G-4", "Delta\nSecond line", "4915123456704")
                .noted("partner_name: line breaks folded"),
            sent(7, "G-5", "Epsilon", "4915123456705"),
        ],
    );
    assert!(
        out.stderr.contains("ragged_row") && out.stderr.contains("first at line 3"),
        "{}",
        out.stderr
    );
}

#[test]
fn messy_headers_aliases_and_extra_columns() {
    let (_, report) = full("headers_messy.csv", &[]);
    assert_report(
        &report,
        &[
            sent(2, "H-1", "Acme Corp", "4915123456701"),
            sent(3, "H-2", "Beta AG", "4915123456702"),
        ],
    );
    assert_eq!(report[1]["delivery_note"], "fine");
}

#[test]
fn explicit_delimiter_wins_over_detection() {
    let out = dry(
        "windows1252_semicolon.csv",
        &["--encoding", "windows-1252", "--delimiter", ","],
    );
    assert_eq!(out.code, 65, "{}", out.stderr);
    assert!(out.stderr.contains("failed to find"), "{}", out.stderr);
    assert!(out.stderr.contains("--map"), "{}", out.stderr);
}

#[test]
fn phones_as_written_and_as_excel_damages_them() {
    let (out, report) = full("phones.csv", &[]);
    assert_report(
        &report,
        &[
            sent(2, "K-1", "P1", "4915123456701"),
            sent(3, "K-2", "P2", "4915123456702"),
            sent(4, "K-3", "P3", "4915123456703"),
            sent(5, "K-4", "P4", "4915123456704").noted("leading apostrophe removed"),
            sent(6, "K-5", "P5", "4915123456705").noted("trailing `.0` removed"),
            invalid(
                7,
                "K-6",
                "P6",
                "partner_phone (column \"Partner Phone\" of phones.csv): \
                 `4.91512E+12` is in scientific notation",
            ),
            invalid(8, "K-7", "P7", "pass --default-country"),
            invalid(9, "K-8", "P8", "contains `A`"),
            sent(10, "K-9", "P9", "49301234567").noted("`(0)` after the country code removed"),
            invalid(11, "K-10", "P10", "has 9 digits after +7"),
            sent(12, "K-11", "P11", "447700900123").warned("not in a range"),
            invalid(13, "K-12", "P12", "has 4 digits"),
        ],
    );
    let err = &out.stderr;
    assert!(
        err.contains("Problems in phones.csv: 5 rows will not be sent"),
        "{err}"
    );
    for kind in ["bad_phone", "excel_scientific", "national_phone"] {
        assert!(err.contains(kind), "{kind}: {err}");
    }
}

#[test]
fn national_numbers_with_default_country_by_region_or_code() {
    for country in ["DE", "49"] {
        let (_, report) = full("phones_national_de.csv", &["--default-country", country]);
        assert_report(
            &report,
            &[
                sent(2, "L-1", "N1", "4915123456701").noted("national number read as DE (+49)"),
                sent(3, "L-2", "N2", "49301234567"),
                sent(4, "L-3", "N3", "33612345678"),
                // Germany's plan has numbers of every length under 049x:
                // read as a national number these digits are Leer's
                // 0491 5123456704, so they are ambiguous (issue 16).
                invalid(
                    5,
                    "L-4",
                    "N4",
                    "`4915123456704` is ambiguous: it reads as +4915123456704 \
                     (international digits, calling code first) and as \
                     +494915123456704 (a national number of DE (+49))",
                ),
                invalid(6, "L-5", "N5", "`0151 23` has 7 digits"),
            ],
        );
    }
    // Without it, the national numbers are invalid and say what to pass.
    let out = dry("phones_national_de.csv", &[]);
    assert_eq!(out.code, 10);
    assert!(
        out.stdout
            .contains("row 1: line 2: partner_phone (column \"Partner Phone\" of phones_national_de.csv): `0151 2345 6701` starts with 0"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("national_phone"), "{}", out.stderr);
    // A value that is no country is refused on the command line (64).
    let out = dry("phones_national_de.csv", &["--default-country", "XX"]);
    assert_eq!(out.code, 64, "{}", out.stderr);
    assert!(out.stderr.contains("region code"), "{}", out.stderr);
}

#[test]
fn parameters_are_cleaned_or_refused() {
    let (out, report) = full("params.csv", &[]);
    assert_report(
        &report,
        &[
            sent(2, "M-1", "Müller\u{a0}GmbH", "4915123456701")
                .noted("partner_name: non-breaking or other Unicode spaces made plain"),
            sent(3, "M-2", "Beta", "4915123456702")
                .noted("delivery_note: line breaks folded to one space"),
            sent(5, "M-3", "Gamma", "4915123456703")
                .noted("product_name: runs of more than four spaces folded"),
            invalid(
                6,
                "M-4",
                "\u{200b}",
                "partner_name (column \"Partner Name\" of params.csv): `\\u{200b}` has only invisible",
            ),
            invalid(
                7,
                "M-5",
                "Delta",
                "delivery_note (column \"Delivery Note\" of params.csv): the filled-in \
                 message is 1187 characters (UTF-16 units, as WhatsApp counts) and the \
                 limit is 1024",
            ),
            sent(8, "M-6", "  Epsilon  ", "4915123456706"),
            invalid(
                9,
                "M-7",
                "Zeta",
                "product_name (column \"Product Name\" of params.csv): the value is empty",
            ),
        ],
    );
    // The report keeps values as read, with notes; the messages as sent are
    // in the dry run's preview (the first three valid rows).
    assert_eq!(report[0]["delivery_note"], "a\tb");
    assert!(report[0]["notes"].contains("delivery_note: tabs folded"));
    let preview = dry("params.csv", &[]).stdout;
    for sent in [
        "Hello, Müller GmbH! Order #M-1 for \"Chair\" has been delivered to your partner pickup point. a b.",
        "Hello, Beta! Order #M-2 for \"Desk\" has been delivered to your partner pickup point. line one line two.",
        "Hello, Gamma! Order #M-3 for \"Desk Oak\" has been delivered to your partner pickup point. ok.",
    ] {
        assert!(preview.contains(sent), "{sent}\n{preview}");
    }
    let err = &out.stderr;
    assert!(err.contains("Problems in params.csv: 3 rows"), "{err}");
    for kind in ["body_too_long", "empty_after_cleaning", "missing"] {
        assert!(err.contains(kind), "{kind}: {err}");
    }
}

#[test]
fn dry_run_prints_the_problem_summary_on_stderr() {
    let out = dry("phones.csv", &[]);
    assert_eq!(out.code, 10);
    assert!(
        out.stdout
            .contains("12 rows: 7 to send, 5 invalid, 0 duplicate.")
    );
    assert!(out.stdout.contains("Rows that will not be sent:"));
    assert!(!out.stdout.contains("Problems in"), "summary is on stderr");
    let summary: Vec<&str> = out
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("Problems in"))
        .collect();
    assert_eq!(
        summary[0],
        "Problems in phones.csv: 5 rows will not be sent"
    );
    assert!(
        summary[1].trim_start().starts_with("bad_phone"),
        "{summary:?}"
    );
    assert!(summary[1].contains(" 3  first at line 9"), "{summary:?}");
    assert_eq!(summary.len(), 4, "{summary:?}");
}
