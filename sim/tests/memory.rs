//! A channel that outlives its process: a rehearsal's night is several
//! commands, each with a simulator of its own, and the channel must
//! remember across them what it accepted, as the real one does.

use std::path::PathBuf;
use std::time::Duration;

use handoff_sim::duration::Span;
use serde_json::Value;

use crate::util::{Sim, client, scenario};

/// A memory file of this test's own, removed when dropped.
struct Memory(PathBuf);

impl Memory {
    fn new(name: &str) -> Memory {
        let path = std::env::temp_dir().join(format!(
            "handoff-sim-memory-{name}-{}.jsonl",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Memory(path)
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn start(scenario: handoff_sim::Scenario, memory: &Memory) -> Sim {
    Sim {
        handle: handoff_sim::spawn_remembering(scenario, &memory.0)
            .await
            .expect("spawn simulator"),
        client: client(),
    }
}

fn wamids(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m["wamid"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_restarted_simulator_remembers_what_it_accepted_and_its_statuses_go_on() {
    let memory = Memory::new("restart");
    // Slow statuses: `read` comes only after the first simulator is gone.
    let mut s = scenario();
    s.latency.read = Span::fixed(Duration::from_millis(600));
    let first = start(s.clone(), &memory).await;
    let wamid = first.send_ok("491510000101").await;
    first
        .wait_for_statuses(&wamid, &["sent", "delivered"])
        .await;
    first.handle.stop().await.unwrap();

    let second = start(s, &memory).await;
    // The same message, its life going on by the wall clock.
    second
        .wait_for_statuses(&wamid, &["sent", "delivered", "read"])
        .await;
    let history = second.get_json("messages").await;
    let ids: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(ids, [wamid.as_str()], "{history}");

    // A new send is kept beside it, under a wamid never given before.
    let next = second.send_ok("491510000102").await;
    assert_ne!(next, wamid);
    assert_eq!(
        wamids(&second.sim_messages().await),
        [wamid.clone(), next.clone()]
    );
    second.handle.stop().await.unwrap();

    let third = start(scenario(), &memory).await;
    assert_eq!(wamids(&third.sim_messages().await), [wamid, next]);
}

#[tokio::test]
async fn a_torn_last_line_costs_only_that_message() {
    let memory = Memory::new("torn");
    let first = start(scenario(), &memory).await;
    let wamid = first.send_ok("491510000103").await;
    first.handle.stop().await.unwrap();
    // A crash in the middle of writing the next line.
    let mut text = std::fs::read_to_string(&memory.0).unwrap();
    text.push_str("{\"wamid\":\"wamid.cut");
    std::fs::write(&memory.0, text).unwrap();

    let second = start(scenario(), &memory).await;
    assert_eq!(wamids(&second.sim_messages().await), [wamid]);
}

#[tokio::test]
async fn without_a_memory_a_simulator_starts_empty() {
    let first = Sim::start(scenario()).await;
    first.send_ok("491510000104").await;
    let second = Sim::start(scenario()).await;
    assert!(second.sim_messages().await.is_empty());
}

#[tokio::test]
async fn a_simulator_that_accepts_nothing_leaves_no_memory_file() {
    let memory = Memory::new("untouched");
    let sim = start(scenario(), &memory).await;
    assert!(sim.sim_messages().await.is_empty());
    sim.handle.stop().await.unwrap();
    assert!(!memory.0.exists(), "a dry run's rehearsal writes nothing");
}
