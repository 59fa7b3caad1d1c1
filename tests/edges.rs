//! The edges of a night: what is wrong on this machine is found before the
//! first API request, with its own exit code; an export may arrive through
//! a pipe; a webhook receiver open to other machines needs a secret.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use tokio::io::AsyncWriteExt;

use crate::binary::*;

fn rows(n: usize) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let phone: &'static str = Box::leak(format!("4917700{i:05}").into_boxed_str());
            let order: &'static str = Box::leak(format!("E-{i}").into_boxed_str());
            ["Partner", phone, order, "Item", "Note"]
        })
        .collect()
}

/// How many requests of any kind the simulator has answered.
async fn requests(env: &Env) -> u64 {
    let stats = env.stats().await;
    let Some(routes) = stats["requests"].as_object() else {
        return 0;
    };
    routes
        .values()
        .filter_map(|by_status| by_status.as_object())
        .flat_map(|m| m.values())
        .filter_map(|n| n.as_u64())
        .sum()
}

/// A missing export, an export with a header and no rows, and a report
/// that cannot be written each end with their own code, and the API is
/// never asked: neither one that is down (a closed port, which used to
/// cost seven seconds of retries and exit 69, "run again later", for a file
/// that will never appear) nor one that is up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_problems_exit_with_their_own_code_before_any_request() {
    let env = Env::start(fast()).await;
    let missing = env.path("no-such-export.csv");
    let header_only = env.path("header-only.csv");
    std::fs::write(
        &header_only,
        "Partner Name,Partner Phone,Order Number,Product Name,Delivery Note\n",
    )
    .unwrap();
    let good = env.csv(&rows(2));
    // A file where the report's folder should be.
    let blocked = env.path("blocked");
    std::fs::write(&blocked, "a file, not a folder").unwrap();
    let unwritable = blocked.join("r.csv");
    let cases: [(&Path, Vec<&str>, i32, &str); 3] = [
        (&missing, vec![], 66, "no-such-export.csv"),
        (&header_only, vec![], 65, "header-only.csv"),
        (
            &good,
            vec!["--out", unwritable.to_str().unwrap()],
            78,
            "blocked",
        ),
    ];
    for (input, extra, want, named) in cases {
        for api in [env.base.as_str(), "http://127.0.0.1:1"] {
            let mut args = extra.clone();
            args.extend(["--api-url", api]);
            let out = env.run(input, &args).await;
            assert_eq!(code(&out), want, "{api}: {}", stderr(&out));
            assert!(stderr(&out).contains(named), "{api}: {}", stderr(&out));
            assert!(
                !stderr(&out).contains("run again later"),
                "not an outage: {}",
                stderr(&out)
            );
        }
    }
    assert_eq!(requests(&env).await, 0, "the API was never asked");
}

/// A webhook receiver other machines can reach needs a secret: without one
/// the run stops (78) before anything is asked or sent; on loopback, or
/// with a secret, it starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_open_to_other_machines_needs_a_secret() {
    let env = Env::start(fast()).await;
    let input = env.csv(&rows(2));
    let open = [
        "--webhook-listen",
        "0.0.0.0:0",
        "--webhook-url",
        "https://hooks.example/hook",
    ];
    let out = env.run(&input, &open).await;
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--webhook-secret"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("nothing was sent"),
        "{}",
        stderr(&out)
    );
    assert_eq!(requests(&env).await, 0, "nothing asked, nothing sent");
    // `handoff receive` keeps the same rule.
    let ledger = env.path("receive.sqlite");
    let receive = tokio::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args(["receive", "--listen", "0.0.0.0:0", "--ledger"])
        .arg(&ledger)
        .env_remove("HANDOFF_WEBHOOK_SECRET")
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    assert_eq!(code(&receive), 78, "{}", stderr(&receive));
    assert!(
        stderr(&receive).contains("--webhook-secret"),
        "{}",
        stderr(&receive)
    );
}

