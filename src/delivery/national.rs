//! National numbers: digits written without `+` or `00`, read with a
//! `--default-country`. Guessing wrong sends a partner's order to a
//! stranger, so when both readings are real numbers we refuse to pick.

use super::Country;
use super::phone_error::{PhoneError, bad};
use super::plan::{Plan, check_plan};

/// Digits written without `+` or `00`, with a default country: a national
/// number of that country, or an international number whose `+` Excel
/// dropped. A leading 0 is always national (no calling code starts with 0).
/// Otherwise the numbering plans decide: the reading that is a real number
/// wins; when both are, we do not pick one (Russia's trunk 8 is also how
/// Vietnam's +84 starts); when neither is, the country's trunk prefix says
/// which reading to explain.
pub(super) fn read_with_country(
    shown: &str,
    digits: String,
    c: &Country,
    notes: &mut Vec<String>,
) -> Result<String, PhoneError> {
    if digits.starts_with('0') {
        return national_to_international(shown, &digits, c, notes);
    }
    let international_plan = check_plan(&digits);
    let mut national_notes = Vec::new();
    let national = national_to_international(shown, &digits, c, &mut national_notes);
    let national_valid = national
        .as_ref()
        .is_ok_and(|n| matches!(check_plan(n), Plan::Valid));
    if !looks_national(&digits, c) {
        // Calling code first, as Excel leaves a phone it took for a number;
        // national only when that is impossible and the national reading is
        // a real number (`(212) 555-0123` in the US).
        return match national {
            Ok(n) if national_valid && matches!(international_plan, Plan::Refused(_)) => {
                notes.extend(national_notes);
                Ok(n)
            }
            _ => Ok(digits),
        };
    }
    let international_valid = matches!(international_plan, Plan::Valid);
    match national {
        Ok(n) if n == digits => Ok(digits),
        Ok(n) if national_valid && international_valid => Err(bad(format!(
            "`{shown}` reads as +{digits} and as the {} number +{n}; write it \
             with its country code to say which",
            c.region
        ))),
        Ok(_) if international_valid => Ok(digits),
        Ok(n) => {
            notes.extend(national_notes);
            Ok(n)
        }
        Err(e) => Err(e),
    }
}

/// Whether digits written without `+`/`00` are a national number of `c`:
/// they start with its trunk prefix (or with 0, the trunk prefix of most of
/// the world, for a region that has none, like Italy, where 0 is part of
/// the number).
fn looks_national(digits: &str, c: &Country) -> bool {
    match c.trunk_prefix() {
        Some(p) if !p.is_empty() => digits.starts_with(&p) || digits.starts_with('0'),
        _ => digits.starts_with('0'),
    }
}

/// A national number of `c` in international digits. libphonenumber knows
/// how each country writes its numbers; when it cannot help (it panicked on
/// this input, or has no data for the region) the simple rule is used:
/// drop the trunk prefix, put the calling code in front.
fn national_to_international(
    shown: &str,
    digits: &str,
    c: &Country,
    notes: &mut Vec<String>,
) -> Result<String, PhoneError> {
    let trunk = c.trunk_prefix().unwrap_or_else(|| "0".into());
    let simple = || {
        format!(
            "{}{}",
            c.code,
            digits.strip_prefix(&trunk).unwrap_or(digits)
        )
    };
    let parsed = c.id().and_then(|id| {
        let d = digits.to_string();
        std::panic::catch_unwind(move || phonenumber::parse(Some(id), &d)).ok()
    });
    let international = match parsed {
        Some(Ok(n)) => {
            let e164 = n.format().mode(phonenumber::Mode::E164).to_string();
            e164.trim_start_matches('+').to_string()
        }
        Some(Err(e)) => {
            return Err(bad(format!(
                "`{shown}` is not a phone number of {c}: {e}; check the digits, \
                 or write it with its country code (e.g. +49 151 2345 6789)"
            )));
        }
        None => simple(),
    };
    // phonenumber 0.3.10 reads Russia's `8 800 555 35 35` as +7 005553535
    // (it strips `88`); when its reading is not a real number and the simple
    // rule's is, the simple rule is right.
    let international = if matches!(check_plan(&international), Plan::Refused(_))
        && matches!(check_plan(&simple()), Plan::Valid | Plan::Unchecked)
    {
        simple()
    } else {
        international
    };
    notes.push(format!(
        "national number read as {c}: +{international} (--default-country)"
    ));
    Ok(international)
}

#[cfg(test)]
mod tests {
    use crate::delivery::phone::{phone_checked, phone_detailed};
    use crate::delivery::plan::{Plan, check_plan};
    use crate::delivery::test_support::{de, phone_ok};
    use crate::delivery::{Country, normalize_phone_in};
    use crate::input::ProblemKind;

    #[track_caller]
    fn phone_in(country: &str, input: &str, want: &str) {
        let c: Country = country.parse().expect("country");
        assert_eq!(
            normalize_phone_in(input, Some(&c)),
            Ok(want.to_string()),
            "{country} {input:?}"
        );
    }

    #[test]
    fn national_numbers_with_a_default_country() {
        phone_in("DE", "0151 2345 6789", "4915123456789");
        phone_in("49", "(030) 123 4567", "49301234567");
        phone_in("DE", "+49 151 2345 6789", "4915123456789");
        phone_in("DE", "0049 151 2345 6789", "4915123456789");
        phone_in("DE", "4915123456789", "4915123456789");
        phone_in("RU", "8 (912) 345-67-89", "79123456789");
        phone_in("RU", "8 912 345 67 89", "79123456789");
        phone_in("RU", "+7 912 345-67-89", "79123456789");
        phone_in("7", "89123456789", "79123456789");
        // phonenumber alone gets this one wrong (+7 005553535).
        phone_in("RU", "8 800 555 35 35", "78005553535");
        assert_eq!(check_plan("78005553535"), Plan::Unchecked);
        phone_ok("+7 800 555 35 35", "78005553535");
        // Italy has no trunk prefix: the 0 is part of the number.
        phone_in("IT", "06 6982 1234", "390669821234");
        phone_in("GB", "07911 123456", "447911123456");
        phone_in("US", "(212) 555-0123", "12125550123");
        phone_in("US", "1 212 555 0123", "12125550123");
        let (_, notes) = phone_detailed("0151 2345 6789", Some(&de())).expect("valid");
        assert!(
            notes
                .iter()
                .any(|n| n.contains("national number read as DE (+49)")),
            "{notes:?}"
        );
    }

    #[test]
    fn national_number_problems() {
        let c = de();
        let e = normalize_phone_in("0151 23", Some(&c)).expect_err("short");
        assert!(e.contains("has 7 digits"), "{e}");
        let ru: Country = "RU".parse().expect("RU");
        let e = normalize_phone_in("8 912 345 67", Some(&ru)).expect_err("short");
        assert!(e.contains("numbers in RU (+7) have 10"), "{e}");
        // Russia's trunk 8 is also the start of Vietnam's +84.
        let e = normalize_phone_in("84912345678", Some(&ru)).expect_err("ambiguous");
        assert!(
            e.contains("+84912345678") && e.contains("+74912345678"),
            "{e}"
        );
        assert_eq!(
            normalize_phone_in("+84 91 234 5678", Some(&ru)),
            Ok("84912345678".into())
        );
        // Without a default country a national number is refused, and the
        // reason says how to fix it.
        let e = phone_checked("0151 2345 6789", None).expect_err("national");
        assert_eq!(e.kind, ProblemKind::NationalPhone);
        assert!(e.message.contains("--default-country"), "{}", e.message);
    }
}
