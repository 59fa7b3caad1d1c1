//! How a command ends when it cannot finish its work: the documented exit
//! code and an error that keeps its whole cause chain.
//!
//! A failed *row* is never a `Failure`: it is data, recorded and reported.
//! A `Failure` is what stops the job (bad configuration, unreadable input,
//! the ledger gone), and it is printed once, at the edge, with every cause
//! (`{:#}`), so "failed to open ledger `x`" also says *why*.

use std::fmt;

/// The job ends with this exit code and error.
#[derive(Debug)]
pub struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl Failure {
    /// A failure whose message says it all (it has no underlying cause).
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            error: anyhow::Error::msg(message.into()),
        }
    }

    /// A failure with the error that caused it; both are printed, the
    /// context first ("failed to open the lock `x`: permission denied").
    pub fn because<E>(code: u8, context: impl Into<String>, cause: E) -> Failure
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Failure {
            code,
            error: anyhow::Error::new(cause).context(context.into()),
        }
    }

    /// A failure that is the error itself, with its own causes.
    pub fn of<E>(code: u8, cause: E) -> Failure
    where
        E: Into<anyhow::Error>,
    {
        Failure {
            code,
            error: cause.into(),
        }
    }

    /// The documented exit code (see [`crate::exit`]).
    pub fn code(&self) -> u8 {
        self.code
    }

    /// Prints `error: <message>: <cause>: …` on stderr and gives the code:
    /// one `error:`, also when the message is clap's, which has its own. In
    /// JSON log mode it is a log event like every other line on stderr
    /// (`level: ERROR`, the message, `exit_code`), so the one line a log
    /// shipper most needs can be parsed.
    pub fn report(&self) -> std::process::ExitCode {
        use std::io::Write;
        if crate::logging::is_json() {
            tracing::error!(exit_code = self.code, "{}", self.message());
        } else {
            let _ = writeln!(std::io::stderr(), "error: {}", self.message());
        }
        std::process::ExitCode::from(self.code)
    }

    /// The message without a leading `error: ` of its own.
    pub fn message(&self) -> String {
        let text = self.to_string();
        match text.strip_prefix("error: ") {
            Some(rest) => rest.to_string(),
            None => text,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cause_chain_is_printed_after_the_context() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
        let f = Failure::because(78, "failed to open the lock `x.lock`", io);
        assert_eq!(f.code(), 78);
        assert_eq!(
            f.to_string(),
            "failed to open the lock `x.lock`: permission denied"
        );
    }

    #[test]
    fn a_message_that_says_error_itself_gets_no_second_prefix() {
        let f = Failure::new(78, "error: unexpected argument '--nope' found");
        assert_eq!(f.message(), "unexpected argument '--nope' found");
    }

    #[test]
    fn an_error_with_sources_keeps_them_all() {
        #[derive(Debug, thiserror::Error)]
        #[error("failed to open ledger `l.sqlite`")]
        struct Open(#[source] std::io::Error);
        let f = Failure::of(70, Open(std::io::Error::other("file is not a database")));
        assert_eq!(
            f.to_string(),
            "failed to open ledger `l.sqlite`: file is not a database"
        );
    }
}
