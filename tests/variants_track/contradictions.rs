//! B2: a failure and a proof of delivery for one message, in one answer
//! or in two.

use super::*;

/// `handoff rerun` on the reconciliation, against the same simulator:
/// exit 0, every row read again, and not one more send.
async fn rerun_sends_nothing(env: &Env, sends: u64) {
    let out = env.rerun("rerun.csv", &["--track-for", "1s"]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    for r in env.read_csv("rerun.csv") {
        assert_eq!(r["outcome"], "read", "{r:?}");
    }
    assert_eq!(
        send_requests(&env.stats().await),
        sends,
        "the rerun sent nothing"
    );
}

/// `sent, failed, read` and `sent, read, failed`, each whole by the first
/// poll: read, with the conflict said, and a rerun sends nothing. Exit 0:
/// both rows read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_next_to_a_read_in_one_answer_stays_read_and_is_not_resent() {
    let mut s = quick();
    s.rules = vec![
        Rule {
            outcome: Some(Outcome::FailedThenRead),
            ..rule("491719900001")
        },
        Rule {
            outcome: Some(Outcome::ReadThenFailed),
            ..rule("491719900002")
        },
    ];
    let env = Env::start(s).await;
    let file = env.csv(&[
        ["Partner", "491719900001", "C1", "Item", "Note"],
        ["Partner", "491719900002", "C2", "Item", "Note"],
    ]);
    let out = run_late_first_poll(&env, &file).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = assert_truthful(&env, "failed_then_read, read_then_failed").await;
    let said = [
        ("C1", "sent → failed (131026 Message undeliverable) → read"),
        ("C2", "sent → read → failed (131026 Message undeliverable)"),
    ];
    for (order, sequence) in said {
        let r = &report[order];
        assert_eq!(r["outcome"], "read", "{r:?}");
        assert_eq!(r["whatsapp_status"], "read", "{r:?}");
        assert_warning(r, &format!("conflicting statuses: {sequence}"));
        assert_warning(r, "not sent again");
    }
    // A read in the answer ends polling, even next to a failure.
    assert_eq!(polls(&out), 2);
    rerun_sends_nothing(&env, 2).await;
}

/// `failed` in one hookInfo answer and `read` only in a later one: the
/// tracker keeps polling a failed message a few times, sees the read, and
/// the row is read (not failed, which a rerun would send again). Exit 0.
///
/// Timing: `failed` arrives 30 ms after acceptance, `read` 350 ms later
/// (at ~380 ms); polls come at 200 ms (failed only), 300, 450 and 675 ms,
/// so the read is seen by the third poll or the fourth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_after_a_failure_in_a_later_poll_is_seen_and_not_resent() {
    let mut s = quick();
    s.latency.read = Span::fixed(Duration::from_millis(350));
    s.rules = vec![Rule {
        outcome: Some(Outcome::FailedThenRead),
        ..rule("491719900003")
    }];
    let env = Env::start(s).await;
    let file = env.csv(&[["Partner", "491719900003", "L1", "Item", "Note"]]);
    let out = env.run(&file, &["--first-poll", "200ms"]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = assert_truthful(&env, "failed_then_read, read in a later poll").await;
    let r = &report["L1"];
    assert_eq!(r["outcome"], "read", "{r:?}");
    assert_warning(
        r,
        "conflicting statuses: sent → failed (131026 Message undeliverable) → read",
    );
    // More than one poll: the first answer had the failure only.
    let n = polls(&out);
    assert!((2..=1 + FOLLOW_UPS).contains(&n), "{n} polls");
    rerun_sends_nothing(&env, 1).await;
}
