//! The reconciliation finance acts on (issue 13): one night with every kind
//! of row, run by the real binary against the simulator, read back from the
//! CSV and from the workbook (calamine, the xlsx zip, LibreOffice).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use calamine::{Data, DataType, Reader, Xlsx, open_workbook};
use chrono::{DateTime, NaiveDate, Utc};
use handoff_sim::scenario::{Fault, Rule};

use crate::binary::*;

type Report = Vec<HashMap<String, String>>;

const ZONE: &str = "Europe/Berlin";

/// One night: read and delivered rows, an opt-out (131050), a number not on
/// WhatsApp (131026), a refusal (131047), an answer lost (unknown), two
/// invalid rows and a duplicate; the input has columns named like ours.
struct Night {
    env: Env,
    xlsx: PathBuf,
    report: Report,
}

async fn night() -> Night {
    let mut s = fast();
    s.rules.push(Rule {
        reject: Some(131_047),
        ..rule("491520000004")
    });
    s.rules.push(Rule {
        fault: Some(Fault::Error5xx),
        ..rule("491520000005")
    });
    let env = Env::start(s).await;
    let input = env.path("deliveries.csv");
    let header = "Partner Name,Partner Phone,Order Number,Product Name,Delivery Note,Status,wamid,Cost Centre";
    let lines = [
        "Acme,491520000001,F-1,Chair,Gate 2,open,x1,CC-7",
        "Acme,491520000002,F-2,Desk,Gate 2,open,x2,CC-7",
        "Opted Out Ltd,15550200001,F-3,Lamp,Dock,open,x3,CC-8",
        "Nowhere Inc,15550100001,F-4,Lamp,Dock,open,x4,CC-8",
        "Refused Co,491520000004,F-5,Lamp,Dock,open,x5,CC-9",
        "Lost Answer,491520000005,F-6,Lamp,Dock,open,x6,CC-9",
        "Beta,12,F-7,Lamp,Dock,open,x7,CC-9",
        "Beta,491520000008,F-8,,Dock,open,x8,CC-9",
        "Acme,491520000001,F-1,Chair,Gate 2,open,x9,CC-7",
    ];
    std::fs::write(&input, format!("{header}\n{}\n", lines.join("\n"))).unwrap();
    let xlsx = env.path("reconciliation.xlsx");
    let out = env
        .run(
            &input,
            &[
                "--keep-columns",
                "--xlsx",
                xlsx.to_str().unwrap(),
                "--timezone",
                ZONE,
            ],
        )
        .await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let report = env.report();
    assert_eq!(report.len(), lines.len());
    Night { env, xlsx, report }
}

/// Converts `file` with LibreOffice headless (`to`: its `--convert-to`
/// argument) into a folder of the test's, which it returns.
async fn convert(soffice: &str, env: &Env, file: &Path, to: &str) -> PathBuf {
    let out_dir = env.path("lo");
    let profile = format!("file://{}", env.path("lo-profile").display());
    let mut cmd = tokio::process::Command::new(soffice);
    cmd.arg(format!("-env:UserInstallation={profile}"))
        .args(["--headless", "--convert-to", to, "--outdir"])
        .arg(&out_dir)
        .arg(file)
        .kill_on_drop(true);
    let done = tokio::time::timeout(Duration::from_secs(180), cmd.output())
        .await
        .expect("LibreOffice finishes")
        .expect("LibreOffice runs");
    assert!(done.status.success(), "{done:?}");
    out_dir
}

/// LibreOffice's command, when it is installed.
fn soffice() -> Option<&'static str> {
    ["soffice", "libreoffice"].into_iter().find(|b| {
        std::process::Command::new(b)
            .arg("--version")
            .output()
            .is_ok()
    })
}

fn by_order<'a>(report: &'a Report, order: &str) -> &'a HashMap<String, String> {
    report
        .iter()
        .find(|r| r["order_number"] == order)
        .unwrap_or_else(|| panic!("{order} in {report:?}"))
}

