//! Whether the `hookInfo` route itself works, and what to say when it does not.

use crate::api::client::TokenIn;
use crate::api::reads::HookInfo;

/// Whether `hookInfo` works at all: 404s counted until any other answer.
#[derive(Debug, Default)]
pub(super) struct Route {
    pub(super) not_found: u64,
    answered: bool,
}

impl Route {
    pub(super) fn saw(&mut self, info: &HookInfo) {
        if info.not_found {
            self.not_found += 1;
        } else {
            self.answered = true;
        }
    }

    /// Whether every poll so far got 404 (at least `at_least` of them).
    pub(super) fn all_not_found(&self, at_least: u64) -> bool {
        !self.answered && self.not_found >= at_least.max(1)
    }
}

/// The message of a refused token on `route`, naming the way out.
pub(super) fn refused(route: &str, status: u16, said: &str, token_in: TokenIn) -> String {
    let hint = match token_in {
        TokenIn::Header => {
            "if sending works, this route may want the token in the query: try --token-in query"
        }
        TokenIn::Query => "check the token and the channel id",
    };
    format!(
        "{route} refused our credentials (HTTP {status}){said}; tracking stopped and the messages not final yet keep their last status; {hint}"
    )
}

/// Why a row has no status when `hookInfo` answers 404 for every message.
pub(super) const UNAVAILABLE_ROW: &str =
    "statuses unavailable: hookInfo answered 404 for every message";

/// The message of a `hookInfo` that answers 404 for every message.
pub(super) fn unavailable(polls: u64) -> String {
    format!(
        "statuses unavailable: hookInfo answers 404 for every message ({polls} polls, no other answer); tracking stopped and the rows keep their send outcome; check --api-url, and whether this channel offers hookInfo"
    )
}
