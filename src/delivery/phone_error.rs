//! Why a phone was refused, shared by the stages that read one (the scan
//! of the cell, the numbering plans, the choice between readings).

use super::readings::{How, Reading};
use crate::input::{Field, ProblemKind, RowProblem};

/// Why a phone was refused, as a problem of the `partner_phone` field
/// whose message does not yet say where the field came from (validation
/// puts that in front); the kind goes into the problem summary.
pub(super) fn refused(kind: ProblemKind, message: String) -> RowProblem {
    RowProblem {
        field: Some(Field::PartnerPhone),
        kind,
        message,
    }
}

pub(super) fn bad(message: String) -> RowProblem {
    refused(ProblemKind::BadPhone, message)
}

/// Two or more readings that are numbers (`valid`: in the numbering plans;
/// otherwise only possible): each named in E.164 with where it comes from,
/// and the fix, which is to write the one meant with its calling code. An
/// exit code among the readings is part of the doubt, so then only `+`
/// settles it.
pub(super) fn ambiguous(shown: &str, readings: &[&Reading], valid: bool) -> RowProblem {
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
    refused(
        ProblemKind::AmbiguousPhone,
        format!(
            "`{shown}` is ambiguous: it reads as {}, {how}; write it with {with} \
             and the country code ({}) to say which",
            join(&each, ", as ", " and as "),
            join(&numbers, ", ", " or ")
        ),
    )
}

/// `a`, `a and b`, `a, b and c` (with `sep` between all but the last two,
/// and `last` for the final "and").
fn join(items: &[String], sep: &str, last: &str) -> String {
    match items {
        [init @ .., tail] if !init.is_empty() => format!("{}{last}{tail}", init.join(sep)),
        _ => items.concat(),
    }
}
