//! The report's plain-language columns: `reason`, one sentence a person in
//! finance understands, and `next_step`, starting with who acts. The
//! engineers' text stays in `error_detail`; this is the same verdict told to
//! the people who have to do something about it, so every outcome, every
//! validation problem and every Meta/1MSG code has its sentence here or in
//! [`crate::codes`].

use crate::codes::{self, Actor};

use crate::fate::Outcome;
use crate::input::ProblemKind;

/// A row's reason and next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plain {
    pub reason: String,
    pub actor: Actor,
    /// The step without the actor; [`Plain::next_step`] puts them together.
    pub step: String,
}

impl Plain {
    pub(super) fn new(reason: impl Into<String>, actor: Actor, step: impl Into<String>) -> Self {
        Plain {
            reason: reason.into(),
            actor,
            step: step.into(),
        }
    }

    /// `partner: Ask the partner …`: who acts first, so a filter on the
    /// column's first word sorts the work by person.
    pub(crate) fn next_step(&self) -> String {
        format!("{}: {}", self.actor.word(), self.step)
    }
}

/// What the plain columns are decided from, besides the outcome.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Clues<'a> {
    pub error_code: Option<i64>,
    pub http_status: Option<u16>,
    /// An invalid row's problem class (`bad_phone`, …).
    pub problem: Option<&'a str>,
    /// A held rerun row that was not selected.
    pub not_selected: bool,
    /// A pending row whose status could not be fetched at all.
    pub untracked: bool,
    /// A pending message Meta holds for a quality check.
    pub held: bool,
}

/// The reason and next step of a row.
pub(crate) fn explain(outcome: Outcome, c: Clues<'_>) -> Plain {
    use Actor::{Nobody, Operations, Partner};
    // A failure or a refusal with a Meta/1MSG code is told by the code.
    if let (Outcome::Failed | Outcome::Rejected, Some(code)) = (outcome, c.error_code) {
        return of_code(code);
    }
    match outcome {
        Outcome::Delivered => Plain::new(
            "WhatsApp delivered the message to the partner's phone.",
            Nobody,
            "Nothing to do.",
        ),
        Outcome::Read => Plain::new("The partner opened the message.", Nobody, "Nothing to do."),
        Outcome::Failed => Plain::new(
            "WhatsApp could not deliver the message and gave no reason.",
            Operations,
            "Ask 1MSG support with the wamid, then rerun the row.",
        ),
        Outcome::Pending if c.untracked => Plain::new(
            "WhatsApp accepted the message, but its delivery status could not be fetched.",
            Operations,
            "Check the channel's status access with 1MSG, then run handoff track.",
        ),
        Outcome::Pending if c.held => Plain::new(
            "WhatsApp accepted the message but holds it while Meta checks the template's quality; it is released or dropped, usually within an hour.",
            Operations,
            "Run handoff track later to fetch the final status; if many are held, check the template's quality rating in WhatsApp Manager.",
        ),
        Outcome::Pending => Plain::new(
            "WhatsApp accepted the message but has not said yet whether it reached the partner.",
            Operations,
            "Run handoff track later to fetch the final status.",
        ),
        // 1MSG refused the send and gave no code: told by its HTTP status.
        Outcome::Rejected if matches!(c.http_status, Some(401 | 403)) => Plain::new(
            "1MSG refused our access token, so the message was not sent.",
            Operations,
            "Check the API token and the channel with 1MSG, then rerun the row.",
        ),
        Outcome::Rejected if c.http_status == Some(429) => Plain::new(
            "1MSG kept asking us to slow down, and the row was given up after several tries.",
            Operations,
            "Rerun the row; lower --rate if it happens often.",
        ),
        Outcome::Rejected => Plain::new(
            "1MSG refused to send the message.",
            Operations,
            "Ask 1MSG support with the error detail, then rerun the row.",
        ),
        Outcome::Invalid => invalid(c.problem),
        Outcome::Duplicate => Plain::new(
            "The same order number appears earlier in the file, so the order was sent once, from that row.",
            Nobody,
            "Nothing to do; the earlier row carries the result.",
        ),
        Outcome::Unknown => Plain::new(
            "We cannot tell whether WhatsApp accepted the message, because its answer was lost; it is not sent again by itself.",
            Operations,
            "Look for the message in the 1MSG cabinet; only if it is not there, rerun with --resend-unknown.",
        ),
        Outcome::Skipped if c.not_selected => Plain::new(
            "The row was not chosen for this rerun, so it was not sent.",
            Nobody,
            "Nothing to do in this rerun.",
        ),
        Outcome::Suppressed => Plain::new(
            "The partner's phone is on the suppression list: they stopped business messages from us, or a person suppressed it.",
            Partner,
            "Ask the partner to accept our messages again, then lift it with handoff suppressions remove and rerun the row.",
        ),
        Outcome::Skipped if c.problem == Some(crate::fate::OVER_BUDGET) => Plain::new(
            "The row was not sent: the daily budget of partners to message (--daily-recipients) was used up.",
            Operations,
            "Rerun the row with handoff rerun once the last 24 hours leave room in the budget.",
        ),
        Outcome::Skipped => Plain::new(
            "The row was not sent, because the run stopped before it or could not reach 1MSG.",
            Operations,
            "Rerun the row with handoff rerun.",
        ),
    }
}

