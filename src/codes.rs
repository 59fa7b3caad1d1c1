//! What each Meta/1MSG error code means to the people who read the
//! reconciliation, and whether sending the same row again may pass.
//!
//! One table, so the report's plain-language `reason`/`next_step` and
//! `handoff rerun`'s "send again?" decision can never disagree about a code.
//! The meanings follow Meta's error reference as quoted in
//! Meta's error codes reference; the retry column is ours.

use std::time::Duration;

/// Who has to act on a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Actor {
    /// The partner contact (unblock, opt in, install WhatsApp, write to us).
    Partner,
    /// Whoever keeps the TMS/OMS export (a wrong phone, a text too long).
    Data,
    /// Our side: the WhatsApp channel, the template, the account.
    Operations,
    /// Nobody: the row is fine, or it settles by itself.
    Nobody,
}

impl Actor {
    /// The actor's [`Actor::word`] and [`Actor::person`].
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Actor::Partner => ("partner", "The partner's account manager"),
            Actor::Data => ("data", "Whoever keeps the TMS/OMS export"),
            Actor::Operations => ("operations", "Operations"),
            Actor::Nobody => ("none", "Nobody"),
        }
    }

    /// The word the report's `next_step` column starts with.
    pub(crate) fn word(self) -> &'static str {
        self.names().0
    }

    /// Who acts, in the words of the people who read the workbook and the
    /// end of a run ([`Actor::word`] is the CSV's, for scripts and reruns).
    pub(crate) fn person(self) -> &'static str {
        self.names().1
    }
}

/// When `handoff rerun` may send an unchanged row that failed with a code:
/// how long after the failure a second try may pass, or `None` when the
/// same data fails the same way (only a changed phone or text, or
/// `--force`, sends it).
pub(crate) type Retry = Option<Duration>;

/// A second try may pass at once (the cause was on our side or passing).
pub(crate) const MAY: Retry = Some(Duration::ZERO);

/// A second try may pass, but not before a day after the failure.
const DAY: Retry = Some(Duration::from_secs(24 * 3600));

/// Sending the same data again fails the same way.
const NEVER: Retry = None;

/// The codes by which a partner refuses our messages (131050: they stopped
/// business messages from us): the phone is suppressed from then on, for
/// every order, until a person lifts it (`handoff suppressions remove`).
pub(crate) const REFUSALS: [i64; 1] = [131050];

/// One known code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Code {
    pub(crate) code: i64,
    /// One sentence a non-engineer understands.
    pub(crate) reason: &'static str,
    /// What to do, for [`Code::actor`].
    pub(crate) next_step: &'static str,
    pub(crate) actor: Actor,
    pub(crate) retry: Retry,
}

/// Rows of `code, actor, retry, reason, next step;` as [`Code`]s. A brace
/// macro, so rustfmt keeps each row as the table shows it.
macro_rules! codes {
    ($($code:literal, $actor:ident, $retry:expr, $reason:literal, $next:literal;)*) => {
        [$(Code {
            code: $code,
            reason: $reason,
            next_step: $next,
            actor: Actor::$actor,
            retry: $retry,
        }),*]
    };
}

