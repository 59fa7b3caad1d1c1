//! The whole pipeline, measured from outside: `handoff simulate` and
//! `handoff run` each in a process of their own, over real HTTP, with the
//! simulator's own counters (`/__sim/stats`, `/__sim/messages`) as the
//! referee and the kernel's rusage of the `handoff run` child for its CPU
//! time and peak memory.
//!
//! `cargo bench --bench pipeline` runs every scenario and prints one table.
//! Every figure is a ratio measured within one run, so a loaded machine
//! moves it less than it moves wall times. Env:
//! - `PIPELINE_ONLY=pace80,skew` runs only the named scenarios
//!   (`pace80 pace1000 skew track webhook overhead big baseline`);
//! - `PIPELINE_PACE80_ROWS` (default 10000);
//! - `PIPELINE_BIG_RUN=1` adds to `big` a real run of 1,000,000 rows (about
//!   two minutes more on two cores, so not in the default ten minutes).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

// ---------------------------------------------------------------- processes

/// The simulator, killed when the scenario ends, however it ends.
struct Simulator {
    child: Child,
    base: String,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_handoff")
}

/// `handoff simulate --listen 127.0.0.1:0 <args>`; reads its base URL.
fn simulator(args: &[&str]) -> Simulator {
    let mut child = Command::new(bin())
        .args(["simulate", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start handoff simulate");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    // Keep draining stdout: a closed pipe would kill the simulator at its
    // next line of output.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(v) = line.trim().strip_prefix("base URL:") {
                let _ = tx.send(v.trim().to_string());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the simulator prints its base URL");
    Simulator { child, base }
}

/// What the kernel says about a finished child.
#[derive(Debug, Clone, Copy)]
struct Usage {
    wall: Duration,
    cpu: Duration,
    max_rss_kib: u64,
    code: i32,
}

/// Runs `cmd` to the end and reads its CPU time and peak RSS.
///
/// Through a small process of our own (this benchmark re-run as a
/// trampoline, see [`trampoline`]): Linux carries the memory high-water mark
/// of the image a process replaces at `exec` into its `ru_maxrss`, and a
/// child spawned with `vfork` replaces *our* image, so reaping `handoff`
/// directly reported this benchmark's own peak whenever that was higher
/// (39.6 MiB for a 24 MiB dry run, after the pace scenarios).
fn measured(cmd: Command) -> Usage {
    let started = Instant::now();
    let mut outer = Command::new(std::env::current_exe().expect("current exe"));
    outer
        .env(TRAMPOLINE, "1")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        outer.current_dir(dir);
    }
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => outer.env(key, v),
            None => outer.env_remove(key),
        };
    }
    let out = outer
        .stderr(Stdio::inherit())
        .output()
        .expect("spawn the trampoline");
    let wall = started.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text
        .split_whitespace()
        .map(|f| f.parse::<i64>().expect("a number"));
    let mut next = || fields.next().expect("cpu_us max_rss_kib code");
    let (cpu_us, max_rss_kib, code) = (next(), next(), next());
    Usage {
        wall,
        cpu: Duration::from_micros(cpu_us as u64),
        max_rss_kib: max_rss_kib as u64,
        code: code as i32,
    }
}

/// Set in the environment of this benchmark re-run as a trampoline.
const TRAMPOLINE: &str = "PIPELINE_TRAMPOLINE";

