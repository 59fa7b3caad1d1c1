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

    // The second run of the day: 24 more partners, room for 4. The end of
    // the run (and its metrics) says the budget is used up.
    let second = env.csv(&rows("77", 24));
    let metrics = env.path("m.prom");
    let with_metrics = [&budget[..], &["--metrics-file", metrics.to_str().unwrap()]].concat();
    let out = env.run(&second, &with_metrics).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let daily = &summary(&out)["daily_recipients"];
    assert_eq!((&daily["used"], &daily["limit"]), (&10.into(), &10.into()));
    let m = crate::unattended::parse_metrics(&metrics);
    assert_eq!(m["handoff_daily_recipients"], 10.0);
    assert_eq!(m["handoff_daily_recipients_limit"], 10.0);
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

/// A partner who stopped business messages (131050) in one night is not
/// messaged the next: the same phone's new order is `suppressed`, with
/// nothing sent; once a person lifts the phone, the order is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_suppresses_the_phone_for_later_orders_until_lifted() {
    let env = Env::start(fast()).await;
    // The simulator's numbers starting 1555020 refuse with 131050.
    let refusing = "+15550201234";
    let night1 = env.csv(&[["Partner", refusing, "S-1", "Item", "Note"]]);
    let out = env.run(&night1, &[]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    assert_eq!(env.report()[0]["outcome"], "failed");
    assert_eq!(env.sim_messages().await.len(), 1);

    let night2 = env.csv(&[
        ["Partner", refusing, "S-2", "Item", "Note"],
        ["Other", "+491761234567", "S-3", "Item", "Note"],
    ]);
    let out = env.run(&night2, &[]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let report = env.report();
    assert_eq!(report[0]["outcome"], "suppressed", "{report:?}");
    assert!(report[0]["error_detail"].contains("131050"), "{report:?}");
    assert_eq!(report[0]["wamid"], "");
    // Delivered, or read if a poll came after the simulator's read.
    assert!(["delivered", "read"].contains(&report[1]["outcome"].as_str()));
    assert_eq!(
        env.sim_messages().await.len(),
        2,
        "nothing sent to the refusing phone"
    );

    let ledger = env.path("ledger.sqlite");
    let ledger = ledger.to_str().unwrap();
    let list = suppressions(&["--ledger", ledger, "--json"]);
    assert_eq!(code(&list), 0, "{}", stderr(&list));
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON");
    assert_eq!(listed["suppressions"][0]["phone"], refusing, "{listed}");
    assert_eq!(listed["suppressions"][0]["code"], 131050);
    assert_eq!(listed["suppressions"][0]["by"], "partner");

    let lifted = suppressions(&["remove", "+1 555 020 1234", "--ledger", ledger]);
    assert_eq!(code(&lifted), 0, "{}", stderr(&lifted));
    let out = env.run(&night2, &[]).await;
    assert_eq!(code(&out), 10, "it fails again, here: {}", stderr(&out));
    assert_eq!(env.sim_messages().await.len(), 3, "sent once lifted");

    // By hand, a phone is suppressed before it ever refuses.
    let added = suppressions(&["add", "+491761234567", "--ledger", ledger]);
    assert_eq!(code(&added), 0, "{}", stderr(&added));
    let night3 = env.csv(&[["Other", "+491761234567", "S-4", "Item", "Note"]]);
    let out = env.run(&night3, &[]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    assert_eq!(env.report()[0]["outcome"], "suppressed");
    assert_eq!(env.sim_messages().await.len(), 3);
}

/// `handoff suppressions ARGS`: the ledger only, no API.
fn suppressions(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
        .arg("suppressions")
        .args(args)
        .output()
        .expect("handoff runs")
}

/// The phones the channel lists as blocked (`GET blockedUsers`) join the
/// suppression list before the night is decided: nothing is sent to them,
/// and the list shows them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_channels_blocked_users_are_suppressed_before_anything_is_sent() {
    let mut s = fast();
    s.blocked_users = vec!["491520000401".into()];
    let env = Env::start(s).await;
    let input = env.csv(&[
        ["Blocked", "+49 152 0000401", "K-1", "Item", "Note"],
        ["Open", "+49 152 0000402", "K-2", "Item", "Note"],
    ]);
    // The preview holds the blocked phone back as the run will.
    let dry = env.run(&input, &["--dry-run"]).await;
    let said = String::from_utf8_lossy(&dry.stdout);
    assert!(
        said.contains("2 rows: 1 to send, 0 invalid, 0 duplicate, 1 to suppressed phones."),
        "{said}"
    );
    let out = env.run(&input, &[]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let report = env.report();
    assert_eq!(report[0]["outcome"], "suppressed", "{report:?}");
    let sent = env.sim_messages().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["phone"], "491520000402");

    let ledger = env.path("ledger.sqlite");
    let list = suppressions(&["--ledger", ledger.to_str().unwrap(), "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON");
    assert_eq!(
        listed["suppressions"][0]["phone"], "+491520000401",
        "{listed}"
    );
}
