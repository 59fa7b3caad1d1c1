//! The real `handoff` binary against a simulator of its own: one
//! simulator per test on 127.0.0.1:0, one temporary directory per test.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use handoff_sim::duration::Span;
use handoff_sim::scenario::Rule;
use handoff_sim::{self as sim, Scenario, SimHandle};
use serde_json::Value;

/// A scenario whose messages live fast, so tests finish in seconds.
pub(crate) fn fast() -> Scenario {
    let mut s = Scenario::default();
    let ms = |n| Duration::from_millis(n);
    s.latency.sent = Span::fixed(ms(10));
    s.latency.delivered = Span {
        min: ms(10),
        max: ms(40),
    };
    s.latency.read = Span {
        min: ms(10),
        max: ms(40),
    };
    s.latency.failed = Span::fixed(ms(20));
    s.limits.rate = 0;
    s.limits.pair_interval = Duration::ZERO;
    s
}

pub(crate) fn rule(phone: &str) -> Rule {
    Rule {
        phones: vec![phone.to_string()],
        ..Rule::default()
    }
}

pub(crate) struct Env {
    pub(crate) sim: Option<SimHandle>,
    pub(crate) base: String,
    pub(crate) dir: tempfile::TempDir,
    http: reqwest::Client,
}

pub(crate) type Row = [&'static str; 5];

impl Env {
    pub(crate) async fn start(scenario: Scenario) -> Env {
        let sim = sim::spawn(scenario).await.expect("simulator starts");
        Env {
            base: sim.base_url(),
            sim: Some(sim),
            dir: tempfile::tempdir().unwrap(),
            http: reqwest::Client::new(),
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a deliveries CSV (partner, phone, order, product, note).
    pub(crate) fn csv(&self, rows: &[Row]) -> PathBuf {
        let path = self.path("deliveries.csv");
        let mut w = csv::Writer::from_path(&path).unwrap();
        w.write_record([
            "Partner Name",
            "Partner Phone",
            "Order Number",
            "Product Name",
            "Delivery Note",
        ])
        .unwrap();
        for r in rows {
            w.write_record(r).unwrap();
        }
        w.flush().unwrap();
        path
    }

    /// Runs the real binary with fast test defaults; `args` come last and win.
    pub(crate) async fn run(&self, input: &Path, args: &[&str]) -> Output {
        self.run_with_token(input, args, "sim-token").await
    }

    pub(crate) async fn run_with_token(&self, input: &Path, args: &[&str], token: &str) -> Output {
        let mut cmd = self.command(input, args, token);
        tokio::time::timeout(Duration::from_secs(60), cmd.output())
            .await
            .expect("handoff finishes within a minute")
            .expect("handoff runs")
    }

    /// The `handoff run` command with fast test defaults; `args` come last
    /// and win.
    pub(crate) fn command(
        &self,
        input: &Path,
        args: &[&str],
        token: &str,
    ) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_handoff"));
        cmd.arg("run")
            .arg(input)
            .arg("--out")
            .arg(self.path("reconciliation.csv"))
            .arg("--ledger")
            .arg(self.path("ledger.sqlite"))
            .args(["--api-url", &self.base, "--channel", "SIM0001"])
            .args([
                "--rate",
                "200",
                "--pair-interval",
                "0",
                "--first-poll",
                "50ms",
            ])
            .args([
                "--track-for",
                "3s",
                "--lookup-after",
                "200ms",
                "--lookup-for",
                "1s",
            ])
            .arg("--quiet")
            .args(args)
            .env("ONEMSG_TOKEN", token)
            .env_remove("ONEMSG_API_URL")
            .env_remove("ONEMSG_CHANNEL_ID")
            .env_remove("HANDOFF_CRASH_AT")
            .kill_on_drop(true);
        cmd
    }

    /// Runs another subcommand (`track`, `rerun`) against this simulator.
    pub(crate) async fn sub(&self, sub: &str, args: &[&str]) -> Output {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_handoff"));
        cmd.arg(sub)
            .args(args)
            .args(["--api-url", &self.base, "--channel", "SIM0001", "--quiet"])
            .env("ONEMSG_TOKEN", "sim-token")
            .env_remove("ONEMSG_API_URL")
            .env_remove("ONEMSG_CHANNEL_ID")
            .kill_on_drop(true);
        tokio::time::timeout(Duration::from_secs(60), cmd.output())
            .await
            .expect("handoff finishes within a minute")
            .expect("handoff runs")
    }

    /// `handoff rerun` on this test's reconciliation and ledger, writing
    /// `out`, with fast test defaults; `extra` comes last and wins.
    pub(crate) async fn rerun(&self, out: &str, extra: &[&str]) -> Output {
        let out = self.path(out);
        self.rerun_file(&self.path("reconciliation.csv"), Some(&out), extra)
            .await
    }

    /// `handoff rerun FILE` on this test's ledger, writing `out` (rerun's
    /// own default when `None`), with fast test defaults; `extra` comes
    /// last and wins.
    pub(crate) async fn rerun_file(
        &self,
        file: &Path,
        out: Option<&Path>,
        extra: &[&str],
    ) -> Output {
        let ledger = self.path("ledger.sqlite");
        let mut args = vec![file.to_str().unwrap()];
        if let Some(out) = out {
            args.extend(["--out", out.to_str().unwrap()]);
        }
        args.extend([
            "--ledger",
            ledger.to_str().unwrap(),
            "--pair-interval",
            "0",
            "--first-poll",
            "50ms",
            "--track-for",
            "3s",
        ]);
        args.extend_from_slice(extra);
        self.sub("rerun", &args).await
    }

    /// `handoff track` on this test's ledger, writing the report to `out`
    /// in the test's directory, polling from 50 ms on, for at most
    /// `track_for`.
    pub(crate) async fn track(&self, out: &str, track_for: &str) -> Output {
        let ledger = self.path("ledger.sqlite");
        let out = self.path(out);
        let args = [
            "--ledger",
            ledger.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--first-poll",
            "50ms",
            "--track-for",
            track_for,
        ];
        self.sub("track", &args).await
    }

    /// Reads any CSV of the test's directory as maps.
    pub(crate) fn read_csv(&self, name: &str) -> Vec<HashMap<String, String>> {
        let mut r = csv::Reader::from_path(self.path(name)).expect("file written");
        r.deserialize().map(|row| row.unwrap()).collect()
    }

    pub(crate) fn report(&self) -> Vec<HashMap<String, String>> {
        let mut r =
            csv::Reader::from_path(self.path("reconciliation.csv")).expect("report written");
        r.deserialize().map(|row| row.unwrap()).collect()
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub(crate) async fn sim_messages(&self) -> Vec<Value> {
        self.get("/__sim/messages").await["messages"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// Waits until the simulator has accepted `n` sends (30 s at most), so
    /// a test that stops a run "while it sends" stops it there, however
    /// late a loaded machine started the binary.
    pub(crate) async fn accepted(&self, n: usize) {
        let started = std::time::Instant::now();
        while self.sim_messages().await.len() < n && started.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub(crate) async fn stats(&self) -> Value {
        self.get("/__sim/stats").await
    }
}

/// Asserts that a report row's `error_detail` says `text`, showing the row
/// when it does not.
#[track_caller]
pub(crate) fn assert_detail(row: &HashMap<String, String>, text: &str) {
    assert!(
        row["error_detail"].contains(text),
        "`{text}` not in {row:?}"
    );
}

/// Asserts that a report row's `warnings` says `text` (and its
/// `error_detail` does not: a row that went through has no problem).
#[track_caller]
pub(crate) fn assert_warning(row: &HashMap<String, String>, text: &str) {
    assert!(row["warnings"].contains(text), "`{text}` not in {row:?}");
    assert!(!row["error_detail"].contains(text), "a warning: {row:?}");
}

pub(crate) fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub(crate) fn summary(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().expect("a summary line on stdout");
    serde_json::from_str(line).expect("the summary line is JSON")
}

pub(crate) fn outcomes(report: &[HashMap<String, String>]) -> Vec<(String, String)> {
    report
        .iter()
        .map(|r| (r["order_number"].clone(), r["outcome"].clone()))
        .collect()
}

pub(crate) fn send_requests(stats: &Value) -> u64 {
    stats["requests"]["sendTemplate"]
        .as_object()
        .map_or(0, |m| m.values().map(|v| v.as_u64().unwrap()).sum())
}
