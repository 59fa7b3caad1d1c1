//! `handoff simulate`: the simulator crate's server and flags, started by
//! the real binary in a process of its own, as the benchmarks and a
//! rehearsal start it. The simulator's own behaviour is tested in its crate
//! (`sim/tests`).

use std::time::Duration;

use serde_json::Value;

use crate::util::{client, send_body};

/// Kills the child process it holds when dropped, even if the test fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `handoff simulate ARGS` on a free port: the child and what it printed up
/// to its base URL.
async fn simulate(args: &[&str]) -> (Child, String, Vec<String>) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_handoff"))
            .args(["simulate", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start handoff simulate"),
    );
    // Keep draining stdout: a closed pipe would kill the simulator at its
    // next line of output.
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let lines = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        while let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) {
            let done = line.contains("introspection:");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    })
    .await
    .unwrap();
    let base = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("base URL:"))
        .expect("a base URL line")
        .trim()
        .to_string();
    (child, base, lines)
}

#[tokio::test]
async fn simulate_takes_the_profile_and_the_variant_flags() {
    let (_child, base, lines) = simulate(&[
        "--profile",
        "hostile",
        "--header-routes",
        "sendTemplate",
        "--history-wrapper",
        "messages",
        "--hooks-shape",
        "raw-envelope",
        "--templates-fail-first",
        "0",
        "--pair-interval",
        "0",
    ])
    .await;
    assert!(
        lines.iter().any(|l| l.contains("profile:   hostile")),
        "{lines:?}"
    );
    let http = client();
    let url = |m: &str| format!("{base}/SIM0001/{m}");
    // The flag narrowed the preset's header routes to sendTemplate alone.
    let resp = http
        .get(url("templates"))
        .bearer_auth("sim-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let v: Value = http
        .get(url("templates?token=sim-token"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["total"], "1",
        "the preset's string total, no 503 first: {v}"
    );
    let answer = http
        .post(url("sendTemplate"))
        .bearer_auth("sim-token")
        .json(&send_body("491560000060"))
        .send()
        .await
        .unwrap();
    assert_ne!(answer.status(), 401);
    let v: Value = http
        .get(url("messages?token=sim-token"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["messages"].is_array(), "{v}");
}

#[tokio::test]
async fn simulate_subcommand_prints_its_base_url_and_serves() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_handoff"))
            .args([
                "simulate",
                "--listen",
                "127.0.0.1:0",
                "--channel",
                "SIMCLI1",
                "--token",
                "cli-token",
                "--pair-interval",
                "0",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start handoff simulate"),
    );
    // Keep draining stdout after the base URL: a closed pipe would kill the
    // simulator at its next line of output.
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.trim().strip_prefix("base URL:") {
                let _ = tx.send(url.trim().to_string());
            }
        }
    });
    let base = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("a base URL line");
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let http = client();
    let status: Value = http
        .get(format!("{base}/SIMCLI1/status?token=cli-token"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "connected");
    let answer: Value = http
        .post(format!("{base}/SIMCLI1/sendTemplate"))
        .bearer_auth("cli-token")
        .json(&send_body("491510000037"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["sent"], true, "{answer}");
    drop(child);
}
