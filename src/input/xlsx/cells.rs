//! A cell as text. A spreadsheet stores what looks like a number as one: a
//! phone `4915123456701` typed or imported into a General cell is the
//! number 4915123456701, exact, and is written back as those digits. But a
//! number that went through the spreadsheet's display (`4.91512E+12`, saved
//! "as shown" and read again) is 4915120000000: its last digits are gone,
//! and written as digits it would be a stranger's phone. Such a phone is
//! written as the display it came from, which validation refuses with its
//! reason.

use calamine::{Data, ExcelDateTime};

/// How many significant digits a spreadsheet's scientific display keeps
/// (`4.91511E+11`: Excel's General format for 12 digits and more; a column
/// formatted `0.00E+00` keeps fewer).
const SHOWN_DIGITS: usize = 6;
/// A number of this many digits or more with at most [`SHOWN_DIGITS`]
/// significant ones is taken as rounded. A real phone that round (a
/// company's `+45 2012 0000`) is refused too, and goes through written as
/// text: refusing a real number costs a person a minute, sending a rounded
/// one messages a stranger.
const ROUNDED_FROM_DIGITS: usize = 10;
/// Integers below this are exact in a spreadsheet's number (a double); E.164
/// phones have at most 15 digits.
const EXACT_BELOW: f64 = 1e15;

/// The text a cell holds, as a CSV saved from it would hold it.
pub(super) fn text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) => date_time(d),
        Data::Error(e) => e.to_string(),
    }
}

/// The text of a phone cell: a number is its digits when they are all
/// there, else the scientific notation it was rounded through.
pub(super) fn phone_text(cell: &Data) -> String {
    let value = match cell {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => return text(other),
    };
    if !value.is_finite() {
        return text(cell);
    }
    if value.fract() != 0.0 || value.abs() >= EXACT_BELOW {
        // Not a whole number of at most 15 digits: no phone, and its digits
        // written out would not be the ones typed.
        return scientific(&format!("{:.14e}", value.abs()), value < 0.0);
    }
    let digits = format!("{:.0}", value.abs());
    let significant = digits.trim_end_matches('0').len();
    if digits.len() >= ROUNDED_FROM_DIGITS && significant <= SHOWN_DIGITS {
        return scientific(&format!("{:.5e}", value.abs()), value < 0.0);
    }
    if value < 0.0 {
        format!("-{digits}")
    } else {
        digits
    }
}

/// `4.91512e12` (Rust's `{:e}`) as a spreadsheet shows it: `4.91512E+12`,
/// the mantissa without trailing zeros.
fn scientific(rust: &str, negative: bool) -> String {
    let (mantissa, exp) = rust.split_once('e').unwrap_or((rust, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.trim_end_matches('0').trim_end_matches('.')
    } else {
        mantissa
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    let minus = if negative { "-" } else { "" };
    format!("{minus}{mantissa}E{sign}{:02}", exp.abs())
}

/// A number as a spreadsheet shows it in a General cell widened to fit:
/// whole numbers as digits, others to the 15 significant digits it keeps.
fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < EXACT_BELOW {
        return format!("{f:.0}");
    }
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    format!("{rounded}")
}

/// A date as ISO 8601 (`2025-03-14`, with the time when it has one), which
/// every reader of the report reads alike.
fn date_time(d: &ExcelDateTime) -> String {
    if d.is_duration() {
        return number(d.as_f64());
    }
    let (y, mo, day, h, mi, s, _) = d.to_ymd_hms_milli();
    let time = format!("{h:02}:{mi:02}:{s:02}");
    if d.as_f64() < 1.0 {
        time
    } else if (h, mi, s) == (0, 0, 0) {
        format!("{y:04}-{mo:02}-{day:02}")
    } else {
        format!("{y:04}-{mo:02}-{day:02} {time}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_stored_as_a_number_keeps_its_digits_when_exact() {
        assert_eq!(
            phone_text(&Data::Float(4_915_123_456_701.0)),
            "4915123456701"
        );
        assert_eq!(phone_text(&Data::Int(447_911_123_456)), "447911123456");
        assert_eq!(phone_text(&Data::Float(33_612_345_678.0)), "33612345678");
        assert_eq!(phone_text(&Data::Float(12_015_179_870.0)), "12015179870");
        assert_eq!(phone_text(&Data::Float(4_930_120_001.0)), "4930120001");
        assert_eq!(phone_text(&Data::String("+49 151".into())), "+49 151");
    }

    #[test]
    fn a_phone_rounded_through_the_display_is_refused_as_shown() {
        assert_eq!(phone_text(&Data::Float(4_915_120_000_000.0)), "4.91512E+12");
        assert_eq!(phone_text(&Data::Float(491_511_000_000.0)), "4.91511E+11");
        assert_eq!(phone_text(&Data::Float(5_000_000_000_000.0)), "5E+12");
        assert_eq!(phone_text(&Data::Float(4_520_120_000.0)), "4.52012E+09");
        assert_eq!(phone_text(&Data::Float(4_915_123.5)), "4.9151235E+06");
        assert_eq!(
            phone_text(&Data::Float(49_151_234_567_012_345.0)),
            "4.91512345670123E+16"
        );
        let p = crate::delivery::validate(
            &crate::input::RawFields {
                partner_name: "A".into(),
                partner_phone: phone_text(&Data::Float(4_915_120_000_000.0)),
                order_number: "O".into(),
                product_name: "P".into(),
                delivery_note: "N".into(),
                ..crate::input::RawFields::default()
            },
            &crate::delivery::Rules::default(),
        )
        .expect_err("rounded");
        assert_eq!(p.kind, crate::input::ProblemKind::ExcelScientific, "{p}");
        assert!(p.message.contains("`4.91512E+12`"), "{p}");
    }

    #[test]
    fn other_cells_read_as_shown() {
        assert_eq!(text(&Data::Float(1001.0)), "1001");
        assert_eq!(text(&Data::Float(12.5)), "12.5");
        assert_eq!(text(&Data::Float(0.1 + 0.2)), "0.3");
        assert_eq!(text(&Data::Float(-3.0)), "-3");
        assert_eq!(text(&Data::Bool(true)), "TRUE");
        assert_eq!(text(&Data::Error(calamine::CellErrorType::NA)), "#N/A");
        assert_eq!(text(&Data::Empty), "");
        let date = |v| {
            Data::DateTime(ExcelDateTime::new(
                v,
                calamine::ExcelDateTimeType::DateTime,
                false,
            ))
        };
        assert_eq!(text(&date(45_730.0)), "2025-03-14");
        assert_eq!(text(&date(45_730.5)), "2025-03-14 12:00:00");
        assert_eq!(text(&date(0.25)), "06:00:00");
    }
}
