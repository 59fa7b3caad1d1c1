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

/// The code of a sending command that wrote its report: how the send stage
/// stopped (if it did) comes first, then an interrupt during tracking,
/// credentials refused while polling, and last whether every row is fine.
pub fn for_run(
    stop: Option<&crate::send::Stop>,
    interrupted: bool,
    credentials_refused: bool,
    all_fine: bool,
) -> u8 {
    use crate::api::client::Fatal;
    use crate::send::Stop;
    match stop {
        Some(Stop::Fatal {
            kind: Fatal::Credentials,
            ..
        }) => NO_PERM,
        Some(Stop::Fatal {
            kind: Fatal::Configuration,
            ..
        }) => CONFIG,
        Some(Stop::Fatal {
            kind: Fatal::Unavailable,
            ..
        }) => UNAVAILABLE,
        Some(Stop::Interrupted(_)) => TEMPFAIL,
        Some(Stop::Internal(_)) => INTERNAL,
        None if interrupted => TEMPFAIL,
        None if credentials_refused => NO_PERM,
        None if all_fine => OK,
        None => NEEDS_ATTENTION,
    }
}
