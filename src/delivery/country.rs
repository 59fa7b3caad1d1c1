//! A `--default-country`: which calling code and which numbering plan a
//! national number is read with. Parsed leniently, because people write
//! `DE`, `49` and `+49` for the same thing.

use std::fmt;
use std::str::FromStr;

/// A `--default-country`: the calling code a national number gets, and the
/// region whose trunk prefix (`0` in Germany, `8` in Russia) and numbering
/// plan apply to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// The calling code, e.g. 49.
    pub code: u16,
    /// The region (ISO 3166 alpha-2, upper case) whose plan national
    /// numbers follow, e.g. `DE`; for a shared calling code (`1`, `7`, `44`)
    /// the main region of that code unless the user named another.
    pub region: String,
}

/// A `--default-country` value that names no country.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is neither a region code (e.g. DE, RU, GB) nor a calling code \
     (e.g. 49, 7, 44) in the numbering plans we know"
)]
pub struct UnknownCountry(pub String);

impl FromStr for Country {
    type Err = UnknownCountry;

    /// `DE`, `de`, `49`, `+49` and `0049` all give Germany.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let unknown = || UnknownCountry(s.to_string());
        let db = &*phonenumber::metadata::DATABASE;
        if t.len() == 2 && t.bytes().all(|b| b.is_ascii_alphabetic()) {
            let region = t.to_ascii_uppercase();
            let meta = db.by_id(region.as_str()).ok_or_else(unknown)?;
            return Ok(Country {
                code: meta.country_code(),
                region,
            });
        }
        let digits = t
            .strip_prefix('+')
            .or_else(|| t.strip_prefix("00"))
            .unwrap_or(t);
        if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(unknown());
        }
        let code: u16 = digits.parse().map_err(|_| unknown())?;
        let metas = db.by_code(&code).ok_or_else(unknown)?;
        let main = metas
            .iter()
            .find(|m| m.is_main_country_for_code())
            .or_else(|| metas.first())
            .ok_or_else(unknown)?;
        // "001" is a non-geographic entity (+800, +882…): no national numbers.
        if main.id() == "001" {
            return Err(unknown());
        }
        Ok(Country {
            code,
            region: main.id().to_string(),
        })
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (+{})", self.region, self.code)
    }
}

impl Country {
    /// The numbering plan of the region; every `Country` was parsed from a
    /// region or code the metadata has, so `None` only for a value built by
    /// hand.
    pub(super) fn meta(&self) -> Option<&'static phonenumber::Metadata> {
        phonenumber::metadata::DATABASE.by_id(self.region.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Country;
    use crate::delivery::test_support::de;

    #[test]
    fn country_parses_region_or_calling_code() {
        assert_eq!(de().code, 49);
        assert_eq!(de().region, "DE");
        for s in ["de", " DE ", "49", "+49", "0049"] {
            assert_eq!(s.parse::<Country>(), Ok(de()), "{s:?}");
        }
        assert_eq!("7".parse::<Country>().map(|c| c.region), Ok("RU".into()));
        assert_eq!("1".parse::<Country>().map(|c| c.region), Ok("US".into()));
        assert_eq!("KZ".parse::<Country>().map(|c| c.code), Ok(7));
        assert_eq!("44".parse::<Country>().map(|c| c.region), Ok("GB".into()));
        for s in ["XX", "999", "", "Germany", "800", "4900"] {
            let e = s.parse::<Country>().expect_err(s);
            assert!(e.to_string().contains("region code"), "{e}");
        }
        assert_eq!(de().to_string(), "DE (+49)");
    }
}