/// The trampoline: runs its arguments as a command (stdout to null), reaps
/// it with `wait4` and prints `cpu_us max_rss_kib exit_code`. Its own image
/// is small and fresh, so the child's `ru_maxrss` is the child's.
fn trampoline() -> ! {
    let mut args = std::env::args_os().skip(1);
    let program = args.next().expect("a program to run");
    let child = Command::new(program)
        .args(args)
        .env_remove(TRAMPOLINE)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data, filled in by the kernel.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet reaped (we never call
    // `Child::wait`), and the pointers are to live locals.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    drop(child);
    let us = |t: libc::timeval| t.tv_sec * 1_000_000 + t.tv_usec;
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    println!(
        "{} {} {code}",
        us(ru.ru_utime) + us(ru.ru_stime),
        ru.ru_maxrss
    );
    std::process::exit(0)
}

/// `handoff run <csv> --api-url <sim> --channel SIM0001 --quiet …`.
fn handoff_run(sim: &Simulator, dir: &Path, csv: &Path, extra: &[&str]) -> Usage {
    let mut cmd = Command::new(bin());
    cmd.arg("run")
        .arg(csv)
        .args(["--api-url", &sim.base, "--channel", "SIM0001", "--quiet"])
        .arg("--ledger")
        .arg(dir.join("ledger.sqlite"))
        .arg("--out")
        .arg(dir.join("reconciliation.csv"))
        .args(extra)
        .env("ONEMSG_TOKEN", "sim-token")
        .env_remove("ONEMSG_API_URL")
        .env_remove("ONEMSG_CHANNEL_ID");
    let u = measured(cmd);
    assert!(
        u.code == 0 || u.code == 10,
        "handoff run exited {} ({extra:?})",
        u.code
    );
    u
}

// --------------------------------------------------------------------- HTTP

/// One GET with `Connection: close`; the body as JSON.
fn get_json(base: &str, path: &str) -> Value {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect to the simulator");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers");
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    assert!(!head.contains("chunked"), "unexpected chunked answer");
    serde_json::from_slice(&raw[split + 4..]).expect("JSON body")
}

fn stats(sim: &Simulator) -> Value {
    get_json(&sim.base, "/__sim/stats")
}

/// Accepted times of every message, in ms since the epoch, sorted.
fn accepted_ms(sim: &Simulator) -> Vec<i64> {
    let v = get_json(&sim.base, "/__sim/messages");
    let mut t: Vec<i64> = v["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["accepted_unix_ms"].as_i64().expect("accepted_unix_ms"))
        .collect();
    t.sort_unstable();
    t
}

fn hook_info_calls(st: &Value) -> u64 {
    st["requests"]["hookInfo"]
        .as_object()
        .map_or(0, |m| m.values().filter_map(Value::as_u64).sum())
}

// ------------------------------------------------------------------- inputs

/// Writes a deliveries CSV: row `i` goes to `phone_of(i)`.
fn write_csv(path: &Path, rows: usize, phone_of: impl Fn(usize) -> String) {
    let f = std::fs::File::create(path).expect("create CSV");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    writeln!(
        w,
        "partner_name,partner_phone,order_number,product_name,delivery_note"
    )
    .unwrap();
    for i in 0..rows {
        writeln!(
            w,
            "Partner {p} LLC,+{phone},ORD-{i:07},Wireless headphones model {m},Accepted at the partner warehouse at 11:{mm:02}",
            p = i % 997,
            phone = phone_of(i),
            m = i % 13,
            mm = i % 60,
        )
        .unwrap();
    }
    w.flush().unwrap();
}

/// Distinct German mobile numbers, none of the simulator's test numbers.
fn distinct_phone(i: usize) -> String {
    format!("49151{i:08}")
}

// ------------------------------------------------------------------- report

struct Row {
    scenario: String,
    measure: String,
    value: String,
    target: String,
    met: Option<bool>,
}

#[derive(Default)]
struct Table {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Table {
    fn add(
        &mut self,
        scenario: &str,
        measure: &str,
        value: String,
        target: &str,
        met: Option<bool>,
    ) {
        let r = Row {
            scenario: scenario.into(),
            measure: measure.into(),
            value,
            target: target.into(),
            met,
        };
        eprintln!(
            "  {:<12} {:<44} {:>18}  {:<16} {}",
            r.scenario,
            r.measure,
            r.value,
            r.target,
            verdict(r.met)
        );
        self.rows.push(r);
    }

    fn note(&mut self, text: String) {
        eprintln!("  note: {text}");
        self.notes.push(text);
    }

    fn markdown(&self) -> String {
        let mut s = String::new();
        s.push_str("| Scenario | Measure | Value | Target | Met |\n|---|---|---|---|---|\n");
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                r.scenario,
                r.measure,
                r.value,
                r.target,
                verdict(r.met)
            );
        }
        s
    }
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "NOT MET",
        None => "",
    }
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn per_msg_us(cpu: Duration, n: u64) -> f64 {
    cpu.as_secs_f64() * 1e6 / n.max(1) as f64
}

