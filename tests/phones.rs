//! Phones against the numbering plans the `phonenumber` crate ships, as an
//! oracle the normaliser does not consult through the same code.
//!
//! The corpus is generated, not hand-written: for each of 30 regions the
//! crate's own example numbers (fixed line and mobile, from the metadata's
//! `exampleNumber`), and variations of them the crate calls valid, each
//! written the ways people and spreadsheets write phones: the crate's
//! national format (with its trunk prefix, as that region writes it), with
//! dots, dashes or no separators, with the leading 0 a spreadsheet drops,
//! the international format with `+` and with `00`, the bare digits of a
//! phone whose `+` Excel dropped, with Excel's `.0` and `'`, `+49 (0)…`,
//! and Excel's scientific notation. Each string is normalised with its
//! region as the row's country (international forms also without one and
//! with another), and the result is held against what the string means:
//!
//! - never a number other than the one it was made from;
//! - where the crate calls another reading of the string a valid number
//!   (the digits after `00`, the bare digits as international digits, the
//!   crate's own national parse, the digits as a national number with or
//!   without the trunk prefix), refused as ambiguous, naming both;
//! - an ambiguity the normaliser reports names the number meant and only
//!   numbers the crate calls valid;
//! - scientific notation refused (digits were lost), and nothing else
//!   refused.

use std::collections::BTreeMap;

use handoff::delivery::{Country, normalize_phone_in};
use phonenumber::Mode;
use phonenumber::metadata::DATABASE;

/// Every continent; trunk prefixes 0, 1 and 8 and none (IT, ES, PL, NO,
/// DK); carrier codes in the trunk prefix (BR); Argentina's mobile 9 and
/// 15; shared calling codes (+1, +7); plans with numbers of many lengths
/// (DE, AT); exit codes other than 00 (US, RU, JP, AU).
const REGIONS: [&str; 30] = [
    "DE", "AT", "CH", "FR", "IT", "ES", "PT", "NL", "BE", "GB", "IE", "PL", "SE", "NO", "DK", "FI",
    "RU", "KZ", "UA", "TR", "US", "CA", "MX", "BR", "AR", "IN", "JP", "AU", "ZA", "EG",
];

/// How many numbers per region: the examples and variations of them.
const PER_REGION: usize = 20;

/// The crate's verdict on international digits: `None` where its parser
/// changes the digits (it strips a trunk prefix after some calling codes),
/// so it cannot judge them.
fn crate_valid(digits: &str) -> Option<bool> {
    let plus = format!("+{digits}");
    match std::panic::catch_unwind(|| phonenumber::parse(None, &plus)) {
        Ok(Ok(n)) if format!("{}{}", n.code().value(), n.national()) == digits => {
            Some(n.is_valid())
        }
        Ok(Ok(_)) | Err(_) => None,
        Ok(Err(_)) => Some(false),
    }
}

/// `digits` as the crate formats them, where its parser keeps them.
fn formatted(digits: &str, mode: Mode) -> Option<String> {
    let n = phonenumber::parse(None, format!("+{digits}")).ok()?;
    (format!("{}{}", n.code().value(), n.national()) == digits)
        .then(|| n.format().mode(mode).to_string())
}

/// The region's example numbers and variations of them (the digits after
/// the first one or two of the national number replaced) that the crate calls
/// valid and can format.
fn numbers(region: &str) -> Vec<String> {
    let meta = DATABASE.by_id(region).expect("a region in the metadata");
    let code = meta.country_code();
    let d = meta.descriptors();
    let examples: Vec<&str> = [d.fixed_line(), d.mobile()]
        .into_iter()
        .flatten()
        .filter_map(|x| x.example())
        .collect();
    let mut seed: u64 = u64::from(code) * 7919 + 17;
    let mut out: Vec<String> = Vec::new();
    for round in 0..2000 {
        if out.len() >= PER_REGION {
            break;
        }
        let example = examples[round % examples.len()];
        let candidate = if round < examples.len() {
            format!("{code}{example}")
        } else {
            let keep = 1 + round % 2;
            let tail: String = (keep..example.len())
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    char::from(b'0' + ((seed >> 33) % 10) as u8)
                })
                .collect();
            format!("{code}{}{tail}", &example[..keep])
        };
        if crate_valid(&candidate) == Some(true)
            && formatted(&candidate, Mode::National).is_some()
            && !out.contains(&candidate)
        {
            out.push(candidate);
        }
    }
    out
}

/// Excel's General format for a long number: `4.91512E+12`.
fn scientific(digits: &str) -> String {
    let mantissa = digits[1..6.min(digits.len())].trim_end_matches('0');
    let sep = if mantissa.is_empty() { "" } else { "." };
    format!("{}{sep}{mantissa}E+{}", &digits[..1], digits.len() - 1)
}

