//! What a night cost, estimated: Meta bills a delivered template by the
//! recipient's market and the category it was billed as, and its statuses
//! say the category and whether the message is billable, never the amount.
//! The amount comes from a rate card the user keeps (`--rate-card`, a CSV
//! of `market, category, price, currency, valid_from`), so the estimate is
//! only as good as the card; a delivered billable message the card has no
//! rate for says so instead of being guessed.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::ledger::Pricing;

/// An amount in millionths of its currency's unit: prices have four to six
/// decimals, and a sum of them must not drift as floats would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Money(pub i64);

impl Money {
    /// A non-negative decimal with `.` or `,` before at most six decimals.
    fn parse(text: &str) -> Option<Money> {
        let text = text.trim().replace(',', ".");
        let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 6
        {
            return None;
        }
        // Padded with zeros: `.5` is 0 and 500000 millionths.
        let whole: i64 = format!("0{whole}").parse().ok()?;
        let frac: i64 = format!("{frac:0<6}").parse().ok()?;
        whole.checked_mul(1_000_000)?.checked_add(frac).map(Money)
    }

    /// As a number for a workbook cell or a metric.
    pub(crate) fn as_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
}

/// At least two decimals, and as many more as the amount has.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let frac = format!("{:06}", self.0 % 1_000_000);
        let frac = frac.trim_end_matches('0');
        write!(f, "{}.{frac:0<2}", self.0 / 1_000_000)
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Where a rate applies: a region as the numbering plans name it (`DE`),
/// or the start of the international number (`49`, `1876`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Market {
    Region(String),
    Prefix(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Rate {
    market: Market,
    category: String,
    pub price: Money,
    pub currency: String,
    from: NaiveDate,
}

/// The user's prices, read once before anything is sent.
#[derive(Debug, Clone)]
pub(crate) struct RateCard {
    path: PathBuf,
    rates: Vec<Rate>,
}

/// Why a rate card cannot be used: the run stops before sending (78).
#[derive(Debug, thiserror::Error)]
pub(crate) enum RateCardError {
    #[error("cannot read the rate card `{0}`: {1}")]
    Read(PathBuf, String),
    #[error(
        "the rate card `{0}` has no `{1}` column (it needs market, category, price, currency; valid_from is optional)"
    )]
    Column(PathBuf, &'static str),
    #[error("the rate card `{path}`, line {line}, {field}: `{value}` {why}")]
    Cell {
        path: PathBuf,
        line: u64,
        field: &'static str,
        value: String,
        why: &'static str,
    },
    #[error("the rate card `{0}` holds no rate")]
    Empty(PathBuf),
}

const FIELDS: [&str; 5] = ["market", "category", "price", "currency", "valid_from"];