/// The rows of a report that say what happened to each order (the wamids
/// and times differ from one simulator to the next, and whether a partner
/// read a message or only got it depends on the order its sends arrive in).
fn outcomes(env: &Env) -> Vec<[String; 5]> {
    env.report()
        .into_iter()
        .map(|mut r: HashMap<String, String>| {
            if ["delivered", "read"].contains(&r["outcome"].as_str()) {
                r.insert("outcome".into(), "delivered or read".into());
            }
            ["row", "order_number", "phone", "outcome", "attempts"].map(|k| r[k].clone())
        })
        .collect()
}

/// `cmd` as one shell line, started by `launcher` (which gets the line and
/// gives the whole command: `bash -c LINE`, `script -qec LINE /dev/null`),
/// with `cmd`'s environment; `swap` may put shell syntax in place of an
/// argument (which is otherwise quoted).
fn through_shell(
    cmd: &tokio::process::Command,
    swap: impl Fn(&str) -> Option<String>,
    launcher: impl Fn(String) -> Vec<String>,
) -> tokio::process::Command {
    let std = cmd.as_std();
    let mut line = format!("exec {}", std.get_program().to_str().unwrap());
    for arg in std.get_args() {
        let arg = arg.to_str().unwrap();
        let word = swap(arg).unwrap_or_else(|| format!("'{arg}'"));
        line.push(' ');
        line.push_str(&word);
    }
    let words = launcher(line);
    let mut shell = tokio::process::Command::new(&words[0]);
    shell.args(&words[1..]).kill_on_drop(true);
    for (k, v) in std.get_envs() {
        match v {
            Some(v) => shell.env(k, v),
            None => shell.env_remove(k),
        };
    }
    shell
}

/// Runs `handoff run` on `input` against a fresh simulator, with `stdin`
/// piped in when given; the report's outcomes.
async fn run_fresh(
    file: &Path,
    input: &str,
    stdin: Option<Vec<u8>>,
    shell: bool,
) -> Vec<[String; 5]> {
    let env = Env::start(fast()).await;
    let mut cmd = env.command(Path::new(input), &[], "sim-token");
    if shell {
        // Bash's process substitution: the export as `/dev/fd/N`, a pipe.
        let substituted = format!("<(cat '{}')", file.display());
        let swap = |arg: &str| (arg == input).then(|| substituted.clone());
        cmd = through_shell(&cmd, swap, |line| vec!["bash".into(), "-c".into(), line]);
    }
    let out: Output = match stdin {
        Some(bytes) => {
            let mut child = cmd.stdin(Stdio::piped()).spawn().unwrap();
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(&bytes).await.unwrap();
            drop(pipe);
            child.wait_with_output().await.unwrap()
        }
        None => cmd.output().await.unwrap(),
    };
    assert_eq!(code(&out), 0, "{input}: {}", stderr(&out));
    outcomes(&env)
}

/// An export piped in (`-`, `/dev/stdin`), from a FIFO, or from a process
/// substitution is read once, as it arrives, and makes the same report as
/// the file itself. (Read twice, a pipe was found empty the second time,
/// and a FIFO waited forever for a second writer.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_from_a_pipe_makes_the_same_report_as_the_file() {
    // The export lives in this simulator's folder; each run gets its own.
    let base = Env::start(fast()).await;
    let file = base.csv(&rows(3));
    let bytes = std::fs::read(&file).unwrap();
    let want = run_fresh(&file, file.to_str().unwrap(), None, false).await;
    assert_eq!(want.len(), 3);

    let dash = run_fresh(&file, "-", Some(bytes.clone()), false).await;
    assert_eq!(dash, want, "handoff run - < file");
    let dev_stdin = run_fresh(&file, "/dev/stdin", Some(bytes.clone()), false).await;
    assert_eq!(dev_stdin, want, "handoff run /dev/stdin < file");
    let substituted = run_fresh(&file, "SUBSTITUTED", None, true).await;
    assert_eq!(substituted, want, "handoff run <(cat file)");

    let fifo = base.path("export.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::File::create(&fifo).unwrap();
            f.write_all(&bytes).unwrap();
        })
    };
    let from_fifo = run_fresh(&file, fifo.to_str().unwrap(), None, false).await;
    writer.join().unwrap();
    assert_eq!(from_fifo, want, "handoff run FIFO");
}