// ---------------------------------------------------------------- scenarios

/// Scenario 1: Pace: distinct phones, the client's `--rate` equal to the channel's.
fn pace(t: &mut Table, name: &str, rows: usize, limit: u32) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("pace.csv");
    write_csv(&csv, rows, distinct_phone);
    let limit_s = limit.to_string();
    let sim = simulator(&["--rate", &limit_s]);
    let u = handoff_run(
        &sim,
        dir.path(),
        &csv,
        &[
            "--rate",
            &limit_s,
            "--concurrency",
            "64",
            // Tracking is scenario 3's business; a fast schedule keeps
            // this run short.
            "--poll-rate",
            "2000",
            "--first-poll",
            "1s",
        ],
    );
    let st = stats(&sim);
    let times = accepted_ms(&sim);
    let n = times.len();
    let span = secs(times[n - 1] - times[0]);
    let rate = (n - 1) as f64 / span;
    let ratio = rate / limit as f64;
    let violations = st["rate_violations"].as_u64().unwrap_or(u64::MAX);
    let max1s = st["max_sends_in_one_second"].as_u64().unwrap_or(0);
    t.add(
        name,
        &format!("achieved rate ÷ limit ({n} msgs, {rate:.1}/s)"),
        format!("{ratio:.3}"),
        "≥ 0.98",
        Some(ratio >= 0.98 && n == rows),
    );
    t.add(
        name,
        &format!("rate violations (most sends in 1 s: {max1s})"),
        violations.to_string(),
        "0",
        Some(violations == 0),
    );
    t.add(
        name,
        "client CPU per message",
        format!("{:.0} µs", per_msg_us(u.cpu, n as u64)),
        "",
        None,
    );
}

/// Scenario 2: Skewed night: one partner with 60 orders, twelve with 20, the rest
/// one each; pair interval 0.5 s on both sides.
fn skewed(t: &mut Table) {
    const ROWS: usize = 10_000;
    // The pair bound (29.5 s) is the binding one: the other rows are all
    // sent within the first ~10 s.
    const RATE: f64 = 1000.0;
    const PAIR: f64 = 0.5;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("skewed.csv");
    // Rows 0..60 → the big partner, 60..300 → twelve partners with 20 each,
    // spread over the file so they do not all start together.
    // The big partner is placed last, so it keeps all 60.
    let mut phones: Vec<String> = (0..ROWS).map(distinct_phone).collect();
    let stride = |k: usize, of: usize| k * (ROWS / of);
    for p in 0..12 {
        for k in 0..20 {
            phones[(stride(k, 20) + 37 * (p + 1)) % ROWS] = format!("49170000001{p:02}");
        }
    }
    for k in 0..60 {
        phones[stride(k, 60)] = "4917000000001".into();
    }
    write_csv(&csv, ROWS, |i| phones[i].clone());
    let mut per: std::collections::HashMap<&str, usize> = Default::default();
    for p in &phones {
        *per.entry(p.as_str()).or_default() += 1;
    }
    let largest = per.values().copied().max().unwrap_or(1);
    let rate_s = format!("{RATE}");
    let sim = simulator(&["--rate", &rate_s, "--pair-interval", "500ms"]);
    let _u = handoff_run(
        &sim,
        dir.path(),
        &csv,
        &[
            "--rate",
            &rate_s,
            "--pair-interval",
            "500ms",
            "--concurrency",
            "16",
            "--poll-rate",
            "2000",
            "--first-poll",
            "1s",
        ],
    );
    let st = stats(&sim);
    let times = accepted_ms(&sim);
    let n = times.len();
    let send_time = secs(times[n - 1] - times[0]);
    let bound = (n as f64 / RATE).max((largest - 1) as f64 * PAIR);
    let ratio = send_time / bound;
    t.add(
        "skewed",
        &format!(
            "send time ÷ bound ({send_time:.2} s ÷ {bound:.2} s; {n} msgs, {largest} max/recipient)"
        ),
        format!("{ratio:.3}"),
        "≤ 1.05",
        Some(ratio <= 1.05 && n == ROWS),
    );
    let pv = st["pair_violations"].as_u64().unwrap_or(u64::MAX);
    let rv = st["rate_violations"].as_u64().unwrap_or(u64::MAX);
    t.add(
        "skewed",
        "pair + rate violations",
        format!("{pv} + {rv}"),
        "0",
        Some(pv == 0 && rv == 0),
    );
}