struct Case {
    region: &'static str,
    form: &'static str,
    written: String,
    /// The row's country, `None` for none.
    country: Option<&'static str>,
    /// The number the string was made from, in digits.
    meant: String,
}

fn forms(region: &'static str, meant: &str) -> Vec<Case> {
    let meta = DATABASE.by_id(region).expect("a region");
    let code = meta.country_code().to_string();
    let national = formatted(meant, Mode::National).expect("formats");
    let intl = formatted(meant, Mode::International).expect("formats");
    let national_digits: String = national.chars().filter(char::is_ascii_digit).collect();
    let trunk_zero = meta.national_prefix() == Some("0") && national_digits.starts_with('0');
    let mut out: Vec<(&'static str, String, Option<&'static str>)> = vec![
        ("national", national.clone(), Some(region)),
        ("national, dots", national.replace(' ', "."), Some(region)),
        ("national, dashes", national.replace(' ', "-"), Some(region)),
        (
            "national, digits only",
            national_digits.clone(),
            Some(region),
        ),
        ("+ international", intl.clone(), Some(region)),
        ("+ international, no country", intl.clone(), None),
        ("+ international, another country", intl.clone(), Some("JP")),
        ("E.164", format!("+{meant}"), Some(region)),
        (
            "00 international",
            format!("00{}", &intl[1..]),
            Some(region),
        ),
        (
            "00 international, no country",
            format!("00{}", &intl[1..]),
            None,
        ),
        (
            "bare digits (Excel dropped the +)",
            meant.to_string(),
            Some(region),
        ),
        ("Excel .0", format!("{meant}.0"), Some(region)),
        ("Excel apostrophe", format!("'{intl}"), Some(region)),
        ("Excel scientific", scientific(meant), Some(region)),
    ];
    if trunk_zero {
        out.push((
            "national, leading 0 lost (Excel)",
            national_digits[1..].to_string(),
            Some(region),
        ));
    }
    if trunk_zero && national_digits[1..] == meant[code.len()..] {
        out.push((
            "+CC (0) national",
            format!("+{code} (0){}", &national_digits[1..]),
            Some(region),
        ));
    }
    out.into_iter()
        .map(|(form, written, country)| Case {
            region,
            form,
            written,
            country,
            meant: meant.to_string(),
        })
        .collect()
}

/// The other numbers the crate says the string can be: the readings of
/// digits written without `+`, each judged by the crate.
fn other_valid_readings(case: &Case) -> Vec<String> {
    let w = case.written.trim_start_matches('\'');
    if w.starts_with('+') || case.form == "Excel scientific" {
        return Vec::new();
    }
    let digits: String = w
        .strip_suffix(".0")
        .unwrap_or(w)
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let mut candidates = Vec::new();
    if let Some(rest) = digits.strip_prefix("00") {
        candidates.push(rest.to_string());
    }
    if !digits.starts_with('0') {
        candidates.push(digits.clone());
    }
    if let Some(region) = case.country {
        let meta = DATABASE.by_id(region).expect("a region");
        let code = meta.country_code();
        candidates.push(format!("{code}{digits}"));
        if let Some(rest) = meta.national_prefix().and_then(|p| digits.strip_prefix(p)) {
            candidates.push(format!("{code}{rest}"));
        }
        let id = region.parse().ok();
        // The crate reads Excel's `.0` as one more digit: give it the rest.
        let written = w.strip_suffix(".0").unwrap_or(w).to_string();
        if let Ok(Ok(n)) = std::panic::catch_unwind(|| phonenumber::parse(id, &written)) {
            candidates.push(format!("{}{}", n.code().value(), n.national()));
        }
    }
    candidates.sort();
    candidates.dedup();
    candidates
        .into_iter()
        .filter(|c| *c != case.meant && crate_valid(c) == Some(true))
        .collect()
}

/// The numbers an ambiguity reason names, and whether it says they are
/// valid (rather than only possible).
fn named_numbers(reason: &str) -> (Vec<String>, bool) {
    let readings = reason.split("; write it").next().unwrap_or_default();
    let named = readings
        .split('+')
        .skip(1)
        .filter_map(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            part[digits.len()..].starts_with(" (").then_some(digits)
        })
        .collect();
    (named, reason.contains("each a valid number"))
}

#[derive(Default)]
struct Tally {
    strings: usize,
    sent_right: usize,
    ambiguous_refused: usize,
    scientific_refused: usize,
    /// The strings refused as ambiguous, and the numbers named.
    ambiguous: Vec<String>,
    failures: Vec<String>,
}

