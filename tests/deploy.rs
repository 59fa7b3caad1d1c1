//! The deploy examples run: each one's command, as its scheduler would start
//! it, against a simulator of its own, with only the paths and the API's URL
//! swapped for this test's. Where a scheduler's own tool is here
//! (`systemd-analyze`, `kubernetes-validate`), it checks the file too; where
//! it is not, the test says so and checks the rest.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use handoff_sim::{self as sim, SimHandle};
use serde_yaml_ng::Value;

use crate::binary::{Row, fast};
use crate::util::eventually;

const CHANNEL: &str = "VID182868781";
const TOKEN: &str = "deploy-token-1";

/// A simulator for the examples' channel, a directory for the paths they
/// name, and an export with two rows to send and one invalid (so the run
/// ends with exit 10).
struct Night {
    sim: SimHandle,
    dir: tempfile::TempDir,
}

impl Night {
    async fn start(rows: usize) -> Night {
        let mut s = fast();
        s.instance_id = CHANNEL.into();
        s.token = TOKEN.into();
        let night = Night {
            sim: sim::spawn(s).await.expect("simulator starts"),
            dir: tempfile::tempdir().unwrap(),
        };
        let mut w = csv::Writer::from_path(night.path("deliveries.csv")).unwrap();
        w.write_record([
            "Partner Name",
            "Partner Phone",
            "Order Number",
            "Product Name",
            "Delivery Note",
        ])
        .unwrap();
        let bad: Row = ["Partner", "not a phone", "D-BAD", "Item", "Note"];
        w.write_record(bad).unwrap();
        for i in 0..rows {
            let (phone, order) = (format!("49152{i:07}"), format!("D-{i}"));
            w.write_record(["Partner", &phone, &order, "Item", "Note"])
                .unwrap();
        }
        w.flush().unwrap();
        for sub in ["state", "log", "textfile", "bin"] {
            std::fs::create_dir(night.path(sub)).unwrap();
        }
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_handoff"), night.path("bin/handoff"))
            .unwrap();
        night
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn p(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// A file only its owner may read, holding the token.
    fn secret(&self, name: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let path = self.path(name);
        std::fs::write(&path, format!("{TOKEN}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        path.display().to_string()
    }

    async fn sent(&self) -> usize {
        let url = format!("{}/__sim/messages", self.sim.base_url());
        let body: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        body["messages"].as_array().unwrap().len()
    }
}

/// A sending window around now (UTC), so the examples' `--not-after 22:00`
/// does not decide the test by the hour it runs at.
fn window() -> (String, String) {
    let at = |m| {
        (chrono::Utc::now() + chrono::Duration::minutes(m))
            .format("%H:%M")
            .to_string()
    };
    (at(-60), at(60))
}

fn replace_all(text: &str, swaps: &[(&str, String)]) -> String {
    swaps
        .iter()
        .fold(text.to_string(), |t, (from, to)| t.replace(from, to))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn described(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Runs `cmd` off the async runtime, so the simulator keeps answering.
async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("runs"))
        .await
        .unwrap()
}

/// The crontab's variables and its one job line, as cron reads them.
fn crontab() -> (Vec<(String, String)>, String) {
    let text = read("deploy/crontab");
    let lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let (vars, jobs): (Vec<&str>, Vec<&str>) = lines.partition(|l| {
        l.split_once('=')
            .is_some_and(|(k, _)| !k.contains(' ') && !k.starts_with(char::is_numeric))
    });
    let vars = vars
        .iter()
        .map(|l| l.split_once('=').unwrap())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(jobs.len(), 1, "one job line: {jobs:?}");
    let command = jobs[0]
        .splitn(6, ' ')
        .nth(5)
        .expect("five time fields, then the command");
    (vars, command.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crontab_line_runs_under_a_clean_environment() {
    let night = Night::start(2).await;
    let (vars, line) = crontab();
    let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
    assert!(
        names.contains(&"PATH") && names.contains(&"ONEMSG_CHANNEL_ID"),
        "{names:?}"
    );
    let (from, to) = window();
    let token = night.secret("state/onemsg_token");
    let line = replace_all(
        &line,
        &[
            (
                "/usr/local/bin/handoff",
                env!("CARGO_BIN_EXE_handoff").to_string(),
            ),
            ("/var/lib/handoff/onemsg_token", token),
            ("/var/lib/handoff", night.p("state")),
            ("/var/log/handoff", night.p("log")),
            ("/srv/exports/deliveries.csv", night.p("deliveries.csv")),
            (
                "--not-after 22:00",
                format!("--not-before {from} --not-after {to} --timezone UTC"),
            ),
        ],
    );
    // What cron gives every job, then the crontab's own variables; nothing
    // of this test's environment.
    let mut cmd = Command::new("env");
    cmd.arg("-i")
        .arg(format!("HOME={}", night.p("state")))
        .arg("LOGNAME=handoff")
        .arg(format!("ONEMSG_API_URL={}", night.sim.base_url()));
    for (k, v) in &vars {
        cmd.arg(format!("{k}={v}"));
    }
    cmd.args(["/bin/sh", "-c", &line]);
    let out = output(cmd).await;
    let log = std::fs::read_to_string(night.path("log/handoff.log")).unwrap_or_default();
    // The line redirects everything to its log; the shell's own code is handoff's.
    assert_eq!(
        out.status.code(),
        Some(10),
        "{}\nlog: {log}",
        described(&out)
    );
    assert_eq!(night.sent().await, 2);
    assert!(night.path("state/reconciliation.csv").exists());
    assert!(night.path("state/handoff.ledger.sqlite").exists());
    let metrics = read(&night.p("state/handoff.prom"));
    assert_eq!(
        metric(&metrics, "handoff_exit_code"),
        Some(10.0),
        "{metrics}"
    );
}

/// The service's `ExecStart=` (continuation lines joined) and its settings.
fn unit() -> (String, HashMap<String, Vec<String>>) {
    let text = read("deploy/systemd/handoff.service").replace("\\\n", " ");
    let mut keys: HashMap<String, Vec<String>> = HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some((k, v)) = line.split_once('=') {
            keys.entry(k.trim().to_string())
                .or_default()
                .push(v.trim().to_string());
        }
    }
    let exec = keys.remove("ExecStart").expect("ExecStart")[0].clone();
    (exec, keys)
}

/// The value of `--flag VALUE` on a command line.
fn flag<'a>(words: &[&'a str], name: &str) -> Option<&'a str> {
    words.iter().position(|w| *w == name).map(|i| words[i + 1])
}

/// `DynamicUser=yes` makes the whole file system read-only but the state
/// directory and `ReadWritePaths=`: every file the job writes must be in one.
#[test]
fn the_service_can_write_every_file_it_names() {
    let (exec, keys) = unit();
    assert_eq!(keys["DynamicUser"], ["yes"]);
    let mut writable: Vec<String> = keys["StateDirectory"]
        .iter()
        .map(|d| format!("/var/lib/{d}/"))
        .collect();
    for paths in keys.get("ReadWritePaths").into_iter().flatten() {
        writable.extend(
            paths
                .split_whitespace()
                .map(|p| format!("{}/", p.trim_end_matches('/'))),
        );
    }
    let words: Vec<&str> = exec.split_whitespace().collect();
    for name in ["--out", "--ledger", "--xlsx", "--metrics-file"] {
        let path = flag(&words, name).unwrap_or_else(|| panic!("{name} in {exec}"));
        assert!(
            writable.iter().any(|w| path.starts_with(w.as_str())),
            "{name} {path} is read-only: writable {writable:?}"
        );
    }
    assert_eq!(keys["SuccessExitStatus"], ["10"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_command_runs_as_systemd_would_start_it() {
    let night = Night::start(2).await;
    let (exec, keys) = unit();
    let (from, to) = window();
    let exec = replace_all(
        &exec,
        &[
            (
                "/usr/local/bin/handoff",
                env!("CARGO_BIN_EXE_handoff").to_string(),
            ),
            ("/var/lib/handoff", night.p("state")),
            ("/var/lib/node_exporter/textfile", night.p("textfile")),
            ("/srv/exports/deliveries.csv", night.p("deliveries.csv")),
            (
                "--not-after 22:00",
                format!("--not-before {from} --not-after {to} --timezone UTC"),
            ),
        ],
    );
    // LoadCredential=NAME:PATH: systemd copies the file to
    // $CREDENTIALS_DIRECTORY/NAME, readable by the service's user only.
    let (name, _) = keys["LoadCredential"][0].split_once(':').unwrap();
    std::fs::create_dir(night.path("credentials")).unwrap();
    night.secret(&format!("credentials/{name}"));
    let words: Vec<&str> = exec.split_whitespace().collect();
    let mut cmd = Command::new(words[0]);
    cmd.args(&words[1..])
        .env_clear()
        .current_dir(night.path("state"))
        .env("CREDENTIALS_DIRECTORY", night.path("credentials"))
        .env("ONEMSG_API_URL", night.sim.base_url());
    for assignment in &keys["Environment"] {
        let (k, v) = assignment.split_once('=').unwrap();
        cmd.env(k, v);
    }
    let out = output(cmd).await;
    let code = out.status.code().unwrap();
    let success: Vec<i32> = keys["SuccessExitStatus"][0]
        .split_whitespace()
        .map(|c| c.parse().unwrap())
        .collect();
    assert!(
        code == 0 || success.contains(&code),
        "systemd would fail the unit: {}",
        described(&out)
    );
    assert_eq!(code, 10, "{}", described(&out));
    assert_eq!(night.sent().await, 2);
    let metrics = read(&night.p("textfile/handoff.prom"));
    assert_eq!(metric(&metrics, "handoff_exit_code"), Some(10.0));
}

#[test]
fn systemd_analyze_verifies_the_units_and_systemd_run_where_it_works() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("skipped: systemd-analyze is not installed here; the units were not verified");
        return;
    };
    assert!(probe.status.success());
    let dir = tempfile::tempdir().unwrap();
    let service = read("deploy/systemd/handoff.service")
        .replace("/usr/local/bin/handoff", env!("CARGO_BIN_EXE_handoff"));
    std::fs::write(dir.path().join("handoff.service"), service).unwrap();
    std::fs::copy(
        "deploy/systemd/handoff.timer",
        dir.path().join("handoff.timer"),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(dir.path().join("handoff.service"))
        .arg(dir.path().join("handoff.timer"))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        described(&out)
    );

    // A real transient unit needs a running systemd (PID 1) to talk to.
    let run = Command::new("systemd-run")
        .args(["--quiet", "--wait", "--collect", "true"])
        .stderr(Stdio::piped())
        .output();
    match run {
        Ok(out) if out.status.success() => {
            let out = Command::new("systemd-run")
                .args([
                    "--quiet",
                    "--wait",
                    "--collect",
                    "-p",
                    "SuccessExitStatus=10",
                    "-p",
                    "DynamicUser=yes",
                ])
                .args(["/bin/sh", "-c", "exit 10"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "a unit ending with 10 succeeds: {}",
                described(&out)
            );
        }
        Ok(out) => eprintln!(
            "skipped the transient unit: systemd-run does not work here: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => eprintln!("skipped the transient unit: no systemd-run here ({e})"),
    }
}

mod cronjob;
