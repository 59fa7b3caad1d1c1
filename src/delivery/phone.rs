//! Phone normalisation: what a partner's phone cell becomes before it is a
//! recipient. The cell is scanned ([`super::scan`]: Excel's damage repaired
//! or refused), every number it can be read as is listed
//! ([`super::readings`]), and the numbering plans decide between them
//! ([`super::choose`]): a wrong guess sends a partner's order to a
//! stranger, so two readings that are both numbers are refused.

use super::Country;
use super::choose::{choose, judged};
use super::phone_error::refused;
use super::plan::{Plan, keep_compiled_regexes};
use super::readings::{How, readings};
use super::scan::scan_phone;
use crate::input::{ProblemKind, RowProblem};

/// Loads the numbering plans on a thread of their own, so the one-time
/// cost (about 0.1 s: metadata decoding and thousands of regexes) overlaps
/// connecting and opening the ledger instead of delaying the first send.
pub fn warm_up() {
    let _ = std::thread::Builder::new()
        .name("phone-plans".into())
        .spawn(|| {
            let _ = &*phonenumber::metadata::DATABASE;
            keep_compiled_regexes();
        });
}

/// Normalises a phone to digits in international form without `+`, a
/// national number with `country`'s calling code.
///
/// Without a country we cannot resolve national numbers, so anything that
/// is not already international (country code first) is refused rather
/// than guessed; a wrong guess sends a partner's order to a stranger.
pub fn normalize_phone_in(s: &str, country: Option<&Country>) -> Result<String, String> {
    let checked = phone_checked(s, country, "--default-country");
    checked.map(|(digits, ..)| digits).map_err(|e| e.message)
}

/// The phone in international digits, its notes on Excel damage that was
/// repaired, so the report can tell the user to fix the export, and the
/// warning of a number outside the numbering plan's ranges (sent, and may
/// well be delivered: a person checks it if the message fails), kept apart
/// so no one has to find it in the notes by its words; `from` says where
/// `country` came from, for the note on a national number.
pub(super) fn phone_checked(
    s: &str,
    country: Option<&Country>,
    from: &str,
) -> Result<(String, Vec<String>, Option<String>), RowProblem> {
    keep_compiled_regexes();
    let mut notes = Vec::new();
    let shown = s.trim();
    let (digits, plus) = scan_phone(shown, &mut notes)?;
    if !plus && country.is_none() && digits.starts_with('0') && !digits.starts_with("00") {
        return Err(refused(
            ProblemKind::NationalPhone,
            format!(
                "`{shown}` starts with 0, so it looks like a national number \
                 without the country code; write it in international form \
                 (e.g. +49 151 2345 6789) or pass --default-country with the \
                 country it belongs to (e.g. --default-country DE), or map a \
                 column with each row's country (--map country=…)"
            ),
        ));
    }
    let judged = judged(readings(&digits, plus, country));
    let (reading, verdict) = choose(shown, &judged)?;
    match (&reading.how, &reading.trunk) {
        (How::National(c), _) => notes.push(format!(
            "national number read as {c}: +{} ({from})",
            reading.digits
        )),
        (_, Some(t)) => notes.push(format!("trunk `{t}` after the country code removed")),
        _ => {}
    }
    let warning = match verdict {
        Plan::Unallocated(region) => Some(format!(
            "not in a range {region} has allocated (libphonenumber metadata); \
             check the number if the message fails"
        )),
        _ => None,
    };
    Ok((reading.digits.clone(), notes, warning))
}

#[cfg(test)]
mod tests {
    use super::{normalize_phone_in, phone_checked};
    use crate::delivery::test_support::{good, normalize_phone, phone_err, phone_ok};
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
        let (_, notes, _) = phone_checked("491511234567.0", None, "").expect("valid");
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

    const COUNTRIES: [&str; 8] = ["", "DE", "US", "GB", "IT", "RU", "BR", "ES"];

    fn country_of(region: &str) -> Option<Country> {
        (!region.is_empty()).then(|| region.parse().expect("a known region"))
    }

    /// The proptest failure this rule fixed: read with `00` the digits are
    /// +1 1000000, read as a US national number +1 0011000000; neither is
    /// a valid number and both are possible ones (by length), so neither is
    /// chosen. It used to go to 11000000, which as a US national number is
    /// something else again.
    #[test]
    fn zero_zero_one_one_is_no_us_number() {
        let us = country_of("US");
        let e = phone_checked("00110(0000.0", us.as_ref(), "--default-country")
            .expect_err("two possible readings");
        assert_eq!(e.kind, ProblemKind::AmbiguousPhone);
        assert_eq!(
            e.message,
            "`00110(0000.0` is ambiguous: it reads as +11000000 (international \
             after the exit code 00) and as +10011000000 (a national number of \
             US (+1)), each a possible number, none in a range the numbering \
             plans list as allocated; write it with + and the country code \
             (+11000000 or +10011000000) to say which"
        );
    }

    #[test]
    fn scientific_notation_has_its_own_kind() {
        let e = phone_checked("4.91511E+11", None, "").expect_err("scientific");
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
        /// that, written with `+`, normalise to themselves under every
        /// country: `+` leaves no other reading. (The bare digits need not:
        /// `49100000` with DE is the national number 0491 00000.)
        #[test]
        fn phone_normaliser_output_is_a_fixed_point(
            s in prop_oneof![
                any::<String>(),
                "['+]?(00)?[0-9 ().-]{0,22}(\\.0)?",
                "[+0-9]{1,3}[0-9 ]{6,16}",
            ],
            country in prop::sample::select(COUNTRIES.to_vec()),
        ) {
            let c = country_of(country);
            if let Ok(d) = normalize_phone_in(&s, c.as_ref()) {
                prop_assert!((8..=15).contains(&d.len()), "{d}");
                prop_assert!(d.bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(!d.starts_with('0'));
                for other in COUNTRIES {
                    let o = country_of(other);
                    prop_assert_eq!(
                        normalize_phone_in(&format!("+{d}"), o.as_ref()),
                        Ok(d.clone()),
                        "{:?} in {} gave {}; +{} in {}", s, country, d, d, other
                    );
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
