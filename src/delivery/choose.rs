//! The choice between the readings of a phone, by what the numbering
//! plans ([`super::plan`]) say of each:
//!
//! - one reading is a valid number: that one, whatever else is possible;
//! - two readings are valid numbers and differ: refused as ambiguous,
//!   naming both, because a wrong guess sends a partner's order to a
//!   stranger (`(201) 517-9870` with `--default-country US` is New Jersey,
//!   and also +20 15 179870 in Egypt);
//! - no reading is valid: the one possible number, with a note; two
//!   possible numbers are ambiguous too; none is refused with the reason of
//!   the reading the writing points to.

use super::phone_error::{ambiguous, bad};
use super::plan::{Plan, check_plan, split_code};
use super::readings::{How, Reading, readings};
use crate::input::RowProblem;

/// The one reading to use, or why there is none; the chosen number is
/// also the one its `+` form reads as.
pub(super) fn choose<'a>(
    shown: &str,
    judged: &'a [(Reading, Plan)],
) -> Result<(&'a Reading, &'a Plan), RowProblem> {
    let (reading, verdict) = decide(shown, judged)?;
    closed(shown, reading, verdict)?;
    Ok((reading, verdict))
}

/// Each reading with what the numbering plans say of it.
pub(super) fn judged(readings: Vec<Reading>) -> Vec<(Reading, Plan)> {
    readings
        .into_iter()
        .map(|r| {
            let v = check_plan(&r.digits);
            (r, v)
        })
        .collect()
}

/// The number chosen, written with `+`, must read as itself again, or the
/// report's digits would say one number and mean another on a rerun. It
/// reads otherwise only where its digits after the calling code start
/// with the trunk prefix again (`8 8…` in Russia): then that number is a
/// reading of the phone as well, and the phone is ambiguous.
fn closed(shown: &str, reading: &Reading, verdict: &Plan) -> Result<(), RowProblem> {
    if reading.how == How::Plus && reading.trunk.is_none() {
        return Ok(());
    }
    let back = judged(readings(&reading.digits, true, None));
    match decide(shown, &back) {
        Ok((again, _)) if again.digits == reading.digits => Ok(()),
        _ => {
            let others = back
                .iter()
                .filter(|(r, v)| r.digits != reading.digits && !matches!(v, Plan::Refused(_)));
            let valid = *verdict == Plan::Valid && others.clone().all(|(_, v)| *v == Plan::Valid);
            let all: Vec<&Reading> = std::iter::once(reading)
                .chain(others.map(|(r, _)| r))
                .collect();
            Err(ambiguous(shown, &all, valid))
        }
    }
}

/// The one reading to use, or why there is none.
fn decide<'a>(
    shown: &str,
    judged: &'a [(Reading, Plan)],
) -> Result<(&'a Reading, &'a Plan), RowProblem> {
    let distinct = |valid: bool| {
        let mut out: Vec<(&Reading, &Plan)> = Vec::new();
        for (r, v) in judged {
            let fits = matches!(
                (v, valid),
                (Plan::Valid, true) | (Plan::Unallocated(_), false)
            );
            if fits && !out.iter().any(|(o, _)| o.digits == r.digits) {
                out.push((r, v));
            }
        }
        out
    };
    for valid in [true, false] {
        match distinct(valid).as_slice() {
            [] => {}
            [one] => return Ok(*one),
            many => {
                let rs: Vec<&Reading> = many.iter().map(|(r, _)| *r).collect();
                return Err(ambiguous(shown, &rs, valid));
            }
        }
    }
    Err(explain(shown, judged))
}

/// Why no reading is a number: the reason of the reading the writing
/// points to (`+` or an exit code; a trunk prefix; digits that begin with
/// the country's own calling code), naming the reading when there were
/// several.
fn explain(shown: &str, judged: &[(Reading, Plan)]) -> RowProblem {
    let national = judged
        .iter()
        .find(|(r, _)| matches!(r.how, How::National(_)));
    let own_code = |r: &Reading| {
        national.is_some_and(|(n, _)| {
            split_code(&r.digits)
                .zip(split_code(&n.digits))
                .is_some_and(|((a, _), (b, _))| a == b)
        })
    };
    let primary = judged
        .iter()
        .find(|(r, _)| matches!(r.how, How::Plus | How::ExitCode(_)) && r.trunk.is_none())
        .or_else(|| national.filter(|(r, _)| r.trunk.is_some()))
        .or_else(|| {
            judged
                .iter()
                .find(|(r, _)| r.how == How::Bare && r.trunk.is_none() && own_code(r))
        })
        .or(national)
        .or_else(|| judged.first());
    let Some((reading, Plan::Refused(why))) = primary else {
        return bad(format!(
            "`{shown}` cannot be read as a phone number; write it in \
             international form, e.g. +49 151 2345 6789"
        ));
    };
    let why = why.reason();
    if judged.len() > 1 {
        bad(format!("`{shown}` {why} (read as {})", reading.describe()))
    } else {
        bad(format!("`{shown}` {why}"))
    }
}