fn fine(r: &HashMap<String, String>) -> bool {
    ["delivered", "read"].contains(&r["outcome"].as_str())
}

const ACTORS: [&str; 4] = ["partner: ", "data: ", "operations: ", "none: "];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_that_did_not_go_through_says_why_and_who_acts() {
    let Night { env, report, .. } = night().await;
    let mut r = csv::Reader::from_path(env.path("reconciliation.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert!(
        header.contains(&"whatsapp_status".to_string()),
        "{header:?}"
    );
    assert!(!header.contains(&"status".to_string()), "{header:?}");
    let tail = &header[header.len() - 4..];
    assert_eq!(
        tail,
        ["notes", "input_Status", "input_wamid", "Cost Centre"]
    );
    assert_eq!(header.iter().filter(|h| *h == "wamid").count(), 1);

    for r in &report {
        let step = &r["next_step"];
        assert!(ACTORS.iter().any(|a| step.starts_with(a)), "{r:?}");
        assert!(r["reason"].ends_with('.'), "{r:?}");
        if fine(r) {
            assert!(step.starts_with("none: "), "{r:?}");
            assert_eq!(r["error_detail"], "", "{r:?}");
        } else {
            assert!(r["reason"].len() > 20, "{r:?}");
        }
        assert_ne!(r["reason"], r["error_detail"], "{r:?}");
    }
    let opted_out = by_order(&report, "F-3");
    assert_eq!(opted_out["outcome"], "failed");
    assert_eq!(opted_out["error_code"], "131050");
    assert!(opted_out["reason"].contains("stopped business messages"));
    assert!(opted_out["next_step"].starts_with("partner: "));
    assert!(
        !opted_out["error_detail"].is_empty(),
        "engineers' text kept"
    );
    let nowhere = by_order(&report, "F-4");
    assert_eq!(nowhere["error_code"], "131026");
    assert!(nowhere["reason"].contains("not on WhatsApp"), "{nowhere:?}");
    let refused = by_order(&report, "F-5");
    assert_eq!(refused["outcome"], "rejected", "{refused:?}");
    assert!(refused["reason"].contains("24 hours"), "{refused:?}");
    let lost = by_order(&report, "F-6");
    assert_eq!(lost["outcome"], "unknown", "{lost:?}");
    assert!(lost["next_step"].starts_with("operations: "), "{lost:?}");
    assert_eq!(lost["http_status"], "500", "{lost:?}");
    assert!(
        lost["error_detail"].starts_with("may or may not have been accepted"),
        "{lost:?}"
    );
    for order in ["F-7", "F-8"] {
        let r = by_order(&report, order);
        assert_eq!(r["outcome"], "invalid", "{r:?}");
        assert!(r["next_step"].starts_with("data: "), "{r:?}");
        assert!(r["error_detail"].starts_with("line "), "{r:?}");
    }
    assert!(by_order(&report, "F-7")["reason"].contains("phone number"));
    assert!(by_order(&report, "F-8")["reason"].contains("is empty"));
    let dup = report.iter().find(|r| r["outcome"] == "duplicate").unwrap();
    assert!(dup["reason"].contains("earlier in the file"), "{dup:?}");

    // The status times: RFC 3339 UTC, delivery after acceptance.
    for r in report.iter().filter(|r| fine(r)) {
        let at = |c: &str| DateTime::parse_from_rfc3339(&r[c]).map(|t| t.with_timezone(&Utc));
        let accepted = at("accepted_at").expect("accepted_at");
        assert!(r["accepted_at"].ends_with('Z'), "{r:?}");
        let delivered = at("delivered_at").expect("the simulator reports delivery");
        // 1MSG's times have whole seconds; ours have milliseconds.
        assert!(
            delivered >= accepted - chrono::Duration::seconds(1),
            "{r:?}"
        );
        let minutes: f64 = r["minutes_to_delivery"].parse().expect("minutes");
        assert!((0.0..1.0).contains(&minutes), "{r:?}");
        if r["outcome"] == "read" {
            assert!(at("read_at").expect("read_at") >= delivered, "{r:?}");
        }
    }
    assert!(!opted_out["failed_at"].is_empty(), "{opted_out:?}");
    assert_eq!(opted_out["delivered_at"], "");
    // Kept columns keep their values under their prefixed names.
    assert_eq!(by_order(&report, "F-2")["input_Status"], "open");
    assert_eq!(by_order(&report, "F-2")["input_wamid"], "x2");
    assert!(by_order(&report, "F-2")["wamid"].starts_with("wamid."));
}

/// An Excel serial date (days since 1899-12-30) as a time.
fn serial(days: f64) -> chrono::NaiveDateTime {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    epoch + chrono::Duration::milliseconds((days * 86_400_000.0).round() as i64)
}

fn sheet(book: &mut Book, name: &str) -> Vec<Vec<Data>> {
    let range = book.worksheet_range(name).expect(name);
    range.rows().map(<[Data]>::to_vec).collect()
}

fn column(rows: &[Vec<Data>], name: &str) -> usize {
    rows[0]
        .iter()
        .position(|c| *c == name)
        .unwrap_or_else(|| panic!("{name} in {:?}", rows[0]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workbook_has_dates_in_the_zone_partners_and_charts() {
    // The directory lives as long as `_env`.
    let Night {
        env: _env,
        xlsx,
        report,
    } = night().await;
    let mut book: Xlsx<_> = open_workbook(&xlsx).unwrap();
    // In the order a person reads and prints them.
    assert_eq!(
        book.sheet_names(),
        ["Summary", "Needs action", "Partners", "Reconciliation"]
    );
    let rows = sheet(&mut book, "Reconciliation");
    assert_eq!(rows.len(), report.len() + 1);
    let tz: chrono_tz::Tz = ZONE.parse().unwrap();
    for (header, name) in [
        ("Accepted at", "accepted_at"),
        ("Delivered at", "delivered_at"),
    ] {
        let col = column(&rows, header);
        for (cells, r) in rows[1..].iter().zip(&report) {
            if r[name].is_empty() {
                assert_eq!(cells[col], Data::Empty, "{name}: {r:?}");
                continue;
            }
            let Data::DateTime(d) = &cells[col] else {
                panic!("{name} is not a date cell: {:?}", cells[col]);
            };
            let utc = DateTime::parse_from_rfc3339(&r[name]).unwrap();
            let want = utc.with_timezone(&tz).naive_local();
            let got = serial(d.as_f64());
            assert!(
                (got - want).num_milliseconds().abs() < 1000,
                "{name}: {got} in the workbook, {want} in {ZONE} ({})",
                r[name]
            );
        }
    }
    let outcome = column(&rows, "Outcome");
    for (cells, r) in rows[1..].iter().zip(&report) {
        assert_eq!(cells[outcome].to_string(), r["outcome"]);
    }

    needs_action(&mut book, &report);
    partners(&mut book, &report);
    summary(&mut book, &report);
    assert_eq!(
        charts(&xlsx),
        ["xl/charts/chart1.xml", "xl/charts/chart2.xml"]
    );
}

type Book = Xlsx<std::io::BufReader<std::fs::File>>;

/// Who acts as the workbook says it, for the CSV's word, in the order
/// the groups are listed.
const PEOPLE: [(&str, &str); 4] = [
    ("partner", "The partner's account manager"),
    ("data", "Whoever keeps the TMS/OMS export"),
    ("operations", "Operations"),
    ("none", "Nobody"),
];

/// The CSV's `next_step` as the workbook shows it: who acts in people's
/// words, and the step without the CSV's word before it.
pub(crate) fn for_people(next_step: &str) -> (String, String) {
    let (word, step) = next_step.split_once(": ").expect("word: step");
    let who = PEOPLE.iter().find(|(w, _)| *w == word).expect(word).1;
    (who.to_string(), step.to_string())
}

/// Needs action: the rows whose next step is not `none`, by who acts.
fn needs_action(book: &mut Book, report: &Report) {
    let action = sheet(book, "Needs action");
    let at = |name| column(&action, name);
    let listed: Vec<[String; 3]> = action[1..]
        .iter()
        .filter(|r| !r[at("Order number")].to_string().is_empty())
        .map(|r| ["Who acts", "Next step", "Order number"].map(|c| r[at(c)].to_string()))
        .collect();
    let mut want: Vec<[String; 3]> = report
        .iter()
        .filter(|r| !r["next_step"].starts_with("none: "))
        .map(|r| {
            let (who, step) = for_people(&r["next_step"]);
            [who, step, r["order_number"].clone()]
        })
        .collect();
    let rank = |who: &str| PEOPLE.iter().position(|(_, p)| *p == who);
    want.sort_by_key(|[who, ..]| rank(who));
    assert_eq!(listed, want, "grouped by who acts, in row order");
    for (_, who) in &PEOPLE[..3] {
        let heading = action.iter().any(|r| r[0].to_string().starts_with(who));
        let listed = want.iter().any(|[w, ..]| w == who);
        assert_eq!(heading, listed, "a heading for {who} if it has rows");
    }
}

/// Partners: the counts are the CSV's.
fn partners(book: &mut Book, report: &Report) {
    let partners = sheet(book, "Partners");
    let (name, orders, confirmed, not) = (
        column(&partners, "Partner name"),
        column(&partners, "Orders"),
        column(&partners, "Confirmed"),
        column(&partners, "Not confirmed"),
    );
    let reason = column(&partners, "Main reason");
    let mut from_csv: HashMap<String, (f64, f64)> = HashMap::new();
    for r in report.iter().filter(|r| r["outcome"] != "duplicate") {
        let e = from_csv.entry(r["partner_name"].clone()).or_default();
        e.0 += 1.0;
        if fine(r) {
            e.1 += 1.0;
        }
    }
    // The partners, then a blank line and the night's totals.
    let lines: Vec<&Vec<Data>> = partners[1..]
        .iter()
        .take_while(|p| p[name] != Data::Empty)
        .collect();
    assert_eq!(lines.len(), from_csv.len());
    let total = partners.last().unwrap();
    assert_eq!(
        total[name].to_string(),
        format!("total ({} partners)", lines.len())
    );
    let sum = |col: usize| Data::Float(lines.iter().map(|p| p[col].as_f64().unwrap()).sum());
    assert_eq!(total[orders], sum(orders));
    assert_eq!(total[confirmed], sum(confirmed));
    assert_eq!(total[not], sum(not));
    for p in lines.iter().copied() {
        let (n, c) = from_csv[&p[name].to_string()];
        assert_eq!(p[orders], Data::Float(n), "{p:?}");
        assert_eq!(p[confirmed], Data::Float(c), "{p:?}");
        assert_eq!(p[not], Data::Float(n - c), "{p:?}");
        if n > c {
            let said = p[reason].to_string();
            assert!(
                report
                    .iter()
                    .any(|r| r["partner_name"] == p[name].to_string() && r["reason"] == said),
                "{said:?} is one of the partner's reasons"
            );
        }
    }
    let beta = lines.iter().find(|p| p[name] == "Beta");
    assert_eq!(beta.map(|p| p[not].clone()), Some(Data::Float(2.0)));
}

/// Summary: the night, counts with meanings, the zone.
fn summary(book: &mut Book, report: &Report) {
    let summary = sheet(book, "Summary");
    let row = |label: &str| {
        summary
            .iter()
            .find(|r| r.first().is_some_and(|c| *c == label))
            .unwrap_or_else(|| panic!("{label} in {summary:?}"))
            .clone()
    };
    assert!(matches!(row("started")[1], Data::DateTime(_)));
    // Complete when written: the workbook is written before the run's end
    // is recorded, and still says when it ended.
    assert!(
        matches!(row("finished")[1], Data::DateTime(_)),
        "{:?}",
        row("finished")
    );
    let sent = report.iter().filter(|r| !r["wamid"].is_empty()).count();
    assert!(
        row("messages sent")[1]
            .to_string()
            .starts_with(&format!("{sent} this run")),
        "{:?}",
        row("messages sent")
    );
    assert_eq!(row("times shown in")[1].to_string(), ZONE);
    assert!(row("input file")[1].to_string().ends_with("deliveries.csv"));
    assert!(row("exit code")[1].to_string().starts_with("10: "));
    assert_eq!(row("report schema")[1].to_string(), "version 4");
    for o in [
        "delivered",
        "read",
        "failed",
        "invalid",
        "unknown",
        "duplicate",
    ] {
        let n = report.iter().filter(|r| r["outcome"] == o).count();
        let line = row(o);
        assert_eq!(line[1], Data::Float(n as f64), "{o}");
        assert!(!line[2].to_string().is_empty(), "{o} has its meaning");
    }
}

/// The chart parts of an xlsx file, sorted.
fn charts(xlsx: &Path) -> Vec<String> {
    let zip = zip::ZipArchive::new(std::fs::File::open(xlsx).unwrap()).unwrap();
    let mut names: Vec<String> = zip
        .file_names()
        .map(|n| n.expect("a readable name").into_owned())
        .filter(|n| n.starts_with("xl/charts/chart"))
        .collect();
    names.sort();
    names
}

/// LibreOffice opens the workbook and saves its first sheet as CSV, which
/// reads back as the report: a file Excel's rival can read is not broken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libreoffice_opens_the_workbook() {
    let Some(soffice) = soffice() else {
        eprintln!("skipped: LibreOffice (soffice) is not installed");
        return;
    };
    let Night { env, xlsx, report } = night().await;
    // The rows' sheet, the fourth, as CSV (the filter's last token).
    let csv_of_rows =
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,4";
    let out_dir = convert(soffice, &env, &xlsx, csv_of_rows).await;
    let converted = out_dir.join("reconciliation-Reconciliation.csv");
    let mut r = csv::Reader::from_path(converted).expect("converted");
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), report.len());
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (cells, want) in rows.iter().zip(&report) {
        // The workbook's headers are the clerk's words for the CSV's.
        let same = [
            ("Order number", "order_number"),
            ("Outcome", "outcome"),
            ("Reason", "reason"),
            ("WhatsApp message id", "wamid"),
        ];
        for (header, name) in same {
            assert_eq!(&cells[at(header)], want[name].as_str(), "{name}");
        }
        let (who, step) = for_people(&want["next_step"]);
        assert_eq!(
            (&cells[at("Who acts")], &cells[at("Next step")]),
            (&*who, &*step)
        );
        // A date cell shows as a date in the zone, not as a serial number.
        if !want["accepted_at"].is_empty() {
            let shown = &cells[at("Accepted at")];
            let tz: chrono_tz::Tz = ZONE.parse().unwrap();
            let local = DateTime::parse_from_rfc3339(&want["accepted_at"])
                .unwrap()
                .with_timezone(&tz);
            assert!(
                shown.starts_with(&local.format("%Y-%m-%d %H:%M").to_string()),
                "{shown} for {}",
                want["accepted_at"]
            );
        }
    }
}

/// A rerun reads the new reconciliation (kept columns come back by their
/// own names) and one of the first schema (`status`, `sent_at`).
/// The sample export's workbook, printed by LibreOffice: every sheet
/// landscape and one page wide, on a handful of pages (24 before the
/// sheets had a page setup, most of them a few columns of one sheet).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_samples_workbook_prints_on_a_few_landscape_pages() {
    let Some(soffice) = soffice() else {
        eprintln!("skipped: LibreOffice (soffice) is not installed");
        return;
    };
    let env = Env::start(fast()).await;
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_deliveries.csv");
    let xlsx = env.path("reconciliation.xlsx");
    let out = env.run(&sample, &["--xlsx", xlsx.to_str().unwrap()]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let out_dir = convert(soffice, &env, &xlsx, "pdf").await;
    let pdf = std::fs::read(out_dir.join("reconciliation.pdf")).expect("printed");
    let boxes = media_boxes(&pdf);
    assert!(
        (4..=6).contains(&boxes.len()),
        "{} pages for {} sheets",
        boxes.len(),
        4
    );
    for (w, h) in boxes {
        assert!(w > h, "a portrait page: {w} x {h}");
    }
}

/// The width and height of each page of a PDF, read from its page
/// objects' `/MediaBox [x0 y0 x1 y1]` (as LibreOffice writes them).
fn media_boxes(pdf: &[u8]) -> Vec<(f64, f64)> {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/MediaBox")
        .filter_map(|(i, _)| {
            let open = text[i..].find('[')? + i + 1;
            let close = text[open..].find(']')? + open;
            let n: Vec<f64> = text[open..close]
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            (n.len() == 4).then(|| (n[2] - n[0], n[3] - n[1]))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_reads_both_schemas() {
    let Night { env, .. } = night().await;
    let out = env.rerun("rerun.csv", &["--only", "invalid"]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let mut r = csv::Reader::from_path(env.path("rerun.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let tail = &header[header.len() - 3..];
    assert_eq!(tail, ["input_Status", "input_wamid", "Cost Centre"]);
    let rerun = env.read_csv("rerun.csv");
    assert_eq!(by_order(&rerun, "F-2")["input_wamid"], "x2");
    assert_eq!(by_order(&rerun, "F-2")["Cost Centre"], "CC-7");

    // The first schema: what a reconciliation of before issue 13 looked like.
    let old = env.path("old.csv");
    let text = "row,line,order_number,partner_name,phone,product_name,delivery_note,outcome,status,wamid,http_status,error_code,error_detail,attempts,sent_at,status_at,reused_from_run,notes,Cost Centre\n\
                1,2,F-7,Beta,12,Lamp,Dock,invalid,,,,,line 2: bad,0,,,,,CC-9\n";
    std::fs::write(&old, text).unwrap();
    let rerun_old = env.path("old-rerun.csv");
    let out = env
        .rerun_file(&old, Some(&rerun_old), &["--only", "invalid"])
        .await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let rows = env.read_csv("old-rerun.csv");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["outcome"], "invalid");
    assert_eq!(rows[0]["Cost Centre"], "CC-9");
    assert!(!rows[0].contains_key("input_status"), "{:?}", rows[0]);
    assert!(rows[0]["next_step"].starts_with("data: "));
}

/// The workbook is the file people open, so a run writes it beside its
/// report without being asked; `--no-xlsx` (here from a settings file)
/// writes none, and a later `--xlsx` wins over that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workbook_is_written_beside_the_report_unless_told_not_to() {
    let env = Env::start(fast()).await;
    let input = env.path("deliveries.csv");
    let header = "partner_name,partner_phone,order_number,product_name,delivery_note";
    let line = "Acme,491520000001,F-1,Chair,Gate 2";
    std::fs::write(&input, format!("{header}\n{line}\n")).unwrap();
    let out = env.run(&input, &[]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let beside = env.path("reconciliation.xlsx");
    let mut book: Book = open_workbook(&beside).unwrap();
    let rows = sheet(&mut book, "Reconciliation");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][column(&rows, "Order number")], "F-1");
    std::fs::remove_file(&beside).unwrap();

    let settings = env.path("handoff.toml");
    std::fs::write(&settings, "no_xlsx = true\n").unwrap();
    let config = ["--config", settings.to_str().unwrap()];
    let out = env.run(&input, &config).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!beside.exists(), "no workbook with no_xlsx");
    let elsewhere = env.path("night.xlsx");
    let named = [&config[..], &["--xlsx", elsewhere.to_str().unwrap()]].concat();
    let out = env.run(&input, &named).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!beside.exists() && elsewhere.exists(), "--xlsx wins");
}
