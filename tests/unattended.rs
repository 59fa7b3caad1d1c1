//! The nightly job as the operator who is paged sees it: outputs checked
//! before the first send, a record (metrics and JSON summary) on every
//! exit, a notice when a new ledger starts, an empty export refused, a
//! closed pipe, colours and JSON log lines.

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use crate::binary::*;

fn rows(prefix: &str, n: usize) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let phone: &'static str = Box::leak(format!("4917{prefix}{i:04}").into_boxed_str());
            let order: &'static str = Box::leak(format!("U{prefix}-{i}").into_boxed_str());
            ["Partner", phone, order, "Item", "Note"]
        })
        .collect()
}

/// The metrics file read by a Prometheus text-format parser: every sample
/// line must parse, keyed `name{label="value",…}` with labels sorted.
pub(crate) fn parse_metrics(path: &Path) -> HashMap<String, f64> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the metrics file {} is there: {e}", path.display()));
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("the exposition text parses");
    let sample_lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count();
    assert_eq!(
        scrape.samples.len(),
        sample_lines,
        "every sample line parses: {text}"
    );
    for name in ["handoff_exit_code", "handoff_last_run_timestamp_seconds"] {
        assert!(scrape.docs.contains_key(name), "HELP for {name}: {text}");
    }
    scrape
        .samples
        .into_iter()
        .map(|s| {
            let mut labels: Vec<(String, String)> = s
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            labels.sort();
            let key = if labels.is_empty() {
                s.metric.clone()
            } else {
                let inner: Vec<String> =
                    labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
                format!("{}{{{}}}", s.metric, inner.join(","))
            };
            let value = match s.value {
                prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Untyped(v) => v,
                other => panic!("{key} is a plain sample, not {other:?}"),
            };
            (key, value)
        })
        .collect()
}

