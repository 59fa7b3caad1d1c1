//! Deterministic crash points for the crash tests.
//!
//! `HANDOFF_CRASH_AT=after_intent:3` aborts the process (no unwinding, no
//! cleanup, like `kill -9`) right after the third intent is committed;
//! `after_answer:N` right after the Nth answer is committed. Unset, this
//! costs one relaxed atomic load per call.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

static SPEC: OnceLock<Option<(String, u64)>> = OnceLock::new();
static COUNT: AtomicU64 = AtomicU64::new(0);

fn spec() -> &'static Option<(String, u64)> {
    SPEC.get_or_init(|| {
        let v = std::env::var("HANDOFF_CRASH_AT").ok()?;
        let (name, n) = v.split_once(':')?;
        Some((name.to_string(), n.parse().ok()?))
    })
}

/// Aborts the process if this is the configured crash point.
pub(crate) fn point(name: &str) {
    if let Some((want, n)) = spec()
        && want == name
        && COUNT.fetch_add(1, Ordering::Relaxed) + 1 == *n
    {
        eprintln!("crash point {name}:{n} reached; aborting");
        std::process::abort();
    }
}
