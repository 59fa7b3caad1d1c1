//! The real 1MSG API's variants (docs/real-api.md), each played
//! by the simulator and met by the real binary over real HTTP. Every test
//! checks the run against the simulator's ground truth (`/__sim/messages`):
//! no order accepted twice, every accepted message in exactly one report
//! row with the simulator's status (or its row `unknown` and explained),
//! and no report row that claims a message the simulator never accepted.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use crate::binary::*;

/// `n` deliveries to distinct phones, orders `{prefix}-{i}`.
pub(crate) fn rows(prefix: &str, n: usize) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let phone: &'static str = Box::leak(format!("4916{prefix}{i:05}").into_boxed_str());
            let order: &'static str = Box::leak(format!("{prefix}-{i}").into_boxed_str());
            ["Partner", phone, order, "Item", "Note"]
        })
        .collect()
}

/// What a status means for finance: the simulator's last word for a
/// message, read the way the client must read it (a proof of delivery wins
/// over a failure, whichever came last).
fn meaning(statuses: &[String]) -> &'static str {
    let has = |words: &[&str]| statuses.iter().any(|s| words.contains(&s.as_str()));
    if has(&["read", "viewed", "played"]) {
        "read"
    } else if has(&["delivered"]) {
        "delivered"
    } else if has(&["failed", "undelivered"]) {
        "failed"
    } else {
        "sent"
    }
}

