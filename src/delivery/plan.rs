//! The numbering plans (libphonenumber metadata): whether international
//! digits are a real number, a possible one, or impossible, so a typo is a
//! row-level reason instead of a failed message.
//!
//! The digits are judged against the metadata directly rather than through
//! `phonenumber::parse`: the parser of phonenumber 0.3.10 strips a national
//! prefix even after the calling code (`+7 800 555 35 35` becomes
//! +7 005553535), so it cannot say whether *these* digits are a number. The
//! judgement itself is the crate's `is_valid` (the region by leading digits,
//! then a number type whose pattern and lengths fit), applied to the digits
//! as written; a test holds the two equal wherever the parser keeps them.

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};

/// What the numbering plans say about international digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Plan {
    /// In an allocated range.
    Valid,
    /// A possible number (a length the region uses, libphonenumber's
    /// `isPossibleNumber`), but not in a range the metadata lists as
    /// allocated (new ranges, fiction ranges like Ofcom's 07700 900xxx).
    /// Sent, with a note, when it is the only reading: refusing a real
    /// number would leave the user nothing to fix.
    Unallocated(String),
    /// Impossible: too few or too many digits for any phone, no such calling
    /// code, or a length the region never uses.
    Refused(Refusal),
}

/// Why digits are no number. Kept as facts and put into words only when a
/// reason is shown: most readings of a phone are impossible and never
/// explained, and naming the region of a shared calling code costs regex
/// matches. The facts: too few or too many digits for any phone (8 to 15
/// with the calling code), a 0 where the calling code should start, no
/// calling code any country uses, a length the region never uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refusal {
    Digits(usize),
    LeadingZero,
    NoCallingCode,
    Length { code: u16, nsn: String },
}

impl Refusal {
    /// The reason, to follow the phone as written.
    pub(super) fn reason(&self) -> String {
        match self {
            Refusal::Digits(n) => format!(
                "has {n} digit{}; a phone needs 8 to 15 digits with the country code",
                if *n == 1 { "" } else { "s" }
            ),
            Refusal::LeadingZero => "starts with 0 after the international prefix; \
                 write it in international form, e.g. +49 151 2345 6789"
                .into(),
            Refusal::NoCallingCode => "does not start with a calling code any country uses; \
                 check the first digits, or write a national number with \
                 --default-country"
                .into(),
            Refusal::Length { code, nsn } => {
                let metas = DATABASE.by_code(code).unwrap_or_default();
                let candidates = source_for(&metas, nsn).map_or(metas, |m| vec![m]);
                format!(
                    "has {} digits after +{code}, and numbers in {} have {}; \
                     check for a missing or extra digit",
                    nsn.len(),
                    region_name(&candidates, *code),
                    describe_lengths(&possible_lengths(&candidates))
                )
            }
        }
    }
}

/// The crate compiles the metadata's regexes on first use and keeps the
/// last hundred; the readings of one country's national numbers touch the
/// plans of many calling codes (`(201) 517-9870` is also +20 in Egypt), and
/// a file with a country column more, so a hundred thrash (1.6 ms a phone
/// over 24 countries, 50 µs without eviction). The plans have about 1,700
/// regexes that phones use, so keeping them all bounds the cache by the
/// metadata; only the regions a file touches are ever compiled.
pub(super) fn keep_compiled_regexes() {
    static SIZED: std::sync::Once = std::sync::Once::new();
    SIZED.call_once(|| {
        if let Ok(mut cache) = DATABASE.cache().lock() {
            cache.set_capacity(2048);
        }
    });
}

/// The calling code and the national significant number of international
/// digits. Calling codes are a prefix code, so the first one that exists
/// is the only one.
pub(super) fn split_code(digits: &str) -> Option<(u16, &str)> {
    if digits.starts_with('0') {
        return None;
    }
    (1..=3.min(digits.len())).find_map(|len| {
        let code: u16 = digits[..len].parse().ok()?;
        DATABASE
            .by_code(&code)
            .is_some()
            .then(|| (code, &digits[len..]))
    })
}

/// Lengths are looked at before any pattern: they need no regex, and most
/// readings of a phone fail on them (the crate keeps only a hundred
/// compiled regexes, so every match avoided is a compile avoided).
pub(super) fn check_plan(digits: &str) -> Plan {
    let n = digits.len();
    if !(8..=15).contains(&n) {
        return Plan::Refused(Refusal::Digits(n));
    }
    if digits.starts_with('0') {
        return Plan::Refused(Refusal::LeadingZero);
    }
    let Some((code, nsn)) = split_code(digits) else {
        return Plan::Refused(Refusal::NoCallingCode);
    };
    let metas = DATABASE.by_code(&code).unwrap_or_default();
    let fits = |metas: &[&Metadata]| {
        let lengths = possible_lengths(metas);
        lengths.is_empty() || lengths.contains(&(nsn.len() as u16))
    };
    let refused = || {
        Plan::Refused(Refusal::Length {
            code,
            nsn: nsn.to_string(),
        })
    };
    if !fits(&metas) {
        return refused();
    }
    let source = source_for(&metas, nsn);
    if source.is_some_and(|m| is_number(m, nsn)) {
        return Plan::Valid;
    }
    // Which regions to judge against: the one the leading digits name, or
    // every region of a shared calling code (+1, +7, +44).
    let candidates: Vec<&Metadata> = source.map_or(metas, |m| vec![m]);
    if !fits(&candidates) {
        return refused();
    }
    Plan::Unallocated(region_name(&candidates, code))
}

