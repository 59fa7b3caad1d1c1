//! Statuses pushed by 1MSG: the real binary's receiver, with the simulator
//! pushing acks to it over loopback. A message whose final ack arrives is
//! never polled; one whose acks are lost is polled and ends right; the
//! channel's other webhook URLs survive a normal end, a SIGTERM and a
//! SIGKILL plus rerun; bad requests are refused, counted, and harmless.

use std::time::Duration;

use serde_json::{Value, json};

use crate::binary::*;
use crate::util::{Receiver, eventually};

const OTHER: &str = "http://127.0.0.1:9/someone-elses-crm";

fn rows(prefix: &str, n: usize) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let phone: &'static str = Box::leak(format!("4917{prefix}{i:04}").into_boxed_str());
            let order: &'static str = Box::leak(format!("{prefix}-{i}").into_boxed_str());
            ["Partner", phone, order, "Item", "Note"]
        })
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The webhook flags for a receiver on `port`, with a first poll late
/// enough that every ack pushed arrives before it.
fn hook_args(port: u16, secret: Option<&str>) -> Vec<String> {
    let mut args = vec![
        "--webhook-listen".to_string(),
        format!("127.0.0.1:{port}"),
        "--webhook-url".to_string(),
        match secret {
            Some(s) => format!("http://127.0.0.1:{port}/hook/{s}"),
            None => format!("http://127.0.0.1:{port}/hook"),
        },
        "--first-poll".to_string(),
        "3s".to_string(),
    ];
    if let Some(s) = secret {
        args.extend(["--webhook-secret".to_string(), s.to_string()]);
    }
    args
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

async fn channel_post(env: &Env, method: &str, body: Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/SIM0001/{method}", env.base))
        .header("Authorization", "Bearer sim-token")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{method} {body}");
}

async fn webhook_urls(env: &Env) -> Value {
    env.get("/SIM0001/webhook?token=sim-token").await["webhookUrl"].clone()
}

async fn acks_on(env: &Env) -> Value {
    env.get("/SIM0001/settings?token=sim-token").await["ackNotificationsOn"].clone()
}

fn hook_info_calls(stats: &Value) -> u64 {
    stats["requests"]["hookInfo"]
        .as_object()
        .map_or(0, |m| m.values().map(|v| v.as_u64().unwrap()).sum())
}

/// The `hookInfo` calls about messages: all of them but the one probe of
/// each `run`'s preflight (an id that is no message).
fn message_polls(stats: &Value, runs: u64) -> u64 {
    hook_info_calls(stats) - runs
}

fn ledger(env: &Env) -> rusqlite::Connection {
    rusqlite::Connection::open(env.path("ledger.sqlite")).unwrap()
}

/// Polls per message, from the ledger.
fn polls(env: &Env) -> Vec<(String, i64)> {
    let conn = ledger(env);
    let mut stmt = conn
        .prepare("SELECT wamid, polls FROM messages ORDER BY wamid")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn open_registrations(env: &Env) -> i64 {
    ledger(env)
        .query_row(
            "SELECT count(*) FROM webhook_registrations WHERE restored_at IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

fn assert_all_final(env: &Env, n: usize) {
    let report = env.report();
    assert_eq!(report.len(), n);
    for r in &report {
        assert!(
            ["delivered", "read"].contains(&r["outcome"].as_str()),
            "{r:?}"
        );
        // The time of its final status: 1MSG's, or the ack's arrival.
        let at = format!("{}_at", r["outcome"]);
        assert!(!r[at.as_str()].is_empty(), "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn final_acks_need_no_hookinfo_call_and_other_urls_stay() {
    let env = Env::start(fast()).await;
    // Someone else's webhook, and acks already on.
    let other = Receiver::start().await;
    channel_post(&env, "webhook", json!({"webhookUrl": [OTHER, other.url]})).await;
    channel_post(&env, "settings", json!({"ackNotificationsOn": true})).await;
    let n = 8;
    let input = env.csv(&rows("1", n));
    let port = free_port();
    let args = hook_args(port, None);
    let out = env.run(&input, &strs(&args)).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_all_final(&env, n);
    assert_eq!(message_polls(&env.stats().await, 1), 0);
    assert!(
        polls(&env).iter().all(|(_, p)| *p == 0),
        "{:?}",
        polls(&env)
    );
    let s = summary(&out);
    assert_eq!(s["polls"], 0);
    assert_eq!(s["webhook"]["pushed_finals"], n);
    assert!(s["webhook"]["merged"].as_u64().unwrap() >= n as u64, "{s}");
    // The others are as they were, ours is gone, acks still on.
    assert_eq!(webhook_urls(&env).await, json!([OTHER, other.url]));
    assert_eq!(acks_on(&env).await, true);
    assert_eq!(open_registrations(&env), 0);
    // The other receiver got the pushes too.
    assert!(!other.acks().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_whose_acks_are_lost_are_polled_and_end_right() {
    let mut scenario = fast();
    scenario.seed = 7;
    scenario.webhooks.drop = 0.6;
    let env = Env::start(scenario).await;
    let n = 16;
    let input = env.csv(&rows("2", n));
    let port = free_port();
    let mut args = hook_args(port, None);
    args.extend(["--first-poll".into(), "400ms".into()]);
    let out = env.run(&input, &strs(&args)).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_all_final(&env, n);
    let stats = env.stats().await;
    assert!(stats["webhook_dropped"].as_u64().unwrap() > 0, "{stats}");
    let polls = polls(&env);
    let polled = polls.iter().filter(|(_, p)| *p > 0).count();
    let total: i64 = polls.iter().map(|(_, p)| p).sum();
    assert!(polled > 0, "some acks were lost, so some were polled");
    assert!(polled < n, "the rest came by webhook and were not polled");
    assert_eq!(total as u64, message_polls(&stats, 1), "every call counted");
    let s = summary(&out);
    assert_eq!(
        s["webhook"]["pushed_finals"].as_u64().unwrap() as usize + polled,
        n,
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_and_out_of_order_acks_change_nothing() {
    let mut scenario = fast();
    scenario.seed = 3;
    scenario.webhooks.duplicate = true;
    scenario.webhooks.out_of_order = true;
    scenario.latency.read_ratio = 1.0;
    let env = Env::start(scenario).await;
    let n = 8;
    let input = env.csv(&rows("3", n));
    let port = free_port();
    let args = hook_args(port, None);
    let out = env.run(&input, &strs(&args)).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_all_final(&env, n);
    assert_eq!(message_polls(&env.stats().await, 1), 0);
    let s = summary(&out);
    assert!(s["webhook"]["unchanged"].as_u64().unwrap() > 0, "{s}");
    // Monotonic: a message whose history holds `read` is `read`, whatever
    // order its acks came in.
    let conn = ledger(&env);
    let regressed: i64 = conn
        .query_row(
            "SELECT count(*) FROM messages m WHERE m.status <> 'read' AND EXISTS
               (SELECT 1 FROM status_history h WHERE h.message_id = m.message_id
                  AND h.status = 'read')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(regressed, 0);
    let duplicates: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT message_id, status FROM status_history
               GROUP BY message_id, status HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(duplicates, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_restores_the_channel_webhooks() {
    let env = Env::start(fast()).await;
    channel_post(&env, "webhook", json!({"webhookUrl": OTHER})).await;
    let n = 40;
    let input = env.csv(&rows("4", n));
    let port = free_port();
    let mut args = hook_args(port, None);
    args.extend(["--rate".into(), "20".into()]);
    let child = env
        .command(&input, &strs(&args), "sim-token")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let ours = format!("http://127.0.0.1:{port}/hook");
    // The URL and the ack switch are two calls: wait for both, so the
    // signal comes after the registration whatever the machine's load.
    let registered = eventually(|| async {
        let urls = webhook_urls(&env).await;
        (urls == json!([OTHER, ours]) && acks_on(&env).await == true).then_some(())
    })
    .await;
    assert!(registered.is_some(), "ours added beside the other, acks on");
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert_eq!(webhook_urls(&env).await, json!([OTHER]));
    assert_eq!(acks_on(&env).await, false, "switched off again: it was off");
    assert_eq!(open_registrations(&env), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_sigkill_the_next_run_restores_the_channel_webhooks() {
    let env = Env::start(fast()).await;
    channel_post(&env, "webhook", json!({"webhookUrl": OTHER})).await;
    let n = 40;
    let input = env.csv(&rows("5", n));
    let port = free_port();
    let mut args = hook_args(port, None);
    args.extend(["--rate".into(), "20".into()]);
    let mut child = env
        .command(&input, &strs(&args), "sim-token")
        .spawn()
        .unwrap();
    let ours = format!("http://127.0.0.1:{port}/hook");
    let registered = eventually(|| async {
        let urls = webhook_urls(&env).await;
        (urls == json!([OTHER, ours]) && acks_on(&env).await == true).then_some(())
    })
    .await;
    assert!(registered.is_some(), "ours added beside the other, acks on");
    child.start_kill().unwrap();
    let _ = child.wait().await;
    assert_eq!(
        webhook_urls(&env).await,
        json!([OTHER, ours]),
        "left behind"
    );
    assert_eq!(open_registrations(&env), 1);
    // The next run, without any webhook flag, undoes it first.
    let out = env.run(&input, &[]).await;
    assert!([0, 10].contains(&code(&out)), "{}", stderr(&out));
    assert_eq!(webhook_urls(&env).await, json!([OTHER]));
    assert_eq!(acks_on(&env).await, false);
    assert_eq!(open_registrations(&env), 0);
}

/// POSTs `body` to `url` with an optional header secret; the status.
async fn post(url: &str, body: Vec<u8>, header: Option<&str>) -> u16 {
    let mut req = reqwest::Client::new().post(url).body(body);
    if let Some(s) = header {
        req = req.header("X-Handoff-Secret", s);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_counted_and_the_run_goes_on() {
    let env = Env::start(fast()).await;
    let n = 30;
    let input = env.csv(&rows("6", n));
    let port = free_port();
    let mut args = hook_args(port, Some("s3cret"));
    args.extend(["--rate".into(), "20".into()]);
    let child = env
        .command(&input, &strs(&args), "sim-token")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/hook");
    let up = eventually(|| async {
        reqwest::Client::new()
            .get(format!("{base}/s3cret"))
            .send()
            .await
            .ok()
            .filter(|r| r.status() == 200)
    })
    .await;
    assert!(up.is_some(), "the receiver answers");
    let ack = br#"{"instanceId":"SIM0001","ack":[{"id":"wamid.not-ours","status":"read"}]}"#;
    assert_eq!(post(&base, ack.to_vec(), None).await, 401);
    assert_eq!(
        post(&format!("{base}/wrong"), ack.to_vec(), None).await,
        401
    );
    assert_eq!(post(&base, ack.to_vec(), Some("nope")).await, 401);
    let ok = format!("{base}/s3cret");
    assert_eq!(post(&ok, b"status=read".to_vec(), None).await, 400);
    assert_eq!(post(&ok, br#"{"hello":"world"}"#.to_vec(), None).await, 422);
    assert_eq!(post(&ok, vec![b' '; 2 << 20], None).await, 413);
    assert_eq!(post(&base, ack.to_vec(), Some("s3cret")).await, 200);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_all_final(&env, n);
    let w = &summary(&out)["webhook"];
    assert_eq!(w["unauthorized"], 3, "{w}");
    assert_eq!(w["not_json"], 1, "{w}");
    assert_eq!(w["unknown_shape"], 1, "{w}");
    assert_eq!(w["too_large"], 1, "{w}");
    assert!(w["unknown_wamids"].as_u64().unwrap() >= 1, "{w}");
    let stored: i64 = ledger(&env)
        .query_row(
            "SELECT (SELECT count(*) FROM messages WHERE wamid = 'wamid.not-ours')
                  + (SELECT count(*) FROM status_history h JOIN messages m USING (message_id)
                     WHERE m.wamid = 'wamid.not-ours')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0, "an unknown wamid is counted, not stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handoff_receive_records_acks_that_track_then_finds_final() {
    let env = Env::start(fast()).await;
    let port = free_port();
    let ledger_path = env.path("ledger.sqlite");
    // The ledger exists before the receiver opens it.
    handoff::ledger::Ledger::open(&ledger_path).unwrap();
    let mut receiver = tokio::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args(["receive", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--ledger")
        .arg(&ledger_path)
        .arg("--quiet")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/");
    let up =
        eventually(|| async { reqwest::get(&url).await.ok().filter(|r| r.status() == 200) }).await;
    assert!(up.is_some(), "handoff receive answers");
    channel_post(&env, "webhook", json!({"webhookUrl": url})).await;
    channel_post(&env, "settings", json!({"ackNotificationsOn": true})).await;
    // A run that stops tracking at once: every row left pending.
    let n = 6;
    let input = env.csv(&rows("7", n));
    let out = env
        .run(&input, &["--first-poll", "30s", "--track-for", "0s"])
        .await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    // The receiver records the acks as they come.
    let conn = ledger(&env);
    let all_final = eventually(|| async {
        let open: i64 = conn
            .query_row("SELECT count(*) FROM messages WHERE final = 0", [], |r| {
                r.get(0)
            })
            .unwrap();
        (open == 0).then_some(())
    })
    .await;
    assert!(all_final.is_some(), "every message final by webhook");
    let out = env
        .sub(
            "track",
            &[
                "--out",
                env.path("reconciliation.csv").to_str().unwrap(),
                "--ledger",
                ledger_path.to_str().unwrap(),
            ],
        )
        .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_all_final(&env, n);
    assert_eq!(message_polls(&env.stats().await, 1), 0);
    let pid = receiver.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), receiver.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

/// A run stopped early by the API (`want`) still takes its URL off.
async fn stopped_run_restores(scenario: handoff_sim::Scenario, want: i32) {
    let env = Env::start(scenario).await;
    channel_post(&env, "webhook", json!({"webhookUrl": OTHER})).await;
    let input = env.csv(&rows("8", 12));
    let port = free_port();
    let args = hook_args(port, None);
    let out = env.run(&input, &strs(&args)).await;
    assert_eq!(code(&out), want, "{}", stderr(&out));
    assert_eq!(webhook_urls(&env).await, json!([OTHER]), "exit {want}");
    assert_eq!(acks_on(&env).await, false, "exit {want}");
    assert_eq!(open_registrations(&env), 0, "exit {want}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_stopped_with_69_or_78_restore_the_channel_webhooks() {
    let mut refusing = fast();
    refusing.rules.push(handoff_sim::scenario::Rule {
        reject: Some(132_001),
        ..handoff_sim::scenario::Rule::default()
    });
    stopped_run_restores(refusing, 78).await;
    let mut failing = fast();
    failing.faults.error_5xx = 1.0;
    stopped_run_restores(failing, 69).await;
}

/// An ack without the secret, for one of our own messages, is refused
/// (401) and changes nothing; the same ack with the secret is merged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ack_without_the_secret_changes_no_row() {
    let env = Env::start(fast()).await;
    let input = env.csv(&rows("8", 2));
    // Tracking ends at once: the messages have no status yet.
    let out = env
        .run(&input, &["--first-poll", "30s", "--track-for", "0s"])
        .await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let conn = ledger(&env);
    let wamid: String = conn
        .query_row(
            "SELECT wamid FROM messages ORDER BY wamid LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let status = || -> Option<String> {
        conn.query_row(
            "SELECT status FROM messages WHERE wamid = ?1",
            [&wamid],
            |r| r.get(0),
        )
        .unwrap()
    };
    let before = status();
    assert_ne!(before.as_deref(), Some("read"));
    let port = free_port();
    let mut receiver = tokio::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args(["receive", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--ledger")
        .arg(env.path("ledger.sqlite"))
        .args(["--webhook-secret", "s3cret", "--quiet"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/hook");
    let up = eventually(|| async {
        reqwest::get(format!("{base}/s3cret"))
            .await
            .ok()
            .filter(|r| r.status() == 200)
    })
    .await;
    assert!(up.is_some(), "handoff receive answers");
    let ack = json!({"instanceId": "SIM0001", "ack": [{"id": wamid, "status": "read"}]});
    let ack = serde_json::to_vec(&ack).unwrap();
    assert_eq!(post(&base, ack.clone(), None).await, 401);
    assert_eq!(post(&base, ack.clone(), Some("wrong")).await, 401);
    assert_eq!(
        status(),
        before,
        "an ack without the secret changes nothing"
    );
    assert_eq!(post(&base, ack, Some("s3cret")).await, 200);
    assert_eq!(status().as_deref(), Some("read"), "with it, merged");
    receiver.start_kill().unwrap();
    let _ = receiver.wait().await;
}
