//! Nightly operations: the workbook, the metrics, the guards for unattended
//! runs, secrets from systemd credentials, the deployment examples.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use calamine::{Data, Reader, Xlsx, open_workbook};

use crate::binary::*;
use crate::unattended::parse_metrics;

fn rows(prefix: &str, n: usize) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let phone: &'static str = Box::leak(format!("4918{prefix}{i:04}").into_boxed_str());
            let order: &'static str = Box::leak(format!("00{prefix}{i}").into_boxed_str());
            ["Partner", phone, order, "Item", "Note"]
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workbook_keeps_phones_wamids_and_order_numbers_as_text() {
    let env = Env::start(fast()).await;
    let input = env.csv(&[
        ["=Formula Co", "491810000001", "000123", "Lamp", "Note"],
        ["Bad", "12", "000124", "Lamp", "Note"],
    ]);
    let xlsx = env.path("r.xlsx");
    let out = env.run(&input, &["--xlsx", xlsx.to_str().unwrap()]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let mut book: Xlsx<_> = open_workbook(&xlsx).unwrap();
    assert_eq!(
        book.sheet_names(),
        ["Summary", "Needs action", "Partners", "Reconciliation"]
    );
    let sheet = book.worksheet_range("Reconciliation").unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let first = sheet.rows().nth(1).unwrap();
    assert_eq!(first[col("Order number")], Data::String("000123".into()));
    assert_eq!(first[col("Phone")], Data::String("491810000001".into()));
    assert_eq!(
        first[col("Partner name")],
        Data::String("=Formula Co".into()),
        "the partner's text, in a string cell (which never runs), without the CSV's quote"
    );
    assert!(
        matches!(&first[col("WhatsApp message id")], Data::String(w) if w.starts_with("wamid."))
    );
    assert_eq!(first[col("Row")], Data::Float(1.0));
    let second = sheet.rows().nth(2).unwrap();
    assert_eq!(second[col("Outcome")], Data::String("invalid".into()));
    let summary = book.worksheet_range("Summary").unwrap();
    let counts: HashMap<String, String> = summary
        .rows()
        .skip(1)
        .filter(|r| r.len() >= 2)
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();
    assert_eq!(counts["invalid"], "1");
    assert_eq!(counts["total"], "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_file_is_written_and_keeps_the_last_success() {
    let env = Env::start(fast()).await;
    let input = env.csv(&rows("1", 3));
    let prom = env.path("handoff.prom");
    let out = env
        .run(&input, &["--metrics-file", prom.to_str().unwrap()])
        .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let m = parse_metrics(&prom);
    let success = m["handoff_last_success_timestamp_seconds"];
    assert_eq!(m["handoff_last_run_timestamp_seconds"], success);
    assert_eq!(m["handoff_exit_code"], 0.0);
    let delivered = m["handoff_rows{outcome=\"delivered\"}"] + m["handoff_rows{outcome=\"read\"}"];
    assert_eq!(delivered, 3.0);
    assert_eq!(
        m["handoff_http_requests_total{endpoint=\"sendTemplate\",result=\"200\"}"],
        3.0
    );
    assert!(m.contains_key("handoff_http_requests_total{endpoint=\"templates\",result=\"200\"}"));
    // Failed nights, refused by the API or before a row was read: the run
    // time and the exit code move, the last success stays.
    let out = env
        .run_with_token(&input, &["--metrics-file", prom.to_str().unwrap()], "wrong")
        .await;
    assert_eq!(code(&out), 77, "{}", stderr(&out));
    let m = parse_metrics(&prom);
    assert_eq!(m["handoff_exit_code"], 77.0);
    assert_eq!(m["handoff_last_success_timestamp_seconds"], success);
    assert!(m["handoff_last_run_timestamp_seconds"] >= success);
    let out = env
        .run(
            &input,
            &["--metrics-file", prom.to_str().unwrap(), "--max-rows", "1"],
        )
        .await;
    assert_eq!(code(&out), 65);
    let m = parse_metrics(&prom);
    assert_eq!(m["handoff_exit_code"], 65.0);
    assert_eq!(m["handoff_last_success_timestamp_seconds"], success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pushgateway_gets_the_success_timestamp_only_on_success() {
    let pushes: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let seen = Arc::clone(&pushes);
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let seen = Arc::clone(&seen);
        async move {
            let path = req.uri().path().to_string();
            let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                .await
                .unwrap();
            seen.lock()
                .unwrap()
                .push((path, String::from_utf8_lossy(&body).into_owned()));
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut s = fast();
    // Two messages go through; the third send meets a revoked token.
    s.faults.revoke_token_after = Some(3);
    let env = Env::start(s).await;
    let input = env.csv(&rows("2", 2));
    let out = env.run(&input, &["--pushgateway", &gateway]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let more = env.csv(&rows("3", 2));
    let out = env.run(&more, &["--pushgateway", &gateway]).await;
    assert_eq!(code(&out), 77, "{}", stderr(&out));
    let pushes = pushes.lock().unwrap().clone();
    assert_eq!(pushes.len(), 2);
    assert!(pushes.iter().all(|(p, _)| p == "/metrics/job/handoff"));
    assert!(
        pushes[0]
            .1
            .contains("handoff_last_success_timestamp_seconds ")
    );
    assert!(pushes[0].1.contains("handoff_exit_code 0"));
    assert!(
        !pushes[1]
            .1
            .contains("handoff_last_success_timestamp_seconds ")
    );
    assert!(pushes[1].1.contains("handoff_exit_code 77"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_rows_refuses_a_runaway_export_before_sending() {
    let env = Env::start(fast()).await;
    let input = env.csv(&rows("4", 5));
    let out = env.run(&input, &["--max-rows", "4"]).await;
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("5 rows, more than --max-rows 4"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.sim_messages().await.len(), 0);
    assert!(!env.path("reconciliation.csv").exists());
    let out = env.run(&input, &["--max-rows", "5"]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

fn utc_clock(offset_minutes: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(offset_minutes))
        .format("%H:%M")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_outside_the_sending_window_sends_nothing_and_exits_75() {
    let env = Env::start(fast()).await;
    let input = env.csv(&rows("5", 3));
    let (from, to) = (utc_clock(120), utc_clock(180));
    let out = env
        .run(
            &input,
            &[
                "--not-before",
                &from,
                "--not-after",
                &to,
                "--timezone",
                "UTC",
            ],
        )
        .await;
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert_eq!(env.sim_messages().await.len(), 0);
    let report = env.report();
    assert_eq!(report.len(), 3);
    for r in &report {
        assert_eq!(r["outcome"], "skipped");
        assert_detail(r, "sending window");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_reaches_not_after_stops_sending_and_exits_75() {
    // The window closes at the next minute boundary (at least 5 s away);
    // one partner with many orders keeps the run sending past it.
    let now = chrono::Utc::now();
    let secs_left = 60 - i64::from(chrono::Timelike::second(&now));
    let close_in = if secs_left < 5 { 2 } else { 1 };
    let (from, to) = (utc_clock(-60), utc_clock(close_in));
    let mut s = fast();
    s.limits.pair_interval = Duration::ZERO;
    let env = Env::start(s).await;
    let orders: Vec<Row> = (0..200)
        .map(|i| {
            let order: &'static str = Box::leak(format!("W{i}").into_boxed_str());
            ["Partner", "491860000001", order, "Item", "Note"]
        })
        .collect();
    let input = env.csv(&orders);
    let args = [
        "--pair-interval",
        "1s",
        "--not-before",
        &from,
        "--not-after",
        &to,
        "--timezone",
        "UTC",
        "--track-for",
        "1s",
    ];
    // The window may close up to a minute from now, so this run gets more
    // than the harness's one minute.
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        env.command(&input, &args, "sim-token").output(),
    )
    .await
    .expect("handoff finishes within two minutes")
    .expect("handoff runs");
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    let summary = summary(&out);
    assert!(
        summary["stopped"].as_str().unwrap().contains("--not-after"),
        "{summary}"
    );
    let report = env.report();
    let sent = env.sim_messages().await.len();
    assert!(sent > 0 && sent < 200, "{sent}");
    assert_eq!(
        report.iter().filter(|r| r["outcome"] == "skipped").count(),
        200 - sent
    );
    // The rows not sent say why: the window closed, not just "interrupted".
    for r in report.iter().filter(|r| r["outcome"] == "skipped") {
        assert_detail(r, "sending window");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_can_come_from_a_systemd_credential() {
    let env = Env::start(fast()).await;
    let input = env.csv(&rows("7", 1));
    let creds = env.path("credentials");
    std::fs::create_dir(&creds).unwrap();
    let token = creds.join("onemsg_token");
    std::fs::write(&token, "sim-token\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o400)).unwrap();
    }
    let mut cmd = env.command(&input, &[], "");
    cmd.env_remove("ONEMSG_TOKEN")
        .env("CREDENTIALS_DIRECTORY", &creds);
    let out = cmd.output().await.unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn the_systemd_units_verify() {
    let Ok(probe) = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
    else {
        eprintln!("systemd-analyze is not installed here: the units were not verified");
        return;
    };
    assert!(probe.status.success());
    let dir = tempfile::tempdir().unwrap();
    let service = std::fs::read_to_string("deploy/systemd/handoff.service")
        .unwrap()
        .replace("/usr/local/bin/handoff", env!("CARGO_BIN_EXE_handoff"));
    std::fs::write(dir.path().join("handoff.service"), service).unwrap();
    std::fs::copy(
        "deploy/systemd/handoff.timer",
        dir.path().join("handoff.timer"),
    )
    .unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(dir.path().join("handoff.service"))
        .arg(dir.path().join("handoff.timer"))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_cronjob_yaml_parses_and_says_what_matters() {
    let text = std::fs::read_to_string("deploy/kubernetes/cronjob.yaml").unwrap();
    let docs: Vec<serde_yaml_ng::Value> = serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["kind"], "PersistentVolumeClaim");
    let cron = &docs[1];
    assert_eq!(cron["kind"], "CronJob");
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");
    let job = &cron["spec"]["jobTemplate"]["spec"];
    let fail_codes: Vec<i64> = job["podFailurePolicy"]["rules"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "FailJob")
        .flat_map(|r| {
            r["onExitCodes"]["values"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
        })
        .collect();
    for code in [65, 66, 77, 78] {
        assert!(fail_codes.contains(&code), "{code} in {fail_codes:?}");
    }
    let volumes = job["template"]["spec"]["volumes"].as_sequence().unwrap();
    assert!(
        volumes
            .iter()
            .any(|v| v["persistentVolumeClaim"]["claimName"] == "handoff-ledger")
    );
}

#[test]
fn completions_and_a_man_page_come_from_the_cli_definitions() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
            .args(args)
            .output()
            .unwrap()
    };
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert!(out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("pair-interval"),
            "{shell}"
        );
    }
    let man = run(&["man"]);
    assert!(man.status.success());
    assert!(String::from_utf8_lossy(&man.stdout).contains(".TH handoff 1"));
    // One page per subcommand, with what --help cannot say.
    let page = run(&["man", "track"]);
    assert!(page.status.success());
    let text = String::from_utf8_lossy(&page.stdout);
    for want in [
        ".TH handoff-track 1",
        "\\-\\-track\\-for",
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
    ] {
        assert!(text.contains(want), "{want} in {text}");
    }
    assert_eq!(run(&["man", "nope"]).status.code(), Some(78));
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    for name in [
        "handoff.1",
        "handoff-run.1",
        "handoff-rerun.1",
        "handoff-simulate.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(text.contains(".SH \"EXIT STATUS\""), "{name}");
    }
}

/// `handoff config` shows where each value came from: flags over the
/// environment over the settings file over the defaults.
#[test]
fn settings_precedence_flag_env_file_default() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("night.toml");
    std::fs::write(
        &file,
        "[api]\ntemplate = \"from_file\"\nlanguage = \"fr\"\n[send]\nrate = 33\npair_interval = \"3s\"\n[input]\nmap = { order_number = \"Order No\" }\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args([
            "config",
            "--config",
            file.to_str().unwrap(),
            "--",
            "--rate",
            "70",
        ])
        .env("ONEMSG_LANGUAGE", "de")
        .env_remove("ONEMSG_TEMPLATE")
        .env_remove("ONEMSG_TOKEN")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |name: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} in {text}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("rate"), "rate 70 flag");
    assert_eq!(line("language"), "language de environment ONEMSG_LANGUAGE");
    assert_eq!(line("template"), "template from_file settings file");
    assert_eq!(line("pair-interval"), "pair-interval 3s settings file");
    assert_eq!(line("concurrency"), "concurrency 8 default");
    assert_eq!(line("map"), "map order_number=Order No settings file");
    assert!(line("token").starts_with("token none"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settings_file_is_applied_and_refused_when_it_holds_a_token() {
    let env = Env::start(fast()).await;
    let input = env.csv(&rows("6", 2));
    let file = env.path("handoff.toml");
    std::fs::write(&file, "[input]\nmax_rows = 1\n").unwrap();
    let config = file.to_str().unwrap();
    let out = env.run(&input, &["--config", config]).await;
    assert_eq!(
        code(&out),
        65,
        "the file's max_rows applies: {}",
        stderr(&out)
    );
    let out = env
        .run(&input, &["--config", config, "--max-rows", "5"])
        .await;
    assert_eq!(code(&out), 0, "a flag wins over the file: {}", stderr(&out));
    std::fs::write(&file, "token = \"sim-token\"\n").unwrap();
    let out = env.run(&input, &["--config", config]).await;
    assert_eq!(code(&out), 78);
    assert!(stderr(&out).contains("holds a token"), "{}", stderr(&out));
    std::fs::write(&file, "[send]\nrate = \"fast\"\n").unwrap();
    let out = env.run(&input, &["--config", config]).await;
    assert_eq!(code(&out), 78, "{}", stderr(&out));
}
