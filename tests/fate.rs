//! One fate per row, end to end: a dry run decides every row as the
//! command it previews, against the same ledger, so what it says it will
//! send is what the command then sends (counted in the simulator's
//! `/__sim/messages`); `--resend-unknown` means the same on `rerun` as on
//! `run`.

use std::collections::HashMap;

use handoff_sim::scenario::{Fault, Rule};

use crate::binary::*;

/// How many messages the simulator accepted for each order.
async fn per_order(env: &Env) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for m in env.sim_messages().await {
        let order = m["params"][1].as_str().unwrap().to_string();
        *counts.entry(order).or_default() += 1;
    }
    counts
}

/// The orders a dry run previews as messages to send, in its order.
fn previewed(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("To +"))
        .filter_map(|l| l.split("order ").nth(1))
        .map(|rest| {
            rest.split([',', ')'])
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// The orders the simulator accepted since `before`.
fn new_sends(before: &HashMap<String, usize>, after: &HashMap<String, usize>) -> Vec<String> {
    let mut sent: Vec<String> = after
        .iter()
        .filter(|(o, n)| before.get(*o).copied().unwrap_or(0) < **n)
        .map(|(o, _)| o.clone())
        .collect();
    sent.sort();
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_over_an_export_half_sent_names_exactly_what_the_run_sends() {
    let env = Env::start(fast()).await;
    let first = env.csv(&[
        ["Ada", "491510000001", "D-1", "Lamp", "Note"],
        ["Bob", "491510000002", "D-2", "Lamp", "Note"],
        ["Cid", "491510000003", "D-3", "Lamp", "Note"],
    ]);
    assert_eq!(code(&env.run(&first, &[]).await), 0);
    // The next export holds those three again, three new ones, an invalid
    // row and a duplicate.
    let next = env.csv(&[
        ["Ada", "491510000001", "D-1", "Lamp", "Note"],
        ["Bob", "491510000002", "D-2", "Lamp", "Note"],
        ["Cid", "491510000003", "D-3", "Lamp", "Note"],
        ["Dan", "491510000004", "D-4", "Lamp", "Note"],
        ["Eve", "491510000005", "D-5", "Lamp", "Note"],
        ["Fay", "491510000006", "D-6", "Lamp", "Note"],
        ["Bad", "12", "D-7", "Lamp", "Note"],
        ["Dan", "491510000004", "D-4", "Lamp", "Note"],
    ]);
    let before = per_order(&env).await;
    let dry = env.run(&next, &["--dry-run"]).await;
    assert_eq!(code(&dry), 10, "the invalid row: {}", stderr(&dry));
    let said = String::from_utf8_lossy(&dry.stdout);
    assert!(
        said.contains("8 rows: 3 to send, 1 invalid, 1 duplicate, 3 already sent."),
        "{said}"
    );
    for o in ["D-1", "D-2", "D-3"] {
        assert!(
            said.contains(&format!(
                "(order `{o}`): not sent again: already accepted as wamid"
            )),
            "{o}: {said}"
        );
    }
    assert_eq!(previewed(&said), ["D-4", "D-5", "D-6"], "{said}");
    assert_eq!(per_order(&env).await, before, "the dry run sent nothing");

    let run = env.run(&next, &[]).await;
    assert_eq!(code(&run), 10, "{}", stderr(&run));
    let sent = new_sends(&before, &per_order(&env).await);
    assert_eq!(sent, ["D-4", "D-5", "D-6"], "what the dry run said");
    assert_eq!(summary(&run)["sent_this_run"], 3, "{}", stderr(&run));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_dry_run_names_exactly_what_the_rerun_sends() {
    let env = Env::start(fast()).await;
    let input = env.csv(&[
        ["Opted Out", "15550200001", "R-1", "Lamp", "Thanks"],
        ["Not On WA", "15550100002", "R-2", "Lamp", "Thanks"],
        ["Fine", "491510000003", "R-3", "Lamp", "Thanks"],
        ["Fix Me", "15550100004", "R-4", "Lamp", "Thanks"],
    ]);
    assert_eq!(code(&env.run(&input, &[]).await), 10);
    // R-4's phone corrected; left as they failed.
    let report = std::fs::read_to_string(env.path("reconciliation.csv")).unwrap();
    let fixed = env.path("fixed.csv");
    std::fs::write(&fixed, report.replace("15550100004", "491510000004")).unwrap();
    let before = per_order(&env).await;

    let dry = env.rerun_file(&fixed, None, &["--dry-run"]).await;
    assert_eq!(code(&dry), 0, "{}", stderr(&dry));
    let said = String::from_utf8_lossy(&dry.stdout);
    assert!(
        said.contains("4 rows: 1 to send (1 of them again, after an earlier message)"),
        "{said}"
    );
    assert_eq!(previewed(&said), ["R-4"], "{said}");
    for o in ["R-1", "R-2", "R-3"] {
        assert!(
            said.contains(&format!("(order `{o}`): not sent again")),
            "{o}: {said}"
        );
    }
    assert_eq!(per_order(&env).await, before, "the dry run sent nothing");

    let out = env.path("rerun.csv");
    let rerun = env.rerun_file(&fixed, Some(&out), &[]).await;
    assert_eq!(
        code(&rerun),
        10,
        "R-1 and R-2 still failed: {}",
        stderr(&rerun)
    );
    let sent = new_sends(&before, &per_order(&env).await);
    assert_eq!(sent, ["R-4"], "what the dry run said");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_with_resend_unknown_sends_each_unknown_row_once() {
    let mut s = fast();
    // Without a history a lost answer cannot be settled: the row stays
    // `unknown` until a person decides.
    s.history.enabled = false;
    s.rules = ["491770000001", "491770000002"]
        .map(|phone| Rule {
            fault: Some(Fault::Error5xx),
            times: Some(1),
            ..rule(phone)
        })
        .to_vec();
    let env = Env::start(s).await;
    let input = env.csv(&[
        ["In Doubt", "491770000001", "U-1", "Lamp", "Note"],
        ["In Doubt Too", "491770000002", "U-2", "Lamp", "Note"],
        ["Fine", "491770000003", "U-3", "Lamp", "Note"],
    ]);
    let night = env.run(&input, &["--max-attempts", "1"]).await;
    assert_eq!(code(&night), 10, "{}", stderr(&night));
    let report = env.report();
    let outcome = |o: &str| {
        report
            .iter()
            .find(|r| r["order_number"] == o)
            .map(|r| r["outcome"].clone())
            .unwrap()
    };
    assert_eq!(outcome("U-1"), "unknown", "{report:?}");
    assert_eq!(outcome("U-2"), "unknown", "{report:?}");
    let before = per_order(&env).await;
    assert_eq!(before.get("U-1"), None, "a 5xx: nothing was accepted");

    // The dry run says the unknown rows are looked up, then sent.
    let dry = env
        .rerun_file(
            &env.path("reconciliation.csv"),
            None,
            &["--dry-run", "--resend-unknown"],
        )
        .await;
    let said = String::from_utf8_lossy(&dry.stdout);
    assert!(said.contains("2 in doubt"), "{said}");
    assert!(
        said.contains("sent unless it is found there (--resend-unknown)"),
        "{said}"
    );

    let out = env.path("rerun.csv");
    let args = ["--resend-unknown"];
    let rerun = env
        .rerun_file(&env.path("reconciliation.csv"), Some(&out), &args)
        .await;
    assert_eq!(code(&rerun), 0, "{}", stderr(&rerun));
    let after = per_order(&env).await;
    assert_eq!(new_sends(&before, &after), ["U-1", "U-2"]);
    assert_eq!(after["U-1"], 1, "once");
    assert_eq!(after["U-2"], 1, "once");
    for r in env.read_csv("rerun.csv") {
        assert!(
            ["delivered", "read"].contains(&r["outcome"].as_str()),
            "{r:?}"
        );
    }

    // The same command again: the orders have their messages now.
    let again = env
        .rerun_file(
            &env.path("reconciliation.csv"),
            Some(&env.path("again.csv")),
            &args,
        )
        .await;
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert_eq!(per_order(&env).await, after, "nothing sent again");
}

/// The morning after, `track` looks the night's doubts up again: a send
/// the history shows late is found and tracked to its final status; one
/// that is still missing stays `unknown`, saying how long it has been in
/// doubt. Nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn track_looks_the_nights_doubts_up_again() {
    let mut s = fast();
    // The history shows a message only 4 s after it was accepted: later
    // than the night's look-ups (--lookup-for 1s).
    s.history.lag = std::time::Duration::from_secs(4);
    s.rules = vec![
        // Accepted, then the answer is lost: the history shows it, late.
        Rule {
            fault: Some(Fault::DropAfter),
            times: Some(1),
            ..rule("491780000001")
        },
        // Refused with a 500 before it was processed: never in the history.
        Rule {
            fault: Some(Fault::Error5xx),
            times: Some(1),
            ..rule("491780000002")
        },
    ];
    let env = Env::start(s).await;
    let input = env.csv(&[
        ["Late", "491780000001", "T-1", "Lamp", "Note"],
        ["Missing", "491780000002", "T-2", "Lamp", "Note"],
    ]);
    let night = env.run(&input, &["--max-attempts", "1"]).await;
    assert_eq!(code(&night), 10, "{}", stderr(&night));
    let report = env.report();
    assert_eq!(report[0]["outcome"], "unknown", "{report:?}");
    assert_eq!(report[1]["outcome"], "unknown", "{report:?}");
    let sent_at_night = env.sim_messages().await.len();
    assert_eq!(sent_at_night, 1, "T-1 was accepted, T-2 was not");

    // Past the history's lag.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let track = env.track("tracked.csv", "3s").await;
    assert_eq!(code(&track), 10, "T-2 is still unknown: {}", stderr(&track));
    let tracked = env.read_csv("tracked.csv");
    let late = &tracked[0];
    assert!(
        ["delivered", "read"].contains(&late["outcome"].as_str()),
        "found late and tracked: {late:?}"
    );
    assert_eq!(
        late["wamid"],
        env.sim_messages().await[0]["wamid"].as_str().unwrap(),
        "the message the simulator accepted"
    );
    let missing = &tracked[1];
    assert_eq!(missing["outcome"], "unknown", "{missing:?}");
    assert_detail(missing, "in doubt for ");
    assert_detail(missing, "looked up again by `handoff track`");
    assert_eq!(
        env.sim_messages().await.len(),
        sent_at_night,
        "track sends nothing"
    );
}