fn region_name(candidates: &[&Metadata], code: u16) -> String {
    match candidates {
        [m] if m.id() != "001" => format!("{} (+{code})", m.id()),
        _ => format!("+{code}"),
    }
}

/// The region of a calling code whose plan applies to `nsn`, as
/// phonenumber's `source_for` finds it: the only region of the code, or
/// the first whose leading digits (or, without them, a number type) match.
fn source_for<'a>(metas: &[&'a Metadata], nsn: &str) -> Option<&'a Metadata> {
    match metas {
        [one] => Some(*one),
        _ => metas.iter().copied().find(|m| match m.leading_digits() {
            Some(lead) => lead.find(nsn).is_some_and(|x| x.start() == 0),
            None => is_number(m, nsn),
        }),
    }
}

/// phonenumber's `number_type(meta, nsn) != Unknown`: the general pattern
/// and at least one number type (pattern and length) fit.
fn is_number(meta: &Metadata, nsn: &str) -> bool {
    let len = nsn.len() as u16;
    types(meta).any(|d| d.possible_length().is_empty() || d.possible_length().contains(&len))
        && meta.descriptors().general().is_match(nsn)
        && types(meta).any(|d| d.is_match(nsn))
}

/// The number types, the common ones first: a valid number is found
/// valid after its first matching type, and each type tried is a regex.
fn types(meta: &Metadata) -> impl Iterator<Item = &Descriptor> {
    let d = meta.descriptors();
    [
        d.mobile(),
        d.fixed_line(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
    .into_iter()
    .flatten()
}

/// The general descriptor's lengths are not filled in this metadata, so
/// take the union over the number types, as libphonenumber builds it.
pub(super) fn possible_lengths(metas: &[&Metadata]) -> Vec<u16> {
    let mut lengths: Vec<u16> = metas
        .iter()
        .flat_map(|m| types(m).flat_map(|d| d.possible_length().iter().copied()))
        .collect();
    lengths.sort_unstable();
    lengths.dedup();
    lengths
}

fn describe_lengths(lengths: &[u16]) -> String {
    let shown: Vec<String> = lengths.iter().map(u16::to_string).collect();
    match shown.as_slice() {
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => "no fixed length".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::{Plan, check_plan, split_code};
    use crate::delivery::phone::phone_checked;
    use crate::delivery::test_support::phone_err;
    use proptest::prelude::*;

    #[test]
    fn numbering_plan_checks() {
        // No country uses +83 or +80x as a calling code for phones.
        phone_err("+83 1234 5678", "calling code");
        // Russian and North American numbers have 10 digits after the code.
        phone_err("+7 912 345 67 8", "has 9 digits after +7");
        phone_err("+1 212 555 012", "has 9 digits after +1");
        phone_err("+1 212 555 012", "numbers in +1 have 7 or 10");
        // Ofcom's fiction range is a possible UK mobile number, not an
        // allocated one: sent, with a warning.
        let (d, _, warning) = phone_checked("+44 7700 900123", None, "").expect("possible");
        assert_eq!(d, "447700900123");
        assert!(
            warning
                .as_deref()
                .is_some_and(|w| w.contains("+44 has allocated")),
            "{warning:?}"
        );
        // Sint Maarten's numbers are +1 721 5…: +1 721 2… is only possible
        // (a length +1 uses), and written with + it is sent with a warning.
        let (_, _, warning) = phone_checked("+1 721 200 0000", None, "").expect("possible");
        assert!(
            warning.as_deref().is_some_and(|w| w.contains("SX (+1)")),
            "{warning:?}"
        );
        let (_, notes, warning) = phone_checked("+44 7911 123456", None, "").expect("valid");
        assert!(
            notes.is_empty() && warning.is_none(),
            "{notes:?} {warning:?}"
        );
        // What phonenumber's parser turns into +7 005553535 is a toll-free
        // Russian number, judged as written.
        assert_eq!(check_plan("78005553535"), Plan::Valid);
        assert_eq!(check_plan("78121234567"), Plan::Valid);
        assert_eq!(split_code("4915123456789"), Some((49, "15123456789")));
        assert_eq!(split_code("0049"), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Our judgement is the crate's `is_valid` wherever the crate's
        /// parser keeps the digits as written.
        #[test]
        fn validity_is_the_crates(digits in "[1-9][0-9]{7,14}") {
            let plus = format!("+{digits}");
            let parsed = std::panic::catch_unwind(|| phonenumber::parse(None, &plus));
            if let Ok(Ok(n)) = parsed
                && format!("{}{}", n.code().value(), n.national()) == digits
            {
                prop_assert_eq!(check_plan(&digits) == Plan::Valid, n.is_valid(), "{}", digits);
            }
        }
    }
}
