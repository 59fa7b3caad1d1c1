//! Properties of the phone rule over numbers the numbering plans call
//! valid: written with `+` they come back as themselves under any country;
//! written the way their country writes them they come back as themselves
//! or are refused as ambiguous, never as another number; and a string that
//! is a valid international number is never read as a different number
//! because a country was given.

use phonenumber::Mode;
use phonenumber::metadata::DATABASE;
use proptest::prelude::*;

use super::phone::phone_checked;
use super::plan::{Plan, check_plan};
use super::{Country, normalize_phone_in};
use crate::input::ProblemKind;

/// Regions whose plans the properties walk: every continent, trunk
/// prefixes 0, 1 and 8, none (IT, ES), carrier codes (BR), the 9 of
/// Argentine mobiles, shared calling codes (+1, +7).
const REGIONS: [&str; 24] = [
    "DE", "AT", "FR", "IT", "ES", "GB", "NL", "PL", "SE", "RU", "KZ", "UA", "TR", "US", "CA", "MX",
    "BR", "AR", "IN", "CN", "JP", "AU", "ZA", "EG",
];

/// A valid number of `region`: its example fixed-line or mobile number
/// with the last four digits replaced by `tail`, or the example itself
/// where that is not valid.
fn valid_number(region: &str, mobile: bool, tail: &str) -> String {
    let meta = DATABASE.by_id(region).expect("a region in the metadata");
    let d = meta.descriptors();
    let desc = if mobile { d.mobile() } else { d.fixed_line() };
    let example = desc.and_then(|x| x.example()).expect("an example number");
    let code = meta.country_code();
    let keep = example.len().saturating_sub(tail.len()).max(2);
    let changed = format!(
        "{code}{}{}",
        &example[..keep],
        &tail[..example.len() - keep]
    );
    if check_plan(&changed) == Plan::Valid {
        changed
    } else {
        format!("{code}{example}")
    }
}

/// How the crate writes `digits` in `mode`, where its parser keeps them.
fn formatted(digits: &str, mode: Mode) -> Option<String> {
    let n = phonenumber::parse(None, format!("+{digits}")).ok()?;
    (format!("{}{}", n.code().value(), n.national()) == digits)
        .then(|| n.format().mode(mode).to_string())
}

/// Ways people write the same national or international number.
fn spellings(s: &str) -> [String; 4] {
    [
        s.to_string(),
        s.replace(' ', "."),
        s.replace(' ', "-"),
        s.chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect(),
    ]
}

fn any_country() -> impl Strategy<Value = Option<Country>> {
    prop_oneof![
        Just(None),
        prop::sample::select(REGIONS.to_vec()).prop_map(|r| r.parse().ok()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_valid_number_with_plus_round_trips(
        region in prop::sample::select(REGIONS.to_vec()),
        mobile in any::<bool>(),
        tail in "[0-9]{4}",
        country in any_country(),
    ) {
        let digits = valid_number(region, mobile, &tail);
        let mut written = vec![format!("+{digits}"), format!("'+{digits}")];
        if let Some(intl) = formatted(&digits, Mode::International) {
            written.extend(spellings(&intl));
        }
        for s in written {
            prop_assert_eq!(
                normalize_phone_in(&s, country.as_ref()),
                Ok(digits.clone()),
                "{:?} with {:?}", s, country
            );
        }
    }

    #[test]
    fn a_national_number_reads_back_or_is_refused_as_ambiguous(
        region in prop::sample::select(REGIONS.to_vec()),
        mobile in any::<bool>(),
        tail in "[0-9]{4}",
    ) {
        let digits = valid_number(region, mobile, &tail);
        let c: Country = region.parse().expect("a region");
        let Some(national) = formatted(&digits, Mode::National) else {
            return Ok(());
        };
        for s in spellings(&national) {
            match phone_checked(&s, Some(&c), "--default-country") {
                Ok((d, ..)) => prop_assert_eq!(&d, &digits, "{:?} in {}", s, region),
                Err(e) => {
                    prop_assert_eq!(e.kind, ProblemKind::AmbiguousPhone, "{:?}: {}", s, e.message);
                    prop_assert!(e.message.contains(&format!("+{digits} (")), "{}", e.message);
                }
            }
        }
    }

    /// One string, two numbers: where a string is a valid international
    /// number without a country, no country turns it into another number.
    #[test]
    fn a_valid_reading_is_never_overridden(
        s in prop_oneof![
            "['+]?(00)?[1-9][0-9 ().-]{7,16}",
            "0[1-9][0-9 ]{6,12}",
            "[1-9][0-9]{7,13}",
        ],
        country in any_country(),
    ) {
        let alone = phone_checked(&s, None, "");
        let with = phone_checked(&s, country.as_ref(), "--default-country");
        if let (Ok((a, _, None)), Ok((b, ..))) = (&alone, &with) {
            prop_assert_eq!(a, b, "{:?} with {:?}", s, country);
        }
        if s.trim_start_matches('\'').starts_with('+') {
            prop_assert_eq!(alone.map(|x| x.0), with.map(|x| x.0), "{:?}", s);
        }
    }
}
