//! Where a message went: a rehearsal (`run --simulate`) and a real run
//! never share a ledger, and a message one real channel accepted counts
//! for a night on another. The real binary against simulators over HTTP;
//! a standalone simulator on its own channel id stands in for production.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use crate::binary::*;

/// A fast simulated channel whose instance id is `channel`.
async fn channel(channel: &str) -> Env {
    let mut s = fast();
    s.instance_id = channel.into();
    Env::start(s).await
}

/// `handoff run INPUT --simulate ARGS` in `env`'s directory, with fast
/// test defaults and no credentials.
async fn rehearse(env: &Env, input: &Path, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_handoff"));
    cmd.arg("run")
        .arg(input)
        .arg("--simulate")
        .args([
            "--rate",
            "200",
            "--pair-interval",
            "0",
            "--first-poll",
            "50ms",
        ])
        .args(["--track-for", "3s", "--quiet"])
        .args(args)
        .current_dir(env.dir.path())
        .env_remove("ONEMSG_TOKEN")
        .env_remove("ONEMSG_API_URL")
        .env_remove("ONEMSG_CHANNEL_ID")
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("handoff finishes within a minute")
        .expect("handoff runs")
}

/// `handoff SUB ARGS --json --ledger LEDGER`, a command that only reads the
/// ledger; its JSON.
async fn ask(ledger: &Path, sub: &str, args: &[&str]) -> Value {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
        .arg(sub)
        .args(args)
        .arg("--json")
        .arg("--ledger")
        .arg(ledger)
        .kill_on_drop(true)
        .output()
        .await
        .expect("handoff runs");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

const NIGHT: [Row; 3] = [
    ["Ada", "491510000101", "T-1", "Lamp", "Thanks"],
    ["Bob", "491510000102", "T-2", "Chair", "Thanks"],
    ["Cid", "491510000103", "T-3", "Desk", "Thanks"],
];

#[track_caller]
fn finished(out: &Output) {
    assert!(
        [0, 10].contains(&code(out)),
        "exit {}: {}",
        code(out),
        stderr(out)
    );
}

#[track_caller]
fn refused(out: &Output, ledger: &Path) {
    let err = stderr(out);
    assert_eq!(code(out), 78, "{err}");
    assert!(
        err.contains(&format!("`{}`", ledger.display())),
        "names the ledger: {err}"
    );
    assert!(err.contains("--ledger PATH"), "says the way out: {err}");
    assert!(err.contains("nothing was sent"), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("error: "))
        .expect("an error line");
    assert!(!line.contains("  "), "one sentence, no gaps: {line}");
}

/// A rehearsal's ledger given to a real run: refused before anything is
/// sent, so the rehearsal's messages are never reported as the night's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_run_refuses_a_ledger_that_holds_a_rehearsal() {
    let production = channel("PROD0001").await;
    let input = production.csv(&NIGHT);
    let ledger = production.path("ledger.sqlite");
    let rehearsal = rehearse(
        &production,
        &input,
        &[
            "--ledger",
            ledger.to_str().unwrap(),
            "--out",
            "rehearsal.csv",
        ],
    )
    .await;
    finished(&rehearsal);

    // Its dry run says so too, rather than preview the rehearsal's
    // messages as already sent.
    let preview = production
        .run(&input, &["--channel", "PROD0001", "--dry-run"])
        .await;
    refused(&preview, &ledger);

    let real = production.run(&input, &["--channel", "PROD0001"]).await;
    refused(&real, &ledger);
    assert!(
        stderr(&real).contains("rehearsals (--simulate)"),
        "{}",
        stderr(&real)
    );
    assert!(production.sim_messages().await.is_empty(), "nothing sent");
    assert!(
        !production.path("reconciliation.csv").exists(),
        "no report that calls the rehearsal's messages sent"
    );
    let runs = ask(&ledger, "runs", &[]).await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1, "{runs}");
    assert_eq!(runs["runs"][0]["simulated"], true, "{runs}");
}

