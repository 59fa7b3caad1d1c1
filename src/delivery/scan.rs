//! The phone cell as written: Excel's damage (scientific notation, a
//! trailing `.0`, a leading apostrophe) repaired or refused, and the
//! characters a phone is written with reduced to its digits, with whether
//! it was marked as international.

use super::phone_error::{bad, refused};
use crate::input::{ProblemKind, RowProblem};

/// Excel damage first, then the characters a phone may be written with:
/// the phone as written reduced to its digits (every digit written, a
/// leading `00` included: whether it is an exit code is for the readings to
/// say), and whether it was written with `+` (the digits start with the
/// calling code, and no other reading exists).
pub(super) fn scan_phone(
    shown: &str,
    notes: &mut Vec<String>,
) -> Result<(String, bool), RowProblem> {
    let mut t = shown;
    if t.is_empty() {
        return Err(bad(
            "the value is empty; write the phone with the country code".into(),
        ));
    }
    if let Some(rest) = t.strip_prefix('\'') {
        // Excel's "store as text" marker leaks into some exports.
        notes.push("leading apostrophe removed (Excel text marker)".into());
        t = rest.trim_start();
    }
    if is_scientific(t) {
        return Err(refused(
            ProblemKind::ExcelScientific,
            format!(
                "`{shown}` is in scientific notation: Excel turned the phone \
                 into a number and the last digits are lost; format the column \
                 as Text in the source and export again"
            ),
        ));
    }
    if let Some(int_part) = strip_decimal_zero(t) {
        notes.push("trailing `.0` removed (Excel stored the phone as a number)".into());
        t = int_part;
    }

    let mut digits = String::with_capacity(t.len());
    let plus = t.starts_with('+');
    let mut rest = t.strip_prefix('+').unwrap_or(t);
    // "+49 (0)30 ..." is the usual way to show a trunk 0 that must be
    // dropped when dialling from abroad.
    let country_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c.is_whitespace()))
        .unwrap_or(rest.len());
    let without_trunk;
    if plus && !rest[..country_len].trim().is_empty() && rest[country_len..].starts_with("(0)") {
        without_trunk = format!("{}{}", &rest[..country_len], &rest[country_len + 3..]);
        rest = &without_trunk;
        notes.push("`(0)` after the country code removed".into());
    }
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' | '(' | ')' => {}
            c if c.is_whitespace() => {}
            '+' => {
                return Err(bad(format!(
                    "`{shown}` has a `+` that is not at the start; write one \
                     phone per row, with the country code, e.g. +49 151 2345 6789"
                )));
            }
            c => {
                return Err(bad(format!(
                    "`{shown}` contains `{}`, which is not part of a phone \
                     number; write digits with the country code, e.g. \
                     +49 151 2345 6789",
                    c.escape_debug()
                )));
            }
        }
    }
    Ok((digits, plus))
}

/// `4.91511E+11`, `4,91511E+11`, `4.9E11`: what Excel writes for a long
/// number in a General-formatted cell.
fn is_scientific(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let Some((mantissa, exp)) = s.split_once(['e', 'E']) else {
        return false;
    };
    let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    let (int, frac) = mantissa.split_once(['.', ',']).unwrap_or((mantissa, ""));
    let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    !int.is_empty() && all_digits(int) && all_digits(frac) && !exp.is_empty() && all_digits(exp)
}

/// `491511234567.0` (or `,0`, `.00`) → `491511234567`: only when the part
/// before the separator is plain digits, so a dotted `030.123.0` stays a
/// formatted number.
fn strip_decimal_zero(s: &str) -> Option<&str> {
    let (int, frac) = s.rsplit_once(['.', ','])?;
    let ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && frac.bytes().all(|b| b == b'0');
    ok.then_some(int)
}
