//! Issue 12's tracking and template variants (docs/real-api.md
//! B1–B4, B6) and the hostile preset, each played by the simulator and met
//! by the real binary over real HTTP. Every test that gets as far as a
//! report ends with [`assert_truthful`], the simulator's ground truth; a
//! test whose run stops in preflight checks the truth directly (nothing
//! accepted), since no report is written then.
//!
//! Timing: with [`quick`] every message has its last status within 130 ms
//! of acceptance, and `--first-poll 300ms` polls after that, so the first
//! poll sees a message's whole life and the number of polls says whether
//! polling stopped where it should. Tests that need a status in a later
//! poll say so and leave a margin of 150 ms or more either side.

use std::collections::HashMap;
use std::process::Output;
use std::time::Duration;

use handoff_sim::Scenario;
use handoff_sim::duration::Span;
use handoff_sim::scenario::{FailedWord, HookShape, ListShape, Outcome, ReadWord, Rule};
use serde_json::Value;

use crate::binary::*;
use crate::variants::assert_truthful;

mod contradictions;
mod hooks;
mod hostile;
mod templates;

/// The polls the tracker makes after a message's first `failed`, watching
/// for a later proof of delivery (`src/track/watch.rs`,
/// `FOLLOW_UPS_AFTER_FAILURE`).
const FOLLOW_UPS: u64 = 3;

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// `n` rows to phones `{prefix}{i}` (padded to `width` digits), orders
/// `{order}-{i}`.
fn rows(prefix: &str, width: usize, order: &str, n: usize) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let phone = leak(format!("{prefix}{i:0width$}"));
            [
                "Partner",
                phone,
                leak(format!("{order}-{i}")),
                "Item",
                "Note",
            ]
        })
        .collect()
}

/// `n` German mobiles (`49171{tag}…`): read, under [`quick`].
fn readers(tag: &str, n: usize) -> Vec<Row> {
    rows(&format!("49171{tag}"), 5, &format!("R{tag}"), n)
}

/// `n` of the simulator's built-in test numbers that fail: `1555010…`
/// with 131026 (not on WhatsApp), `1555020…` with 131050 (opted out).
fn failing(block: &str, tag: &str, n: usize) -> Vec<Row> {
    rows(
        &format!("15550{block}{tag}"),
        2,
        &format!("F{block}{tag}"),
        n,
    )
}

/// [`fast`], with every message that is not a test number read.
fn quick() -> Scenario {
    let mut s = fast();
    s.latency.read_ratio = 1.0;
    s
}

/// Runs with the first poll after every status has arrived.
async fn run_late_first_poll(env: &Env, input: &std::path::Path) -> Output {
    env.run(input, &["--first-poll", "300ms"]).await
}

fn polls(out: &Output) -> u64 {
    summary(out)["polls"]
        .as_u64()
        .expect("polls in the summary")
}

/// Requests the simulator saw on `route`, by answer (`200`, `404`, …).
fn requests(stats: &Value, route: &str) -> HashMap<String, u64> {
    stats["requests"][route]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

fn total(by_answer: &HashMap<String, u64>) -> u64 {
    by_answer.values().sum()
}
