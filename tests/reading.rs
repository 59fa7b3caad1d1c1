//! The client's reading of the API (issue 12), end to end against the
//! simulator as it is: a channel that is not connected, the token in the
//! query, and a `hookInfo` that answers 404 for every message.

use handoff_sim::scenario::UnknownMessage;

use crate::binary::*;

/// Twelve partners whose messages stay `sent` (the simulator's built-in
/// rule for 1555040…), so they are still open the morning after.
const OPEN: [Row; 12] = [
    ["A", "15550400001", "R1", "Item", "Note"],
    ["B", "15550400002", "R2", "Item", "Note"],
    ["C", "15550400003", "R3", "Item", "Note"],
    ["D", "15550400004", "R4", "Item", "Note"],
    ["E", "15550400005", "R5", "Item", "Note"],
    ["F", "15550400006", "R6", "Item", "Note"],
    ["G", "15550400007", "R7", "Item", "Note"],
    ["H", "15550400008", "R8", "Item", "Note"],
    ["I", "15550400009", "R9", "Item", "Note"],
    ["J", "15550400010", "R10", "Item", "Note"],
    ["K", "15550400011", "R11", "Item", "Note"],
    ["L", "15550400012", "R12", "Item", "Note"],
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_that_is_not_connected_stops_the_run_before_any_send() {
    let mut s = fast();
    s.channel_status = "disconnected".into();
    let env = Env::start(s).await;
    let input = env.csv(&OPEN[..1]);
    let out = env.run(&input, &[]).await;
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("reports status `disconnected`"), "{err}");
    assert!(err.contains("nothing was sent"), "{err}");
    assert_eq!(send_requests(&env.stats().await), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_in_the_query_works_and_never_shows() {
    const CANARY: &str = "CANARY-7e1d44c09b2a5f31";
    let mut s = fast();
    s.token = CANARY.into();
    let env = Env::start(s).await;
    let input = env.csv(&[["A", "491590000101", "Q1", "Item", "Note"]]);
    // From the settings file, as every other API setting can be.
    let settings = env.path("handoff.toml");
    std::fs::write(&settings, "[api]\ntoken_in = \"query\"\n").unwrap();
    let args = [
        "--config",
        settings.to_str().unwrap(),
        "--log-level",
        "debug",
        "--log-format",
        "json",
    ];
    let out = env.run_with_token(&input, &args, CANARY).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(env.sim_messages().await.len(), 1);
    let mut places = vec![
        ("stdout".to_string(), out.stdout.clone()),
        ("stderr".to_string(), out.stderr.clone()),
    ];
    for entry in std::fs::read_dir(env.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        places.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    for (name, bytes) in places {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(CANARY), "the token leaked into {name}");
        assert!(
            !text.contains("token="),
            "a URL with the token is in {name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_info_that_answers_404_for_every_message_is_said_once() {
    let env = Env::start(fast()).await;
    let input = env.csv(&OPEN);
    let out = env.run(&input, &["--track-for", "100ms"]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let before = outcomes(&env.report());
    // The morning after, against a channel whose hookInfo knows none of
    // these messages and answers 404 for each.
    let mut s = fast();
    s.templates_list.unknown_message = UnknownMessage::NotFound;
    let other = Env::start(s).await;
    let (ledger, report) = (env.path("ledger.sqlite"), env.path("reconciliation.csv"));
    let out = other
        .sub(
            "track",
            &[
                "--ledger",
                ledger.to_str().unwrap(),
                "--out",
                report.to_str().unwrap(),
                "--first-poll",
                "10ms",
                "--track-for",
                "5s",
            ],
        )
        .await;
    let line = summary(&out);
    assert_eq!(line["statuses_unavailable"], true, "{line}");
    let problem = line["tracking_problem"].as_str().unwrap();
    assert!(
        problem.starts_with("statuses unavailable: hookInfo answers 404 for every message"),
        "{problem}"
    );
    // It stopped at the threshold instead of polling for --track-for.
    let polls = line["polls"].as_u64().unwrap();
    assert!((10..=12).contains(&polls), "{line}");
    let err = stderr(&out);
    assert_eq!(err.matches("statuses unavailable").count(), 1, "{err}");
    assert_eq!(
        outcomes(&env.report()),
        before,
        "the rows keep their outcome"
    );
}
