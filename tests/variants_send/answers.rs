//! A3, B5, C: the shapes a `sendTemplate` answer may take, on every row.
//! (`sent_no_id` is in `tests/variants.rs`.)

use std::time::Duration;

use handoff_sim::Scenario;
use handoff_sim::scenario::{Fault, HistoryBody};

use super::*;
use crate::variants::{assert_truthful, rows};

/// `fast()` with `tune` applied.
fn with(tune: impl FnOnce(&mut Scenario)) -> Scenario {
    let mut s = fast();
    tune(&mut s);
    s
}

/// Runs 4 rows and expects each delivered or read after one attempt,
/// sent once; returns the stats.
async fn delivered_once(s: Scenario, prefix: &str, what: &str, args: &[&str]) -> Value {
    let env = Env::start(s).await;
    let input = env.csv(&rows(prefix, 4));
    let out = run(&env, &input, args).await;
    // 0: every message accepted once, its wamid known and its final
    // status a proof of delivery.
    assert_eq!(code(&out), 0, "{what}: {}", stderr(&out));
    let stats = env.stats().await;
    let report = assert_truthful(&env, what).await;
    assert_eq!(report.len(), 4);
    assert_all_delivered(&report, "1");
    assert_eq!(send_requests(&stats), 4, "{what}: nothing sent twice");
    stats
}

/// `{"sent":true,"message":"wamid.…"}`: an acceptance whose id sits in
/// `message`. The client does not take a text for an id on its own word;
/// it asks `hookInfo` about it, and a status for that id confirms it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_in_message_is_confirmed_by_its_statuses_and_tracked() {
    let s = with(|s| s.faults.id_in_message = 1.0);
    let stats = delivered_once(s, "85", "id in message", &["--lookup-for", "3s"]).await;
    // One confirming hookInfo per message, and at least one poll each.
    let hook_infos = stats["requests"]["hookInfo"]["200"].as_u64().unwrap_or(0);
    assert!(hook_infos >= 8, "{stats}");
}

/// `{"id":…,"message":…}` without `sent`: a doubt (B5), looked up and
/// found, never resent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_without_sent_is_looked_up_and_tracked() {
    let s = with(|s| s.faults.no_sent_field = 1.0);
    delivered_once(s, "86", "no sent field", &["--lookup-for", "3s"]).await;
}

/// The same answer when neither `hookInfo` (404 for every id) nor the
/// history (lagging past `--lookup-for`) can confirm it, and the operator
/// trusts the history: the answer named a message id, so the API took the
/// message; not finding it yet is no reason to send it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_without_sent_that_named_an_id_is_never_resent() {
    let env = Env::start(with(|s| {
        s.faults.no_sent_field = 1.0;
        s.history.lag = Duration::from_secs(60);
        s.hooks.not_found_for_all = true;
    }))
    .await;
    let input = env.csv(&rows("87", 3));
    let out = run(
        &env,
        &input,
        &["--lookup-for", "1s", "--history-proves-absence"],
    )
    .await;
    // 10: each row unknown, for a person to decide.
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let report = assert_truthful(&env, "no sent field, history late").await;
    assert_all_unknown(&report, "no `sent` field");
    assert_eq!(send_requests(&env.stats().await), 3, "never resent");
}

/// The id such an answer named is the one clue a history that hides the
/// order number (its `body` the template's name) still matches: the
/// message with that id, outgoing, to this partner, is found and tracked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_the_answer_named_is_found_in_a_history_that_hides_the_order() {
    for (prefix, tune) in [
        (
            "60",
            (|s: &mut Scenario| s.faults.id_in_message = 1.0) as fn(&mut Scenario),
        ),
        ("61", |s: &mut Scenario| s.faults.no_sent_field = 1.0),
    ] {
        let s = with(|s| {
            tune(s);
            s.history.body = HistoryBody::TemplateName;
        });
        delivered_once(
            s,
            prefix,
            "a named id, the body hidden",
            &["--lookup-for", "3s"],
        )
        .await;
    }
}