/// Every code we know, in numeric order.
pub(crate) const CODES: &[Code] = &codes! {
    470, Partner, MAY,
        "WhatsApp refused the message because the partner has not written to us in the last 24 hours.",
        "Ask the partner to send any message to our WhatsApp number, then rerun the row.";
    1013, Partner, NEVER,
        "The phone number is not a valid WhatsApp user.",
        "Check the phone number with the partner; rerun with the corrected number.";
    130429, Operations, MAY,
        "Too many messages were sent in a short time, so WhatsApp held this one back.",
        "Rerun the row; lower --rate if it happens often.";
    130472, Nobody, DAY,
        "WhatsApp did not deliver the message because the partner's number is part of a Meta experiment.",
        "Nothing to fix; a rerun on a later day may pass.";
    131000, Operations, MAY,
        "WhatsApp had an internal error and did not send the message.",
        "Rerun the row; tell 1MSG support if it keeps happening.";
    131005, Operations, MAY,
        "The WhatsApp account is not allowed to send this message.",
        "Check the channel's permissions with 1MSG, then rerun.";
    131008, Operations, MAY,
        "The message was missing a required part.",
        "Check the template's parameters with the integrator, then rerun.";
    131009, Data, NEVER,
        "One of the message's values was not accepted by WhatsApp.",
        "Correct the row's text or phone in the export and rerun.";
    131016, Operations, MAY,
        "WhatsApp was temporarily unavailable.",
        "Rerun the row later.";
    131021, Data, NEVER,
        "The message was addressed to our own WhatsApp number.",
        "Correct the partner's phone number in the export and rerun.";
    131026, Partner, NEVER,
        "The message could not be delivered: the number is not on WhatsApp, uses an old app, or has blocked us.",
        "Confirm the partner's WhatsApp number; rerun once the phone is corrected.";
    131031, Operations, MAY,
        "Our WhatsApp account is locked.",
        "Ask 1MSG and Meta to unlock the account, then rerun.";
    131042, Operations, MAY,
        "Our WhatsApp account has a payment problem.",
        "Fix the payment method in Meta Business Manager, then rerun.";
    131047, Partner, MAY,
        "WhatsApp refused the message because the partner has not written to us in the last 24 hours.",
        "Ask the partner to send any message to our WhatsApp number, then rerun the row.";
    131048, Operations, DAY,
        "WhatsApp limited our number because recipients blocked or reported it.",
        "Pause sending and review the template's quality; rerun after a day.";
    131049, Nobody, DAY,
        "WhatsApp chose not to deliver this message to keep the partner from getting too many business messages.",
        "Nothing to fix; rerun the row after 24 hours.";
    131050, Partner, NEVER,
        "The partner has stopped business messages from us on WhatsApp.",
        "Reach the partner another way; they must opt in again before we can message them.";
    131051, Operations, MAY,
        "WhatsApp does not support this type of message.",
        "Check the template with the integrator, then rerun.";
    131056, Nobody, MAY,
        "Too many messages were sent to this partner in a short time.",
        "Rerun the row later.";
    131057, Operations, MAY,
        "Our WhatsApp account was in maintenance.",
        "Rerun the row later.";
    132000, Operations, MAY,
        "The message did not match the approved template (wrong number of values).",
        "Check the template set-up with the integrator, then rerun.";
    132001, Operations, MAY,
        "The message template does not exist or is not approved in this language.",
        "Check the template name and language in the settings, then rerun.";
    132005, Data, NEVER,
        "The filled-in message is longer than WhatsApp allows.",
        "Shorten the product name or delivery note in the export and rerun.";
    132007, Data, NEVER,
        "The message text breaks WhatsApp's formatting rules.",
        "Remove unusual characters from the row's text in the export and rerun.";
    132012, Operations, MAY,
        "A value did not have the format the approved template expects.",
        "Check the template set-up with the integrator, then rerun.";
    132015, Operations, MAY,
        "The message template is paused by WhatsApp for low quality.",
        "Wait for the template to be reactivated or approve another one, then rerun.";
    132016, Operations, MAY,
        "The message template was disabled by WhatsApp for low quality.",
        "Approve a new template and set it in the settings, then rerun.";
    132018, Data, NEVER,
        "A value in the message has line breaks, tabs or too many spaces.",
        "Clean the row's text in the export and rerun.";
    133010, Operations, MAY,
        "Our WhatsApp number is not registered.",
        "Register the number with 1MSG, then rerun.";
};

/// The entry for `code`, if we know it.
pub(crate) fn lookup(code: i64) -> Option<&'static Code> {
    CODES
        .binary_search_by_key(&code, |c| c.code)
        .ok()
        .map(|i| &CODES[i])
}

/// The sentence for a code we do not know: it still names the code, so
/// the reader can look it up.
pub(crate) fn unknown_reason(code: i64) -> String {
    format!("WhatsApp refused the message with error code {code}, which handoff does not know.")
}

/// The next step for a code we do not know.
pub(crate) const UNKNOWN_NEXT_STEP: &str =
    "Look the code up in Meta's WhatsApp error reference or ask 1MSG support, then rerun.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_so_lookup_finds_every_code() {
        assert!(CODES.windows(2).all(|w| w[0].code < w[1].code));
        for c in CODES {
            assert_eq!(lookup(c.code), Some(c));
        }
        assert_eq!(lookup(4242), None);
    }

    #[test]
    fn every_sentence_is_one_plain_sentence() {
        for c in CODES {
            for text in [c.reason, c.next_step] {
                assert!(text.ends_with('.'), "{}: {text}", c.code);
                assert!(!text.contains('#'), "{}: {text}", c.code);
                assert!(text.chars().next().is_some_and(char::is_uppercase));
            }
        }
    }

    #[test]
    fn opt_outs_and_numbers_not_on_whatsapp_are_never_resent_unchanged() {
        assert_eq!(lookup(131050).map(|c| c.retry), Some(NEVER));
        assert_eq!(lookup(131026).map(|c| c.retry), Some(NEVER));
        assert_eq!(lookup(131049).map(|c| c.retry), Some(DAY));
        assert!(unknown_reason(777).contains("777"));
    }
}
