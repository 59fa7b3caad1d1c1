//! The numbering plans (libphonenumber metadata): whether international
//! digits are a real number, a possible one, or impossible, so a typo is a
//! row-level reason instead of a failed message.

/// What the numbering plans say about international digits.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Plan {
    /// In an allocated range.
    Valid,
    /// A possible length for the region, but not in a range the metadata
    /// lists as allocated (new ranges, fiction ranges like Ofcom's 07700
    /// 900xxx). Sent, with a note: refusing a real number would leave the
    /// user nothing to fix.
    Unallocated(String),
    /// Impossible: no such calling code, or a length the region never uses.
    Refused(String),
    /// libphonenumber could not judge it (it panicked): simple rules only.
    Unchecked,
}

pub(super) fn check_plan(digits: &str) -> Plan {
    let with_plus = format!("+{digits}");
    let Ok(parsed) = std::panic::catch_unwind(|| phonenumber::parse(None, &with_plus)) else {
        return Plan::Unchecked;
    };
    let number = match parsed {
        // phonenumber 0.3.10 strips a national prefix even after the calling
        // code (`+7 800 555 35 35` becomes +7 005553535); when its digits
        // are not ours it cannot judge them, and the simple rules decide.
        Ok(n) if format!("{}{}", n.code().value(), n.national()) != digits => {
            return Plan::Unchecked;
        }
        Ok(n) => n,
        Err(phonenumber::ParseError::InvalidCountryCode) => {
            return Plan::Refused(
                "does not start with a calling code any country uses; check \
                 the first digits, or write a national number with \
                 --default-country"
                    .into(),
            );
        }
        Err(e) => {
            return Plan::Refused(format!(
                "is not a possible phone number ({e}); check the digits"
            ));
        }
    };
    if number.is_valid() {
        return Plan::Valid;
    }
    let code = number.code().value();
    let national = number.national().to_string();
    let db = &*phonenumber::metadata::DATABASE;
    let metas = match number.metadata(db) {
        Some(m) => vec![m],
        // A shared calling code (+1, +7, +44) whose region the number does
        // not reveal: judge it against every region of the code.
        None => db.by_code(&code).unwrap_or_default(),
    };
    if metas.is_empty() {
        return Plan::Unchecked;
    }
    let region = match metas.as_slice() {
        [m] if m.id() != "001" => format!("{} (+{code})", m.id()),
        _ => format!("+{code}"),
    };
    // The general descriptor's lengths are not filled in this metadata, so
    // take the union over the number types, as libphonenumber builds it.
    let mut lengths: Vec<u16> = metas
        .iter()
        .flat_map(|m| {
            let d = m.descriptors();
            [
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.personal_number(),
                d.voip(),
                d.pager(),
                d.uan(),
                d.voicemail(),
            ]
            .into_iter()
            .flatten()
            .flat_map(|x| x.possible_length().iter().copied())
            .collect::<Vec<u16>>()
        })
        .collect();
    lengths.sort_unstable();
    lengths.dedup();
    if !lengths.is_empty() && !lengths.contains(&(national.len() as u16)) {
        return Plan::Refused(format!(
            "has {} digits after +{code}, and numbers in {region} have {}; \
             check for a missing or extra digit",
            national.len(),
            describe_lengths(&lengths)
        ));
    }
    Plan::Unallocated(region)
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
    use crate::delivery::phone::phone_detailed;
    use crate::delivery::test_support::phone_err;

    #[test]
    fn numbering_plan_checks() {
        // No country uses +83 or +80x as a calling code for phones.
        phone_err("+83 1234 5678", "calling code");
        // Russian and North American numbers have 10 digits after the code.
        phone_err("+7 912 345 67 8", "has 9 digits after +7");
        phone_err("+1 212 555 012", "has 9 digits after +1");
        phone_err("+1 212 555 012", "numbers in +1 have 7 or 10");
        // Ofcom's fiction range is a possible UK mobile number, not an
        // allocated one: sent, with a note.
        let (d, notes) = phone_detailed("+44 7700 900123", None).expect("possible");
        assert_eq!(d, "447700900123");
        assert!(
            notes.iter().any(|n| n.contains("+44 has allocated")),
            "{notes:?}"
        );
        let (_, notes) = phone_detailed("+44 7911 123456", None).expect("valid");
        assert!(notes.is_empty(), "{notes:?}");
    }
}