/// With `--log-format json`, every line on stderr is a JSON object, on
/// every exit (the fatal error too, with its exit code), and stdout gets
/// the JSON summary even when clap refused the command line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_json_mode_every_exit_speaks_json() {
    let env = Env::start(fast()).await;
    let input = env.csv(&rows(2));
    let missing = env.path("missing.csv");
    let blocked = env.path("blocked");
    std::fs::write(&blocked, "a file, not a folder").unwrap();
    let unwritable = blocked.join("r.csv");
    let json = ["--log-format", "json"];
    let cases: Vec<(&str, &Path, Vec<&str>, &str, i32)> = vec![
        ("a night", &input, vec![], "sim-token", 0),
        ("no token", &input, vec![], "", 78),
        ("a missing export", &missing, vec![], "sim-token", 66),
        (
            "an unwritable --out",
            &input,
            vec!["--out", unwritable.to_str().unwrap()],
            "sim-token",
            78,
        ),
        (
            "a flag clap refuses",
            &input,
            vec!["--rate", "abc"],
            "sim-token",
            64,
        ),
    ];
    for (what, input, extra, token, want) in cases {
        let mut args = json.to_vec();
        args.extend(extra);
        let mut cmd = env.command(input, &args, token);
        if token.is_empty() {
            cmd.env_remove("ONEMSG_TOKEN");
        }
        let out = cmd.output().await.unwrap();
        assert_eq!(code(&out), want, "{what}: {}", stderr(&out));
        let lines: Vec<&str> = std::str::from_utf8(&out.stderr)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        for line in &lines {
            let parsed: Result<serde_json::Value, _> = serde_json::from_str(line);
            assert!(parsed.is_ok(), "{what}: not JSON on stderr: {line}");
        }
        if want != 0 {
            let last: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
            assert_eq!(last["level"], "ERROR", "{what}: {last}");
            assert_eq!(last["exit_code"], want, "{what}: {last}");
        }
        let summary: serde_json::Value = std::str::from_utf8(&out.stdout)
            .unwrap()
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str(l).ok())
            .unwrap_or_else(|| panic!("{what}: no JSON summary on stdout"));
        assert_eq!(summary["exit_code"], want, "{what}: {summary}");
    }
}

/// The JSON summary is for schedulers and scripts: written to stdout when
/// it is a pipe or a file, not to a person's terminal (`script` gives the
/// run one), where the end of the run on stderr says the same in words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_summary_reaches_a_pipe_not_a_terminal() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    }
    let env = Env::start(fast()).await;
    let input = env.csv(&rows(2));
    let piped = env.run(&input, &[]).await;
    assert_eq!(code(&piped), 0, "{}", stderr(&piped));
    let out = String::from_utf8_lossy(&piped.stdout);
    assert!(out.contains("\"exit_code\":0"), "a pipe gets it: {out}");

    // The same command under a terminal, its arguments quoted for the shell.
    let cmd = env.command(&input, &[], "sim-token");
    let script = |line| vec!["script".into(), "-qec".into(), line, "/dev/null".into()];
    let mut typed = through_shell(&cmd, |_| None, script);
    let typed = typed.output().await.unwrap();
    // Every order was sent already: nothing twice, and it finishes as fine.
    assert_eq!(
        code(&typed),
        0,
        "{}",
        String::from_utf8_lossy(&typed.stdout)
    );
    let screen = String::from_utf8_lossy(&typed.stdout);
    assert!(
        !screen.contains("\"exit_code\""),
        "a terminal does not: {screen}"
    );
}
