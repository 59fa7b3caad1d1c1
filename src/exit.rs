//! The documented exit codes (docs/exit-codes.md): part of the
//! interface, since schedulers and Kubernetes pod-failure policies act on
//! them.

/// Every row reached delivered or read.
pub const OK: u8 = 0;
/// The run finished and the report is complete, but rows need a person.
pub const NEEDS_ATTENTION: u8 = 10;
/// The command line is wrong (a flag clap refuses, a bad flag value, a
/// missing subcommand); nothing was read or sent. EX_USAGE.
pub const USAGE: u8 = 64;
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

/// Why a send stage stopped before its work was done, as far as the exit
/// code cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The API refused our credentials.
    Credentials,
    /// The API refused the template or its parameters.
    Configuration,
    /// The API was unavailable (the breaker opened).
    Unavailable,
    /// A signal, or the sending window closing.
    Interrupted,
    /// A bug.
    Internal,
}

/// The code of a sending command that wrote its report: how the send stage
/// stopped (if it did) comes first, then an interrupt during tracking,
/// credentials refused while polling, and last whether every row is fine.
pub fn for_run(
    stopped: Option<Stopped>,
    interrupted: bool,
    credentials_refused: bool,
    all_fine: bool,
) -> u8 {
    match stopped {
        Some(Stopped::Credentials) => NO_PERM,
        Some(Stopped::Configuration) => CONFIG,
        Some(Stopped::Unavailable) => UNAVAILABLE,
        Some(Stopped::Interrupted) => TEMPFAIL,
        Some(Stopped::Internal) => INTERNAL,
        None if interrupted => TEMPFAIL,
        None if credentials_refused => NO_PERM,
        None if all_fine => OK,
        None => NEEDS_ATTENTION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_outranks_an_interrupt_and_an_interrupt_outranks_the_rows() {
        assert_eq!(
            for_run(Some(Stopped::Credentials), true, false, true),
            NO_PERM
        );
        assert_eq!(
            for_run(Some(Stopped::Unavailable), false, false, true),
            UNAVAILABLE
        );
        assert_eq!(for_run(None, true, true, true), TEMPFAIL);
        assert_eq!(for_run(None, false, true, true), NO_PERM);
        assert_eq!(for_run(None, false, false, true), OK);
        assert_eq!(for_run(None, false, false, false), NEEDS_ATTENTION);
    }
}
