//! The documented exit codes (design.md, README "Exit codes"): part of the
//! interface, since schedulers and Kubernetes pod-failure policies act on
//! them.

/// Every row reached delivered or read.
pub const OK: u8 = 0;
/// The run finished and the report is complete, but rows need a person.
pub const NEEDS_ATTENTION: u8 = 10;
/// The input is unusable; nothing sent.
pub const DATA: u8 = 65;
/// The input file does not exist or cannot be read.
pub const NO_INPUT: u8 = 66;
/// The API is unavailable (the circuit breaker opened on an outage).
pub const UNAVAILABLE: u8 = 69;
/// An internal error (a bug).
pub const INTERNAL: u8 = 70;
/// Interrupted or a deadline reached; a rerun continues.
pub const TEMPFAIL: u8 = 75;
/// The API refused our credentials.
pub const NO_PERM: u8 = 77;
/// Configuration is wrong.
pub const CONFIG: u8 = 78;
