//! Issue 12's `sendTemplate`, history and auth variants, end to end: the
//! real binary against a simulator playing one variant (most on every
//! row), each test ending with the ground-truth check
//! ([`crate::variants::assert_truthful`]) and its exit code explained.

mod answers;
mod auth;
mod channel;
mod history;

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;

use handoff_sim::scenario::{Fault, Rule};
use serde_json::Value;

use crate::binary::*;

/// Runs the binary with its first status poll after every status of
/// `fast()` has arrived (they all do within 90 ms of the acceptance):
/// tracking ends at `delivered`, so an earlier poll could report
/// `delivered` for a message the simulator marks `read` a moment later,
/// which the ground-truth check takes for a wrong status.
async fn run(env: &Env, input: &Path, args: &[&str]) -> Output {
    run_as(env, input, args, "sim-token").await
}

/// [`run`] with another token.
async fn run_as(env: &Env, input: &Path, args: &[&str], token: &str) -> Output {
    let mut all = vec!["--first-poll", "300ms"];
    all.extend_from_slice(args);
    env.run_with_token(input, &all, token).await
}

/// A rule that gives every send `fault`.
fn every(fault: Fault) -> Rule {
    Rule {
        fault: Some(fault),
        ..Rule::default()
    }
}

/// A rule that gives the first send to `phone` `fault`, and no other.
fn first_to(phone: &str, fault: Fault) -> Rule {
    Rule {
        fault: Some(fault),
        times: Some(1),
        ..rule(phone)
    }
}

/// Successful `GET messages` answers to look-ups: every page of every
/// look-up (preflight's one probe is not counted). Read before the
/// ground-truth check: the simulator counts its own `/__sim/messages`
/// under the same name.
fn lookup_reads(stats: &Value) -> u64 {
    stats["requests"]["messages"]["200"]
        .as_u64()
        .unwrap_or(0)
        .saturating_sub(1)
}

/// Orders the simulator accepted, with how many times each.
async fn accepted_per_order(env: &Env) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for m in env.sim_messages().await {
        *counts
            .entry(m["params"][1].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    counts
}

/// Every row of `report` is tracked to a final proof of delivery (the
/// wamid known, `delivered` or `read`) after `attempts` attempts.
#[track_caller]
fn assert_all_delivered(report: &HashMap<String, HashMap<String, String>>, attempts: &str) {
    for r in report.values() {
        assert!(
            ["delivered", "read"].contains(&r["outcome"].as_str()),
            "{r:?}"
        );
        assert!(!r["wamid"].is_empty(), "{r:?}");
        assert_eq!(r["attempts"], attempts, "{r:?}");
    }
}

/// Every row of `report` is `unknown`, sent once, saying `why`.
#[track_caller]
fn assert_all_unknown(report: &HashMap<String, HashMap<String, String>>, why: &str) {
    for r in report.values() {
        assert_eq!(r["outcome"], "unknown", "{r:?}");
        assert_eq!(r["wamid"], "", "{r:?}");
        assert_eq!(r["attempts"], "1", "{r:?}");
        assert_detail(r, why);
        assert_detail(r, "then `--resend-unknown` sends it");
    }
}