impl RateCard {
    /// Reads a card saved by a spreadsheet: `,` or `;` between cells, a
    /// decimal comma, a byte order mark, headers in any case.
    pub(crate) fn read(path: &Path) -> Result<RateCard, RateCardError> {
        let read_err = |e: &dyn fmt::Display| RateCardError::Read(path.into(), e.to_string());
        let bytes = std::fs::read(path).map_err(|e| read_err(&e))?;
        let text = String::from_utf8(bytes).map_err(|e| read_err(&e))?;
        let text = text.trim_start_matches('\u{feff}');
        let first = text.lines().next().unwrap_or_default();
        let delimiter = if first.matches(';').count() > first.matches(',').count() {
            b';'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(text.as_bytes());
        let header = reader.headers().map_err(|e| read_err(&e))?.clone();
        let at = |name: &str| {
            header
                .iter()
                .position(|h| h.trim().to_ascii_lowercase().replace([' ', '-'], "_") == name)
        };
        let mut columns = [None; 5];
        for (i, name) in FIELDS.into_iter().enumerate() {
            columns[i] = at(name);
            if columns[i].is_none() && name != "valid_from" {
                return Err(RateCardError::Column(path.into(), name));
            }
        }
        let mut rates = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| read_err(&e))?;
            let line = record.position().map_or(0, |p| p.line());
            let cell = |i: usize| {
                columns[i]
                    .and_then(|c| record.get(c))
                    .unwrap_or_default()
                    .trim()
            };
            if (0..5).all(|i| cell(i).is_empty()) {
                continue;
            }
            let bad = |i: usize, why| RateCardError::Cell {
                path: path.into(),
                line,
                field: FIELDS[i],
                value: cell(i).to_string(),
                why,
            };
            let market = market(cell(0))
                .ok_or_else(|| bad(0, "is neither a region (DE) nor a calling code (+49)"))?;
            let category = cell(1).to_ascii_lowercase();
            if category.is_empty() {
                return Err(bad(
                    1,
                    "is empty (utility, marketing, authentication, service)",
                ));
            }
            let price =
                Money::parse(cell(2)).ok_or_else(|| bad(2, "is not a price (0.0456 or 0,0456)"))?;
            let currency = cell(3).to_ascii_uppercase();
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(bad(3, "is not a currency code (EUR, USD)"));
            }
            let from = match cell(4) {
                "" => NaiveDate::MIN,
                d => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| bad(4, "is not a date (2026-07-01)"))?,
            };
            rates.push(Rate {
                market,
                category,
                price,
                currency,
                from,
            });
        }
        if rates.is_empty() {
            return Err(RateCardError::Empty(path.into()));
        }
        Ok(RateCard {
            path: path.into(),
            rates,
        })
    }

    /// The rate for a message to `phone` (international digits) billed as
    /// `category` on `day`: the one for its region, else for the longest
    /// prefix of its number, valid from the latest date not after `day`.
    /// `Err` says, for a person, what the card lacks.
    pub(crate) fn rate(
        &self,
        phone: &str,
        category: &str,
        day: NaiveDate,
    ) -> Result<&Rate, String> {
        let digits = phone.trim_start_matches('+');
        let region = phonenumber::parse(None, format!("+{digits}"))
            .ok()
            .and_then(|n| n.country().id())
            .map(|id| id.as_ref().to_string());
        let fit = |r: &Rate| match &r.market {
            Market::Region(m) => (region.as_deref() == Some(m)).then_some(usize::MAX),
            Market::Prefix(p) => digits.starts_with(p.as_str()).then_some(p.len()),
        };
        self.rates
            .iter()
            .filter(|r| r.category == category && r.from <= day)
            .filter_map(|r| Some(((fit(r)?, r.from), r)))
            .max_by_key(|(key, _)| *key)
            .map(|(_, r)| r)
            .ok_or_else(|| {
                let market = region.map_or(format!("+{digits}"), |r| format!("{r} (+{digits})"));
                format!(
                    "no estimated cost: the rate card `{}` has no `{category}` rate for {market} \
                     on {day}",
                    self.path.display()
                )
            })
    }
}

fn market(text: &str) -> Option<Market> {
    let digits = text.trim_start_matches('+');
    if !digits.is_empty() && digits.len() <= 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Market::Prefix(digits.to_string()));
    }
    (text.len() == 2 && text.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| Market::Region(text.to_ascii_uppercase()))
}

/// A night's (or a partner's) billable messages and what they cost.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Cost {
    /// Delivered billable messages this run sent, by category.
    pub billable: BTreeMap<String, u64>,
    /// Their estimated cost, by currency (empty without a rate card).
    pub estimated_cost: BTreeMap<String, Money>,
    /// Delivered billable messages the rate card had no rate for.
    pub unpriced: u64,
    /// Whether a rate card was given (without one every message is
    /// unpriced, and that says nothing).
    #[serde(skip)]
    pub rated: bool,
}

impl Cost {
    /// Counts a message delivered by the report's run: what Meta said it
    /// is billed as, and its price by the card (`None`: none found).
    pub(crate) fn add(&mut self, pricing: Option<&Pricing>, cost: Option<&(Money, String)>) {
        if let Some((price, currency)) = cost {
            self.estimated_cost.entry(currency.clone()).or_default().0 += price.0;
        }
        let billable = pricing.and_then(|p| p.billable);
        if let Some(p) = pricing.filter(|_| billable == Some(true)) {
            let category = p.category.clone().unwrap_or_else(|| "unknown".into());
            *self.billable.entry(category).or_default() += 1;
        }
        let priceable = self.rated && billable != Some(false);
        self.unpriced += u64::from(priceable && cost.is_none());
    }

    /// `1.0944 EUR`, each currency once; empty without a priced row.
    pub(crate) fn total(&self) -> String {
        let each = self.estimated_cost.iter().map(|(c, m)| format!("{m} {c}"));
        each.collect::<Vec<_>>().join(" + ")
    }

    /// `24 utility, 2 marketing`; empty when none was billable.
    pub(crate) fn counts(&self) -> String {
        let each = self.billable.iter().map(|(c, n)| format!("{n} {c}"));
        each.collect::<Vec<_>>().join(", ")
    }

