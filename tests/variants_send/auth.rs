//! A4: a channel that takes the `Authorization` header only on
//! `sendTemplate` and `templates`; everywhere else only `?token=`.

use handoff_sim::Scenario;
use handoff_sim::scenario::{Fault, Rule};

use super::*;
use crate::variants::{assert_truthful, rows};

const CANARY: &str = "CANARY-q7Hn2VxK9wPz4LmR";

fn header_only_on_send_and_templates() -> Scenario {
    let mut s = fast();
    s.token = CANARY.into();
    s.auth.header_routes = Some(vec!["sendTemplate".into(), "templates".into()]);
    s
}

/// With the token in the header, preflight finds a route that refuses it
/// before anything is sent, and says what to try.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_that_refuses_the_header_stops_preflight_and_suggests_the_query() {
    let env = Env::start(header_only_on_send_and_templates()).await;
    let input = env.csv(&rows("99", 3));
    let out = run_as(&env, &input, &[], CANARY).await;
    // 77: the API refused our credentials (on a route the run needs).
    assert_eq!(code(&out), 77, "{}", stderr(&out));
    let err = stderr(&out);
    // `/status`, the first route preflight asks, refuses the header.
    assert!(err.contains("refused our credentials on status"), "{err}");
    assert!(err.contains("try --token-in query"), "{err}");
    assert!(err.contains("nothing was sent"), "{err}");
    assert!(!err.contains(CANARY), "{err}");
    assert_eq!(send_requests(&env.stats().await), 0);
}

/// With `--token-in query` the run completes, lost answers included
/// (looked up in `messages`, tracked with `hookInfo`, both refusing the
/// header), and the token, which is now in every URL, is in no output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_in_the_query_works_everywhere_and_never_shows() {
    let mut s = header_only_on_send_and_templates();
    s.rules = vec![
        Rule {
            fault: Some(Fault::DropAfter),
            ..rule("49169900000")
        },
        Rule {
            fault: Some(Fault::Error5xx),
            ..rule("49169900001")
        },
    ];
    let env = Env::start(s).await;
    let input = env.csv(&rows("99", 4));
    let out = run_as(
        &env,
        &input,
        &[
            "--token-in",
            "query",
            "--lookup-for",
            "2s",
            "--log-level",
            "debug",
            "--log-format",
            "json",
            "--summary-json",
            env.path("summary.json").to_str().unwrap(),
        ],
        CANARY,
    )
    .await;
    // 10: the 5xx row is unknown (nothing proves it unsent); the others,
    // the lost answer included, are found and delivered or read.
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let stats = env.stats().await;
    let report = assert_truthful(&env, "token in the query").await;
    let unknown: Vec<_> = report
        .values()
        .filter(|r| r["outcome"] == "unknown")
        .collect();
    assert_eq!(unknown.len(), 1, "{report:?}");
    assert_eq!(unknown[0]["http_status"], "500", "{report:?}");
    assert_eq!(report.len(), 4);
    assert!(lookup_reads(&stats) >= 1, "looked up: {stats}");
    assert!(
        stats["requests"]["hookInfo"]["200"].as_u64().unwrap_or(0) >= 3,
        "tracked: {stats}"
    );
    let mut places = vec![
        ("stdout".to_string(), out.stdout.clone()),
        ("stderr".to_string(), out.stderr.clone()),
    ];
    for entry in std::fs::read_dir(env.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        places.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    assert!(places.len() >= 5, "{places:?}");
    for (name, bytes) in places {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(CANARY), "the token leaked into {name}");
        assert!(
            !text.contains(&CANARY[7..19]),
            "part of it leaked into {name}"
        );
    }
}
