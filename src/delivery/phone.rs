//! Phone normalisation: what a partner's phone cell becomes before it is a
//! recipient. Excel damages phones on the way into a CSV (scientific
//! notation, a trailing `.0`, a leading apostrophe), so that damage is
//! repaired or refused here, with a reason, before the number is checked
//! against the numbering plans ([`super::plan`]) or read as a national
//! number ([`super::national`]).

use super::Country;
use super::national::read_with_country;
use super::phone_error::{PhoneError, bad};
use super::plan::{Plan, check_plan};
use crate::input::ProblemKind;

/// Loads the numbering plans on a thread of their own, so the one-time
/// cost (about 0.1 s: metadata decoding and thousands of regexes) overlaps
/// connecting and opening the ledger instead of delaying the first send.
pub fn warm_up() {
    let _ = std::thread::Builder::new()
        .name("phone-plans".into())
        .spawn(|| {
            let _ = &*phonenumber::metadata::DATABASE;
        });
}

/// Normalises a phone to digits in international form without `+`.
///
/// Without a default country we cannot resolve national numbers, so anything
/// that is not already international (country code first) is refused rather
/// than guessed; a wrong guess sends a partner's order to a stranger.
pub fn normalize_phone(s: &str) -> Result<String, String> {
    phone_detailed(s, None).map(|(digits, _)| digits)
}

/// [`normalize_phone`] with a default country for national numbers.
pub fn normalize_phone_in(s: &str, country: Option<&Country>) -> Result<String, String> {
    phone_detailed(s, country).map(|(digits, _)| digits)
}

/// The phone as written, split into its digits and how it was marked as
/// international.
struct Scanned {
    digits: String,
    /// Written with `+` or `00`: the digits start with the calling code.
    international: bool,
}

/// [`normalize_phone`] plus notes on Excel damage that was repaired and on
/// the numbering plan, so the report can tell the user to fix the export.
pub(super) fn phone_detailed(
    s: &str,
    country: Option<&Country>,
) -> Result<(String, Vec<String>), String> {
    phone_checked(s, country).map_err(|e| e.message)
}

pub(super) fn phone_checked(
    s: &str,
    country: Option<&Country>,
) -> Result<(String, Vec<String>), PhoneError> {
    let mut notes = Vec::new();
    let shown = s.trim();
    let scanned = scan_phone(shown, &mut notes)?;
    let Scanned {
        digits,
        international,
    } = scanned;

    let digits = if international {
        digits
    } else if let Some(c) = country {
        read_with_country(shown, digits, c, &mut notes)?
    } else if digits.starts_with('0') {
        return Err(PhoneError {
            kind: ProblemKind::NationalPhone,
            message: format!(
                "`{shown}` starts with 0, so it looks like a national number \
                 without the country code; write it in international form \
                 (e.g. +49 151 2345 6789) or pass --default-country with the \
                 country it belongs to (e.g. --default-country DE)"
            ),
        });
    } else {
        // Digits without `+`: Excel drops the `+` of a phone it reads as a
        // number, so the digits are read as starting with the calling code.
        digits
    };

    let n = digits.len();
    if !(8..=15).contains(&n) {
        return Err(bad(format!(
            "`{shown}` has {n} digit{}; a phone needs 8 to 15 digits with the \
             country code",
            if n == 1 { "" } else { "s" }
        )));
    }
    if digits.starts_with('0') {
        return Err(bad(format!(
            "`{shown}` starts with 0 after the international prefix; write it \
             in international form, e.g. +49 151 2345 6789"
        )));
    }
    match check_plan(&digits) {
        Plan::Valid | Plan::Unchecked => {}
        Plan::Unallocated(region) => notes.push(format!(
            "not in a range {region} has allocated (libphonenumber metadata); \
             check the number if the message fails"
        )),
        Plan::Refused(why) => return Err(bad(format!("`{shown}` {why}"))),
    }
    Ok((digits, notes))
}

