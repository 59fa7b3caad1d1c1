//! Why the send stage stopped early, in the words the summary and the
//! skipped rows carry: one place for what the report says about a stop.

use crate::api::client::Fatal;

/// Why the send stage stopped before sending everything.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stop {
    Fatal {
        kind: Fatal,
        detail: String,
    },
    /// A signal, or the sending window closing: why, in words.
    Interrupted(String),
    Internal(String),
}

impl Stop {
    /// Why the run stopped, for the summary and for the rows not sent.
    pub(crate) fn describe(&self) -> String {
        match self {
            Stop::Fatal { kind, detail } => {
                let what = match kind {
                    Fatal::Credentials => "the API refused our credentials",
                    Fatal::Configuration => "the API refused the template or its parameters",
                    Fatal::Unavailable => "the API was unavailable",
                };
                if detail.is_empty() {
                    what.to_string()
                } else {
                    format!("{what} ({detail})")
                }
            }
            Stop::Interrupted(why) => why.clone(),
            Stop::Internal(e) => format!("an internal error ({e})"),
        }
    }
}

/// What a row not sent because of `stop` says in the report.
pub(crate) fn skip_reason(stop: Option<&Stop>) -> String {
    match stop {
        Some(stop) => format!("not sent: {}", stop.describe()),
        None => "not sent".to_string(),
    }
}
