//! The ledger's upkeep on a ledger a run is writing: `backup` copies a
//! consistent moment of it, `prune` cuts old nights down without forgetting
//! a send, `ledger --vacuum` waits for no run; and after the prune the same
//! export sends nothing again.

use std::path::Path;
use std::process::Output;

use rusqlite::Connection;

use crate::binary::*;
use crate::util::eventually;

fn rows(tag: &str, n: usize, product: &'static str) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let phone: &'static str = Box::leak(format!("4916{tag}{i:05}").into_boxed_str());
            let order: &'static str = Box::leak(format!("L-{tag}-{i}").into_boxed_str());
            ["Partner", phone, order, product, "Note"]
        })
        .collect()
}

async fn upkeep(args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .expect("handoff runs")
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Moves run `run` and what it recorded `days` into the past, as if it had
/// been a night that long ago.
fn age(ledger: &Path, run: i64, days: i64) {
    let conn = Connection::open(ledger).unwrap();
    // Times are milliseconds since the epoch.
    let shift = days * 86_400_000;
    let moved = |table: &str, column: &str| {
        conn.execute(
            &format!("UPDATE {table} SET {column} = {column} - ?2 WHERE run_id = ?1"),
            rusqlite::params![run, shift],
        )
        .unwrap()
    };
    assert_eq!(moved("runs", "started_at"), 1);
    moved("attempts", "intent_at");
    moved("messages", "accepted_at");
}

/// Three old nights: the first sends three orders, the second sends the
/// first order again with a corrected product, the third finds all sent;
/// then they are moved 600, 500 and 450 days back. Returns the corrected
/// export.
async fn old_nights(env: &Env) -> Vec<Row> {
    let ledger = env.path("ledger.sqlite");
    let night = env.csv(&rows("1", 3, "Item"));
    assert_eq!(code(&env.run(&night, &[]).await), 0);
    let mut corrected = rows("1", 3, "Item");
    corrected[0][3] = "Corrected item";
    let corrected_csv = env.csv(&corrected);
    let out = env.run(&corrected_csv, &["--resend-changed"]).await;
    assert!(matches!(code(&out), 0 | 10), "{}", stderr(&out));
    let night = env.csv(&rows("1", 3, "Item"));
    let out = env.run(&night, &[]).await;
    assert!(matches!(code(&out), 0 | 10), "{}", stderr(&out));
    assert_eq!(env.sim_messages().await.len(), 4);
    for (run, days) in [(1, 600), (2, 500), (3, 450)] {
        age(&ledger, run, days);
    }
    corrected
}

/// The copy: a healthy ledger, one moment of the live one (taken while
/// tonight's run wrote, before the prune).
fn assert_a_moment_of(copy: &Path, live: &Connection) {
    let b = Connection::open(copy).unwrap();
    let check: String = b
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert_eq!(
        count(&b, "SELECT COUNT(*) FROM pragma_foreign_key_check"),
        0
    );
    assert_eq!(
        count(&b, "PRAGMA user_version"),
        count(live, "PRAGMA user_version")
    );
    assert_eq!(count(&b, "SELECT COUNT(*) FROM runs"), 4);
    let copied = count(&b, "SELECT COUNT(*) FROM messages");
    assert!((5..=24).contains(&copied), "{copied} messages");
    assert_eq!(
        count(
            &b,
            "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS
                   (SELECT 1 FROM attempts a WHERE a.attempt_id = m.attempt_id)"
        ),
        0
    );
    assert_eq!(
        count(&b, "SELECT COUNT(*) FROM deliveries WHERE run_id = 1"),
        3,
        "taken before the prune"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_and_backup_while_a_run_writes_and_dedup_survives_the_prune() {
    let env = Env::start(fast()).await;
    let ledger = env.path("ledger.sqlite");
    let l = ledger.to_str().unwrap();
    let corrected = old_nights(&env).await;

    // Tonight's run, slow enough to be writing while the upkeep runs.
    let tonight = env.path("tonight.csv");
    std::fs::rename(env.csv(&rows("2", 20, "Item")), &tonight).unwrap();
    let mut run = env
        .command(&tonight, &["--rate", "4"], "sim-token")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = eventually(|| async { (env.sim_messages().await.len() > 4).then_some(()) }).await;
    assert!(started.is_some(), "tonight's run sends");

    let copy = env.path("backup.sqlite");
    let out = upkeep(&["backup", "--ledger", l, copy.to_str().unwrap()]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let live = Connection::open(&ledger).unwrap();
    let before = count(&live, "SELECT COUNT(*) FROM deliveries");
    let out = upkeep(&["prune", "--ledger", l, "--older-than", "400d", "--dry-run"]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        count(&live, "SELECT COUNT(*) FROM deliveries") >= before,
        "a dry run deletes nothing"
    );
    let out = upkeep(&["prune", "--ledger", l, "--older-than", "400d"]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = upkeep(&["ledger", "--ledger", l, "--vacuum"]).await;
    assert_eq!(code(&out), 75, "vacuum waits for no run: {}", stderr(&out));
    assert!(
        run.try_wait().unwrap().is_none(),
        "the upkeep ran while tonight's run wrote"
    );

    let out = run.wait_with_output().await.unwrap();
    assert_eq!(
        code(&out),
        0,
        "tonight's run was not disturbed: {}",
        stderr(&out)
    );
    assert_eq!(env.sim_messages().await.len(), 24);

    assert_a_moment_of(&copy, &live);

    // The prune: old nights' rows gone, the first order's first message gone
    // (it was sent again), the third night gone whole; tonight untouched.
    assert_eq!(
        count(&live, "SELECT COUNT(*) FROM deliveries WHERE run_id < 4"),
        0
    );
    assert_eq!(
        count(&live, "SELECT COUNT(*) FROM messages WHERE run_id < 4"),
        3
    );
    assert_eq!(
        count(&live, "SELECT COUNT(*) FROM runs WHERE run_id = 3"),
        0
    );
    assert_eq!(
        count(&live, "SELECT COUNT(*) FROM deliveries WHERE run_id = 4"),
        20
    );
    drop(live);

    // The same exports again: nothing is sent twice.
    for input in [rows("1", 3, "Item"), corrected, rows("2", 20, "Item")] {
        let csv = env.csv(&input);
        let out = env.run(&csv, &[]).await;
        assert!(matches!(code(&out), 0 | 10), "{}", stderr(&out));
        assert_eq!(env.sim_messages().await.len(), 24, "{}", stderr(&out));
        assert!(
            env.report()
                .iter()
                .all(|r| !r["reused_from_run"].is_empty())
        );
    }
    let out = upkeep(&["ledger", "--ledger", l, "--vacuum"]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("vacuumed: ") && text.contains("bytes per message"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upkeep_refuses_a_ledger_that_is_not_there_and_a_cut_under_a_day() {
    let env = Env::start(fast()).await;
    let missing = env.path("typo.sqlite");
    let m = missing.to_str().unwrap();
    let copy = env.path("copy.sqlite");
    for args in [
        vec!["prune", "--ledger", m, "--older-than", "400d"],
        vec!["backup", "--ledger", m, copy.to_str().unwrap()],
        vec!["ledger", "--ledger", m],
    ] {
        let out = upkeep(&args).await;
        assert_eq!(code(&out), 66, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("no ledger at"), "{}", stderr(&out));
    }
    assert!(!missing.exists() && !copy.exists(), "nothing created");
    let out = upkeep(&["prune", "--ledger", m, "--older-than", "2h"]).await;
    assert_eq!(code(&out), 64, "a bad flag value: {}", stderr(&out));
    assert!(stderr(&out).contains("under a day"), "{}", stderr(&out));
}
