//! Why the send stage stopped early, in the words the summary and the
//! skipped rows carry: one place for what the report says about a stop.

use crate::api::client::Fatal;
use crate::exit;

/// Why the send stage stopped before sending everything.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stop {
    Fatal {
        kind: Fatal,
        detail: String,
    },
    /// The same refusal, not about its recipient, for `count` sends in a
    /// row (a missing namespace, a disconnected channel): every row would
    /// get it, so the run stops as misconfigured (exit 78).
    Refused {
        http_status: Option<u16>,
        detail: String,
        count: u32,
    },
    /// A signal, or the sending window closing: why, in words.
    Interrupted(String),
    Internal(String),
}

impl Stop {
    /// What the exit code needs to know of this stop (exit.rs cannot name
    /// the send stage's types: the stages import exit, not the reverse).
    pub(crate) fn exit_kind(&self) -> exit::Stopped {
        match self {
            Stop::Fatal { kind, .. } => match kind {
                Fatal::Credentials => exit::Stopped::Credentials,
                Fatal::Configuration => exit::Stopped::Configuration,
                Fatal::Unavailable => exit::Stopped::Unavailable,
            },
            Stop::Refused { .. } => exit::Stopped::Configuration,
            Stop::Interrupted(_) => exit::Stopped::Interrupted,
            Stop::Internal(_) => exit::Stopped::Internal,
        }
    }

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
            Stop::Refused {
                http_status,
                detail,
                count,
            } => {
                let answer = match http_status {
                    Some(200) | None => format!("sent:false: {detail}"),
                    Some(status) => format!("HTTP {status}: {detail}"),
                };
                format!(
                    "the API refused {count} sends in a row the same way ({answer}), as it would every row; check the template's namespace and parameters and the channel's status, then run again"
                )
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