/// The JSON summary file, with the fields every ending has.
fn parse_summary(path: &Path, code: i32) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the summary {} is there: {e}", path.display()));
    let v: Value = serde_json::from_str(text.trim()).expect("the summary is JSON");
    assert_eq!(v["exit_code"], code, "{v}");
    for key in ["started_at", "finished_at"] {
        let at = v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"));
        chrono::DateTime::parse_from_rfc3339(at).unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    assert!(v["started_at"].as_str() <= v["finished_at"].as_str(), "{v}");
    for key in ["sent_this_run", "reused", "rows"] {
        assert!(v[key].is_u64(), "{key} is a number in {v}");
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_output_sends_nothing_and_names_the_path() {
    let env = Env::start(fast()).await;
    let input = env.csv(&rows("1", 2));
    // Root writes anywhere, so the unwritable place is a directory that
    // does not exist, and a path that is a directory.
    let missing = env.path("no-such-dir").join("file");
    let missing = missing.to_str().unwrap();
    let a_dir = env.dir.path().to_str().unwrap();
    for (flag, value) in [
        ("--out", missing),
        ("--xlsx", missing),
        ("--metrics-file", missing),
        ("--summary-json", missing),
        ("--ledger", missing),
        ("--xlsx", a_dir),
    ] {
        let out = env.run(&input, &[flag, value]).await;
        assert_eq!(code(&out), 78, "{flag}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(value), "{flag}: the path is named: {err}");
        assert!(err.contains(flag), "{flag}: the flag is named: {err}");
        assert!(err.contains("nothing was sent"), "{err}");
        assert!(env.sim_messages().await.is_empty(), "{flag}: nothing sent");
        assert!(!env.path("reconciliation.csv").exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_that_cannot_be_written_after_the_sends_leaves_the_rest() {
    let mut s = fast();
    // Statuses come late enough for the report's directory to go away
    // while the run is tracking.
    s.latency.delivered = handoff_sim::duration::Span::fixed(Duration::from_millis(1500));
    let env = Env::start(s).await;
    let input = env.csv(&rows("2", 3));
    let gone = env.path("gone");
    std::fs::create_dir(&gone).unwrap();
    let report = gone.join("reconciliation.csv");
    let (prom, json) = (env.path("handoff.prom"), env.path("summary.json"));
    let args = [
        "--out",
        report.to_str().unwrap(),
        "--metrics-file",
        prom.to_str().unwrap(),
        "--summary-json",
        json.to_str().unwrap(),
    ];
    let mut cmd = env.command(&input, &args, "sim-token");
    let run = tokio::spawn(async move { cmd.output().await.unwrap() });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while env.sim_messages().await.len() < 3 {
        assert!(tokio::time::Instant::now() < deadline, "the sends happen");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    std::fs::remove_dir_all(&gone).unwrap();
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(report.to_str().unwrap()), "{err}");
    assert!(
        err.contains("handoff report --run 1"),
        "the command that writes it again: {err}"
    );
    let metrics = parse_metrics(&prom);
    assert_eq!(metrics["handoff_exit_code"], 78.0);
    assert_eq!(
        metrics["handoff_http_requests_total{endpoint=\"sendTemplate\",result=\"200\"}"],
        3.0
    );
    let v = parse_summary(&json, 78);
    assert_eq!(v["sent_this_run"], 3, "{v}");
    assert_eq!(v["rows"], 3, "{v}");
    assert!(
        v["unwritten"][0].as_str().unwrap().contains("report"),
        "{v}"
    );
    assert_eq!(summary(&out), v, "stdout has the same summary");
    assert_eq!(env.sim_messages().await.len(), 3, "nothing sent twice");
}

/// Runs one night that ends with `want`, with a metrics file and a JSON
/// summary of its own, and checks both.
async fn night(env: &Env, name: &str, input: &Path, args: &[&str], token: &str, want: i32) {
    let prom = env.path(&format!("{name}.prom"));
    let json = env.path(&format!("{name}.json"));
    let mut all = vec![
        "--metrics-file",
        prom.to_str().unwrap(),
        "--summary-json",
        json.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let out = env.run_with_token(input, &all, token).await;
    assert_eq!(code(&out), want, "{name}: {}", stderr(&out));
    let metrics = parse_metrics(&prom);
    assert_eq!(metrics["handoff_exit_code"], f64::from(want), "{name}");
    assert!(
        metrics["handoff_last_run_timestamp_seconds"] > 1.7e9,
        "{name}"
    );
    let has_success = metrics.contains_key("handoff_last_success_timestamp_seconds");
    assert_eq!(has_success, want == 0 || want == 10, "{name}: {metrics:?}");
    let v = parse_summary(&json, want);
    assert_eq!(summary(&out), v, "{name}: stdout has the same summary");
    if want != 0 && want != 10 && want != 75 {
        assert!(v["error"].is_string(), "{name}: the error is said: {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exit_code_leaves_metrics_and_a_summary_that_parse() {
    let env = Env::start(fast()).await;
    let good = env.csv(&rows("3", 2));
    let fine = env.path("fine.csv");
    std::fs::copy(&good, &fine).unwrap();
    night(&env, "ok", &fine, &[], "sim-token", 0).await;
    let bad = env.csv(&[["Partner", "12", "BAD-1", "Item", "Note"]]);
    night(&env, "attention", &bad, &[], "sim-token", 10).await;
    let empty = env.csv(&[]);
    night(&env, "empty", &empty, &[], "sim-token", 65).await;
    let nowhere = env.path("absent.csv");
    night(&env, "no-input", &nowhere, &[], "sim-token", 66).await;
    let later = (chrono::Utc::now() + chrono::Duration::hours(2))
        .format("%H:%M")
        .to_string();
    let window = [
        "--not-before",
        &later,
        "--not-after",
        &later,
        "--timezone",
        "UTC",
    ];
    let again = env.csv(&rows("4", 1));
    night(&env, "window", &again, &window, "sim-token", 75).await;
    night(&env, "token", &again, &[], "wrong-token", 77).await;
    night(
        &env,
        "template",
        &again,
        &["--template", "nope"],
        "sim-token",
        78,
    )
    .await;
    // A flag value refused before the command ran is a failed night too.
    let zero = ["--request-timeout", "0s"];
    night(&env, "flag", &again, &zero, "sim-token", 64).await;
    // An API that answers nothing: the template list is retried, then 69.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    night(
        &env,
        "down",
        &again,
        &["--api-url", &closed],
        "sim-token",
        69,
    )
    .await;
    assert_eq!(
        env.sim_messages().await.len(),
        2,
        "only the first night sent"
    );
    // `track` keeps a record too: here of a ledger that is not there.
    let (prom, json) = (env.path("track.prom"), env.path("track.json"));
    let out = env
        .sub(
            "track",
            &[
                "--ledger",
                env.path("absent.sqlite").to_str().unwrap(),
                "--metrics-file",
                prom.to_str().unwrap(),
                "--summary-json",
                json.to_str().unwrap(),
            ],
        )
        .await;
    assert_eq!(code(&out), 66, "{}", stderr(&out));
    assert_eq!(parse_metrics(&prom)["handoff_exit_code"], 66.0);
    parse_summary(&json, 66);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_ledger_is_announced_once() {
    let env = Env::start(fast()).await;
    let input = env.csv(&rows("5", 1));
    let out = env.run(&input, &[]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let ledger = env.path("ledger.sqlite");
    assert!(
        stderr(&out).contains("a new ledger was created"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains(ledger.to_str().unwrap()));
    let out = env.run(&input, &[]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stderr(&out).contains("new ledger"), "{}", stderr(&out));
    assert_eq!(summary(&out)["reused"], 1);
    assert_eq!(summary(&out)["sent_this_run"], 0);
    // Another ledger for the same file: the notice, as a JSON event too.
    let other = env.path("elsewhere.sqlite");
    let out = env
        .run(
            &input,
            &["--ledger", other.to_str().unwrap(), "--log-format", "json"],
        )
        .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let notice: Vec<Value> = stderr(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"].as_str().unwrap_or("").contains("new ledger"))
        .collect();
    assert_eq!(notice.len(), 1, "{}", stderr(&out));
    assert_eq!(notice[0]["level"], "WARN");
    assert_eq!(notice[0]["ledger"], other.to_str().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_export_exits_65_and_min_rows_sets_the_floor() {
    let env = Env::start(fast()).await;
    let empty = env.csv(&[]);
    let out = env.run(&empty, &[]).await;
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("fewer than --min-rows 1"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&empty, &["--min-rows", "0"]).await;
    assert_eq!(code(&out), 0, "an empty night allowed: {}", stderr(&out));
    let short = env.csv(&rows("6", 2));
    let out = env.run(&short, &["--min-rows", "3"]).await;
    assert_eq!(code(&out), 65, "a truncated export: {}", stderr(&out));
    assert!(stderr(&out).contains("has 2 row(s)"), "{}", stderr(&out));
    assert!(env.sim_messages().await.is_empty());
    let out = env.run(&short, &["--min-rows", "2"]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

/// `handoff …` through bash, its stdout into `pipe`; the exit code and
/// stderr of handoff itself.
fn through_pipe(args: &[&str], pipe: &str) -> (i32, String) {
    through_pipe_with(args, pipe, "")
}

fn through_pipe_with(args: &[&str], pipe: &str, token: &str) -> (i32, String) {
    let quoted: Vec<String> = args
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let script = format!(
        "'{}' {} | {pipe}; exit ${{PIPESTATUS[0]}}",
        env!("CARGO_BIN_EXE_handoff"),
        quoted.join(" ")
    );
    let out: Output = std::process::Command::new("bash")
        .args(["-c", &script])
        .env("ONEMSG_TOKEN", token)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_pipe_ends_quietly() {
    let env = Env::start(fast()).await;
    let input = env.csv(&rows("7", 3));
    let (ledger, report) = (env.path("ledger.sqlite"), env.path("reconciliation.csv"));
    let run = [
        "run",
        input.to_str().unwrap(),
        "--out",
        report.to_str().unwrap(),
        "--ledger",
        ledger.to_str().unwrap(),
        "--api-url",
        &env.base,
        "--channel",
        "SIM0001",
        "--pair-interval",
        "0",
        "--first-poll",
        "50ms",
        "--quiet",
    ];
    let (code, err) = through_pipe_with(&run, "head -n 0", "sim-token");
    assert_eq!(code, 0, "the run's own code, not the pipe's: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let dry = ["run", input.to_str().unwrap(), "--simulate", "--dry-run"];
    for (args, pipe) in [
        (&dry[..], "head -n 0"),
        (&dry[..], "head -1"),
        (&["man"][..], "head -n 0"),
        (&["completions", "bash"][..], "head -n 0"),
    ] {
        let (code, err) = through_pipe(args, pipe);
        assert!(code == 0 || code == 141, "{args:?} | {pipe}: {code} {err}");
        assert!(!err.contains("panicked"), "{args:?} | {pipe}: {err}");
    }
    assert_eq!(env.read_csv("reconciliation.csv").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_lines_parse_and_carry_typed_numbers() {
    let mut s = fast();
    s.rules.push(handoff_sim::scenario::Rule {
        reject: Some(131026),
        ..rule("491780000002")
    });
    let env = Env::start(s).await;
    let input = env.csv(&[
        ["Ada", "491780000001", "J-1", "Lamp", "Note"],
        ["Bob", "491780000002", "J-2", "Lamp", "Note"],
        ["Bad", "12", "J-3", "Lamp", "Note"],
    ]);
    let out = env
        .run(
            &input,
            &["--log-format", "json", "--log-level", "info", "--quiet"],
        )
        .await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 4, "{err}");
    for (text, v) in err.lines().zip(&lines) {
        // The same first keys on every line, run_id among them.
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert!(keys.contains(&"run_id"), "{text}");
        assert!(
            text.starts_with("{\"timestamp\":") && text.contains(",\"level\":"),
            "{text}"
        );
        let after_level = text.split(",\"level\":").nth(1).unwrap();
        let next_key = after_level.split(',').nth(1).unwrap();
        assert!(next_key.starts_with("\"run_id\":"), "run_id third: {text}");
        assert!(!text.contains("Some("), "no Debug of an Option: {text}");
    }
    let find = |message: &str| {
        lines
            .iter()
            .find(|v| v["message"] == message)
            .unwrap_or_else(|| panic!("`{message}` in {err}"))
    };
    let rejected = find("rejected");
    assert!(rejected["http_status"].is_u64(), "{rejected}");
    assert_eq!(rejected["error_code"], 131026, "{rejected}");
    let finished = find("run finished");
    assert_eq!(finished["exit_code"], 10);
    assert_eq!(finished["rows"], 3);
    assert!(finished["outcomes"].is_object(), "{finished}");
    assert_eq!(finished["outcomes"]["invalid"], 1);
    assert_eq!(finished["run_id"], 1);
    let problems = find("rows that will not be sent");
    assert_eq!(problems["rows"], 1, "the problems block is an event");
    assert!(
        !err.contains("outcome      rows"),
        "no plain table in JSON mode"
    );
}

/// Runs `handoff` on a pseudo-terminal (util-linux `script`), so colours
/// would be on; its terminal output.
fn on_a_terminal(args: &[String], no_color: bool) -> Option<String> {
    let probe = std::process::Command::new("script")
        .arg("--version")
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        return None;
    }
    let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_handoff").to_string())
        .chain(args.iter().cloned())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &quoted.join(" "), "/dev/null"])
        .env("ONEMSG_TOKEN", "sim-token")
        .env("TERM", "xterm-256color")
        .stdin(std::process::Stdio::null());
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    let out = cmd.output().unwrap();
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_color_leaves_no_escape_codes() {
    let env = Env::start(fast()).await;
    let input = env.csv(&rows("8", 1));
    let args = |ledger: &str| -> Vec<String> {
        [
            "run",
            input.to_str().unwrap(),
            "--out",
            env.path("r.csv").to_str().unwrap(),
            "--ledger",
            env.path(ledger).to_str().unwrap(),
            "--api-url",
            &env.base,
            "--channel",
            "SIM0001",
            "--pair-interval",
            "0",
            "--first-poll",
            "50ms",
            "--quiet",
        ]
        .map(String::from)
        .to_vec()
    };
    // The new-ledger notice is a warning: coloured on a terminal…
    let Some(coloured) = on_a_terminal(&args("a.sqlite"), false) else {
        eprintln!("`script` is not installed here: NO_COLOR was not checked on a terminal");
        return;
    };
    assert!(coloured.contains("new ledger"), "{coloured}");
    assert!(
        coloured.contains('\u{1b}'),
        "a terminal gets colours: {coloured:?}"
    );
    // … and plain with NO_COLOR, or with --color never.
    let plain = on_a_terminal(&args("b.sqlite"), true).unwrap();
    assert!(plain.contains("new ledger"), "{plain}");
    assert!(!plain.contains('\u{1b}'), "NO_COLOR: {plain:?}");
    let mut never = args("c.sqlite");
    never.extend(["--color".into(), "never".into()]);
    let plain = on_a_terminal(&never, false).unwrap();
    assert!(!plain.contains('\u{1b}'), "--color never: {plain:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settings_file_error_names_the_file_and_key_and_paths_are_its_own() {
    let env = Env::start(fast()).await;
    let input = env.csv(&rows("9", 1));
    let conf = env.path("conf");
    std::fs::create_dir(&conf).unwrap();
    let file = conf.join("night.toml");
    let config = file.to_str().unwrap();
    std::fs::write(&file, "[send]\nrate = \"fast\"\n").unwrap();
    let out = env.run(&input, &["--config", config]).await;
    assert_eq!(code(&out), 78);
    let err = stderr(&out);
    assert!(err.contains(config) && err.contains("send.rate"), "{err}");
    assert!(
        !err.contains("--rate"),
        "not a flag the user never typed: {err}"
    );
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    std::fs::write(&file, "[send]\nrat = 5\n").unwrap();
    let out = env.run(&input, &["--config", config]).await;
    assert_eq!(code(&out), 78);
    assert!(
        stderr(&out).contains("did you mean `rate`"),
        "{}",
        stderr(&out)
    );
    // A relative path in the file is the file's directory's.
    std::fs::write(&file, "[output]\nsummary_json = \"night.json\"\n").unwrap();
    let out = env.run(&input, &["--config", config]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    parse_summary(&conf.join("night.json"), 0);
    // `handoff config` says the same, with one `error:`.
    std::fs::write(&file, "[send]\nrate = \"fast\"\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args(["config", "--config", config])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78));
    assert!(err.starts_with("error: the settings file"), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args(["config", "--", "--nope"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("error: error:"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_waits_are_refused_and_track_without_a_channel_offers_a_rehearsal() {
    let env = Env::start(fast()).await;
    let input = env.csv(&rows("0", 1));
    for flag in ["--request-timeout", "--first-poll", "--lookup-after"] {
        let out = env.run(&input, &[flag, "0s"]).await;
        // Refused by the command line's own check: a usage error.
        assert_eq!(code(&out), 64, "{flag}: {}", stderr(&out));
        assert!(stderr(&out).contains("zero"), "{flag}: {}", stderr(&out));
    }
    assert!(env.sim_messages().await.is_empty());
    // `track` opens its ledger before it looks for a channel, so give it one.
    let out = env.run(&input, &[]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args([
            "track",
            "--ledger",
            env.path("ledger.sqlite").to_str().unwrap(),
        ])
        .env_remove("ONEMSG_CHANNEL_ID")
        .env_remove("ONEMSG_TOKEN")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(err.contains("no channel"), "{err}");
    // `track --simulate` rehearses the morning after (one rehearsal ledger).
    assert!(err.contains("--simulate"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_in_json_mode_is_an_event_and_waits_for_the_pair_interval() {
    let env = Env::start(fast()).await;
    // One partner, three orders, 3 s apart: the sends take 6 s whatever
    // the channel's rate, and the run outlives one progress tick (5 s).
    let input = env.csv(&[
        ["Ada", "491790000001", "P-1", "Lamp", "Note"],
        ["Ada", "491790000001", "P-2", "Lamp", "Note"],
        ["Ada", "491790000001", "P-3", "Lamp", "Note"],
    ]);
    // Not --quiet (which the harness's `run` passes): progress is on.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
        .arg("run")
        .arg(&input)
        .arg("--out")
        .arg(env.path("reconciliation.csv"))
        .arg("--ledger")
        .arg(env.path("ledger.sqlite"))
        .args(["--api-url", &env.base, "--channel", "SIM0001"])
        .args([
            "--pair-interval",
            "3s",
            "--first-poll",
            "50ms",
            "--track-for",
            "3s",
        ])
        .args(["--log-format", "json"])
        .env("ONEMSG_TOKEN", "sim-token")
        .env_remove("ONEMSG_API_URL")
        .env_remove("ONEMSG_CHANNEL_ID")
        .output()
        .await
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    let progress: Vec<Value> = err
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|v| v["message"] == "progress")
        .collect();
    let first = progress
        .first()
        .unwrap_or_else(|| panic!("a progress event: {err}"));
    assert_eq!(first["to_send"], 3, "{first}");
    assert_eq!(
        first["to_final"], 3,
        "final counts every row to send: {first}"
    );
    assert!(first["sent"].as_u64().unwrap() < 3, "{first}");
    assert!(
        first["send_eta_seconds"].is_u64(),
        "the ETA knows the pair interval: {first}"
    );
    assert!(!err.contains("progress: validated"), "no plain line: {err}");
}

/// Exit 70, an internal error: the ledger cannot be written because the
/// process may not grow a file past a limit (`ulimit -f`, as a full disk
/// would). The record is written all the same: the metrics and summary
/// files stay small, under the limit the ledger passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_error_leaves_metrics_and_a_summary_too() {
    let env = Env::start(fast()).await;
    let input = env.csv(&rows("7", 3000));
    let (prom, json) = (env.path("internal.prom"), env.path("internal.json"));
    let extra = [
        "--metrics-file",
        prom.to_str().unwrap(),
        "--summary-json",
        json.to_str().unwrap(),
    ];
    let run = env.command(&input, &extra, "sim-token");
    let std = run.as_std();
    // The limit in 512-byte blocks (POSIX sh); a write past it fails with
    // EFBIG instead of killing the process, since SIGXFSZ is ignored.
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -f 400 && trap '' XFSZ && exec \"$0\" \"$@\"")
        .arg(std.get_program())
        .args(std.get_args())
        .env("ONEMSG_TOKEN", "sim-token")
        .env_remove("ONEMSG_API_URL")
        .env_remove("ONEMSG_CHANNEL_ID")
        .env_remove("HANDOFF_CRASH_AT")
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("handoff finishes within a minute")
        .expect("sh runs");
    assert_eq!(code(&out), 70, "{}", stderr(&out));
    assert!(stderr(&out).contains("ledger"), "{}", stderr(&out));
    assert_eq!(parse_metrics(&prom)["handoff_exit_code"], 70.0);
    let v = parse_summary(&json, 70);
    assert!(v["error"].is_string(), "the error is said: {v}");
}