/// `"sent":"true"`: read as the acceptance it is, no look-up needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sent_as_a_string_is_an_acceptance() {
    let s = with(|s| s.faults.sent_as_string = 1.0);
    let stats = delivered_once(s, "88", "sent as string", &[]).await;
    assert_eq!(lookup_reads(&stats), 0, "no look-up needed: {stats}");
}

/// `"id": 1234…` (a JSON number): the message is tracked by its decimal
/// string, and its final status reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_numeric_id_is_tracked_by_its_digits() {
    let env = Env::start(with(|s| s.faults.numeric_id = 1.0)).await;
    let input = env.csv(&rows("89", 4));
    let out = run(&env, &input, &[]).await;
    // 0: every message tracked to delivered or read.
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let stats = env.stats().await;
    let report = assert_truthful(&env, "numeric id").await;
    assert_all_delivered(&report, "1");
    for r in report.values() {
        assert!(r["wamid"].bytes().all(|b| b.is_ascii_digit()), "{r:?}");
    }
    assert_eq!(send_requests(&stats), 4);
    assert_eq!(lookup_reads(&stats), 0, "no look-up needed: {stats}");
}

/// `{"sent":false,"jobId":17}` (a number): queued, accepted without an
/// id; looked up until the message shows, then tracked; never resent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_numeric_job_id_is_looked_up_until_the_message_shows() {
    let s = with(|s| {
        s.faults.queued_numeric_job = 1.0;
        s.faults.queued_delay = Duration::from_millis(700);
    });
    delivered_once(
        s,
        "90",
        "numeric job id",
        &["--lookup-for", "4s", "--history-proves-absence"],
    )
    .await;
}

/// A proxy's HTML 502 (nothing accepted): each row a doubt; not found in
/// the history, `unknown` with the page's title as its reason (never the
/// page); with `--history-proves-absence`, sent once more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_502_is_a_doubt_and_resent_only_when_the_history_is_trusted() {
    let phones = ["49169100000", "49169100001", "49169100002"];
    let scenario = || {
        with(|s| {
            s.rules = phones.iter().map(|p| first_to(p, Fault::Html502)).collect();
        })
    };
    let env = Env::start(scenario()).await;
    let input = env.csv(&rows("91", 3));
    let out = run(&env, &input, &["--lookup-for", "1s"]).await;
    // 10: the rows are unknown (nothing proves the 502 accepted nothing).
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let report = assert_truthful(&env, "html 502").await;
    assert_all_unknown(&report, "an HTML page: 502 Bad Gateway");
    for r in report.values() {
        assert_eq!(r["http_status"], "502", "{r:?}");
        assert!(!r["error_detail"].contains("<html"), "{r:?}");
    }
    assert!(env.sim_messages().await.is_empty(), "nothing accepted");

    let env = Env::start(scenario()).await;
    let input = env.csv(&rows("91", 3));
    let out = run(
        &env,
        &input,
        &["--lookup-for", "1s", "--history-proves-absence"],
    )
    .await;
    // 0: each row sent once more and delivered or read.
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = assert_truthful(&env, "html 502, history trusted").await;
    assert_all_delivered(&report, "2");
    assert_eq!(send_requests(&env.stats().await), 6);
}

/// A proxy's HTML 504 after the message was accepted: a doubt, found in
/// the history, tracked, never sent twice (even with the history trusted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_504_is_found_in_the_history_and_never_sent_twice() {
    let s = with(|s| s.faults.html_504 = 1.0);
    delivered_once(
        s,
        "92",
        "html 504",
        &["--lookup-for", "3s", "--history-proves-absence"],
    )
    .await;
}

