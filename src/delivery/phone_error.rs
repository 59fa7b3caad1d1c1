//! Why a phone was refused, shared by the stages that read one (the scan
//! of the cell, the numbering plans, the choice between readings).

use super::readings::{How, Reading};
use crate::input::ProblemKind;

/// Why a phone was refused; the kind goes into the problem summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PhoneError {
    pub(super) kind: ProblemKind,
    pub(super) message: String,
}

pub(super) fn bad(message: String) -> PhoneError {
    PhoneError {
        kind: ProblemKind::BadPhone,
        message,
    }
}

/// Two or more readings that are numbers (`valid`: in the numbering plans;
/// otherwise only possible): each named in E.164 with where it comes from,
/// and the fix, which is to write the one meant with its calling code. An
/// exit code among the readings is part of the doubt, so then only `+`
/// settles it.
pub(super) fn ambiguous(shown: &str, readings: &[&Reading], valid: bool) -> PhoneError {
    let each: Vec<String> = readings
        .iter()
        .map(|r| format!("+{} ({})", r.digits, r.describe()))
        .collect();
    let numbers: Vec<String> = readings.iter().map(|r| format!("+{}", r.digits)).collect();
    let how = if valid {
        "each a valid number in the numbering plans"
    } else {
        "each a possible number, none in a range the numbering plans list as allocated"
    };
    let with = if readings.iter().any(|r| matches!(r.how, How::ExitCode(_))) {
        "+"
    } else {
        "+ or 00"
    };
    PhoneError {
        kind: ProblemKind::AmbiguousPhone,
        message: format!(
            "`{shown}` is ambiguous: it reads as {}, {how}; write it with {with} \
             and the country code ({}) to say which",
            join(&each, " and as "),
            join(&numbers, " or ")
        ),
    }
}

/// `a`, `a and b`, `a, b and c` (with `last` for the final "and").
fn join(items: &[String], last: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., tail] => {
            let sep = if last.starts_with(" and as") {
                ", as "
            } else {
                ", "
            };
            format!("{}{last}{tail}", init.join(sep))
        }
    }
}