/// A Meta/1MSG code, from the one table.
pub(crate) fn of_code(code: i64) -> Plain {
    match codes::lookup(code) {
        Some(c) => Plain::new(c.reason, c.actor, c.next_step),
        None => Plain::new(
            codes::unknown_reason(code),
            Actor::Operations,
            codes::UNKNOWN_NEXT_STEP,
        ),
    }
}

/// Every problem class a row can have, with its sentence; all are fixed in
/// the export.
pub(crate) const PROBLEMS: &[(ProblemKind, &str, &str)] = &[
    (
        ProblemKind::Missing,
        "A value the message needs (partner name, phone, order number, product or note) is empty in the export.",
        "Fill in the empty value in the export, then rerun the row.",
    ),
    (
        ProblemKind::BadPhone,
        "The partner's phone number is not a phone number that can be dialled.",
        "Correct the partner's phone number in the export, then rerun the row.",
    ),
    (
        ProblemKind::BodyTooLong,
        "The filled-in message would be longer than WhatsApp allows.",
        "Shorten the product name or delivery note in the export, then rerun the row.",
    ),
    (
        ProblemKind::EmptyAfterCleaning,
        "A value holds only invisible characters.",
        "Write a visible value in the export, then rerun the row.",
    ),
    (
        ProblemKind::RaggedRow,
        "The line has more or fewer columns than the header, so its values cannot be matched safely.",
        "Fix the line in the export (often a stray separator), then rerun the row.",
    ),
    (
        ProblemKind::NationalPhone,
        "The partner's phone number has no country code.",
        "Write the phone with + and its country code in the export, then rerun the row.",
    ),
    (
        ProblemKind::ExcelScientific,
        "Excel turned the phone number into a rounded number, so some of its digits are lost.",
        "Format the phone column as Text, export again, then rerun the row.",
    ),
    (
        ProblemKind::UnclosedQuote,
        "A quote mark in the line is never closed, so the line cannot be read safely.",
        "Fix the quote marks in the export, then rerun the row.",
    ),
    (
        ProblemKind::ControlCharacter,
        "A value contains hidden control characters.",
        "Remove the hidden characters in the export, then rerun the row.",
    ),
    (
        ProblemKind::AmbiguousPhone,
        "The phone number can be read as two different numbers.",
        "Write the phone with + and its country code in the export, then rerun the row.",
    ),
    (
        ProblemKind::BadCountry,
        "The country column names no country we know.",
        "Correct the row's country in the export, then rerun the row.",
    ),
    (
        ProblemKind::UnknownPartner,
        "The partner id is not in the partners file.",
        "Add the partner to the partners file, or correct the partner id in the export, then rerun the row.",
    ),
    (
        ProblemKind::NoContact,
        "The partners file has no usable phone for the partner, and the export has none.",
        "Correct the partner's phone in the partners file, then rerun the row.",
    ),
    (
        ProblemKind::BadRole,
        "The contact's role in the partners file is neither primary nor backup.",
        "Correct the role in the partners file, then rerun the row.",
    ),
    (
        ProblemKind::BadLanguage,
        "The contact's language in the partners file is not a template language code.",
        "Correct the language in the partners file, then rerun the row.",
    ),
    (
        ProblemKind::BadOptOut,
        "The contact's opt-out cell in the partners file says neither yes nor no, so it is not written to.",
        "Write yes or no in the partners file's opt-out column, then rerun the row.",
    ),
];

