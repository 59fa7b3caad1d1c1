//! Simulator throughput: the simulator in a process of its own, with its
//! limits off, answering sendTemplate as fast as a client can ask.
//!
//! The goal is that the simulator is never what a benchmark of `handoff run`
//! measures: it must take at least 5,000 sends per second. The client here
//! shares the machine with the server, so the figure is a lower bound.
//!
//! The server is this executable started again with `SIM_BENCH_SERVE` set:
//! `handoff simulate`'s code (`handoff_sim::cli::run`) on the same
//! runtime and allocator as the `handoff` binary, which this crate cannot
//! name (it does not depend on the product).
//!
//! `cargo bench --bench sim` (release build). Env: `SIM_BENCH_REQUESTS`
//! (default 20000), `SIM_BENCH_CONCURRENCY` (default 64).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use handoff_sim::cli::SimulateArgs;
use serde_json::{Value, json};

/// jemalloc, as the `handoff` binary allocates (its Cargo.toml says why).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const TARGET_RPS: f64 = 5_000.0;

/// Set in the environment of the server half.
const SERVE: &str = "SIM_BENCH_SERVE";

/// `handoff simulate`'s command line.
#[derive(Parser)]
struct Simulate {
    #[command(flatten)]
    args: SimulateArgs,
}

/// The server half: `handoff simulate ARGS` until the bench kills it.
fn serve() {
    let args = Simulate::parse().args;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(handoff_sim::cli::run(args, std::future::pending())) {
        eprintln!("error: {e}");
        std::process::exit(78);
    }
}

/// Kills the simulator when the bench ends, however it ends.
struct Simulator(Child);

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Endpoint {
    base: String,
    instance: String,
    token: String,
}

/// Starts the server half on a free port and reads what it prints.
fn start_simulator() -> (Simulator, Endpoint) {
    let exe = std::env::current_exe().expect("this bench's path");
    let mut child = Command::new(exe)
        .env(SERVE, "1")
        .args([
            "--listen",
            "127.0.0.1:0",
            "--rate",
            "0",
            "--pair-interval",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the simulator");
    let stdout = child.stdout.take().expect("stdout");
    let sim = Simulator(child);
    let (tx, rx) = std::sync::mpsc::channel();
    // Keep draining stdout: a closed pipe would kill the simulator at its
    // next line of output.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let line = line.trim();
            for key in ["base URL:", "instance:", "token:"] {
                if let Some(v) = line.strip_prefix(key) {
                    let _ = tx.send((key, v.trim().to_string()));
                }
            }
        }
    });
    let (mut base, mut instance, mut token) = (None, None, None);
    while base.is_none() || instance.is_none() || token.is_none() {
        let (key, value) = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the simulator prints its base URL, instance and token");
        match key {
            "base URL:" => base = Some(value),
            "instance:" => instance = Some(value),
            _ => token = Some(value),
        }
    }
    (
        sim,
        Endpoint {
            base: base.unwrap(),
            instance: instance.unwrap(),
            token: token.unwrap(),
        },
    )
}

fn send_body(i: usize) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "phone": format!("4915{i:08}"),
        "template": "partner_delivery_confirmation",
        "namespace": "c4f1d2a0_5e7b_4a39_9d61_0a8e3b7c2f15",
        "language": {"policy": "deterministic", "code": "en"},
        "params": [{"type": "body", "parameters": [
            {"type": "text", "text": "Ada"},
            {"type": "text", "text": format!("A-{i}")},
            {"type": "text", "text": "Blue lamp"},
            {"type": "text", "text": "Thank you"},
        ]}],
    }))
    .expect("JSON")
}

struct Outcome {
    accepted: usize,
    other: usize,
    elapsed: Duration,
}

/// Sends requests `first..first + count` with `concurrency` in flight over
/// keep-alive connections.
async fn fire(
    client: &reqwest::Client,
    url: &str,
    auth: &str,
    first: usize,
    count: usize,
    concurrency: usize,
) -> Outcome {
    let next = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicUsize::new(0));
    let other = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, url, auth) = (client.clone(), url.to_string(), auth.to_string());
        let (next, accepted, other) = (next.clone(), accepted.clone(), other.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let resp = client
                    .post(&url)
                    .header("Authorization", &auth)
                    .header("Content-Type", "application/json")
                    .body(send_body(first + i))
                    .send()
                    .await;
                let ok = match resp {
                    Ok(r) if r.status() == 200 => r
                        .bytes()
                        .await
                        .is_ok_and(|b| b.windows(11).any(|w| w == b"\"sent\":true")),
                    _ => false,
                };
                if ok { &accepted } else { &other }.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    workers.join_all().await;
    Outcome {
        accepted: accepted.load(Ordering::Relaxed),
        other: other.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    }
}

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::var_os(SERVE).is_some() {
        return serve();
    }
    // `cargo bench` passes `--bench`; nothing else to parse.
    let requests = env_usize("SIM_BENCH_REQUESTS", 20_000);
    let concurrency = env_usize("SIM_BENCH_CONCURRENCY", 64);
    let (_sim, ep) = start_simulator();
    let url = format!("{}/{}/sendTemplate", ep.base, ep.instance);
    let auth = format!("Bearer {}", ep.token);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        // Warm-up: open the connections, fault in the code paths.
        let warm = fire(&client, &url, &auth, 0, 1_000, concurrency).await;
        assert_eq!(warm.other, 0, "warm-up sends were refused");

        let run = fire(&client, &url, &auth, 1_000, requests, concurrency).await;
        let rps = run.accepted as f64 / run.elapsed.as_secs_f64();

        let stats: Value = client
            .get(format!("{}/__sim/stats", ep.base))
            .send()
            .await
            .expect("stats")
            .json()
            .await
            .expect("stats JSON");

        println!(
            "simulator throughput (handoff simulate's server, separate process, release build)"
        );
        println!("  requests:      {requests} sendTemplate, {concurrency} in flight, keep-alive");
        println!(
            "  accepted:      {} (other answers: {})",
            run.accepted, run.other
        );
        println!("  simulator saw: {} accepted in total", stats["accepted"]);
        println!("  elapsed:       {:.3} s", run.elapsed.as_secs_f64());
        println!("  throughput:    {rps:.0} req/s");
        println!(
            "  target:        >= {TARGET_RPS:.0} req/s: {}",
            if rps >= TARGET_RPS && run.other == 0 {
                "MET"
            } else {
                "NOT MET"
            }
        );
    });
}