/// The statuses the simulator has played for `wamid` so far, oldest first.
async fn sim_statuses(env: &Env, wamid: &str) -> Vec<String> {
    let truth = env.get("/__sim/messages").await;
    truth["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["wamid"] == wamid)
        .and_then(|m| m["statuses"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// The ground-truth checks every variant test ends with. Returns the
/// report, keyed by order number.
pub(crate) async fn assert_truthful(
    env: &Env,
    context: &str,
) -> HashMap<String, HashMap<String, String>> {
    let report = env.report();
    let by_order: HashMap<String, HashMap<String, String>> = report
        .iter()
        .map(|r| (r["order_number"].clone(), r.clone()))
        .collect();
    assert_eq!(by_order.len(), report.len(), "{context}: one row per order");
    let truth = env.sim_messages().await;
    let mut accepted: HashMap<String, Vec<&Value>> = HashMap::new();
    for m in &truth {
        let order = m["params"][1].as_str().unwrap().to_string();
        accepted.entry(order).or_default().push(m);
    }
    for (order, messages) in &accepted {
        assert_eq!(
            messages.len(),
            1,
            "{context}: order {order} was accepted {} times: {messages:?}",
            messages.len()
        );
        let m = messages[0];
        let wamid = m["wamid"].as_str().unwrap();
        let row = by_order
            .get(order)
            .unwrap_or_else(|| panic!("{context}: accepted order {order} has no report row"));
        let holding: Vec<&HashMap<String, String>> =
            report.iter().filter(|r| r["wamid"] == wamid).collect();
        if holding.is_empty() {
            // The client never learned this wamid: it must not claim
            // anything about the message, and must say why.
            assert_eq!(
                row["outcome"], "unknown",
                "{context}: order {order} was accepted as {wamid} but the report says {row:?}"
            );
            assert!(
                !row["error_detail"].trim().is_empty(),
                "{context}: unknown row without a reason: {row:?}"
            );
            continue;
        }
        assert_eq!(holding.len(), 1, "{context}: {wamid} in several rows");
        assert_eq!(holding[0]["order_number"], *order, "{context}: {wamid}");
        let statuses = sim_statuses(env, wamid).await;
        let want = meaning(&statuses);
        let got = row["outcome"].as_str();
        // The report may lag the simulator only by statuses that had not
        // been played when tracking ended (`sent`, `pending`), or by a
        // `read` after `delivered` (delivered is final: polling stops).
        let lags = (["sent", "pending"].contains(&got) && want != "failed")
            || (got == "delivered" && want == "read");
        assert!(
            got == want || lags,
            "{context}: order {order} ({wamid}) is `{got}` in the report, `{want}` at the simulator ({statuses:?}): {row:?}"
        );
    }
    for r in &report {
        if !r["wamid"].is_empty() {
            assert!(
                truth.iter().any(|m| m["wamid"] == r["wamid"].as_str()),
                "{context}: the report names a wamid the simulator never issued: {r:?}"
            );
        }
        if r["outcome"] == "unknown" {
            assert!(
                !r["error_detail"].trim().is_empty(),
                "{context}: unknown row without a reason: {r:?}"
            );
        }
    }
    by_order
}

/// A rehearsal with `--simulate`, interrupted, then the same command: the
/// second embedded simulator must not issue the first one's wamids again
/// (that ended in exit 70, "already recorded").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_rehearsal_interrupted_and_run_again_completes() {
    let env = Env::start(fast()).await;
    let n = 40;
    let input = env.csv(&rows("71", n));
    let command = || {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_handoff"));
        cmd.arg("run")
            .arg(&input)
            .arg("--simulate")
            .arg("--out")
            .arg(env.path("reconciliation.csv"))
            .arg("--ledger")
            .arg(env.path("ledger.sqlite"))
            .args(["--rate", "4", "--first-poll", "50ms", "--track-for", "1s"])
            .args(["--quiet"])
            .env_remove("ONEMSG_TOKEN")
            .env_remove("ONEMSG_API_URL")
            .env_remove("ONEMSG_CHANNEL_ID")
            .kill_on_drop(true);
        cmd
    };
    let child = command().spawn().unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    let first = env.report();
    let sent_first = first.iter().filter(|r| !r["wamid"].is_empty()).count();
    assert!(sent_first > 0 && sent_first < n, "{first:?}");

    let out = tokio::time::timeout(Duration::from_secs(60), command().output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        [0, 10].contains(&code(&out)),
        "exit {}: {}",
        code(&out),
        stderr(&out)
    );
    let second = env.report();
    assert_eq!(second.len(), n);
    let mut wamids: Vec<&str> = second
        .iter()
        .map(|r| r["wamid"].as_str())
        .filter(|w| !w.is_empty())
        .collect();
    assert_eq!(wamids.len(), n, "every row sent once: {second:?}");
    wamids.sort_unstable();
    wamids.dedup();
    assert_eq!(wamids.len(), n, "no wamid twice: {second:?}");
    for r in &first {
        if !r["wamid"].is_empty() {
            let again = second
                .iter()
                .find(|s| s["order_number"] == r["order_number"])
                .unwrap();
            assert_eq!(again["wamid"], r["wamid"], "not sent again: {again:?}");
        }
    }
}

/// A3: `{"sent":true}` without an id is an acceptance. It is never sent
/// again; its wamid is found in the history and tracked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sent_true_without_an_id_is_found_in_the_history_and_never_resent() {
    let mut s = fast();
    s.faults.sent_no_id = 1.0;
    let env = Env::start(s).await;
    let input = env.csv(&rows("72", 5));
    let out = env.run(&input, &["--lookup-for", "5s"]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = assert_truthful(&env, "sent:true without an id").await;
    assert_eq!(report.len(), 5);
    for r in report.values() {
        assert!(!r["wamid"].is_empty(), "{r:?}");
    }
    assert_eq!(send_requests(&env.stats().await), 5, "nothing sent twice");
}

/// `run --simulate --simulate-profile hostile`: a rehearsal against the
/// rude simulator needs no scenario file; an unknown profile is refused
/// before anything runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehearsal_can_use_the_hostile_profile() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("deliveries.csv");
    std::fs::write(
        &input,
        "Partner Name,Partner Phone,Order Number,Product Name,Delivery Note\n\
         Ada,+49 151 2345 6701,H-1,Lamp,Dock 1\n\
         Bea,+44 7700 900123,H-2,Desk,Dock 2\n\
         Cyd,+1 555 010 1234,H-3,Chair,Dock 3\n",
    )
    .unwrap();
    let run = |profile: &str| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_handoff"));
        cmd.current_dir(dir.path())
            .arg("run")
            .arg(&input)
            .args(["--simulate", "--simulate-profile", profile])
            .args(["--token-in", "query", "--quiet"])
            .args(["--first-poll", "100ms", "--track-for", "3s"])
            .args(["--lookup-after", "100ms", "--lookup-for", "0s"])
            .env_remove("ONEMSG_TOKEN")
            .env_remove("ONEMSG_API_URL")
            .env_remove("ONEMSG_CHANNEL_ID");
        cmd.output().unwrap()
    };
    let out = run("nasty");
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no simulator profile `nasty`; choose default or hostile"),
        "{}",
        stderr(&out)
    );
    let out = run("hostile");
    // Exit 10: the third partner is one of the simulator's built-in
    // numbers that are not on WhatsApp, so one row needs a person.
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let report: Vec<HashMap<String, String>> =
        csv::Reader::from_path(dir.path().join("reconciliation.csv"))
            .unwrap()
            .deserialize()
            .map(Result::unwrap)
            .collect();
    assert_eq!(report.len(), 3);
    assert_eq!(report[2]["outcome"], "failed", "{:?}", report[2]);
    assert_eq!(report[2]["error_code"], "131026", "{:?}", report[2]);
}

/// B5/A3: an answer without `sent` that named an id is confirmed by
/// `hookInfo` for that id, even on a channel that keeps no history: the
/// message is tracked, never sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_the_answer_named_is_confirmed_by_its_statuses_without_a_history() {
    let mut s = fast();
    s.faults.no_sent_field = 1.0;
    s.history.enabled = false;
    let env = Env::start(s).await;
    let input = env.csv(&rows("73", 3));
    let out = env
        .run(&input, &["--lookup-for", "3s", "--history-proves-absence"])
        .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = assert_truthful(&env, "an id named without sent").await;
    for r in report.values() {
        assert!(
            ["delivered", "read"].contains(&r["outcome"].as_str()),
            "{r:?}"
        );
        // Without a history, only hookInfo for the named id can have
        // settled it.
        assert!(!r["wamid"].is_empty(), "{r:?}");
    }
    assert_eq!(send_requests(&env.stats().await), 3, "nothing sent twice");
}