fn check(case: &Case, t: &mut Tally) {
    t.strings += 1;
    let country: Option<Country> = case.country.map(|c| c.parse().expect("a region"));
    let result = normalize_phone_in(&case.written, country.as_ref());
    let others = other_valid_readings(case);
    let what = format!(
        "{} {} {:?} with {:?} (means +{})",
        case.region, case.form, case.written, case.country, case.meant
    );
    match result {
        Ok(d) if d != case.meant => t.failures.push(format!("{what}: SENT TO +{d}")),
        Ok(_) if !others.is_empty() => {
            t.failures
                .push(format!("{what}: sent, but also reads as {others:?}"));
        }
        Ok(_) if case.form == "Excel scientific" => {
            t.failures
                .push(format!("{what}: scientific notation was sent"));
        }
        Ok(_) => t.sent_right += 1,
        Err(e) if case.form == "Excel scientific" => {
            if e.contains("scientific notation") {
                t.scientific_refused += 1;
            } else {
                t.failures
                    .push(format!("{what}: refused without naming it: {e}"));
            }
        }
        Err(e) if e.contains("is ambiguous") => {
            let (named, valid) = named_numbers(&e);
            let mut wrong = Vec::new();
            if !named.contains(&case.meant) {
                wrong.push(format!("does not name +{}", case.meant));
            }
            for o in &others {
                if !named.contains(o) {
                    wrong.push(format!("does not name +{o}"));
                }
            }
            if valid {
                for n in &named {
                    if crate_valid(n) == Some(false) {
                        wrong.push(format!("calls +{n} valid"));
                    }
                }
            }
            if wrong.is_empty() {
                t.ambiguous_refused += 1;
                t.ambiguous.push(format!("{what}: {}", named.join(" / ")));
            } else {
                t.failures
                    .push(format!("{what}: {}: {e}", wrong.join(", ")));
            }
        }
        Err(e) => t.failures.push(format!("{what}: refused: {e}")),
    }
}

#[test]
fn corpus_of_thirty_countries_against_the_numbering_plans() {
    let mut by_form: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    let mut per_region = BTreeMap::new();
    for region in REGIONS {
        let numbers = numbers(region);
        per_region.insert(region, numbers.len());
        for n in numbers {
            for case in forms(region, &n) {
                check(&case, by_form.entry(case.form).or_default());
                check(&case, &mut total);
            }
        }
    }
    eprintln!("form: strings, sent to the number meant, refused as ambiguous, scientific refused");
    for (form, t) in &by_form {
        eprintln!(
            "  {form}: {}, {}, {}, {}",
            t.strings, t.sent_right, t.ambiguous_refused, t.scientific_refused
        );
    }
    eprintln!(
        "total: {} strings of {} numbers in {} regions: {} sent right, {} ambiguous refused, \
         {} scientific refused, {} failures",
        total.strings,
        per_region.values().sum::<usize>(),
        per_region.len(),
        total.sent_right,
        total.ambiguous_refused,
        total.scientific_refused,
        total.failures.len()
    );
    for a in &total.ambiguous {
        eprintln!("  ambiguous: {a}");
    }
    for (region, n) in &per_region {
        assert!(*n >= 2, "{region}: only {n} numbers");
    }
    assert!(total.strings >= 4000, "{} strings", total.strings);
    assert!(
        total.failures.is_empty(),
        "{} of {}:\n{}",
        total.failures.len(),
        total.strings,
        total.failures.join("\n")
    );
    // The rule must not refuse its way to zero wrong numbers.
    assert!(
        total.sent_right * 10 >= total.strings * 7,
        "only {} of {} sent",
        total.sent_right,
        total.strings
    );
}

/// The issue's four wrong numbers, each with its country: three have one
/// valid reading, the national one; the fourth has two.
#[test]
fn the_numbers_the_issue_found_sent_wrong() {
    let read = |country: &str, s: &str| {
        let c: Country = country.parse().expect("a region");
        normalize_phone_in(s, Some(&c))
    };
    assert_eq!(read("IT", "312 372 8234"), Ok("393123728234".into()));
    assert_eq!(read("ES", "612.44.68.93"), Ok("34612446893".into()));
    assert_eq!(read("BR", "(11) 94975-5551"), Ok("5511949755551".into()));
    // +20 15 179870 is a valid Egyptian number as well as the New Jersey
    // one: refused, naming both and the fix.
    assert_eq!(
        read("US", "(201) 517-9870"),
        Err(
            "`(201) 517-9870` is ambiguous: it reads as +2015179870 (international \
             digits, calling code first) and as +12015179870 (a national number of \
             US (+1)), each a valid number in the numbering plans; write it with + or \
             00 and the country code (+2015179870 or +12015179870) to say which"
                .into()
        )
    );
    assert_eq!(read("US", "+1 (201) 517-9870"), Ok("12015179870".into()));
    assert_eq!(read("US", "001 201 517 9870"), Ok("12015179870".into()));
    assert_eq!(crate_valid("2015179870"), Some(true));
}

