//! B6: template lists preflight must read, and `/templates` failing.

use super::*;

/// A run of three rows on a channel `configure` sets up: preflight reads
/// its template list and the run completes, exit 0
/// (every row read).
async fn preflight_reads_and_the_run_completes(
    configure: impl FnOnce(&mut Scenario),
    tag: &str,
) -> Env {
    let mut s = quick();
    configure(&mut s);
    let env = Env::start(s).await;
    let file = env.csv(&readers(tag, 3));
    let out = run_late_first_poll(&env, &file).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = assert_truthful(&env, tag).await;
    assert!(
        report.values().all(|r| r["outcome"] == "read"),
        "{report:?}"
    );
    assert_eq!(send_requests(&env.stats().await), 3);
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_list_as_a_bare_array_passes_preflight() {
    preflight_reads_and_the_run_completes(|s| s.templates_list.shape = ListShape::BareArray, "11")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_list_with_a_string_total_passes_preflight() {
    preflight_reads_and_the_run_completes(|s| s.templates_list.total_as_string = true, "12").await;
}

/// The first two `/templates` answer `status`: preflight tries again and
/// the run completes.
async fn templates_fail_twice_then_answer(status: u16, tag: &str) {
    let env = preflight_reads_and_the_run_completes(
        |s| {
            s.templates_list.fail_first = 2;
            s.templates_list.fail_status = status;
        },
        tag,
    )
    .await;
    let listed = requests(&env.stats().await, "templates");
    assert_eq!(
        listed.get(&status.to_string()).copied(),
        Some(2),
        "{listed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_503_twice_is_retried_by_preflight() {
    templates_fail_twice_then_answer(503, "13").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_429_twice_is_retried_by_preflight() {
    templates_fail_twice_then_answer(429, "14").await;
}

/// A run that preflight stops: exit 69 (the API is unavailable, not our
/// configuration), `said` in stderr, nothing accepted by the simulator.
async fn preflight_stops_with_69(
    configure: impl FnOnce(&mut Scenario),
    tag: &str,
    said: &str,
) -> Env {
    let mut s = quick();
    configure(&mut s);
    let env = Env::start(s).await;
    let file = env.csv(&readers(tag, 3));
    let out = env.run(&file, &[]).await;
    let err = stderr(&out);
    assert_eq!(code(&out), 69, "{err}");
    assert!(err.contains(said), "`{said}` not in {err}");
    assert!(err.contains("nothing was sent"), "{err}");
    assert!(!err.contains("does not exist"), "{err}");
    // The ground truth: preflight stopped before any send.
    assert!(env.sim_messages().await.is_empty());
    assert_eq!(send_requests(&env.stats().await), 0);
    env
}

/// `{"templates":[],"error":{…}}`: the API's failure, said in its words,
/// not "template does not exist". Exit 69: the list could not be read, the
/// operator should run again later rather than change the template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_list_error_object_is_the_apis_failure_not_a_missing_template() {
    preflight_stops_with_69(
        |s| s.templates_list.error_object = true,
        "15",
        "Error validating access token: Session has expired",
    )
    .await;
}

/// More failed `/templates` than preflight's retries: exit 69 after four
/// tries, nothing sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_failing_past_the_retries_stops_the_run_with_69() {
    let env = preflight_stops_with_69(
        |s| {
            s.templates_list.fail_first = 10;
            s.templates_list.fail_status = 503;
        },
        "16",
        "(4 tries)",
    )
    .await;
    let listed = requests(&env.stats().await, "templates");
    assert_eq!(listed.get("503").copied(), Some(4), "{listed:?}");
}