fn invalid(problem: Option<&str>) -> Plain {
    match PROBLEMS
        .iter()
        .find(|(kind, ..)| Some(kind.name()) == problem)
    {
        Some((_, reason, step)) => Plain::new(*reason, Actor::Data, *step),
        None => Plain::new(
            "The row has a problem in the export, so it was not sent.",
            Actor::Data,
            "Correct the row in the export as the error detail says, then rerun the row.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain_sentence(s: &str) -> bool {
        s.ends_with('.')
            && s.chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
            && !s.contains('#')
    }

    #[test]
    fn every_outcome_has_a_sentence_and_someone_who_acts() {
        let variants = [
            Clues::default(),
            Clues {
                error_code: Some(131_050),
                ..Clues::default()
            },
            Clues {
                error_code: Some(4242),
                http_status: Some(400),
                ..Clues::default()
            },
            Clues {
                http_status: Some(401),
                untracked: true,
                not_selected: true,
                ..Clues::default()
            },
            Clues {
                http_status: Some(429),
                ..Clues::default()
            },
        ];
        for outcome in Outcome::ALL {
            for c in variants {
                let p = explain(outcome, c);
                assert!(plain_sentence(&p.reason), "{outcome:?}: {}", p.reason);
                assert!(plain_sentence(&p.step), "{outcome:?}: {}", p.step);
                if matches!(outcome, Outcome::Delivered | Outcome::Read) {
                    assert_eq!(p.actor, Actor::Nobody, "{outcome:?}");
                }
                assert!(p.next_step().starts_with(&format!("{}: ", p.actor.word())));
            }
        }
        assert_eq!(
            explain(Outcome::Failed, variants[1]).actor,
            Actor::Partner,
            "an opt-out is the partner's"
        );
        assert!(
            explain(Outcome::Rejected, variants[2])
                .reason
                .contains("4242")
        );
    }

    /// Every code the table knows, and every code issue 13 names, maps to
    /// its own sentence; a code we do not know still gets one, naming it.
    #[test]
    fn every_code_maps_to_a_sentence() {
        let named = [
            131_026, 131_047, 131_049, 131_050, 131_056, 130_472, 132_000, 132_001, 132_005,
            132_015, 132_016, 470, 1013,
        ];
        let known = codes::CODES.iter().map(|c| c.code);
        for code in known.chain(named) {
            assert!(codes::lookup(code).is_some(), "{code} is in the table");
            let p = of_code(code);
            assert!(plain_sentence(&p.reason), "{code}: {}", p.reason);
            assert!(plain_sentence(&p.step), "{code}: {}", p.step);
            assert!(!p.reason.contains(&code.to_string()), "{code}: plain words");
        }
        let p = of_code(4242);
        assert!(p.reason.contains("4242") && plain_sentence(&p.reason));
        assert_eq!(p.actor, Actor::Operations);
    }

    #[test]
    fn every_validation_problem_has_its_own_sentence() {
        use crate::input::ProblemKind as K;
        let kinds = [
            K::Missing,
            K::BadPhone,
            K::BodyTooLong,
            K::EmptyAfterCleaning,
            K::RaggedRow,
            K::NationalPhone,
            K::ExcelScientific,
            K::UnclosedQuote,
            K::ControlCharacter,
            K::AmbiguousPhone,
            K::BadCountry,
            K::UnknownPartner,
            K::NoContact,
            K::BadRole,
            K::BadLanguage,
            K::BadOptOut,
        ];
        assert_eq!(kinds.len(), PROBLEMS.len());
        let generic = invalid(None);
        for k in kinds {
            let p = invalid(Some(k.name()));
            assert_ne!(p, generic, "{k:?} has no sentence");
            assert_eq!(p.actor, Actor::Data);
            assert!(plain_sentence(&p.reason) && plain_sentence(&p.step));
        }
    }
}
