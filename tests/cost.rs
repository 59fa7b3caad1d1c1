//! What a night cost: Meta's statuses say what each message is billed as
//! (the simulator sends their `pricing` object), and the rate card the user
//! keeps (`--rate-card`) turns a delivered billable message into an
//! estimated cost per row, per partner and per night, in the CSV, the
//! workbook and the metrics. A message the card has no rate for says so.

use calamine::{Data, Reader, Xlsx, open_workbook};

use crate::binary::*;
use crate::unattended::parse_metrics;

/// Germany priced by its region, Sweden not at all, a card saved the
/// way a spreadsheet in Western Europe saves it.
const CARD: &str = "\u{feff}Market;Category;Price;Currency;Valid from\n\
                    DE;utility;0,0456;EUR;2025-07-01\n\
                    49;marketing;0,1131;EUR;2025-07-01\n";

fn night(env: &Env) -> std::path::PathBuf {
    let card = env.path("rates.csv");
    std::fs::write(&card, CARD).unwrap();
    card
}

/// A cell of the Summary sheet, by its label.
fn summary_cell(book: &mut Xlsx<std::io::BufReader<std::fs::File>>, label: &str) -> Data {
    let sheet = book.worksheet_range("Summary").expect("a Summary sheet");
    sheet
        .rows()
        .find(|r| r.first().is_some_and(|c| *c == label))
        .and_then(|r| r.get(1).cloned())
        .unwrap_or_else(|| panic!("a `{label}` line in the Summary"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_card_prices_every_delivered_row_and_the_night_is_their_sum() {
    let env = Env::start(fast()).await;
    let card = night(&env);
    let input = env.csv(&[
        ["Acme", "491520000101", "C-1", "Chair", "Gate 2"],
        ["Acme", "491520000102", "C-2", "Desk", "Gate 2"],
        ["Beta", "491520000103", "C-3", "Lamp", "Dock"],
        ["Nordic", "46701234567", "C-4", "Lamp", "Dock"],
    ]);
    let (xlsx, metrics) = (env.path("r.xlsx"), env.path("m.prom"));
    let args = [
        "--rate-card",
        card.to_str().unwrap(),
        "--xlsx",
        xlsx.to_str().unwrap(),
        "--metrics-file",
        metrics.to_str().unwrap(),
    ];
    let out = env.run(&input, &args).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = env.report();
    for r in report.iter().filter(|r| r["phone"].starts_with("49")) {
        assert_eq!(r["pricing_category"], "utility", "{r:?}");
        assert_eq!((&*r["estimated_cost"], &*r["currency"]), ("0.0456", "EUR"));
    }
    let sweden = report
        .iter()
        .find(|r| r["phone"].starts_with("46"))
        .unwrap();
    assert_eq!(sweden["estimated_cost"], "", "never guessed: {sweden:?}");
    assert_warning(sweden, "has no `utility` rate for SE");

    // The night: the sum of its rows, on stdout, in the workbook and the
    // metrics, with the billable messages by category.
    let rows_sum: f64 = (report.iter())
        .filter_map(|r| r["estimated_cost"].parse::<f64>().ok())
        .sum();
    assert!((rows_sum - 3.0 * 0.0456).abs() < 1e-9, "{rows_sum}");
    let cost = &summary(&out)["cost"];
    assert_eq!(cost["estimated_cost"]["EUR"], "0.1368", "{cost}");
    assert_eq!(cost["billable"]["utility"], 4, "{cost}");
    assert_eq!(cost["unpriced"], 1, "{cost}");
    let mut book: Xlsx<_> = open_workbook(&xlsx).expect("calamine reads the workbook");
    match summary_cell(&mut book, "estimated cost") {
        Data::Float(total) => assert!((total - rows_sum).abs() < 1e-9, "{total}"),
        other => panic!("the night's cost is a number: {other:?}"),
    }
    let partners = book.worksheet_range("Partners").unwrap();
    let acme = (partners.rows())
        .find(|r| r[0] == "Acme")
        .expect("Acme's line");
    assert_eq!(acme[5], Data::Float(2.0), "billable: {acme:?}");
    assert_eq!(acme[6], Data::Float(0.0912), "estimated cost: {acme:?}");
    assert_eq!(acme[7].to_string(), "EUR");
    let m = parse_metrics(&metrics);
    assert_eq!(m["handoff_estimated_cost{currency=\"EUR\"}"], 0.1368);
    assert_eq!(m["handoff_billable_messages{category=\"utility\"}"], 4.0);
}

/// A free message costs nothing; a status without pricing, and a night
/// with no card, estimate nothing, and say which.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_free_message_costs_nothing_and_no_pricing_is_said() {
    let mut s = fast();
    s.hooks.pricing = "free_customer_service".into();
    let env = Env::start(s).await;
    let card = night(&env);
    let input = env.csv(&[["Acme", "491520000201", "F-1", "Chair", "Gate"]]);
    let out = env
        .run(&input, &["--rate-card", card.to_str().unwrap()])
        .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let row = &env.report()[0];
    assert_eq!((&*row["estimated_cost"], &*row["currency"]), ("0", "EUR"));
    assert_eq!(summary(&out)["cost"]["unpriced"], 0);

    let mut s = fast();
    s.hooks.pricing = "none".into();
    let env = Env::start(s).await;
    let card = night(&env);
    let input = env.csv(&[["Acme", "491520000202", "F-2", "Chair", "Gate"]]);
    let out = env
        .run(&input, &["--rate-card", card.to_str().unwrap()])
        .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let row = &env.report()[0];
    assert_eq!(
        (&*row["pricing_category"], &*row["estimated_cost"]),
        ("", "")
    );
    assert_warning(row, "said nothing of the message's pricing");
}

/// A card that cannot be used stops the run before anything is sent,
/// naming the file, the line and the cell.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_rate_card_stops_before_anything_is_sent() {
    let env = Env::start(fast()).await;
    let card = env.path("rates.csv");
    std::fs::write(
        &card,
        "market,category,price,currency\nDE,utility,EUR 0.04,EUR\n",
    )
    .unwrap();
    let input = env.csv(&[["Acme", "491520000301", "B-1", "Chair", "Gate"]]);
    let out = env
        .run(&input, &["--rate-card", card.to_str().unwrap()])
        .await;
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("line 2, price: `EUR 0.04` is not a price"),
        "{}",
        stderr(&out)
    );
    assert!(env.sim_messages().await.is_empty(), "nothing sent");
}