    /// The lines a person reads under the counts: billable messages by
    /// category, and what they cost by the card; empty when none was.
    pub(crate) fn lines(&self) -> String {
        let mut out = String::new();
        if !self.billable.is_empty() {
            out = format!("billable messages: {}\n", self.counts());
        }
        if self.rated {
            let total = Some(self.total()).filter(|t| !t.is_empty());
            let total = total.unwrap_or_else(|| "nothing priced".into());
            out.push_str(&format!("estimated cost: {total}"));
            if self.unpriced > 0 {
                let n = self.unpriced;
                out.push_str(&format!(
                    " ({n} delivered without a price: see their warnings)"
                ));
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn day(text: &str) -> DateTime<Utc> {
        format!("{text}T12:00:00Z").parse().unwrap()
    }

    fn card(text: &str) -> Result<RateCard, RateCardError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rates.csv");
        std::fs::write(&path, text).unwrap();
        RateCard::read(&path)
    }

    #[test]
    fn money_is_exact_and_shown_with_its_decimals() {
        let m = |s| Money::parse(s).map(|m| m.to_string());
        assert_eq!(m("0.0456").as_deref(), Some("0.0456"));
        assert_eq!(m("0,0456").as_deref(), Some("0.0456"));
        assert_eq!(m("1").as_deref(), Some("1.00"));
        assert_eq!(m(".5").as_deref(), Some("0.50"));
        assert_eq!(m("12.123456").as_deref(), Some("12.123456"));
        for bad in ["", ".", "-1", "1.1234567", "1,000.00", "abc"] {
            assert_eq!(Money::parse(bad), None, "{bad}");
        }
        let ten = (0..10)
            .map(|_| Money::parse("0.0456").unwrap().0)
            .sum::<i64>();
        assert_eq!(Money(ten).to_string(), "0.456");
    }

    #[test]
    fn the_region_beats_a_prefix_and_the_latest_valid_rate_wins() {
        let c = card(
            "\u{feff}Market;Category;Price;Currency;Valid from\n\
             49;utility;0,0100;EUR;2025-07-01\n\
             DE;utility;0,0456;EUR;2025-07-01\n\
             DE;utility;0,0500;EUR;2026-10-01\n\
             DE;marketing;0,1131;EUR;\n\
             1876;utility;0,0200;USD;\n",
        )
        .unwrap();
        let price = |phone, cat, on| {
            c.rate(phone, cat, day(on).date_naive())
                .map(|r| format!("{} {}", r.price, r.currency))
        };
        assert_eq!(
            price("491511234567", "utility", "2026-09-30").unwrap(),
            "0.0456 EUR"
        );
        assert_eq!(
            price("+491511234567", "utility", "2026-12-07").unwrap(),
            "0.05 EUR"
        );
        assert_eq!(
            price("491511234567", "marketing", "2020-01-01").unwrap(),
            "0.1131 EUR"
        );
        assert_eq!(
            price("18765551234", "utility", "2026-12-07").unwrap(),
            "0.02 USD"
        );
        let none = price("46701234567", "utility", "2026-12-07").unwrap_err();
        assert!(
            none.contains("no `utility` rate for SE (+46701234567)"),
            "{none}"
        );
        let early = price("491511234567", "utility", "2025-06-30").unwrap_err();
        assert!(early.contains("on 2025-06-30"), "{early}");
    }

    #[test]
    fn a_person_reads_the_count_and_the_estimate() {
        let mut cost = Cost {
            rated: true,
            unpriced: 1,
            ..Cost::default()
        };
        cost.billable.insert("utility".into(), 4);
        cost.estimated_cost.insert("EUR".into(), Money(136_800));
        assert_eq!(
            cost.lines(),
            "billable messages: 4 utility\n\
             estimated cost: 0.1368 EUR (1 delivered without a price: see their warnings)\n"
        );
        cost.rated = false;
        assert_eq!(cost.lines(), "billable messages: 4 utility\n");
    }

    #[test]
    fn a_bad_card_names_the_line_the_field_and_the_value() {
        let e =
            card("market,category,price,currency\nDE,utility,0.04,EUR\nDE,utility,4.5e-2,EUR\n")
                .unwrap_err()
                .to_string();
        assert!(e.contains("line 3, price: `4.5e-2` is not a price"), "{e}");
        let e = card("market,category,currency\n").unwrap_err().to_string();
        assert!(e.contains("no `price` column"), "{e}");
        let e = card("market,category,price,currency\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("holds no rate"), "{e}");
        let e = card("market,category,price,currency\nGermany,utility,1,EUR\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("market: `Germany` is neither a region"), "{e}");
    }
}
