//! What `handoff rerun` sends again, end to end against the simulator's
//! built-in numbers (`1555020xxxx` opted out, 131050; `1555010xxxx` not on
//! WhatsApp, 131026): an unchanged permanent failure is not sent and says
//! why, the same row with a corrected phone is sent once, `--force` sends
//! it anyway, and an edit to a delivered row is reported, never sent.

use std::collections::HashMap;

use crate::binary::*;

/// How many messages the simulator accepted for each (order, phone).
async fn sent(env: &Env) -> HashMap<(String, String), usize> {
    let mut counts = HashMap::new();
    for m in env.sim_messages().await {
        let order = m["params"][1].as_str().unwrap().to_string();
        let phone = m["phone"].as_str().unwrap().to_string();
        *counts.entry((order, phone)).or_default() += 1;
    }
    counts
}

fn count(sent: &HashMap<(String, String), usize>, order: &str, phone: &str) -> usize {
    sent.get(&(order.to_string(), phone.to_string()))
        .copied()
        .unwrap_or(0)
}

fn by_order(report: &[HashMap<String, String>]) -> HashMap<String, HashMap<String, String>> {
    report
        .iter()
        .map(|r| (r["order_number"].clone(), r.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failures_are_not_resent_unchanged_fixed_ones_once_and_forced_ones_anyway() {
    let env = Env::start(fast()).await;
    let input = env.csv(&[
        ["Opted Out", "15550200001", "F-1", "Lamp", "Thanks"],
        ["Not On WA", "15550100001", "F-2", "Lamp", "Thanks"],
        ["Delivered", "491510000003", "F-3", "Lamp", "Thanks"],
        ["Fix Me", "15550200004", "F-4", "Lamp", "Thanks"],
        ["Fix Me Too", "15550100005", "F-5", "Lamp", "Thanks"],
    ]);
    let night = env.run(&input, &[]).await;
    assert_eq!(code(&night), 10, "{}", stderr(&night));
    let first = by_order(&env.report());
    for o in ["F-1", "F-2", "F-4", "F-5"] {
        assert_eq!(first[o]["outcome"], "failed", "{:?}", first[o]);
    }
    assert!(["delivered", "read"].contains(&first["F-3"]["outcome"].as_str()));
    let delivered = first["F-3"]["outcome"].clone();

    // The morning after: two phones corrected, and by mistake the
    // delivered row's phone edited too; F-1 and F-2 left as they were.
    let report = std::fs::read_to_string(env.path("reconciliation.csv")).unwrap();
    let edited = report
        .replace("15550200004", "491510000004")
        .replace("15550100005", "491510000005")
        .replace("491510000003", "491510000099");
    let fixed = env.path("fixed.csv");
    std::fs::write(&fixed, edited).unwrap();
    let out = env.path("rerun.csv");
    let rerun = env.rerun_file(&fixed, Some(&out), &[]).await;
    assert_eq!(code(&rerun), 10, "{}", stderr(&rerun));

    let counts = sent(&env).await;
    assert_eq!(
        count(&counts, "F-1", "15550200001"),
        1,
        "opted out: not again"
    );
    assert_eq!(
        count(&counts, "F-2", "15550100001"),
        1,
        "not on WhatsApp: not again"
    );
    assert_eq!(count(&counts, "F-4", "491510000004"), 1, "fixed: sent once");
    assert_eq!(count(&counts, "F-5", "491510000005"), 1, "fixed: sent once");
    assert_eq!(count(&counts, "F-3", "491510000099"), 0, "delivered: never");
    assert_eq!(count(&counts, "F-3", "491510000003"), 1);
    assert_eq!(counts.values().sum::<usize>(), 7);

    let after = by_order(&env.read_csv("rerun.csv"));
    for (o, code) in [("F-1", "131050"), ("F-2", "131026")] {
        let r = &after[o];
        assert_eq!(r["outcome"], "failed", "the outcome stays: {r:?}");
        assert_eq!(r["wamid"], first[o]["wamid"], "the same message: {r:?}");
        assert!(r["notes"].contains("not sent again"), "says why: {r:?}");
        assert!(r["notes"].contains(code), "names the code: {r:?}");
        assert!(
            r["notes"].contains("--force"),
            "and what would send it: {r:?}"
        );
    }
    for o in ["F-4", "F-5"] {
        let r = &after[o];
        assert_ne!(r["wamid"], first[o]["wamid"], "a new message: {r:?}");
        assert!(
            ["delivered", "read"].contains(&r["outcome"].as_str()),
            "{r:?}"
        );
    }
    let r = &after["F-3"];
    assert_eq!(r["outcome"], delivered, "{r:?}");
    assert_eq!(r["wamid"], first["F-3"]["wamid"]);
    assert_eq!(r["phone"], "491510000003", "where the message went");
    assert!(
        r["notes"].contains("edited in the file, not sent") && r["notes"].contains("491510000099"),
        "the edit is reported: {r:?}"
    );

    // A dry run of the same file says the same and sends nothing.
    let dry = env.rerun_file(&fixed, None, &["--dry-run"]).await;
    let said = String::from_utf8_lossy(&dry.stdout);
    assert!(said.contains("131050") && said.contains("131026"), "{said}");

    // --force on the rerun's report: the two unchanged failures go once
    // more; the rows now delivered do not.
    let forced = env
        .rerun_file(&out, Some(&env.path("forced.csv")), &["--force"])
        .await;
    assert_eq!(code(&forced), 10, "{}", stderr(&forced));
    let counts = sent(&env).await;
    assert_eq!(count(&counts, "F-1", "15550200001"), 2, "--force sends");
    assert_eq!(count(&counts, "F-2", "15550100001"), 2, "--force sends");
    assert_eq!(count(&counts, "F-4", "491510000004"), 1);
    assert_eq!(count(&counts, "F-5", "491510000005"), 1);
    assert_eq!(counts.values().sum::<usize>(), 9);
    let forced = by_order(&env.read_csv("forced.csv"));
    for o in ["F-1", "F-2"] {
        let r = &forced[o];
        assert_ne!(r["wamid"], after[o]["wamid"], "{r:?}");
        assert!(r["notes"].contains("--force"), "{r:?}");
    }
}
