//! Reconciliations that a spreadsheet program saved, rerun end to end: the
//! files under fixtures/rerun/ were written by LibreOffice Calc
//! (fixtures/rerun/make_fixtures.py) from a reconciliation of
//! fixtures/rerun/deliveries.csv, with four phones corrected in Calc. Each
//! test first runs the real binary on that same input against its own
//! simulator, which builds a ledger with the same orders and phones (not
//! the same wamids: a rerun matches rows by order number), then reruns the
//! saved file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::binary::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/rerun");

/// The orders whose phone was corrected in Calc, and the number each
/// corrected phone is.
const FIXED: [(&str, &str); 4] = [
    ("R-1003", "4915123456703"),
    ("R-1005", "4915123456705"),
    ("R-1006", "4915123456706"),
    ("R-1007", "4915123456707"),
];
/// The orders delivered the first night, with the phone each went to.
const DELIVERED: [(&str, &str); 3] = [
    ("R-1001", "4915123456701"),
    ("R-1002", "33612345678"),
    ("R-1004", "4520123456"),
];

/// The night: deliveries.csv through the real binary, as the fixtures'
/// reconciliation was made.
async fn night(env: &Env) {
    let input = Path::new(FIXTURES).join("deliveries.csv");
    let out = env.run(&input, &["--keep-columns"]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    // The first row of each order (row 8 repeats R-1001).
    let got: HashMap<String, String> = outcomes(&env.report()).into_iter().rev().collect();
    for (order, _) in DELIVERED {
        assert!(
            ["delivered", "read"].contains(&got[order].as_str()),
            "{got:?}"
        );
    }
    for order in ["R-1003", "R-1007"] {
        assert_eq!(got[order], "failed", "{got:?}");
    }
    for order in ["R-1005", "R-1006", "R-1009"] {
        assert_eq!(got[order], "invalid", "{got:?}");
    }
}

/// A fixture, copied into the test's directory (where its rerun's report
/// lands by default).
fn saved(env: &Env, name: &str) -> PathBuf {
    let to = env.path(name);
    std::fs::copy(Path::new(FIXTURES).join(name), &to).expect("the fixture exists");
    to
}

/// `handoff rerun FILE` with the test's ledger and the default `--out`.
async fn rerun(env: &Env, file: &Path, extra: &[&str]) -> Output {
    env.rerun_file(file, None, extra).await
}

/// The phones each order's messages went to, in the order they were sent.
async fn sent(env: &Env) -> HashMap<String, Vec<String>> {
    let mut by_order: HashMap<String, Vec<(u64, String)>> = HashMap::new();
    for m in env.sim_messages().await {
        let order = m["params"][1].as_str().unwrap().to_string();
        let at = m["number"].as_u64().unwrap();
        let phone = m["phone"].as_str().unwrap().to_string();
        by_order.entry(order).or_default().push((at, phone));
    }
    by_order
        .into_iter()
        .map(|(order, mut v)| {
            v.sort();
            (order, v.into_iter().map(|(_, p)| p).collect())
        })
        .collect()
}

fn is_final_delivery(outcome: &str) -> bool {
    ["delivered", "read"].contains(&outcome)
}

/// The rerun of a saved form: every row of the file in the report, the
/// corrected rows sent once to their corrected phones, the delivered ones
/// never again, and the kept column carried.
async fn rerun_saved_form(name: &str, extra: &[&str]) -> (Env, Vec<HashMap<String, String>>) {
    let env = Env::start(fast()).await;
    night(&env).await;
    let before = send_requests(&env.stats().await);
    let file = saved(&env, name);
    let out = rerun(&env, &file, extra).await;
    assert_eq!(code(&out), 10, "R-1009 is still invalid: {}", stderr(&out));
    let stem = file.file_stem().unwrap().to_str().unwrap();
    let report = env.read_csv(&format!("{stem}-rerun.csv"));
    let orders: Vec<&str> = report.iter().map(|r| r["order_number"].as_str()).collect();
    assert_eq!(
        orders,
        [
            "R-1001", "R-1002", "R-1003", "R-1004", "R-1005", "R-1006", "R-1007", "R-1001",
            "R-1009"
        ],
        "every row of the file, in its order"
    );
    let row = |order: &str| report.iter().find(|r| r["order_number"] == order).unwrap();
    for (order, phone) in DELIVERED {
        let r = row(order);
        assert!(is_final_delivery(&r["outcome"]), "{r:?}");
        assert_eq!(r["reused_from_run"], "1", "never resent: {r:?}");
        assert_eq!(r["phone"], phone, "where it went: {r:?}");
    }
    for (order, phone) in FIXED {
        let r = row(order);
        assert!(is_final_delivery(&r["outcome"]), "{r:?}");
        assert_eq!(r["phone"], phone, "{r:?}");
        assert_eq!(r["reused_from_run"], "", "sent by this rerun: {r:?}");
    }
    assert_eq!(report[7]["outcome"], "duplicate");
    assert_eq!(report[8]["outcome"], "invalid");
    assert_detail(&report[8], "`n/a`");
    let centres: Vec<&str> = report.iter().map(|r| r["Cost Centre"].as_str()).collect();
    assert_eq!(
        centres,
        [
            "KST-100", "KST-200", "KST-100", "KST-300", "KST-100", "KST-200", "KST-300", "KST-100",
            "KST-100"
        ],
        "the kept column survives the rerun"
    );

    let stats = env.stats().await;
    assert_eq!(
        send_requests(&stats) - before,
        4,
        "one send per corrected row"
    );
    let sent = sent(&env).await;
    for (order, phone) in DELIVERED {
        assert_eq!(
            sent[order],
            [phone],
            "{order} was sent once, the first night"
        );
    }
    for (order, phone) in FIXED {
        assert_eq!(
            sent[order].last().unwrap(),
            phone,
            "{order}: {:?}",
            sent[order]
        );
        let to_fixed = sent[order].iter().filter(|p| *p == phone).count();
        assert_eq!(to_fixed, 1, "{order} sent once to its corrected phone");
    }
    assert_eq!(
        sent["R-1003"].len(),
        2,
        "failed once, then the corrected phone"
    );
    assert!(!sent.contains_key("R-1009"));
    let names: Vec<String> = env
        .sim_messages()
        .await
        .iter()
        .map(|m| m["params"][0].as_str().unwrap().to_string())
        .collect();
    assert!(names.iter().any(|n| n == "Nils Großmann"), "{names:?}");
    (env, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconciliation_saved_as_semicolon_windows_1252_reruns() {
    // A ledger that never sent these orders cannot confirm a guess: the
    // file stops at its first row that is not UTF-8, with the hint.
    let env = Env::start(fast()).await;
    let other = env.csv(&[["Jürgen Groß", "+4915123456799", "X-1", "Lämpchen", "Danke"]]);
    let out = env.run(&other, &[]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let file = saved(&env, "saved_semicolon_cp1252.csv");
    let out = rerun(&env, &file, &[]).await;
    assert_eq!(code(&out), 65, "not UTF-8: {}", stderr(&out));
    assert!(
        stderr(&out).contains("--encoding windows-1252"),
        "the hint names the encoding: {}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("outcome"), "{}", stderr(&out));
    drop(env);
    // The night's own ledger confirms it: no flag needed, or given.
    rerun_saved_form("saved_semicolon_cp1252.csv", &[]).await;
    rerun_saved_form(
        "saved_semicolon_cp1252.csv",
        &["--encoding", "windows-1252"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconciliation_saved_as_comma_utf8_reruns() {
    rerun_saved_form("saved_comma_utf8.csv", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconciliation_saved_as_utf8_with_a_bom_reruns() {
    rerun_saved_form("saved_utf8_bom.csv", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconciliation_saved_as_xlsx_reruns() {
    rerun_saved_form("saved.xlsx", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconciliation_saved_as_ods_reruns() {
    rerun_saved_form("edited.ods", &[]).await;
}

/// Phones a spreadsheet rounded (`4.91512E+12`) in rows already delivered:
/// the rows stay delivered, from the ledger, and say what the file has
/// and where the message went; nothing is sent to a rounded number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounded_phones_leave_delivered_rows_delivered() {
    for (name, extra) in [
        ("saved_rounded.xlsx", &[][..]),
        ("saved_rounded.csv", &["--encoding", "windows-1252"][..]),
    ] {
        let (env, report) = rerun_saved_form(name, extra).await;
        let r = &report[0];
        assert_eq!(r["outcome"].as_str(), env.report()[0]["outcome"], "{r:?}");
        assert!(
            r["notes"].contains("phone 4915123456701 → `4.91512E+12`"),
            "what the file has: {r:?}"
        );
        assert!(r["notes"].contains(&r["wamid"]), "where it went: {r:?}");
        assert_eq!(r["wamid"], env.report()[0]["wamid"]);
        let phones: Vec<String> = env
            .sim_messages()
            .await
            .iter()
            .map(|m| m["phone"].as_str().unwrap().to_string())
            .collect();
        assert!(
            !phones
                .iter()
                .any(|p| p.ends_with("000000") || p.contains('E')),
            "{phones:?}"
        );
    }
}

/// `rerun --dry-run` shows what would be sent and sends nothing: no send,
/// no report, no run in the ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_dry_run_shows_and_sends_nothing() {
    let env = Env::start(fast()).await;
    night(&env).await;
    let before = send_requests(&env.stats().await);
    let runs = || {
        let db = rusqlite::Connection::open(env.path("ledger.sqlite")).unwrap();
        db.query_row("SELECT COUNT(*) FROM runs", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    let runs_before = runs();
    let file = saved(&env, "saved.xlsx");
    let out = rerun(&env, &file, &["--dry-run"]).await;
    assert_eq!(code(&out), 10, "R-1009 is invalid: {}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("nothing was sent"), "{stdout}");
    assert!(
        stdout.contains("9 rows: 4 to send (2 of them again"),
        "{stdout}"
    );
    assert!(
        stdout.contains("To +4915123456705 (row 5, order R-1005)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("row 1 (order `R-1001`): not sent again"),
        "{stdout}"
    );
    assert!(
        stdout.contains("column \"phone\" of sheet \"reconciliation\" of saved.xlsx"),
        "R-1009 named by sheet and column: {stdout}"
    );
    assert_eq!(send_requests(&env.stats().await), before, "nothing sent");
    assert!(!env.path("saved-rerun.csv").exists(), "no report written");
    assert_eq!(runs(), runs_before, "nothing recorded");
}

/// A second rerun writes its own report beside the first's: the record of
/// what the first one sent is not overwritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_rerun_does_not_overwrite_the_first_report() {
    let env = Env::start(fast()).await;
    night(&env).await;
    let file = saved(&env, "saved_comma_utf8.csv");
    let out = rerun(&env, &file, &[]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let first = std::fs::read(env.path("saved_comma_utf8-rerun.csv")).unwrap();
    let sends = send_requests(&env.stats().await);
    let out = rerun(&env, &file, &[]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    assert_eq!(
        std::fs::read(env.path("saved_comma_utf8-rerun.csv")).unwrap(),
        first,
        "the first rerun's report is as it was"
    );
    let second = env.read_csv("saved_comma_utf8-rerun-2.csv");
    assert_eq!(second.len(), 9);
    assert!(
        second[..7].iter().all(|r| is_final_delivery(&r["outcome"])),
        "{second:?}"
    );
    assert_eq!(
        send_requests(&env.stats().await),
        sends,
        "the second rerun finds everything sent"
    );
    assert!(
        summary(&out)["report"]
            .as_str()
            .unwrap()
            .ends_with("saved_comma_utf8-rerun-2.csv")
    );
}

/// A rerun without the ledger of the night stops before anything is sent:
/// without it every order would look unsent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_without_its_ledger_sends_nothing() {
    let env = Env::start(fast()).await;
    let file = saved(&env, "saved_comma_utf8.csv");
    let out = rerun(&env, &file, &[]).await;
    assert_eq!(code(&out), 66, "{}", stderr(&out));
    assert!(stderr(&out).contains("--ledger"), "{}", stderr(&out));
    assert_eq!(send_requests(&env.stats().await), 0);
}

/// `run` reads a workbook export: the sheet `--sheet` names, its header
/// mapped as a CSV's, a phone stored as a number sent to its digits, one a
/// spreadsheet rounded refused, and the problem naming sheet, row and
/// column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_reads_a_workbook_export_from_the_sheet_named() {
    use rust_xlsxwriter::{Format, Workbook};
    let env = Env::start(fast()).await;
    let mut book = Workbook::new();
    book.add_worksheet()
        .set_name("Read me")
        .unwrap()
        .write_string(0, 0, "exported by the TMS")
        .unwrap();
    let s = book.add_worksheet();
    s.set_name("Orders").unwrap();
    let date = Format::new().set_num_format("dd.mm.yyyy");
    let header = [
        "Company",
        "Mobile",
        "Order No",
        "Item",
        "Comment",
        "Delivered on",
    ];
    for (c, h) in header.iter().enumerate() {
        s.write_string(0, c as u16, *h).unwrap();
    }
    s.write_string(1, 0, "Müller GmbH").unwrap();
    s.write_number(1, 1, 4_915_123_456_701.0).unwrap();
    s.write_number(1, 2, 100_234.0).unwrap();
    s.write_string(1, 3, "Stuhl").unwrap();
    s.write_string(1, 4, "Montag").unwrap();
    s.write_number_with_format(1, 5, 45_730.0, &date).unwrap();
    s.write_string(2, 0, "Rounded AG").unwrap();
    s.write_number(2, 1, 4_915_120_000_000.0).unwrap();
    s.write_string(2, 2, "W-2").unwrap();
    s.write_string(2, 3, "Tisch").unwrap();
    s.write_string(2, 4, "ok").unwrap();
    // A control character in a cell: named by the sheet, as a person finds it.
    s.write_string(3, 0, "Bell GmbH").unwrap();
    s.write_string(3, 1, "+49 151 23456702").unwrap();
    s.write_string(3, 2, "W-3").unwrap();
    s.write_string(3, 3, "Lam\u{7}pe").unwrap();
    s.write_string(3, 4, "ok").unwrap();
    let path = env.path("export.xlsx");
    book.save(&path).unwrap();

    let out = env.run(&path, &[]).await;
    assert_eq!(code(&out), 65, "the first sheet has no deliveries");
    assert!(
        stderr(&out).contains("\"exported by the TMS\""),
        "{}",
        stderr(&out)
    );

    let out = env
        .run(&path, &["--sheet", "Orders", "--keep-columns"])
        .await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let report = env.report();
    assert_eq!(report.len(), 3);
    assert!(is_final_delivery(&report[0]["outcome"]), "{:?}", report[0]);
    assert_eq!(report[0]["phone"], "4915123456701");
    assert_eq!(report[2]["outcome"], "invalid");
    assert_detail(
        &report[2],
        "product_name (column \"Item\" of sheet \"Orders\" of export.xlsx)",
    );
    assert_eq!(report[0]["order_number"], "100234");
    assert_eq!(report[0]["Delivered on"], "2025-03-14");
    assert_eq!(report[1]["outcome"], "invalid");
    assert_detail(
        &report[1],
        "line 3: partner_phone (column \"Mobile\" of sheet \"Orders\" of export.xlsx): `4.91512E+12` is in scientific notation",
    );
    let phones: Vec<String> = env
        .sim_messages()
        .await
        .iter()
        .map(|m| m["phone"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(phones, ["4915123456701"]);
}

/// The workbook `run --xlsx` writes reruns as it is: its phones are text
/// cells, its first sheet the reconciliation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workbook_we_write_reruns() {
    let env = Env::start(fast()).await;
    let input = Path::new(FIXTURES).join("deliveries.csv");
    let book = env.path("night.xlsx");
    let out = env
        .run(
            &input,
            &["--keep-columns", "--xlsx", book.to_str().unwrap()],
        )
        .await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let before = send_requests(&env.stats().await);
    // Both failures are permanent (not on WhatsApp, opted out) and their
    // data unchanged: only --force sends them again.
    let out = rerun(&env, &book, &["--only", "failed", "--force"]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let report = env.read_csv("night-rerun.csv");
    assert_eq!(report.len(), 9);
    assert_eq!(
        send_requests(&env.stats().await) - before,
        2,
        "the two failed rows, sent again"
    );
    for (i, r) in report.iter().enumerate() {
        match r["order_number"].as_str() {
            "R-1003" | "R-1007" => assert_eq!(r["attempts"], "1", "{r:?}"),
            _ if i == 7 => assert_eq!(r["outcome"], "duplicate"),
            "R-1005" | "R-1006" | "R-1009" => {
                assert_eq!(r["outcome"], "skipped", "not selected: {r:?}")
            }
            _ => assert_eq!(r["reused_from_run"], "1", "{r:?}"),
        }
    }
    assert_eq!(report[0]["Cost Centre"], "KST-100");
}