/// Excel damage first, then the characters a phone may be written with.
fn scan_phone(shown: &str, notes: &mut Vec<String>) -> Result<Scanned, PhoneError> {
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
        return Err(PhoneError {
            kind: ProblemKind::ExcelScientific,
            message: format!(
                "`{shown}` is in scientific notation: Excel turned the phone \
                 into a number and the last digits are lost; format the column \
                 as Text in the source and export again"
            ),
        });
    }
    if let Some(int_part) = strip_decimal_zero(t) {
        notes.push("trailing `.0` removed (Excel stored the phone as a number)".into());
        t = int_part;
    }

    let mut digits = String::with_capacity(t.len());
    let mut rest = t;
    let plus = if let Some(r) = rest.strip_prefix('+') {
        rest = r;
        true
    } else {
        false
    };
    // "+49 (0)30 ..." is the usual way to show a trunk 0 that must be
    // dropped when dialling from abroad.
    let mut trunk_zero = None;
    if plus {
        let country_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c.is_whitespace()))
            .unwrap_or(rest.len());
        if !rest[..country_len].trim().is_empty() && rest[country_len..].starts_with("(0)") {
            trunk_zero = Some(country_len);
        }
    }
    for (i, c) in rest.char_indices() {
        if trunk_zero.is_some_and(|at| i >= at && i < at + 3) {
            continue;
        }
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
    if trunk_zero.is_some() {
        notes.push("`(0)` after the country code removed".into());
    }
    let mut international = plus;
    if !plus && digits.starts_with("00") {
        digits.drain(..2);
        international = true;
    }
    Ok(Scanned {
        digits,
        international,
    })
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

#[cfg(test)]
mod tests {
    use super::{normalize_phone, normalize_phone_in, phone_checked, phone_detailed};
    use crate::delivery::test_support::{good, phone_err, phone_ok};
    use crate::delivery::{Country, Rules, validate};
    use crate::input::ProblemKind;
    use proptest::prelude::*;

    #[test]
    fn phone_international_forms() {
        phone_ok("+49 151 2345 6789", "4915123456789");
        phone_ok("0049 151 2345 6789", "4915123456789");
        phone_ok("0049-151-2345-6789", "4915123456789");
        phone_ok("+49 (30) 123-456", "4930123456");
        phone_ok("+49 (0)30 123-4567", "49301234567");
        phone_ok("+49.151.2345.6789", "4915123456789");
        phone_ok("\u{a0}+7 912 345-67-89\u{a0}", "79123456789");
        phone_ok("  491511234567  ", "491511234567");
    }

    #[test]
    fn phone_excel_damage() {
        phone_err("4.91511E+11", "scientific notation");
        phone_err("4,91511E+11", "scientific notation");
        phone_err("4.9e11", "scientific notation");
        phone_ok("491511234567.0", "491511234567");
        phone_ok("491511234567,00", "491511234567");
        phone_ok("'491511234567", "491511234567");
        phone_ok("'+49 151 2345 6789", "4915123456789");
        let (_, notes) = phone_detailed("491511234567.0", None).expect("valid");
        assert!(notes.iter().any(|n| n.contains(".0")), "{notes:?}");
    }

    #[test]
    fn phone_rejections_name_the_cause() {
        phone_err("+49 151 ABC 6789", "contains `A`");
        phone_err("tel:+49151", "contains `t`");
        phone_err("030/1234567", "contains `/`");
        phone_err("12-34", "has 4 digits; a phone needs 8 to 15 digits");
        phone_err("+1234567", "has 7 digits");
        phone_err("+1234 5678 9012 3456", "has 16 digits");
        phone_err("0151 2345 6789", "national number");
        phone_err("(030) 123-456", "national number");
        phone_err("+49 151 +49 160", "not at the start");
        phone_err("", "empty");
        assert_eq!(
            normalize_phone("12-34").unwrap_err(),
            "`12-34` has 4 digits; a phone needs 8 to 15 digits with the country code"
        );
    }

    #[test]
    fn phone_length_bounds() {
        // The simple bound comes first, then the plan of the country.
        phone_err("+1234567", "has 7 digits");
        phone_err("+1234 5678 9012 3456", "has 16 digits");
        // Shortest and longest real ones: Niue-free 8 digits (Iceland), and
        // a 15-digit German number.
        phone_ok("+354 611 1234", "3546111234");
        phone_ok("+49 30 1234567", "49301234567");
    }

    #[test]
    fn scientific_notation_has_its_own_kind() {
        let e = phone_checked("4.91511E+11", None).expect_err("scientific");
        assert_eq!(e.kind, ProblemKind::ExcelScientific);
        let mut r = good();
        r.partner_phone = "4,91511E+11".into();
        let p = validate(&r, &Rules::default()).expect_err("scientific");
        assert_eq!(p.kind, ProblemKind::ExcelScientific);
        assert!(p.message.contains("format the column as Text"), "{p}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any text at all: no panic, and what comes out is 8–15 digits
        /// that normalise to themselves, with and without a default country.
        #[test]
        fn phone_normaliser_output_is_a_fixed_point(
            s in prop_oneof![
                any::<String>(),
                "['+]?(00)?[0-9 ().-]{0,22}(\\.0)?",
                "[+0-9]{1,3}[0-9 ]{6,16}",
            ],
            country in prop::sample::select(vec!["", "DE", "US", "GB", "IT", "RU"]),
        ) {
            let c: Option<Country> = (!country.is_empty()).then(|| country.parse().unwrap());
            if let Ok(d) = normalize_phone_in(&s, c.as_ref()) {
                prop_assert!((8..=15).contains(&d.len()), "{d}");
                prop_assert!(d.bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(!d.starts_with('0'));
                // International form is a fixed point for every country…
                prop_assert_eq!(normalize_phone_in(&format!("+{d}"), c.as_ref()), Ok(d.clone()));
                // …and so are the bare digits, except where the country's
                // trunk prefix is itself the start of other calling codes
                // (Russia's 8), which the normaliser rightly refuses to guess.
                if country != "RU" {
                    prop_assert_eq!(normalize_phone_in(&d, c.as_ref()), Ok(d.clone()));
                }
            }
        }

        #[test]
        fn phone_normaliser_is_idempotent(s in "[+0-9 ().'-]{0,24}") {
            if let Ok(d) = normalize_phone(&s) {
                prop_assert!((8..=15).contains(&d.len()));
                prop_assert!(d.bytes().all(|b| b.is_ascii_digit()));
                prop_assert_eq!(normalize_phone(&d), Ok(d.clone()));
            }
        }

        #[test]
        fn phone_normaliser_accepts_plus_digits(
            d in "(49151[0-9]{8}|79[0-9]{9}|447[4-9][0-9]{8}|1[2-9][0-9]{2}[2-9][0-9]{6})"
        ) {
            prop_assert_eq!(normalize_phone(&format!("+{d}")), Ok(d.clone()));
        }
    }
}
