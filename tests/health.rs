//! Meta's judgement of the template, forwarded through 1MSG: a template
//! Meta moved out of UTILITY stops the night before anything is sent
//! (unless the operator says it is meant), and a template Meta pauses in
//! the middle of the night stops the sends at once, the rest `skipped`.

use crate::binary::*;
use crate::variants::rows;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marketing_template_stops_at_preflight_unless_allowed() {
    let mut s = fast();
    s.templates = vec![handoff_sim::scenario::TemplateSpec {
        category: "MARKETING".into(),
        ..Default::default()
    }];
    let env = Env::start(s).await;
    let input = env.csv(&rows("74", 3));
    let out = env.run(&input, &[]).await;
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--allow-category marketing"),
        "{}",
        stderr(&out)
    );
    assert!(env.sim_messages().await.is_empty(), "nothing sent");

    let out = env.run(&input, &["--allow-category", "marketing"]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(env.sim_messages().await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_paused_mid_night_stops_the_sends_and_skips_the_rest() {
    let mut s = fast();
    s.faults.pause_template_after = Some(3);
    let env = Env::start(s).await;
    let n = 12;
    let input = env.csv(&rows("75", n));
    let out = env.run(&input, &["--concurrency", "1"]).await;
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    assert_eq!(
        env.sim_messages().await.len(),
        3,
        "nothing sent after the pause"
    );
    let report = env.report();
    assert_eq!(report.len(), n);
    let sent = report.iter().filter(|r| !r["wamid"].is_empty()).count();
    assert_eq!(sent, 3, "{report:?}");
    for r in report.iter().filter(|r| r["wamid"].is_empty()) {
        assert!(
            ["skipped", "rejected"].contains(&r["outcome"].as_str()),
            "{r:?}"
        );
    }
    assert!(
        report.iter().any(|r| r["error_detail"].contains("paused")),
        "the reason names the pause: {report:?}"
    );
}

/// `--daily-recipients 10` over two runs within 24 hours: ten partners
/// messaged in all, the rest `skipped` with the reason; once the window
/// has passed (the ledger's send times moved back a day), a rerun of the
/// report sends the rest, ten more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_recipient_budget_holds_across_runs_until_the_window_passes() {
    let env = Env::start(fast()).await;
    let budget = ["--daily-recipients", "10"];
    let first = env.csv(&rows("76", 6));
    let out = env.run(&first, &budget).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(env.sim_messages().await.len(), 6);

    // The second run of the day: 24 more partners, room for 4.
    let second = env.csv(&rows("77", 24));
    let out = env.run(&second, &budget).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    assert_eq!(env.sim_messages().await.len(), 10, "ten recipients in all");
    let report = env.report();
    let skipped: Vec<_> = report
        .iter()
        .filter(|r| r["outcome"] == "skipped")
        .collect();
    assert_eq!(skipped.len(), 20, "{report:?}");
    for r in &skipped {
        assert!(r["error_detail"].contains("--daily-recipients 10"), "{r:?}");
        assert!(r["reason"].contains("daily budget"), "{r:?}");
    }

    // The dry run of a rerun says what the budget holds back, and sends nothing.
    let out = env
        .rerun("rerun.csv", &["--daily-recipients", "10", "--dry-run"])
        .await;
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("20 past the daily budget"), "{said}");
    assert_eq!(env.sim_messages().await.len(), 10);

    // A day later.
    let ledger = rusqlite::Connection::open(env.path("ledger.sqlite")).unwrap();
    ledger
        .execute(
            "UPDATE attempts SET intent_at = intent_at - 25 * 3600 * 1000",
            [],
        )
        .unwrap();
    drop(ledger);
    let out = env.rerun("rerun.csv", &["--daily-recipients", "10"]).await;
    assert_eq!(code(&out), 10, "ten still held: {}", stderr(&out));
    assert_eq!(env.sim_messages().await.len(), 20, "ten more the next day");
}