/// A real night's ledger given to a rehearsal: refused, nothing recorded;
/// without `--ledger` a rehearsal keeps a ledger of its own beside its
/// report, even in the folder of the nights' ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehearsal_refuses_a_real_ledger_and_keeps_its_own_by_default() {
    let production = channel("PROD0001").await;
    let input = production.csv(&NIGHT);
    // The nights' ledger where the default puts it, beside the report.
    let ledger = production.path("handoff.ledger.sqlite");
    let night = production
        .run(
            &input,
            &[
                "--channel",
                "PROD0001",
                "--ledger",
                ledger.to_str().unwrap(),
            ],
        )
        .await;
    finished(&night);
    assert_eq!(production.sim_messages().await.len(), 3);

    let rehearsal = rehearse(
        &production,
        &input,
        &[
            "--ledger",
            ledger.to_str().unwrap(),
            "--out",
            "rehearsal.csv",
        ],
    )
    .await;
    refused(&rehearsal, &ledger);
    assert!(
        stderr(&rehearsal).contains("real runs"),
        "{}",
        stderr(&rehearsal)
    );
    let runs = ask(&ledger, "runs", &[]).await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1, "{runs}");
    assert_eq!(runs["runs"][0]["simulated"], false, "{runs}");
    assert_eq!(runs["runs"][0]["channel"], "PROD0001", "{runs}");
    assert_eq!(
        runs["runs"][0]["api_url"],
        production.base.as_str(),
        "{runs}"
    );

    // The same rehearsal without --ledger, its report in the same folder.
    let rehearsal = rehearse(&production, &input, &["--out", "rehearsal.csv"]).await;
    finished(&rehearsal);
    let own = production.path("handoff.rehearsal.ledger.sqlite");
    let runs = ask(&own, "runs", &[]).await;
    assert_eq!(runs["runs"][0]["simulated"], true, "{runs}");
    assert_eq!(
        ask(&ledger, "runs", &[]).await["runs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        production.sim_messages().await.len(),
        3,
        "nothing more sent"
    );
}

/// A message accepted on one real channel reached its partner: a night on
/// another channel with the same ledger does not send it again, and the
/// row, `runs` and `history` name the channel that sent it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_accepted_on_another_real_channel_is_not_sent_again() {
    let first = channel("CHANA001").await;
    let second = channel("CHANB002").await;
    let ledger = first.path("ledger.sqlite");
    let night = first
        .run(&first.csv(&NIGHT[..1]), &["--channel", "CHANA001"])
        .await;
    finished(&night);
    let accepted = first.sim_messages().await;
    assert_eq!(accepted.len(), 1);

    let input = second.csv(&NIGHT[..2]);
    let out = second.path("reconciliation.csv");
    let next = second
        .run(
            &input,
            &[
                "--channel",
                "CHANB002",
                "--ledger",
                ledger.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        )
        .await;
    finished(&next);
    let sent = second.sim_messages().await;
    assert_eq!(
        sent.len(),
        1,
        "only T-2 goes out on the second channel: {sent:?}"
    );
    assert_eq!(sent[0]["phone"], "491510000102", "{sent:?}");
    assert_eq!(first.sim_messages().await.len(), 1);

    let report = second.report();
    let t1 = report.iter().find(|r| r["order_number"] == "T-1").unwrap();
    assert_eq!(
        t1["wamid"],
        accepted[0]["wamid"].as_str().unwrap(),
        "{t1:?}"
    );
    assert_eq!(t1["reused_from_run"], "1", "{t1:?}");
    assert_eq!(t1["reused_from_channel"], "CHANA001", "{t1:?}");
    let t2 = report.iter().find(|r| r["order_number"] == "T-2").unwrap();
    assert_eq!(t2["reused_from_channel"], "", "sent by this run: {t2:?}");

    let runs = ask(&ledger, "runs", &[]).await;
    let channels: Vec<&str> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["CHANA001", "CHANB002"], "{runs}");
    let history = ask(&ledger, "history", &["T-1"]).await;
    assert_eq!(history["messages"][0]["channel"], "CHANA001", "{history}");
    assert_eq!(history["rows"][1]["channel"], "CHANB002", "{history}");
}