/// 429s without `Retry-After` from a channel that takes 3 sends a second:
/// the client backs off on its own and every row is sent, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_without_retry_after_is_backed_off_and_nothing_is_lost() {
    let s = with(|s| {
        s.limits.rate = 3;
        s.limits.omit_retry_after = true;
    });
    let env = Env::start(s).await;
    let input = env.csv(&rows("93", 8));
    let out = run(&env, &input, &["--max-attempts", "12"]).await;
    // 0: every row accepted once and delivered or read.
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = assert_truthful(&env, "429 without Retry-After").await;
    assert_eq!(report.len(), 8);
    let stats = env.stats().await;
    assert_eq!(env.sim_messages().await.len(), 8, "{stats}");
    let refused = stats["requests"]["sendTemplate"]["429"]
        .as_u64()
        .unwrap_or(0);
    assert!(refused > 0, "the limit was hit: {stats}");
    for r in report.values() {
        assert!(
            ["delivered", "read"].contains(&r["outcome"].as_str()),
            "{r:?}"
        );
    }
}

/// 1MSG forwarding the Cloud API's own send answer (`messages[].id`,
/// `message_status: accepted`, no `sent`): an acceptance with its id,
/// tracked to its final status, never a doubt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cloud_apis_own_answer_is_an_acceptance_and_tracked() {
    let s = with(|s| s.faults.cloud_shape = 1.0);
    let stats = delivered_once(s, "93", "cloud shape", &[]).await;
    assert_eq!(lookup_reads(&stats), 0, "nothing in doubt to look up");
}

/// Meta holding a template's messages for a quality check
/// (`held_for_quality_assessment`): accepted, so never sent again; still
/// `pending` when the night's tracking ends, and final after a later
/// `handoff track`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_held_for_quality_is_pending_then_tracked_to_its_end() {
    let env = Env::start(with(|s| {
        s.faults.held_for_quality = 1.0;
        // Long past the night's tracking even on a loaded machine.
        s.faults.held_delay = Duration::from_secs(6);
    }))
    .await;
    let input = env.csv(&rows("94", 3));
    let out = run(&env, &input, &["--track-for", "1s"]).await;
    // 10: the rows are pending, for a later track.
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let report = assert_truthful(&env, "held for quality").await;
    for r in report.values() {
        assert_eq!(r["outcome"], "pending", "{r:?}");
        assert!(r["wamid"].starts_with("wamid."), "{r:?}");
        // The answer's own word, and why the row waits, for a person.
        assert_eq!(r["whatsapp_status"], "held_for_quality_assessment", "{r:?}");
        assert_detail(r, "held by Meta for a quality check");
        assert!(
            r["reason"].contains("checks the template's quality"),
            "{r:?}"
        );
    }
    assert_eq!(send_requests(&env.stats().await), 3, "never sent again");

    // Released while `track` watches (it ends once every message is final).
    let track = env.track("tracked.csv", "30s").await;
    assert_eq!(code(&track), 0, "{}", stderr(&track));
    for r in env.read_csv("tracked.csv") {
        assert!(
            ["delivered", "read"].contains(&r["outcome"].as_str()),
            "released and tracked: {r:?}"
        );
    }
    assert_eq!(send_requests(&env.stats().await), 3, "track sends nothing");
}

/// 1MSG's plain overload refusal in a 200 (`{"sent":false,"message":"Too
/// many requests. Please try again later."}`) and a 503 page: nothing was
/// processed, so each row is tried again after a pause and sent once, never
/// `rejected`, never `unknown`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overload_refusal_and_a_503_are_tried_again_and_sent_once() {
    for (prefix, fault, what) in [
        ("95", Fault::Overload200, "overload in a 200"),
        ("96", Fault::Error503, "503"),
    ] {
        let phones: Vec<String> = (0..3).map(|i| format!("4916{prefix}{i:05}")).collect();
        let env = Env::start(with(|s| {
            s.rules = phones.iter().map(|p| first_to(p, fault)).collect();
        }))
        .await;
        let input = env.csv(&rows(prefix, 3));
        let out = run(&env, &input, &[]).await;
        assert_eq!(code(&out), 0, "{what}: {}", stderr(&out));
        let report = assert_truthful(&env, what).await;
        assert_all_delivered(&report, "2");
        assert_eq!(send_requests(&env.stats().await), 6, "{what}");
        assert!(
            accepted_per_order(&env).await.values().all(|n| *n == 1),
            "{what}: each order accepted once"
        );
    }
}