/// The two rows a tracking scenario is judged by: `hookInfo` calls per
/// accepted message against `per_limit`, and the wall time against the
/// `bound`: sending every row at the scenario's rate, plus its slowest
/// delivery.
fn tracking_rows(
    t: &mut Table,
    scenario: &str,
    what: &str,
    per_limit: f64,
    st: &Value,
    u: &Usage,
    bound: f64,
) {
    let n = st["accepted"].as_u64().unwrap_or(0);
    let calls = hook_info_calls(st);
    let per = calls as f64 / n.max(1) as f64;
    t.add(
        scenario,
        &format!("{what} ({calls} ÷ {n})"),
        format!("{per:.3}"),
        &format!("≤ {per_limit}"),
        Some(per <= per_limit),
    );
    let e2e = u.wall.as_secs_f64();
    let ratio = e2e / bound;
    t.add(
        scenario,
        &format!("end-to-end ÷ bound ({e2e:.2} s ÷ {bound:.2} s)"),
        format!("{ratio:.3}"),
        "≤ 1.05",
        Some(ratio <= 1.05),
    );
}

/// Scenario 3: Tracking: delivery 1–5 s after acceptance, every message final at
/// `delivered` (read ratio 0); the client's defaults (`--rate 20`,
/// `--poll-rate 40`, `--first-poll`), the channel at 20/s.
fn tracking(t: &mut Table) {
    const ROWS: usize = 600;
    const RATE: f64 = 20.0;
    const SLOWEST: f64 = 5.0;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("track.csv");
    write_csv(&csv, ROWS, distinct_phone);
    let rate_s = format!("{RATE}");
    let sim = simulator(&[
        "--rate",
        &rate_s,
        "--sent-latency",
        "0ms",
        "--delivered-latency",
        "1s..5s",
        "--read-ratio",
        "0",
    ]);
    let u = handoff_run(&sim, dir.path(), &csv, &[]);
    let st = stats(&sim);
    let bound = ROWS as f64 / RATE + SLOWEST;
    tracking_rows(
        t,
        "tracking",
        "hookInfo calls per message",
        1.5,
        &st,
        &u,
        bound,
    );
}

