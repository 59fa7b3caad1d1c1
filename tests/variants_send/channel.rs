//! A5, A6: refusals every row would get (a disconnected channel, a missing
//! or wrong namespace, a wrong variable count) stop the run, before the
//! first send when preflight can tell, else after five in a row.

use handoff_sim::Scenario;
use handoff_sim::scenario::{CountMismatch, DEFAULT_NAMESPACE, TemplateSpec};

use super::*;
use crate::variants::{assert_truthful, rows};

/// `fast()` with `tune` applied.
fn with(tune: impl FnOnce(&mut Scenario)) -> Scenario {
    let mut s = fast();
    tune(&mut s);
    s
}

/// A channel `/status` calls disconnected: preflight stops the run before
/// anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnected_channel_stops_the_run_before_any_send() {
    let env = Env::start(with(|s| s.channel_status = "disconnected".into())).await;
    let input = env.csv(&rows("94", 3));
    let out = run(&env, &input, &[]).await;
    // 78: a configuration problem (the channel), not an outage: retrying
    // the same night changes nothing until someone reconnects it.
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("status `disconnected`"), "{err}");
    assert!(err.contains("nothing was sent"), "{err}");
    assert_eq!(send_requests(&env.stats().await), 0);
    assert!(env.sim_messages().await.is_empty());
}

/// The channel disconnects after 3 accepted sends: sendTemplate answers
/// 200 `{"sent":false,"message":"Channel is not connected"}`, with no Meta
/// code, for every row. After five of them in a row the run stops; the
/// rest is skipped with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_that_disconnects_mid_run_stops_the_run_after_five_refusals() {
    let env = Env::start(with(|s| s.faults.disconnect_after = Some(3))).await;
    let input = env.csv(&rows("95", 20));
    let out = run(&env, &input, &["--concurrency", "1"]).await;
    // 78: five identical refusals without a Meta code are a refusal of the
    // request itself, which every row would get (the breaker's stop).
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    let report = assert_truthful(&env, "disconnect mid-run").await;
    let by = |o: &str| report.values().filter(|r| r["outcome"] == o).count();
    assert_eq!(env.sim_messages().await.len(), 3);
    assert_eq!(by("delivered") + by("read"), 3, "{report:?}");
    assert_eq!(by("rejected"), 5, "{report:?}");
    assert_eq!(by("skipped"), 12, "{report:?}");
    for r in report.values() {
        match r["outcome"].as_str() {
            "rejected" => assert_detail(r, "Channel is not connected"),
            "skipped" => {
                assert_detail(r, "the API refused 5 sends in a row the same way");
                assert_detail(r, "sent:false: Channel is not connected");
            }
            _ => {}
        }
    }
    assert_eq!(
        send_requests(&env.stats().await),
        8,
        "nothing after the stop"
    );
    assert_eq!(summary(&out)["exit_code"], 78);
}

/// A namespace required: the one `/templates` reports is sent with every
/// row, and the run succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_namespace_is_taken_from_the_templates() {
    let env = Env::start(with(|s| s.require_namespace = true)).await;
    let input = env.csv(&rows("96", 4));
    let out = run(&env, &input, &[]).await;
    // 0: every row accepted and delivered or read.
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = assert_truthful(&env, "namespace required").await;
    assert_all_delivered(&report, "1");
    for m in env.sim_messages().await {
        assert_eq!(m["namespace"], DEFAULT_NAMESPACE, "{m}");
    }
}

/// A wrong `--namespace`: every send gets 422 "The selected namespace is
/// invalid."; the breaker stops the run after five.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_namespace_flag_stops_the_run_after_five_422s() {
    let env = Env::start(with(|s| s.require_namespace = true)).await;
    let input = env.csv(&rows("97", 12));
    let out = run(
        &env,
        &input,
        &["--namespace", "not_the_namespace", "--concurrency", "1"],
    )
    .await;
    // 78: five identical 422s without a Meta code (the breaker).
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    let report = assert_truthful(&env, "wrong namespace").await;
    let by = |o: &str| report.values().filter(|r| r["outcome"] == o).count();
    assert_eq!(by("rejected"), 5, "{report:?}");
    assert_eq!(by("skipped"), 7, "{report:?}");
    for r in report.values() {
        if r["outcome"] == "skipped" {
            assert_detail(r, "HTTP 422: The selected namespace is invalid.");
        } else {
            assert_eq!(r["http_status"], "422", "{r:?}");
        }
    }
    assert!(env.sim_messages().await.is_empty());
    assert_eq!(send_requests(&env.stats().await), 5);
}

/// A variable count the API would refuse with a 422: the only way to
/// cause one is a template whose body takes another number of variables,
/// and preflight reads that body from `/templates` and refuses first, so
/// the 422 itself is never reached (the breaker's handling of such a 422
/// is `a_wrong_namespace_flag_stops_the_run_after_five_422s`, and
/// tests/run.rs's `the_same_refusal_for_every_row_stops_the_run_with_exit_78`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_variable_count_mismatch_is_refused_by_preflight_before_the_422() {
    let env = Env::start(with(|s| {
        s.count_mismatch_as = CountMismatch::Http422;
        s.templates = vec![TemplateSpec {
            body: "Hi {{1}}, order {{2}} of {{3}} arrived.".into(),
            ..TemplateSpec::default()
        }];
    }))
    .await;
    let input = env.csv(&rows("98", 3));
    let out = run(&env, &input, &[]).await;
    // 78: the template does not fit what handoff fills.
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("takes 3 body variable(s)"), "{err}");
    assert!(err.contains("nothing was sent"), "{err}");
    assert_eq!(send_requests(&env.stats().await), 0);
}
