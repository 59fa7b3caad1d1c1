//! Tests of the parent module.

use rusqlite::params;

use super::*;
use crate::ledger::codec::ts;
use crate::ledger::fixtures::{accepted, intent, meta, p, row, st, t, with_message};

#[test]
fn accepted_message_and_report_across_runs() {
    let (mut l, run1) = with_message();
    l.finish_run(run1, 10, t(1_000)).unwrap();
    l.record_statuses(&[st("w1", "failed", 900)]).unwrap();

    // Night 2: A-1 is resent (it failed) and accepted again.
    let run2 = l.begin_run(&meta("rerun", t(86_400_000))).unwrap();
    l.record_rows(run2, &[row(1, Some("A-1"), Verdict::Send)])
        .unwrap();
    let a = l
        .record_intent(&intent(run2, "A-1", 1, "491711234567", &p(), t(86_400_010)))
        .unwrap();
    l.record_answer(a, &accepted("w1b", t(86_400_020))).unwrap();
    l.finish_run(run2, 10, t(86_401_000)).unwrap();

    let m = l.accepted_message("A-1").unwrap().unwrap();
    assert_eq!(m.wamid, "w1b");
    assert_eq!(m.run_id, run2);
    assert!(l.accepted_message("Z-9").unwrap().is_none());

    // Night 3: the same orders arrive again; A-1 is reused, B-2 is new and unsent.
    let run3 = l.begin_run(&meta("run", t(172_800_000))).unwrap();
    l.record_rows(
        run3,
        &[
            row(2, Some("B-2"), Verdict::Skipped),
            row(1, Some("A-1"), Verdict::Reused),
        ],
    )
    .unwrap();
    l.record_statuses(&[st("w1b", "read", 86_500_000)]).unwrap();
    let facts = l.report_rows(run3).unwrap();
    assert_eq!(facts.len(), 2);
    assert_eq!(facts[0].row, 1);
    assert_eq!(facts[0].verdict, Verdict::Reused);
    assert_eq!(facts[0].attempts, 0);
    assert_eq!(facts[0].last_result, None);
    assert_eq!(facts[0].wamid.as_deref(), Some("w1b"));
    assert_eq!(facts[0].message_run_id, Some(run2));
    assert_eq!(facts[0].status.as_deref(), Some("read"));
    assert!(l.message("w1b").unwrap().unwrap().is_final);
    assert_eq!(facts[1].row, 2);
    assert_eq!(facts[1].wamid, None);
    assert_eq!(facts[1].status, None);

    // Run 1's report still shows its own attempt, but the order's latest message.
    let f1 = &l.report_rows(run1).unwrap()[0];
    assert_eq!(f1.attempts, 1);
    assert_eq!(f1.wamid.as_deref(), Some("w1b"));
    assert_eq!(f1.message_run_id, Some(run2));
}

/// The report sees a message's failure and unknown words beside its
/// merged status, in the order they happened (B2, B3).
#[test]
fn a_failure_and_unknown_words_are_in_the_facts() {
    let (mut l, run) = with_message();
    let facts = |l: &Ledger| l.report_rows(run).unwrap().remove(0);
    l.record_statuses(&[st("w1", "sent", 100), st("w1", "read", 300)])
        .unwrap();
    assert!(
        facts(&l).history.is_empty(),
        "the plain path is not fetched"
    );
    let mut failed = st("w1", "failed", 200);
    failed.error_code = Some(131_026);
    failed.error_title = Some("Message undeliverable".into());
    l.record_statuses(&[failed, st("w1", "deleted", 400)])
        .unwrap();
    let f = facts(&l);
    assert_eq!(f.status.as_deref(), Some("read"));
    let seen: Vec<(&str, Option<i64>)> = f
        .history
        .iter()
        .map(|h| (h.status.as_str(), h.error_code))
        .collect();
    assert_eq!(
        seen,
        [
            ("sent", None),
            ("failed", Some(131_026)),
            ("read", None),
            ("deleted", None)
        ]
    );
    assert_eq!(
        f.history[1].error_title.as_deref(),
        Some("Message undeliverable")
    );
}