/// Scenario 3b: Tracking with webhooks: the tracking scenario's channel
/// and pace, with the run's own receiver registered on the channel, so
/// each final status is pushed. `--first-poll 10s`, past the slowest
/// delivery (5 s): a message is polled only if its ack was lost, which
/// the simulator never does here; so hookInfo calls per message measure
/// what pushed acks save, and end-to-end time must keep the tracking bound.
fn tracking_webhook(t: &mut Table) {
    const ROWS: usize = 600;
    const RATE: f64 = 20.0;
    const SLOWEST: f64 = 5.0;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("track.csv");
    write_csv(&csv, ROWS, distinct_phone);
    let rate_s = format!("{RATE}");
    let sim = simulator(&[
        "--rate",
        &rate_s,
        "--sent-latency",
        "0ms",
        "--delivered-latency",
        "1s..5s",
        "--read-ratio",
        "0",
    ]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let listen = format!("127.0.0.1:{port}");
    let url = format!("http://{listen}/hook");
    let u = handoff_run(
        &sim,
        dir.path(),
        &csv,
        &[
            "--webhook-listen",
            &listen,
            "--webhook-url",
            &url,
            "--first-poll",
            "10s",
        ],
    );
    let st = stats(&sim);
    // One of the calls is the preflight's probe, not a message's poll.
    let what = "hookInfo calls per message, acks on";
    let bound = ROWS as f64 / RATE + SLOWEST;
    tracking_rows(t, "webhook", what, 0.1, &st, &u, bound);
    t.note(format!(
        "webhook: {} acks pushed, {} push failures",
        st["webhook_posts"], st["webhook_failures"]
    ));
}

/// The overhead scenario's simulator: no limits, no latency.
const OVERHEAD_SIM: &[&str] = &[
    "--rate",
    "0",
    "--pair-interval",
    "0",
    "--sent-latency",
    "0ms",
    "--delivered-latency",
    "0ms",
    "--read-ratio",
    "0",
];

/// The overhead scenario's `handoff run` flags: limits far above the
/// simulator's pace, so the client's own costs are what is measured.
const OVERHEAD_RUN: &[&str] = &[
    "--rate",
    "100000",
    "--concurrency",
    "64",
    "--poll-rate",
    "100000",
    "--first-poll",
    "10ms",
];

/// Scenario 4: Overhead: 100,000 rows at a high limit with latency off; then
/// 1,000,000 rows for memory.
fn overhead(t: &mut Table) {
    const ROWS: usize = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("overhead.csv");
    write_csv(&csv, ROWS, distinct_phone);
    let sim = simulator(OVERHEAD_SIM);
    let u = handoff_run(&sim, dir.path(), &csv, OVERHEAD_RUN);
    let st = stats(&sim);
    let n = st["accepted"].as_u64().unwrap_or(0);
    let us = per_msg_us(u.cpu, n);
    t.add(
        "overhead",
        &format!(
            "client CPU per message ({n} msgs, {:.1} s CPU, {:.1} s wall)",
            u.cpu.as_secs_f64(),
            u.wall.as_secs_f64()
        ),
        format!("{us:.1} µs"),
        "≤ 50 µs",
        Some(us <= 50.0 && n == ROWS as u64),
    );
    let mib = u.max_rss_kib as f64 / 1024.0;
    t.add(
        "overhead",
        "peak RSS, 100,000 rows (run)",
        format!("{mib:.1} MiB"),
        "≤ 64 MB",
        Some(mib * 1.048_576 <= 64.0),
    );
}

/// Peak RSS of a dry run (input only) at two sizes, and of full runs.
fn big(t: &mut Table) {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulator(&["--rate", "0", "--pair-interval", "0"]);
    let mut dry = Vec::new();
    for rows in [100_000usize, 1_000_000] {
        let csv = dir.path().join(format!("big-{rows}.csv"));
        write_csv(&csv, rows, distinct_phone);
        let u = handoff_run(&sim, dir.path(), &csv, &["--dry-run"]);
        dry.push((rows, u));
        let _ = std::fs::remove_file(&csv);
    }
    memory_growth(t, "--dry-run", dry[0].1.max_rss_kib, dry[1].1.max_rss_kib);
    if std::env::var_os("PIPELINE_BIG_RUN").is_none() {
        return;
    }
    // The same through the ledger, sending and tracking every row.
    drop(sim);
    let mut runs = Vec::new();
    for rows in [100_000usize, 1_000_000] {
        let run_dir = tempfile::tempdir().unwrap();
        let csv = run_dir.path().join("run.csv");
        write_csv(&csv, rows, distinct_phone);
        let sim = simulator(OVERHEAD_SIM);
        let u = handoff_run(&sim, run_dir.path(), &csv, OVERHEAD_RUN);
        runs.push(u.max_rss_kib);
    }
    memory_growth(t, "run", runs[0], runs[1]);
}

/// The row for peak RSS at 100,000 and at 1,000,000 rows.
fn memory_growth(t: &mut Table, what: &str, small_kib: u64, big_kib: u64) {
    let (a, b) = (small_kib as f64, big_kib as f64);
    t.add(
        "big",
        &format!(
            "peak RSS, {what}: 100k → 1M rows ({:.1} → {:.1} MiB)",
            a / 1024.0,
            b / 1024.0
        ),
        format!("×{:.2}", b / a),
        "no growth (≤ ×1.1)",
        Some(b <= a * 1.1),
    );
}

/// Scenario 5: Baseline: the vendor's example (one awaited fetch per row) against
/// `handoff run`, both over the same file at 100 ms response latency.
fn baseline(t: &mut Table) {
    const ROWS: usize = 10_000;
    const NODE_ROWS: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("pace.csv");
    write_csv(&csv, ROWS, distinct_phone);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/baseline.js");
    let node_ok = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let node = if node_ok {
        let sim = simulator(&["--rate", "0", "--response-latency", "100ms"]);
        let mut cmd = Command::new("node");
        cmd.arg(&script)
            .arg(&csv)
            .arg(&sim.base)
            .arg(NODE_ROWS.to_string());
        let u = measured(cmd);
        assert_eq!(u.code, 0, "baseline.js failed");
        let n = stats(&sim)["accepted"].as_u64().unwrap_or(0);
        assert_eq!(n, NODE_ROWS as u64, "baseline.js sends every row");
        let times = accepted_ms(&sim);
        let rate = (n - 1) as f64 / secs(times[times.len() - 1] - times[0]);
        Some((rate, per_msg_us(u.cpu, n)))
    } else {
        t.note("node is not installed: no baseline".into());
        None
    };
    let sim = simulator(&["--rate", "0", "--response-latency", "100ms"]);
    let u = handoff_run(
        &sim,
        dir.path(),
        &csv,
        &[
            "--rate",
            "100000",
            "--concurrency",
            "256",
            "--poll-rate",
            "2000",
            "--first-poll",
            "1s",
        ],
    );
    let n = stats(&sim)["accepted"].as_u64().unwrap_or(0);
    let times = accepted_ms(&sim);
    let rate = (n - 1) as f64 / secs(times[times.len() - 1] - times[0]);
    let ours = per_msg_us(u.cpu, n);
    match node {
        Some((node_rate, node_cpu)) => {
            let ratio = rate / node_rate;
            t.add(
                "baseline",
                &format!("throughput ÷ baseline ({rate:.0}/s ÷ {node_rate:.1}/s)"),
                format!("×{ratio:.0}"),
                "≥ ×50",
                Some(ratio >= 50.0),
            );
            t.add(
                "baseline",
                "CPU per message: handoff (send+track) / baseline.js",
                format!("{ours:.0} / {node_cpu:.0} µs"),
                "",
                None,
            );
        }
        None => t.add(
            "baseline",
            "handoff throughput at 100 ms latency",
            format!("{rate:.0}/s"),
            "",
            None,
        ),
    }
}

fn main() {
    if std::env::var_os(TRAMPOLINE).is_some() {
        trampoline();
    }
    let only: Option<Vec<String>> = std::env::var("PIPELINE_ONLY")
        .ok()
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    let want = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));
    let pace80_rows: usize = std::env::var("PIPELINE_PACE80_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let started = Instant::now();
    let mut t = Table::default();
    eprintln!("handoff pipeline benchmark (release binary: {})", bin());
    if want("pace80") {
        pace(&mut t, "pace 80/s", pace80_rows, 80);
    }
    if want("pace1000") {
        pace(&mut t, "pace 1000/s", 10_000, 1000);
    }
    if want("skew") {
        skewed(&mut t);
    }
    if want("track") {
        tracking(&mut t);
    }
    if want("webhook") {
        tracking_webhook(&mut t);
    }
    if want("overhead") {
        overhead(&mut t);
    }
    if want("big") {
        big(&mut t);
    }
    if want("baseline") {
        baseline(&mut t);
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!();
    println!("{}", t.markdown());
    for n in &t.notes {
        println!("note: {n}");
    }
    println!(
        "total {:.0} s; load average at the end: {}",
        started.elapsed().as_secs_f64(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}
