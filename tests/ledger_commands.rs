//! The commands that answer questions from the ledger (`runs`, `report
//! --run`, `history`) and `track --run`'s refusal of a run that is not
//! there, end to end: the real binary, a real night against the simulator,
//! then the questions, with `/__sim/stats` proving they asked the API
//! nothing.

use std::process::Output;
use std::time::Duration;

use calamine::{Data, Reader, Xlsx, open_workbook};
use serde_json::Value;

use crate::binary::*;

/// Runs a ledger command: no API flags, no token, so one that tried to
/// reach the API could not.
async fn ask(env: &Env, sub: &str, args: &[&str]) -> Output {
    let ledger = env.path("ledger.sqlite");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_handoff"));
    cmd.arg(sub)
        .args(args)
        .arg("--ledger")
        .arg(&ledger)
        .current_dir(env.dir.path())
        .env_remove("ONEMSG_TOKEN")
        .env_remove("ONEMSG_API_URL")
        .env_remove("ONEMSG_CHANNEL_ID")
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("finishes within a minute")
        .expect("handoff runs")
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A night with one row delivered, one opted out (131050) and one invalid.
const NIGHT: [Row; 3] = [
    ["Ada", "491510000001", "L-1", "Lamp", "Thanks"],
    ["Bob", "15550200001", "L-2", "Chair", "Thanks"],
    ["Cid", "12", "L-3", "Desk", "Thanks"],
];

async fn night(env: &Env) -> Output {
    let input = env.csv(&NIGHT);
    let out = env.run(&input, &[]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_lists_each_run_with_its_end_and_counts() {
    let env = Env::start(fast()).await;
    night(&env).await;
    // A second run, the next night, of the same file: every row reused.
    let again = env.run(&env.path("deliveries.csv"), &[]).await;
    assert_eq!(code(&again), 10, "{}", stderr(&again));

    let out = ask(&env, "runs", &["--json"]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v = stdout_json(&out);
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2);
    for (i, r) in runs.iter().enumerate() {
        assert_eq!(r["run_id"], i as u64 + 1);
        assert_eq!(r["kind"], "run");
        assert!(r["input"].as_str().unwrap().ends_with("deliveries.csv"));
        assert_eq!(r["exit_code"], 10);
        assert!(r["finished_at"].as_str().unwrap() >= r["started_at"].as_str().unwrap());
        assert_eq!(r["rows"], 3);
        let n = |o: &str| r["outcomes"][o].as_u64().unwrap_or(0);
        assert_eq!((n("failed"), n("invalid")), (1, 1), "{r}");
        assert_eq!(n("delivered") + n("read"), 1, "{r}");
        assert_eq!(r["outcomes"].as_object().unwrap().len(), 3, "{r}");
    }

    let table = ask(&env, "runs", &[]).await;
    assert_eq!(code(&table), 0);
    let text = String::from_utf8_lossy(&table.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].contains("exit") && lines[0].contains("outcomes"));
    assert!(
        lines[1].contains("failed 1, invalid 1") && lines[1].contains(" 10 "),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_shows_no_end_and_an_empty_ledger_says_so() {
    let env = Env::start(fast()).await;
    // No ledger: refused as a missing input, not created empty.
    let none = ask(&env, "runs", &[]).await;
    assert_eq!(code(&none), 66, "{}", stderr(&none));
    assert!(!env.path("ledger.sqlite").exists());

    let input = env.csv(&NIGHT[..1]);
    let mut cmd = env.command(&input, &[], "sim-token");
    cmd.env("HANDOFF_CRASH_AT", "after_answer:1");
    let crashed = cmd.output().await.unwrap();
    assert!(!crashed.status.success(), "the crash point aborted it");
    let v = stdout_json(&ask(&env, "runs", &["--json"]).await);
    let run = &v["runs"][0];
    assert_eq!(run["finished_at"], Value::Null, "{run}");
    assert_eq!(run["exit_code"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_rewrites_a_past_run_from_the_ledger_without_asking_the_api() {
    let env = Env::start(fast()).await;
    night(&env).await;
    let original = std::fs::read_to_string(env.path("reconciliation.csv")).unwrap();
    // The next night sends nothing new but is a run of its own.
    env.run(&env.path("deliveries.csv"), &[]).await;
    let before = env.stats().await;

    let out = ask(
        &env,
        "report",
        &["--run", "1", "--out", "again.csv", "--xlsx", "again.xlsx"],
    )
    .await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    assert_eq!(env.stats().await, before, "no request reached the API");
    let again = std::fs::read_to_string(env.path("again.csv")).unwrap();
    assert_eq!(again, original, "the same report as the night wrote");
    let summary = summary(&out);
    assert_eq!(summary["run_id"], 1);
    assert_eq!(summary["rows"], 3);

    let mut book: Xlsx<_> = open_workbook(env.path("again.xlsx")).unwrap();
    let sheet = book.worksheet_range("Reconciliation").unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let outcomes: Vec<Data> = sheet
        .rows()
        .skip(1)
        .map(|r| r[col("Outcome")].clone())
        .collect();
    let in_csv: Vec<Data> = env
        .read_csv("again.csv")
        .iter()
        .map(|r| Data::String(r["outcome"].clone()))
        .collect();
    assert_eq!(outcomes, in_csv);
    assert_eq!(
        outcomes[1..],
        ["failed", "invalid"].map(|s| Data::String(s.into()))
    );

    // Without --run: the latest run; without --out: beside, named by run.
    let latest = ask(&env, "report", &["--quiet"]).await;
    assert_eq!(code(&latest), 10, "{}", stderr(&latest));
    assert!(env.path("reconciliation-run-2.csv").exists());
    assert_eq!(env.stats().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_and_track_refuse_a_run_that_is_not_there_naming_those_that_are() {
    let env = Env::start(fast()).await;
    night(&env).await;
    let before = env.stats().await;

    let report = ask(&env, "report", &["--run", "99"]).await;
    assert_eq!(code(&report), 78, "{}", stderr(&report));
    assert!(stderr(&report).contains("no run 99"), "{}", stderr(&report));
    assert!(stderr(&report).contains("1 (run)"), "{}", stderr(&report));
    assert!(!env.path("reconciliation-run-99.csv").exists());

    let ledger = env.path("ledger.sqlite");
    let out = env.path("tracked.csv");
    let started = std::time::Instant::now();
    let track = env
        .sub(
            "track",
            &[
                "--run",
                "99",
                "--ledger",
                ledger.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--track-for",
                "30s",
            ],
        )
        .await;
    assert_eq!(code(&track), 78, "{}", stderr(&track));
    let said = stderr(&track);
    assert!(
        said.contains("no run 99") && said.contains("1 (run)"),
        "{said}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "refused at once"
    );
    assert!(!out.exists(), "no empty report");
    assert_eq!(env.stats().await, before, "nothing polled");
    let v = stdout_json(&ask(&env, "runs", &["--json"]).await);
    assert_eq!(
        v["runs"].as_array().unwrap().len(),
        1,
        "no track run recorded"
    );

    // A run that exists is tracked as before.
    let ok = env
        .sub(
            "track",
            &[
                "--run",
                "1",
                "--ledger",
                ledger.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--track-for",
                "1s",
            ],
        )
        .await;
    assert_eq!(code(&ok), 10, "{}", stderr(&ok));
    assert!(out.exists());
    // And a track run is not one whose rows can be reported.
    let track_run = ask(&env, "report", &["--run", "2"]).await;
    assert_eq!(code(&track_run), 78);
    assert!(
        stderr(&track_run).contains("`track` run"),
        "{}",
        stderr(&track_run)
    );
}

fn lines_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_tells_every_attempt_message_and_status_of_an_order_across_runs() {
    let env = Env::start(fast()).await;
    night(&env).await;
    // The next morning the phone is fixed and the row rerun.
    let fixed = env.path("fixed.csv");
    let report = std::fs::read_to_string(env.path("reconciliation.csv")).unwrap();
    std::fs::write(&fixed, report.replace("15550200001", "491510000002")).unwrap();
    let rerun = env
        .rerun_file(&fixed, Some(&env.path("fixed-out.csv")), &[])
        .await;
    assert_eq!(code(&rerun), 10, "{}", stderr(&rerun));
    let before = env.stats().await;

    let out = ask(&env, "history", &["  L-2 ", "--json"]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(env.stats().await, before, "no request reached the API");
    let h = stdout_json(&out);
    assert_eq!(h["order_number"], "L-2");
    let rows = h["rows"].as_array().unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r["run_id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2]
    );
    let attempts = h["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{h}");
    assert_eq!(attempts[0]["phone"], "15550200001");
    assert_eq!(attempts[1]["phone"], "491510000002");
    let messages = h["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    // Each message names where it went (its attempt's recipient).
    assert_eq!(messages[0]["phone"], "15550200001", "{h}");
    assert_eq!(messages[1]["phone"], "491510000002", "{h}");
    let statuses = |m: &Value| -> Vec<String> {
        m["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["status"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(statuses(&messages[0]).contains(&"failed".to_string()));
    let failed = messages[0]["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "failed")
        .unwrap();
    assert_eq!(failed["error_code"], 131_050);
    assert!(
        statuses(&messages[1]).contains(&"delivered".to_string()),
        "{h}"
    );
    assert_eq!(attempts[1]["wamid"], messages[1]["wamid"]);

    let table = lines_of(&ask(&env, "history", &["L-2"]).await);
    assert!(table.contains("run 1 (run"), "{table}");
    assert!(table.contains("run 2 (rerun"), "{table}");
    assert!(table.contains("attempt 1 to 15550200001"), "{table}");
    assert!(table.contains("failed (code 131050)"), "{table}");
    assert!(table.contains("attempt 1 to 491510000002"), "{table}");

    let unknown = ask(&env, "history", &["NOPE"]).await;
    assert_eq!(code(&unknown), 0);
    assert!(lines_of(&unknown).contains("nothing about order `NOPE`"));
}