/// `handoff run FIXTURE --simulate ARGS` to the end; its exit code, stderr
/// and the reconciliation rows by order number.
fn run_fixture(name: &str, args: &[&str]) -> (i32, String, Vec<BTreeMap<String, String>>) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out_csv = dir.path().join("r.csv");
    let ledger = dir.path().join("l.sqlite");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/phones")
        .join(name);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
        .arg("run")
        .arg(&fixture)
        .args(["--simulate", "--pair-interval", "0", "--rate", "200"])
        .args(["--first-poll", "50ms", "--track-for", "2s", "--quiet"])
        .arg("--out")
        .arg(&out_csv)
        .arg("--ledger")
        .arg(&ledger)
        .args(args)
        .env_remove("ONEMSG_TOKEN")
        .output()
        .expect("handoff runs");
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let Ok(mut rdr) = csv::Reader::from_path(&out_csv) else {
        return (code, stderr, Vec::new());
    };
    let headers = rdr.headers().expect("a header").clone();
    let rows = rdr
        .records()
        .map(|r| {
            let r = r.expect("a row");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect();
    (code, stderr, rows)
}

#[test]
fn each_row_is_read_with_the_country_its_column_names() {
    let (code, stderr, rows) = run_fixture(
        "country_column.csv",
        &[
            "--map",
            "country=Land",
            "--default-country",
            "DE",
            "--keep-columns",
        ],
    );
    assert_eq!(code, 10, "two rows are invalid: {stderr}");
    let by_order: BTreeMap<&str, &BTreeMap<String, String>> = rows
        .iter()
        .map(|r| (r["order_number"].as_str(), r))
        .collect();
    let sent = |order: &str, phone: &str, note: &str| {
        let r = by_order[order];
        assert!(
            ["delivered", "read", "pending"].contains(&r["outcome"].as_str()),
            "{order}: {r:?}"
        );
        assert_eq!(r["phone"], phone, "{order}");
        assert!(
            r["notes"].contains(note),
            "{order}: {:?} lacks {note:?}",
            r["notes"]
        );
    };
    sent(
        "C-1",
        "4915123456701",
        "`DE` in country (column \"Land\" of country_column.csv)",
    );
    sent(
        "C-2",
        "393123728234",
        "national number read as IT (+39): +393123728234",
    );
    sent("C-3", "34612446893", "read as ES (+34)");
    sent("C-4", "5511949755551", "read as BR (+55)");
    sent("C-5", "79123456789", "read as RU (+7)");
    sent("C-6", "49301234567", "(--default-country)");
    sent("C-9", "447911123456", "");
    let invalid = |order: &str, why: &str| {
        let r = by_order[order];
        assert_eq!(r["outcome"], "invalid", "{order}: {r:?}");
        assert!(
            r["error_detail"].contains(why),
            "{order}: {:?}",
            r["error_detail"]
        );
    };
    invalid(
        "C-7",
        "partner_phone (column \"Partner Phone\" of country_column.csv): `(201) 517-9870` \
         is ambiguous: it reads as +2015179870",
    );
    invalid(
        "C-8",
        "country (column \"Land\" of country_column.csv): `Germany` is neither a region \
         code (e.g. DE, RU, GB) nor a calling code (e.g. 49, 7, 44)",
    );
    for kind in ["ambiguous_phone", "bad_country"] {
        assert!(stderr.contains(kind), "{kind}: {stderr}");
    }
    // The country column is a field, not a kept column; the others stay.
    assert!(!rows[0].contains_key("Land"), "{:?}", rows[0].keys());
    assert_eq!(by_order["C-9"]["Cost Centre"], "K9");
}

#[test]
fn a_country_column_that_is_not_there_stops_the_run() {
    let (code, stderr, _) = run_fixture("country_column.csv", &["--map", "country=Pays"]);
    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.contains("failed to find the country column"),
        "{stderr}"
    );
    // Without --map the column is not read: a national number has no
    // country, and the reason says both ways to give it one.
    let (code, stderr, rows) = run_fixture("country_column.csv", &[]);
    assert_eq!(code, 10, "{stderr}");
    let de = rows
        .iter()
        .find(|r| r["order_number"] == "C-1")
        .expect("C-1");
    assert_eq!(de["outcome"], "invalid", "{de:?}");
    for fix in ["pass --default-country", "--map country="] {
        assert!(de["error_detail"].contains(fix), "{fix}: {de:?}");
    }
}