/// `handoff COMMAND [FILE] --simulate` on the test's rehearsal ledger.
fn rehearsal(
    env: &Env,
    command: &str,
    file: &std::path::Path,
    out: &str,
    args: &[&str],
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_handoff"));
    cmd.arg(command);
    if command != "track" {
        cmd.arg(file);
    }
    cmd.arg("--simulate")
        .arg("--out")
        .arg(env.path(out))
        .arg("--ledger")
        .arg(env.path("ledger.sqlite"))
        .args(["--first-poll", "50ms", "--quiet"])
        .args(args)
        .env_remove("ONEMSG_TOKEN")
        .env_remove("ONEMSG_API_URL")
        .env_remove("ONEMSG_CHANNEL_ID")
        .kill_on_drop(true);
    cmd
}

/// Runs `cmd` to its end (90 s at most).
async fn finish(mut cmd: tokio::process::Command) -> std::process::Output {
    tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("finishes")
        .unwrap()
}

/// The messages the rehearsal's channel remembers (its memory file, one
/// JSON line a message, beside the ledger).
fn remembered(env: &Env) -> Vec<Value> {
    std::fs::read_to_string(env.path("ledger.sim.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The reconciliation `from` as a person corrects it: order `order`'s
/// phone set to `phone`, saved as `to`.
fn corrected(env: &Env, from: &str, to: &str, order: &str, phone: &str) -> std::path::PathBuf {
    let mut reader = csv::Reader::from_path(env.path(from)).unwrap();
    let headers = reader.headers().unwrap().clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (phone_at, order_at) = (at("phone"), at("order_number"));
    let path = env.path(to);
    let mut writer = csv::Writer::from_path(&path).unwrap();
    writer.write_record(&headers).unwrap();
    for record in reader.records() {
        let mut fields: Vec<String> = record.unwrap().iter().map(str::to_string).collect();
        if fields[order_at] == order {
            fields[phone_at] = phone.into();
        }
        writer.write_record(&fields).unwrap();
    }
    writer.flush().unwrap();
    path
}

/// A rehearsal of the whole night and its morning: `run --simulate`,
/// SIGINT, the same again, `rerun --simulate` of a corrected file and
/// `track --simulate` share one rehearsal ledger and one simulated channel
/// that remembers its messages beside it, so each continues the others'
/// messages: every row ends final and no order is sent twice (the
/// channel's own memory file is the ground truth).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehearsal_of_the_whole_morning_continues_one_channel() {
    let env = Env::start(fast()).await;
    let n = 30;
    let mut input_rows = rows("73", n);
    input_rows.push(["Partner", "123", "73-bad", "Item", "Note"]);
    let input = env.csv(&input_rows);

    // The night, interrupted while it sends.
    let run_args = ["--rate", "4", "--track-for", "1s"];
    let child = rehearsal(&env, "run", &input, "reconciliation.csv", &run_args)
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while remembered(&env).len() < 3 && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id().unwrap().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status();
    assert!(kill.unwrap().success());
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(remembered(&env).len() < n, "interrupted while sending");

    // The same again: the rest is sent, nothing twice.
    let out = finish(rehearsal(
        &env,
        "run",
        &input,
        "reconciliation.csv",
        &run_args,
    ))
    .await;
    assert_eq!(code(&out), 10, "the invalid row: {}", stderr(&out));
    assert_eq!(remembered(&env).len(), n);

    // A person corrects the invalid row's phone and reruns the file.
    let fixed = corrected(
        &env,
        "reconciliation.csv",
        "fixed.csv",
        "73-bad",
        "+491673099999",
    );
    let track_briefly = ["--track-for", "1s"];
    let out = finish(rehearsal(
        &env,
        "rerun",
        &fixed,
        "rerun.csv",
        &track_briefly,
    ))
    .await;
    assert!([0, 10].contains(&code(&out)), "{}", stderr(&out));
    assert_eq!(remembered(&env).len(), n + 1, "the corrected row sent");

    // The morning: track follows every message to its end.
    let out = finish(rehearsal(
        &env,
        "track",
        &fixed,
        "rerun.csv",
        &["--track-for", "30s"],
    ))
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = env.read_csv("rerun.csv");
    assert_eq!(report.len(), n + 1);
    let kept = remembered(&env);
    for r in &report {
        assert!(
            ["delivered", "read"].contains(&r["outcome"].as_str()),
            "every row final: {r:?}"
        );
        assert!(
            kept.iter().any(|m| m["wamid"] == r["wamid"].as_str()),
            "the report names a wamid the channel never issued: {r:?}"
        );
    }
    let mut orders: Vec<&str> = kept
        .iter()
        .filter_map(|m| m["params"][1].as_str())
        .collect();
    orders.sort_unstable();
    let all = orders.len();
    orders.dedup();
    assert_eq!((all, orders.len()), (n + 1, n + 1), "no order sent twice");
}
