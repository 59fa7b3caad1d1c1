//! How a region writes its own numbers and how it dials out, from the
//! metadata libphonenumber keeps per region: the trunk prefix (`0` in
//! Germany, `8` in Russia, `1` in the US, sometimes with a carrier code as
//! in Brazil) and the exit code (`00`, `011` from the US, `810` from
//! Russia).

use phonenumber::Metadata;

use super::plan::possible_lengths;

/// The national significant number of digits written as a national number
/// of `meta`'s region, and the prefix removed from their start, read as
/// libphonenumber's `maybeStripNationalPrefixAndCarrierCode` reads them:
/// the prefix is removed (or the region's transform applied) unless the
/// digits were a plausible number before and are not after, or what is
/// left is too short to be a number there.
///
/// Without the prefix the digits are read as they are: a number whose
/// trunk `0` a spreadsheet dropped (`1512345678` for `01512345678`), or one
/// from a region that writes none (Italy, Spain).
pub(super) fn national_significant(digits: &str, meta: &Metadata) -> (String, Option<String>) {
    let as_written = || (digits.to_string(), None);
    let stripped = match meta.national_prefix_for_parsing() {
        Some(re) => re.captures(digits).and_then(|c| {
            let whole = c.get(0).filter(|m| m.start() == 0 && m.end() > 0)?;
            let rest = match meta.national_prefix_transform_rule() {
                Some(rule) if c.get(c.len() - 1).is_some() => re.replace(digits, rule).into_owned(),
                _ => digits[whole.end()..].to_string(),
            };
            Some((rest, whole.as_str().to_string()))
        }),
        None => meta
            .national_prefix()
            .filter(|p| !p.is_empty())
            .and_then(|p| {
                digits
                    .strip_prefix(p)
                    .map(|rest| (rest.to_string(), p.to_string()))
            }),
    };
    let Some((rest, removed)) = stripped else {
        return as_written();
    };
    let general = meta.descriptors().general();
    let lengths = possible_lengths(&[meta]);
    let possible = |d: &str| lengths.is_empty() || lengths.contains(&(d.len() as u16));
    let too_short = lengths
        .first()
        .is_some_and(|&min| (rest.len() as u16) < min);
    if rest.is_empty()
        || rest == digits
        || (general.is_match(digits) && !general.is_match(&rest))
        // libphonenumber keeps digits that would be too short without the
        // prefix, as they may be a number as written; where they are not
        // one either, the reading without it explains the mistake better.
        || (too_short && possible(digits))
    {
        return as_written();
    }
    (rest, Some(removed))
}

/// The exit code written at the start of `digits` (`011` from the US) and
/// the international digits after it. A calling code never starts with 0,
/// so a 0 after the exit code means it was none.
pub(super) fn after_exit_code<'a>(digits: &'a str, meta: &Metadata) -> Option<(&'a str, &'a str)> {
    let m = meta.international_prefix()?.find(digits)?;
    if m.start() != 0 || m.end() == 0 {
        return None;
    }
    let rest = &digits[m.end()..];
    (!rest.starts_with('0')).then(|| (&digits[..m.end()], rest))
}

#[cfg(test)]
mod tests {
    use super::{after_exit_code, national_significant};
    use crate::delivery::phone::phone_checked;
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

    #[track_caller]
    fn ambiguous_in(country: &str, input: &str, readings: [&str; 2]) {
        let c: Country = country.parse().expect("country");
        let e = phone_checked(input, Some(&c), "--default-country").expect_err(input);
        assert_eq!(e.kind, ProblemKind::AmbiguousPhone, "{}", e.message);
        for r in readings {
            assert!(e.message.contains(&format!("+{r}")), "{r}: {}", e.message);
        }
    }

