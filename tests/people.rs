//! The end of a run, for the people who act on it: who must do what, the
//! rows, and the exact command for each group; what a rerun sent and how
//! each row ended; every file written.

use std::path::Path;
use std::time::Duration;

use crate::binary::*;

/// `handoff ARGS` against the test's simulator, as a person runs it: not
/// quiet.
async fn person(env: &Env, args: &[&str]) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_handoff"));
    cmd.args(args)
        .arg("--ledger")
        .arg(env.path("ledger.sqlite"))
        .args(["--api-url", &env.base, "--channel", "SIM0001"])
        .args([
            "--pair-interval",
            "0",
            "--first-poll",
            "50ms",
            "--track-for",
            "5s",
        ])
        .env("ONEMSG_TOKEN", "sim-token")
        .env_remove("ONEMSG_API_URL")
        .env_remove("ONEMSG_CHANNEL_ID")
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("finishes")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_end_of_a_run_says_who_acts_on_which_rows_and_how() {
    let env = Env::start(fast()).await;
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_deliveries.csv");
    let report = env.path("reconciliation.csv");
    let out = person(
        &env,
        &[
            "run",
            sample.to_str().unwrap(),
            "--out",
            report.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let err = stderr(&out);
    let block: Vec<&str> = err
        .lines()
        .skip_while(|l| !l.starts_with("Needs a person"))
        .collect();
    assert_eq!(block.first(), Some(&"Needs a person: 5 rows"), "{err}");
    let text = block.join("\n");
    // The two failed partners, under the person who calls them.
    assert!(
        text.contains("The partner's account manager (2 rows):"),
        "{text}"
    );
    for partner in ["Maple Street Pickup Point", "Harbour View Kiosk"] {
        assert!(text.contains(partner), "{partner}: {text}");
    }
    // The three invalid rows, each with its line and field.
    assert!(
        text.contains("Whoever keeps the TMS/OMS export (3 rows):"),
        "{text}"
    );
    for row in ["row 24", "row 25", "row 26"] {
        assert!(text.contains(&format!("{row} (")), "{row}: {text}");
    }
    assert!(text.contains("line 27: partner_phone"), "{text}");
    // The exact command, with the ledger it needs.
    let rerun = format!(
        "then: handoff rerun {} --ledger {}",
        report.display(),
        env.path("ledger.sqlite").display()
    );
    assert_eq!(text.matches(&rerun).count(), 2, "{text}");
    assert!(
        text.contains(&format!("Written: {}", report.display())),
        "{text}"
    );
    // No JSON summary for a person reading stderr; stdout has it for scripts.
    assert!(!err.contains("\"exit_code\""), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"exit_code\":10"));

    // The export's owner fixes the three rows in the report; the rerun says
    // what it sent and how each ended.
    let fixed = std::fs::read_to_string(&report)
        .unwrap()
        .replace(",12-34,", ",+4915112345625,")
        .replace(",4.91511E+11,", ",+4915112345626,");
    std::fs::write(env.path("fixed.csv"), fixed).unwrap();
    let rerun_out = env.path("rerun.csv");
    let out = person(
        &env,
        &[
            "rerun",
            env.path("fixed.csv").to_str().unwrap(),
            "--out",
            rerun_out.to_str().unwrap(),
            "--only",
            "invalid",
        ],
    )
    .await;
    let err = stderr(&out);
    assert!(err.contains("Sent by this rerun: 2 rows"), "{err}");
    for row in ["row 25", "row 26"] {
        assert!(
            err.lines().any(|l| l.contains(&format!("{row} ("))
                && (l.ends_with("delivered") || l.ends_with("read"))),
            "{row}: {err}"
        );
    }
}

/// The machine's JSON line is for schedulers and pipes: on a person's
/// terminal (here a pseudo-terminal made by `script`, util-linux) stdout
/// holds none, while the end of the run in words is there; without a
/// terminal the same run prints it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_gets_words_and_a_pipe_gets_the_json_line() {
    let Ok(script) = which("script") else {
        // As with LibreOffice: .ci/run installs it, a newcomer needs nothing.
        eprintln!("notice: no `script` (util-linux) here; the terminal check is skipped");
        return;
    };
    let env = Env::start(fast()).await;
    let input = env.csv(&[["Acme", "+491520000901", "T-1", "Lamp", "Dock"]]);
    let ledger = env.path("ledger.sqlite");
    let handoff = format!(
        "{} run {} --out {} --ledger {} --api-url {} --channel SIM0001 \
         --pair-interval 0 --first-poll 50ms --track-for 5s",
        env!("CARGO_BIN_EXE_handoff"),
        input.display(),
        env.path("reconciliation.csv").display(),
        ledger.display(),
        env.base,
    );
    let mut cmd = tokio::process::Command::new(script);
    cmd.args(["-q", "-e", "-c", &handoff, "/dev/null"])
        .env("ONEMSG_TOKEN", "sim-token")
        .env("TERM", "dumb")
        .env_remove("ONEMSG_API_URL")
        .env_remove("ONEMSG_CHANNEL_ID")
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("finishes")
        .unwrap();
    let seen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(&out), 0, "{seen}");
    assert!(seen.contains("Written: "), "the end in words: {seen}");
    assert!(
        !seen.lines().any(|l| l.trim_start().starts_with("{\"")),
        "no JSON line on a terminal: {seen}"
    );
    // The same run into a pipe: the line is there.
    let report = env.path("reconciliation.csv");
    let run = [
        "run",
        input.to_str().unwrap(),
        "--out",
        report.to_str().unwrap(),
    ];
    let out = person(&env, &run).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(summary(&out)["rows"], 1);
}

/// The path of `program` on `PATH`.
fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .ok_or(())
}
