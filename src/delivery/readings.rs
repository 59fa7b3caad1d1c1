//! Every number a phone cell can be read as. Digits written without `+`
//! may begin with a calling code (after `00` or the region's exit code, or
//! bare, as a spreadsheet leaves a phone whose `+` it dropped) and may be a
//! national number of the row's country; which of these are numbers at all
//! is for the numbering plans to say ([`super::phone`] decides).

use phonenumber::metadata::DATABASE;

use super::Country;
use super::national::{after_exit_code, national_significant};
use super::plan::split_code;

/// How a reading found its calling code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum How {
    /// Written with `+`.
    Plus,
    /// After an exit code as written (`00`, `011`).
    ExitCode(String),
    /// The digits begin with the calling code.
    Bare,
    /// A national number of this country (as `Country` shows it).
    National(String),
}

/// One way to read the digits: the international digits it gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reading {
    /// International digits without `+`.
    pub(super) digits: String,
    pub(super) how: How,
    /// The trunk prefix removed: at the start of a national number, or
    /// after the calling code of an international one (`+49 0151…`).
    pub(super) trunk: Option<String>,
}

impl Reading {
    /// For the reason of an ambiguous phone: where this reading comes from.
    pub(super) fn describe(&self) -> String {
        let base = match &self.how {
            How::Plus => "international".to_string(),
            How::ExitCode(code) => format!("international after the exit code {code}"),
            How::Bare => "international digits, calling code first".to_string(),
            How::National(c) => format!("a national number of {c}"),
        };
        match (&self.trunk, &self.how) {
            (Some(t), How::Plus | How::ExitCode(_) | How::Bare) => {
                format!("{base}, without the trunk {t} after the calling code")
            }
            _ => base,
        }
    }
}

/// The readings of `digits`, international ones first. With `+` there is
/// no other; without a country there is no national one.
pub(super) fn readings(digits: &str, plus: bool, country: Option<&Country>) -> Vec<Reading> {
    let mut out = Vec::new();
    if plus {
        international(digits, &How::Plus, &mut out);
        return out;
    }
    if let Some(rest) = digits.strip_prefix("00") {
        international(rest, &How::ExitCode("00".into()), &mut out);
    }
    let meta = country.and_then(Country::meta);
    if let Some((code, rest)) = meta
        .and_then(|m| after_exit_code(digits, m))
        .filter(|(code, _)| *code != "00")
    {
        international(rest, &How::ExitCode(code.into()), &mut out);
    }
    if !digits.starts_with('0') {
        international(digits, &How::Bare, &mut out);
    }
    if let (Some(c), Some(m)) = (country, meta) {
        let (nsn, trunk) = national_significant(digits, m);
        out.push(Reading {
            digits: format!("{}{nsn}", c.code),
            how: How::National(c.to_string()),
            trunk,
        });
    }
    out
}

/// International digits as written, and, where the calling code is
/// followed by its region's trunk prefix (`+49 0151…`, `+7 8 912…`), the
/// number without it, as libphonenumber reads such a number.
fn international(digits: &str, how: &How, out: &mut Vec<Reading>) {
    out.push(Reading {
        digits: digits.to_string(),
        how: how.clone(),
        trunk: None,
    });
    let Some((code, nsn)) = split_code(digits) else {
        return;
    };
    let trunk = DATABASE
        .by_code(&code)
        .and_then(|metas| metas.first().and_then(|m| m.national_prefix()))
        .filter(|p| !p.is_empty() && nsn.len() > p.len() && nsn.starts_with(*p));
    if let Some(p) = trunk {
        out.push(Reading {
            digits: format!("{code}{}", &nsn[p.len()..]),
            how: how.clone(),
            trunk: Some(p.to_string()),
        });
    }
}