    fn meta(region: &str) -> &'static phonenumber::Metadata {
        phonenumber::metadata::DATABASE.by_id(region).expect(region)
    }

    #[test]
    fn trunk_prefixes_and_carrier_codes() {
        let nsn = |r, d| national_significant(d, meta(r));
        assert_eq!(
            nsn("DE", "015123456789"),
            ("15123456789".into(), Some("0".into()))
        );
        assert_eq!(nsn("DE", "15123456789"), ("15123456789".into(), None));
        assert_eq!(
            nsn("RU", "88005553535"),
            ("8005553535".into(), Some("8".into()))
        );
        assert_eq!(
            nsn("US", "12015179870"),
            ("2015179870".into(), Some("1".into()))
        );
        assert_eq!(nsn("IT", "0669821234"), ("0669821234".into(), None));
        // Brazil: trunk 0 with a carrier code (21), then the number.
        assert_eq!(nsn("BR", "02111949755551").0, "11949755551");
        assert_eq!(nsn("BR", "011949755551").0, "11949755551");
        assert_eq!(
            after_exit_code("01149301234567", meta("US")),
            Some(("011", "49301234567"))
        );
        assert_eq!(
            after_exit_code("81049301234567", meta("RU")),
            Some(("810", "49301234567"))
        );
        assert_eq!(after_exit_code("0049301234567", meta("US")), None);
        assert_eq!(after_exit_code("000049", meta("DE")), None);
    }

    #[test]
    fn national_numbers_with_a_default_country() {
        phone_in("DE", "0151 2345 6789", "4915123456789");
        phone_in("49", "(030) 123 4567", "49301234567");
        phone_in("DE", "+49 151 2345 6789", "4915123456789");
        phone_in("DE", "0049 151 2345 6789", "4915123456789");
        phone_in("RU", "8 (912) 345-67-89", "79123456789");
        phone_in("RU", "8 912 345 67 89", "79123456789");
        phone_in("RU", "+7 912 345-67-89", "79123456789");
        phone_in("7", "89123456789", "79123456789");
        // phonenumber's parser alone gets this one wrong (+7 005553535).
        phone_in("RU", "8 800 555 35 35", "78005553535");
        phone_ok("+7 800 555 35 35", "78005553535");
        // Italy has no trunk prefix: the 0 is part of the number.
        phone_in("IT", "06 6982 1234", "390669821234");
        phone_in("GB", "07911 123456", "447911123456");
        phone_in("US", "(212) 555-0123", "12125550123");
        phone_in("US", "1 212 555 0123", "12125550123");
        phone_in("US", "011 49 30 1234567", "49301234567");
        // The wrong numbers: each was sent to its digits as if they
        // began with a calling code, a reading that is no valid number.
        phone_in("IT", "312 372 8234", "393123728234");
        phone_in("ES", "612.44.68.93", "34612446893");
        phone_in("BR", "(11) 94975-5551", "5511949755551");
        // A trunk 0 written after the calling code.
        phone_in("DE", "+49 0151 2345 6789", "4915123456789");
        let (_, notes, _) =
            phone_checked("0151 2345 6789", Some(&de()), "--default-country").expect("valid");
        assert!(
            notes
                .iter()
                .any(|n| n.contains("national number read as DE (+49)")),
            "{notes:?}"
        );
    }

    #[test]
    fn two_valid_readings_are_refused() {
        // Russia's trunk 8 is also the start of Vietnam's +84.
        ambiguous_in("RU", "84912345678", ["84912345678", "74912345678"]);
        // +20 15 179870 is an Egyptian number as much as (201) 517-9870 is
        // one in New Jersey.
        ambiguous_in("US", "(201) 517-9870", ["2015179870", "12015179870"]);
        // Germany's plan has numbers of every length under 049x, so digits
        // that begin with 49 are German twice over.
        ambiguous_in("DE", "4915123456789", ["4915123456789", "494915123456789"]);
        let ru: Country = "RU".parse().expect("RU");
        assert_eq!(
            normalize_phone_in("+84 91 234 5678", Some(&ru)),
            Ok("84912345678".into())
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
        // Without a default country a national number is refused, and the
        // reason says how to fix it.
        let e = phone_checked("0151 2345 6789", None, "").expect_err("national");
        assert_eq!(e.kind, ProblemKind::NationalPhone);
        assert!(e.message.contains("--default-country"), "{}", e.message);
    }
}