/// The times of each status come from the history (1MSG's own
/// timestamps), kept even when a later status is the merged one; the run's
/// header and an invalid row's problem class are there for the report.
#[test]
fn status_times_run_header_and_problem_class() {
    let (mut l, run) = with_message();
    l.record_statuses(&[
        st("w1", "sent", 100),
        st("w1", "delivered", 200),
        st("w1", "Viewed", 300),
    ])
    .unwrap();
    let f = l.report_rows(run).unwrap().remove(0);
    assert_eq!(f.accepted_at, Some(t(20)));
    assert_eq!(f.delivered_at, Some(t(200)));
    assert_eq!(f.read_at, Some(t(300)), "viewed is read");
    assert_eq!(f.failed_at, None);
    assert_eq!(f.problem, None);

    let mut bad = row(2, Some("B-2"), Verdict::Invalid);
    bad.problem = Some("bad_phone".into());
    l.record_rows(run, &[bad]).unwrap();
    let facts = l.report_rows(run).unwrap();
    assert_eq!(facts[1].problem.as_deref(), Some("bad_phone"));
    assert_eq!(facts[1].delivered_at, None);

    l.finish_run(run, 10, t(5_000)).unwrap();
    let h = l.run(run).unwrap().expect("the run");
    assert_eq!(h.kind, "run");
    assert_eq!(h.input.as_deref(), Some("deliveries.csv"));
    assert_eq!((h.started_at, h.finished_at), (t(0), Some(t(5_000))));
    assert_eq!(l.run(99).unwrap(), None);
}

/// Scale check (run with `--ignored --nocapture`): 100k rows over two runs, report in one query.
#[test]
#[ignore = "slow in debug builds; run by hand"]
fn report_rows_scales() {
    let mut l = Ledger::open_in_memory().unwrap();
    let n = 100_000u64;
    let run1 = l.begin_run(&meta("run", t(0))).unwrap();
    let run2 = l.begin_run(&meta("run", t(1))).unwrap();
    let rows = |v| {
        (1..=n)
            .map(|i| row(i, Some(&format!("K{i}")), v))
            .collect::<Vec<_>>()
    };
    l.record_rows(run1, &rows(Verdict::Send)).unwrap();
    l.record_rows(run2, &rows(Verdict::Reused)).unwrap();
    let tx = l.conn.transaction().unwrap();
    for i in 1..=n {
        tx.execute(
            "INSERT INTO attempts (run_id, order_key, attempt_no, phone, params, intent_at,
                 result) VALUES (?1, ?2, 1, 'p', '[]', ?3, 'accepted')",
            params![run1, format!("K{i}"), ts(&t(i as i64))],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO messages (wamid, order_key, run_id, attempt_id, accepted_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                format!("w{i}"),
                format!("K{i}"),
                run1,
                tx.last_insert_rowid(),
                ts(&t(i as i64))
            ],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    let start = std::time::Instant::now();
    let facts = l.report_rows(run2).unwrap();
    eprintln!("report_rows({n}) took {:?}", start.elapsed());
    assert_eq!(facts.len(), n as usize);
    // The run that sent: every row's latest attempt read through `attempts_sent`.
    let start = std::time::Instant::now();
    let sent = l.report_rows(run1).unwrap();
    eprintln!(
        "report_rows({n}) of the sending run took {:?}",
        start.elapsed()
    );
    assert!(sent.iter().all(|f| f.attempts == 1 && f.wamid.is_some()));
    assert!(
        facts
            .iter()
            .all(|f| f.message_run_id == Some(run1) && f.attempts == 0)
    );
    let mut plan = l
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {REPORT_SQL}"))
        .unwrap();
    let plan: Vec<String> = plan
        .query_map([run2], |r| r.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    eprintln!("{}", plan.join("\n"));
    assert!(
        !plan
            .iter()
            .any(|p| p.starts_with("SCAN m2") || p.starts_with("SCAN la"))
    );
}
