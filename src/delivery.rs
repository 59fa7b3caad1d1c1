//! One raw input row becomes either a [`Delivery`] ready to send or a
//! [`RowProblem`] that explains, in words a dispatcher can act on, why the
//! row was not sent.
//!
//! This module owns every rule that decides whether a row is sendable, so the
//! send stage never has to second-guess its input and every `invalid` outcome
//! in the reconciliation report carries a reason naming the field. The rules
//! come from two places: what WhatsApp refuses synchronously (error 132018 for
//! newlines, tabs and more than four spaces in a parameter, 132005 for a body
//! over 1,024 UTF-16 units) and what Excel does to phone numbers on the way
//! into a CSV (scientific notation, a trailing `.0`, a leading apostrophe).
//! Checking them here turns a per-message API rejection into a row-level
//! reason before anything is sent.
//!
//! Duplicate order keys are deliberately not detected here: that needs the
//! whole file (and the ledger), which is the caller's business.

use std::fmt;
use std::str::FromStr;

/// The five input fields, in template order plus the recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    PartnerName,
    PartnerPhone,
    OrderNumber,
    ProductName,
    DeliveryNote,
}

impl Field {
    /// Every field, in the order problems are checked and reported, so the
    /// first problem a user sees is the first one in reading order.
    pub const ALL: [Field; 5] = [
        Field::PartnerName,
        Field::PartnerPhone,
        Field::OrderNumber,
        Field::ProductName,
        Field::DeliveryNote,
    ];

    /// The canonical name: what `--map` accepts, what the default header is,
    /// and how reasons in the report refer to the field.
    pub fn name(self) -> &'static str {
        match self {
            Field::PartnerName => "partner_name",
            Field::PartnerPhone => "partner_phone",
            Field::OrderNumber => "order_number",
            Field::ProductName => "product_name",
            Field::DeliveryNote => "delivery_note",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--map` key that names no field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown field `{0}`; expected one of partner_name, partner_phone, \
     order_number, product_name, delivery_note"
)]
pub struct UnknownField(pub String);

impl FromStr for Field {
    type Err = UnknownField;

    /// Lenient because people type `--map "Order Number=..."` as often as
    /// `--map order_number=...`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted: String = s
            .trim()
            .chars()
            .map(|c| match c {
                '-' | ' ' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        Field::ALL
            .into_iter()
            .find(|f| f.name() == wanted)
            .ok_or_else(|| UnknownField(s.to_string()))
    }
}

/// The five fields exactly as read, before any cleaning, so a report can
/// show the user what they actually wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawFields {
    pub partner_name: String,
    pub partner_phone: String,
    pub order_number: String,
    pub product_name: String,
    pub delivery_note: String,
}

impl RawFields {
    pub fn get(&self, f: Field) -> &str {
        match f {
            Field::PartnerName => &self.partner_name,
            Field::PartnerPhone => &self.partner_phone,
            Field::OrderNumber => &self.order_number,
            Field::ProductName => &self.product_name,
            Field::DeliveryNote => &self.delivery_note,
        }
    }

    pub fn set(&mut self, f: Field, v: String) {
        match f {
            Field::PartnerName => self.partner_name = v,
            Field::PartnerPhone => self.partner_phone = v,
            Field::OrderNumber => self.order_number = v,
            Field::ProductName => self.product_name = v,
            Field::DeliveryNote => self.delivery_note = v,
        }
    }

    /// The order key exactly as [`Delivery::order_key`] computes it, so the
    /// caller can key invalid rows (for duplicate detection and reruns) the
    /// same way as valid ones.
    pub fn order_key(&self) -> &str {
        self.order_number.trim()
    }
}

/// What makes a row unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// `None` when the problem is the row's shape, not one field.
    pub field: Option<Field>,
    pub kind: ProblemKind,
    /// A full sentence naming the field and what to do; it goes verbatim
    /// into the report's reason column.
    pub message: String,
}

impl RowProblem {
    pub fn new(field: Option<Field>, kind: ProblemKind, message: String) -> Self {
        RowProblem {
            field,
            kind,
            message,
        }
    }
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RowProblem {}

/// The class of a [`RowProblem`], stable for machines (report column,
/// summary counts) while the message is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    Missing,
    BadPhone,
    BodyTooLong,
    EmptyAfterCleaning,
    RaggedRow,
}

impl ProblemKind {
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::Missing => "missing",
            ProblemKind::BadPhone => "bad_phone",
            ProblemKind::BodyTooLong => "body_too_long",
            ProblemKind::EmptyAfterCleaning => "empty_after_cleaning",
            ProblemKind::RaggedRow => "ragged_row",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The approved template body; it must match what Meta approved so the
/// length check measures what WhatsApp will measure.
pub const DEFAULT_BODY: &str = "Hello, {{1}}! Order #{{2}} for \"{{3}}\" has been delivered to your partner pickup point. {{4}}.";

/// WhatsApp's limit for a filled-in body (error 132005 beyond it).
pub const MAX_BODY_CHARS: usize = 1024;

/// What [`validate`] checks against; a struct so a customer with a different
/// approved template does not need a code change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Body text with `{{1}}`..`{{4}}`.
    pub body_template: String,
    /// Limit for the filled-in body, in UTF-16 code units.
    pub max_body_chars: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            body_template: DEFAULT_BODY.to_string(),
            max_body_chars: MAX_BODY_CHARS,
        }
    }
}

/// A row that passed every check, with values exactly as they will be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The order number, trimmed (design.md: the unique key across runs).
    pub order_key: String,
    pub partner_name: String,
    /// Digits only, international form, no `+`.
    pub phone: String,
    pub order_number: String,
    pub product_name: String,
    pub delivery_note: String,
    /// What cleaning changed, so the report can say why the sent text
    /// differs from the file.
    pub notes: Vec<String>,
}

impl Delivery {
    /// Template parameters in `{{1}}`..`{{4}}` order.
    pub fn params(&self) -> [&str; 4] {
        [
            &self.partner_name,
            &self.order_number,
            &self.product_name,
            &self.delivery_note,
        ]
    }

    pub fn render(&self, body_template: &str) -> String {
        render(body_template, &self.params())
    }
}

/// Fills `{{1}}`..`{{n}}` in one left-to-right pass, so a parameter that
/// itself contains `{{2}}` is sent literally instead of being expanded. A
/// placeholder without a parameter is left as it is, which makes a template
/// and parameter count mismatch visible in a dry-run preview.
pub fn render(body_template: &str, params: &[&str]) -> String {
    let mut out = String::with_capacity(body_template.len() + 64);
    let mut rest = body_template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let param = if digits > 0 && after[digits..].starts_with("}}") {
            after[..digits]
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| params.get(i))
        } else {
            None
        };
        match param {
            Some(p) => {
                out.push_str(p);
                rest = &after[digits + 2..];
            }
            None => {
                // Advance one brace only, so `{{{1}}}` still fills `{{1}}`.
                out.push('{');
                rest = &rest[start + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Checks and cleans one row. The first problem in field order wins; the
/// body length is checked last because it depends on every cleaned value.
pub fn validate(raw: &RawFields, rules: &Rules) -> Result<Delivery, RowProblem> {
    for f in Field::ALL {
        if raw.get(f).trim().is_empty() {
            return Err(RowProblem::new(
                Some(f),
                ProblemKind::Missing,
                format!("{f}: the value is empty; fill it in and run again"),
            ));
        }
    }

    let mut notes = Vec::new();
    let phone = match phone_detailed(&raw.partner_phone) {
        Ok((digits, phone_notes)) => {
            notes.extend(
                phone_notes
                    .into_iter()
                    .map(|n| format!("{}: {n}", Field::PartnerPhone)),
            );
            digits
        }
        Err(reason) => {
            return Err(RowProblem::new(
                Some(Field::PartnerPhone),
                ProblemKind::BadPhone,
                format!("{}: {reason}", Field::PartnerPhone),
            ));
        }
    };

    let mut text = |f: Field| -> Result<String, RowProblem> {
        let cleaned = clean_detailed(raw.get(f));
        if cleaned.text.is_empty() {
            return Err(RowProblem::new(
                Some(f),
                ProblemKind::EmptyAfterCleaning,
                format!(
                    "{f}: `{}` has only invisible or control characters; \
                     write a visible value",
                    raw.get(f).escape_debug()
                ),
            ));
        }
        if let Some(what) = cleaned.describe() {
            notes.push(format!("{f}: {what}"));
        }
        Ok(cleaned.text)
    };
    let partner_name = text(Field::PartnerName)?;
    let order_number = text(Field::OrderNumber)?;
    let product_name = text(Field::ProductName)?;
    let delivery_note = text(Field::DeliveryNote)?;

    let delivery = Delivery {
        order_key: raw.order_key().to_string(),
        partner_name,
        phone,
        order_number,
        product_name,
        delivery_note,
        notes,
    };

    let body_len = utf16_len(&delivery.render(&rules.body_template));
    if body_len > rules.max_body_chars {
        // Name the longest parameter: shortening it is the likeliest fix.
        let params = delivery.params();
        let text_fields = [
            Field::PartnerName,
            Field::OrderNumber,
            Field::ProductName,
            Field::DeliveryNote,
        ];
        let (longest, longest_len) = text_fields
            .into_iter()
            .zip(params)
            .map(|(f, p)| (f, utf16_len(p)))
            .max_by_key(|&(_, n)| n)
            .unwrap_or((Field::DeliveryNote, 0));
        let over = body_len - rules.max_body_chars;
        return Err(RowProblem::new(
            Some(longest),
            ProblemKind::BodyTooLong,
            format!(
                "{longest}: the filled-in message is {body_len} characters \
                 (UTF-16 units, as WhatsApp counts) and the limit is {}; \
                 shorten {longest} ({longest_len} characters) by at least {over}",
                rules.max_body_chars
            ),
        ));
    }
    Ok(delivery)
}

/// Meta counts message length in UTF-16 code units, so an emoji outside the
/// Basic Multilingual Plane costs two.
fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Normalises a phone to digits in international form without `+`.
///
/// Without a country column we cannot resolve national numbers, so anything
/// that is not already international (country code first) is refused rather
/// than guessed; a wrong guess sends a partner's order to a stranger.
pub fn normalize_phone(s: &str) -> Result<String, String> {
    phone_detailed(s).map(|(digits, _)| digits)
}

/// [`normalize_phone`] plus notes on Excel damage that was repaired, so the
/// report can tell the user to fix the export.
fn phone_detailed(s: &str) -> Result<(String, Vec<&'static str>), String> {
    let mut notes = Vec::new();
    let shown = s.trim();
    let mut t = shown;
    if t.is_empty() {
        return Err("the value is empty; write the phone with the country code".into());
    }
    if let Some(rest) = t.strip_prefix('\'') {
        // Excel's "store as text" marker leaks into some exports.
        notes.push("leading apostrophe removed (Excel text marker)");
        t = rest.trim_start();
    }
    if is_scientific(t) {
        return Err(format!(
            "`{shown}` is in scientific notation: Excel turned the phone into \
             a number and the last digits are lost; format the column as Text \
             in the source and export again"
        ));
    }
    if let Some(int_part) = strip_decimal_zero(t) {
        notes.push("trailing `.0` removed (Excel stored the phone as a number)");
        t = int_part;
    }

    let mut digits = String::with_capacity(t.len());
    let mut plus = false;
    let mut rest = t;
    if let Some(r) = rest.strip_prefix('+') {
        plus = true;
        rest = r;
    }
    // "+49 (0)30 ..." is the usual way to show a trunk 0 that must be
    // dropped when dialling from abroad.
    let mut trunk_zero = false;
    let mut skip_trunk = 0usize;
    if plus {
        let country: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || c.is_whitespace())
            .collect();
        let after = &rest[country.len()..];
        if !country.trim().is_empty() && after.starts_with("(0)") {
            skip_trunk = country.len();
            trunk_zero = true;
        }
    }
    for (i, c) in rest.char_indices() {
        if trunk_zero && i >= skip_trunk && i < skip_trunk + 3 {
            continue;
        }
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' | '(' | ')' => {}
            c if c.is_whitespace() => {}
            '+' => {
                return Err(format!(
                    "`{shown}` has a `+` that is not at the start; write one \
                     phone per row, with the country code, e.g. +49 151 2345 6789"
                ));
            }
            c => {
                return Err(format!(
                    "`{shown}` contains `{}`, which is not part of a phone \
                     number; write digits with the country code, e.g. \
                     +49 151 2345 6789",
                    c.escape_debug()
                ));
            }
        }
    }
    if trunk_zero {
        notes.push("`(0)` after the country code removed");
    }
    if !plus && digits.starts_with("00") {
        digits.drain(..2);
    }
    let n = digits.len();
    if !(8..=15).contains(&n) {
        return Err(format!(
            "`{shown}` has {n} digit{}; a phone needs 8 to 15 digits with the \
             country code",
            if n == 1 { "" } else { "s" }
        ));
    }
    if digits.starts_with('0') {
        return Err(format!(
            "`{shown}` starts with 0, so it looks like a national number \
             without the country code; write it in international form, e.g. \
             +49 151 2345 6789"
        ));
    }
    Ok((digits, notes))
}

/// `4.91511E+11`, `4,91511E+11`, `4.9E11`: what Excel writes for a long
/// number in a General-formatted cell.
fn is_scientific(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let Some((mantissa, exp)) = s.split_once(['e', 'E']) else {
        return false;
    };
    let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    let (int, frac) = mantissa.split_once(['.', ',']).unwrap_or((mantissa, ""));
    let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    !int.is_empty() && all_digits(int) && all_digits(frac) && !exp.is_empty() && all_digits(exp)
}

/// `491511234567.0` (or `,0`, `.00`) → `491511234567`: only when the part
/// before the separator is plain digits, so a dotted `030.123.0` stays a
/// formatted number.
fn strip_decimal_zero(s: &str) -> Option<&str> {
    let (int, frac) = s.rsplit_once(['.', ','])?;
    let ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && frac.bytes().all(|b| b == b'0');
    ok.then_some(int)
}

/// Cleans a text parameter so WhatsApp accepts it (no newline, tab or run of
/// more than four spaces: error 132018). Returns the cleaned text and whether
/// anything changed beyond trimming.
pub fn clean_text(s: &str) -> (String, bool) {
    let c = clean_detailed(s);
    let changed = c.text != s.trim();
    (c.text, changed)
}

#[derive(Debug, Default)]
struct Cleaned {
    text: String,
    line_breaks: bool,
    tabs: bool,
    long_runs: bool,
    odd_spaces: bool,
    controls: bool,
    invisible: bool,
}

impl Cleaned {
    /// A note for the report, or `None` when only trimming happened.
    fn describe(&self) -> Option<String> {
        let mut what = Vec::new();
        if self.line_breaks {
            what.push("line breaks");
        }
        if self.tabs {
            what.push("tabs");
        }
        if self.controls {
            what.push("control characters");
        }
        if self.long_runs {
            what.push("runs of more than four spaces");
        }
        let mut parts = Vec::new();
        if !what.is_empty() {
            parts.push(format!("{} folded to one space", what.join(", ")));
        }
        if self.odd_spaces {
            parts.push("non-breaking or other Unicode spaces made plain".to_string());
        }
        if self.invisible {
            parts.push("invisible zero-width characters removed".to_string());
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Keep,
    Space,
    Odd,
    Break,
    Tab,
    Control,
    Drop,
}

fn classify(c: char) -> Class {
    match c {
        ' ' => Class::Space,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => Class::Break,
        '\t' => Class::Tab,
        // Zero-width space, word joiner and a stray BOM are invisible junk
        // from copy-paste. ZWJ (U+200D) is kept: emoji sequences need it.
        '\u{200B}' | '\u{2060}' | '\u{FEFF}' => Class::Drop,
        c if c.is_whitespace() => Class::Odd,
        c if c.is_control() => Class::Control,
        _ => Class::Keep,
    }
}

fn clean_detailed(s: &str) -> Cleaned {
    let mut out = Cleaned {
        text: String::with_capacity(s.len()),
        ..Cleaned::default()
    };
    // A run is a stretch of whitespace-like characters between visible ones;
    // it is judged as a whole because WhatsApp only objects to runs that
    // contain a break or tab or are longer than four spaces. Runs before the
    // first and after the last visible character are trimming, which is not
    // worth a note.
    let mut run = Run::default();
    let mut seen_visible = false;
    for c in s.chars() {
        match classify(c) {
            Class::Keep => {
                if seen_visible {
                    run.flush_into(&mut out);
                }
                run = Run::default();
                seen_visible = true;
                out.text.push(c);
            }
            Class::Drop => out.invisible = true,
            class => run.add(class),
        }
    }
    out
}

/// Whitespace seen since the last visible character.
#[derive(Default)]
struct Run {
    len: usize,
    line_breaks: bool,
    tabs: bool,
    controls: bool,
    odd_spaces: bool,
}

impl Run {
    fn add(&mut self, class: Class) {
        self.len += 1;
        match class {
            Class::Break => self.line_breaks = true,
            Class::Tab => self.tabs = true,
            Class::Control => self.controls = true,
            Class::Odd => self.odd_spaces = true,
            Class::Space | Class::Keep | Class::Drop => {}
        }
    }

    fn flush_into(&self, out: &mut Cleaned) {
        if self.len == 0 {
            return;
        }
        let fold = self.line_breaks || self.tabs || self.controls;
        out.line_breaks |= self.line_breaks;
        out.tabs |= self.tabs;
        out.controls |= self.controls;
        if fold || self.len > 4 {
            out.long_runs |= !fold;
            out.text.push(' ');
        } else {
            out.odd_spaces |= self.odd_spaces;
            out.text.extend(std::iter::repeat_n(' ', self.len));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn raw(name: &str, phone: &str, order: &str, product: &str, note: &str) -> RawFields {
        RawFields {
            partner_name: name.into(),
            partner_phone: phone.into(),
            order_number: order.into(),
            product_name: product.into(),
            delivery_note: note.into(),
        }
    }

    fn good() -> RawFields {
        raw(
            "Müller GmbH",
            "+49 151 2345 6789",
            "A-1001",
            "Office chair",
            "Pick up until Friday",
        )
    }

    #[track_caller]
    fn phone_ok(input: &str, want: &str) {
        assert_eq!(
            normalize_phone(input),
            Ok(want.to_string()),
            "input {input:?}"
        );
    }

    #[track_caller]
    fn phone_err(input: &str, needle: &str) {
        match normalize_phone(input) {
            Ok(d) => panic!("{input:?} normalised to {d}, expected an error"),
            Err(e) => assert!(e.contains(needle), "{input:?}: {e:?} lacks {needle:?}"),
        }
    }

    #[test]
    fn phone_international_forms() {
        phone_ok("+49 151 2345 6789", "4915123456789");
        phone_ok("0049 151 2345 6789", "4915123456789");
        phone_ok("0049-151-2345-6789", "4915123456789");
        phone_ok("+49 (30) 123-456", "4930123456");
        phone_ok("+49 (0)30 123-4567", "49301234567");
        phone_ok("+49.151.2345.6789", "4915123456789");
        phone_ok("\u{a0}+7 912 345-67-89\u{a0}", "79123456789");
        phone_ok("  491511234567  ", "491511234567");
    }

    #[test]
    fn phone_excel_damage() {
        phone_err("4.91511E+11", "scientific notation");
        phone_err("4,91511E+11", "scientific notation");
        phone_err("4.9e11", "scientific notation");
        phone_ok("491511234567.0", "491511234567");
        phone_ok("491511234567,00", "491511234567");
        phone_ok("'491511234567", "491511234567");
        phone_ok("'+49 151 2345 6789", "4915123456789");
        let (_, notes) = phone_detailed("491511234567.0").expect("valid");
        assert!(notes.iter().any(|n| n.contains(".0")), "{notes:?}");
    }

    #[test]
    fn phone_rejections_name_the_cause() {
        phone_err("+49 151 ABC 6789", "contains `A`");
        phone_err("tel:+49151", "contains `t`");
        phone_err("030/1234567", "contains `/`");
        phone_err("12-34", "has 4 digits; a phone needs 8 to 15 digits");
        phone_err("+1234567", "has 7 digits");
        phone_err("+1234 5678 9012 3456", "has 16 digits");
        phone_err("0151 2345 6789", "national number");
        phone_err("(030) 123-456", "national number");
        phone_err("+49 151 +49 160", "not at the start");
        phone_err("", "empty");
        assert_eq!(
            normalize_phone("12-34").unwrap_err(),
            "`12-34` has 4 digits; a phone needs 8 to 15 digits with the country code"
        );
    }

    #[test]
    fn phone_length_bounds() {
        phone_ok("+1234 5678", "12345678");
        phone_ok("+123 456 789 012 345", "123456789012345");
    }

    #[test]
    fn clean_text_cases() {
        assert_eq!(clean_text("  plain  "), ("plain".to_string(), false));
        assert_eq!(clean_text("a\nb"), ("a b".to_string(), true));
        assert_eq!(clean_text("a\r\n\r\nb"), ("a b".to_string(), true));
        assert_eq!(clean_text("a\tb"), ("a b".to_string(), true));
        assert_eq!(clean_text("a \t b"), ("a b".to_string(), true));
        assert_eq!(clean_text("a     b"), ("a b".to_string(), true));
        assert_eq!(clean_text("a    b"), ("a    b".to_string(), false));
        assert_eq!(clean_text("a\u{a0}b"), ("a b".to_string(), true));
        assert_eq!(clean_text("a\u{202f}\u{2003}b"), ("a  b".to_string(), true));
        assert_eq!(clean_text("\u{a0}x\u{a0}"), ("x".to_string(), false));
        assert_eq!(clean_text("x\u{200b}y"), ("xy".to_string(), true));
        assert_eq!(
            clean_text("👩\u{200d}💻"),
            ("👩\u{200d}💻".to_string(), false)
        );
        assert_eq!(clean_text("line\n"), ("line".to_string(), false));
        for s in ["a\n\tb", "x     y", "p\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}q"] {
            let (once, _) = clean_text(s);
            assert_eq!(clean_text(&once), (once.clone(), false), "{s:?}");
        }
    }

    #[test]
    fn validate_ok_has_clean_values() {
        let d = validate(&good(), &Rules::default()).expect("valid row");
        assert_eq!(d.phone, "4915123456789");
        assert_eq!(d.order_key, "A-1001");
        assert_eq!(
            d.params(),
            [
                "Müller GmbH",
                "A-1001",
                "Office chair",
                "Pick up until Friday"
            ]
        );
        assert!(d.notes.is_empty(), "{:?}", d.notes);
    }

    #[test]
    fn validate_records_notes() {
        let mut r = good();
        r.delivery_note = "Gate 3\nring twice".into();
        r.partner_phone = "491511234567.0".into();
        r.order_number = "  A-1002 ".into();
        let d = validate(&r, &Rules::default()).expect("valid row");
        assert_eq!(d.delivery_note, "Gate 3 ring twice");
        assert_eq!(d.order_key, "A-1002");
        assert_eq!(d.order_number, "A-1002");
        assert!(
            d.notes
                .contains(&"delivery_note: line breaks folded to one space".to_string()),
            "{:?}",
            d.notes
        );
        assert!(
            d.notes
                .iter()
                .any(|n| n.starts_with("partner_phone: trailing `.0`"))
        );
        assert_eq!(d.notes.len(), 2);
    }

    #[test]
    fn validate_missing_names_each_field() {
        for f in Field::ALL {
            let mut r = good();
            r.set(f, " \t ".into());
            let p = validate(&r, &Rules::default()).expect_err("missing");
            assert_eq!(p.kind, ProblemKind::Missing);
            assert_eq!(p.field, Some(f));
            assert!(p.to_string().starts_with(f.name()), "{p}");
        }
    }

    #[test]
    fn validate_bad_phone() {
        let mut r = good();
        r.partner_phone = "12-34".into();
        let p = validate(&r, &Rules::default()).expect_err("bad phone");
        assert_eq!(p.kind, ProblemKind::BadPhone);
        assert_eq!(p.field, Some(Field::PartnerPhone));
        assert_eq!(
            p.to_string(),
            "partner_phone: `12-34` has 4 digits; a phone needs 8 to 15 digits with the country code"
        );
    }

    #[test]
    fn validate_empty_after_cleaning() {
        let mut r = good();
        r.product_name = "\u{200b}\u{feff}".into();
        let p = validate(&r, &Rules::default()).expect_err("empty");
        assert_eq!(p.kind, ProblemKind::EmptyAfterCleaning);
        assert_eq!(p.field, Some(Field::ProductName));
    }

    #[test]
    fn validate_body_length_counts_utf16() {
        let rules = Rules::default();
        let base = good();
        let empty_note_len = utf16_len(&render(
            DEFAULT_BODY,
            &[
                &base.partner_name,
                &base.order_number,
                &base.product_name,
                "",
            ],
        ));
        // One non-BMP emoji (2 UTF-16 units) plus ASCII to land exactly on 1024.
        let fill = 1024 - empty_note_len - 2;
        let mut r = base.clone();
        r.delivery_note = format!("🚚{}", "x".repeat(fill));
        let d = validate(&r, &rules).expect("exactly at the limit");
        assert_eq!(utf16_len(&d.render(&rules.body_template)), 1024);
        // In chars it is 1023: counting chars instead of UTF-16 would be wrong.
        assert_eq!(d.render(&rules.body_template).chars().count(), 1023);

        r.delivery_note.push('x');
        let p = validate(&r, &rules).expect_err("one over");
        assert_eq!(p.kind, ProblemKind::BodyTooLong);
        assert_eq!(p.field, Some(Field::DeliveryNote));
        assert!(p.message.contains("is 1025 characters"), "{p}");
        assert!(p.message.contains("by at least 1"), "{p}");
    }

    #[test]
    fn ragged_row_kind_has_a_name() {
        assert_eq!(ProblemKind::RaggedRow.name(), "ragged_row");
        assert_eq!(ProblemKind::BodyTooLong.to_string(), "body_too_long");
    }

    #[test]
    fn render_fills_placeholders_once() {
        assert_eq!(
            render(DEFAULT_BODY, &["Ada", "A-1", "Chair", "Thanks"]),
            "Hello, Ada! Order #A-1 for \"Chair\" has been delivered to your partner pickup point. Thanks."
        );
        assert_eq!(render("{{1}} {{2}}", &["{{2}}", "x"]), "{{2}} x");
        assert_eq!(render("{{1}} {{3}} {{x}} {{", &["a"]), "a {{3}} {{x}} {{");
        assert_eq!(render("{{{1}}}", &["a"]), "{a}");
        assert_eq!(render("{{10}}", &["a"; 10]), "a");
    }

    #[test]
    fn field_names_round_trip() {
        for f in Field::ALL {
            assert_eq!(f.name().parse::<Field>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert_eq!("Order Number".parse::<Field>(), Ok(Field::OrderNumber));
        assert_eq!("partner-phone".parse::<Field>(), Ok(Field::PartnerPhone));
        let e = "phone".parse::<Field>().unwrap_err();
        assert!(e.to_string().contains("unknown field `phone`"), "{e}");
    }

    #[test]
    fn raw_fields_get_set() {
        let mut r = RawFields::default();
        for (i, f) in Field::ALL.into_iter().enumerate() {
            r.set(f, i.to_string());
        }
        for (i, f) in Field::ALL.into_iter().enumerate() {
            assert_eq!(r.get(f), i.to_string());
        }
    }

    proptest! {
        #[test]
        fn phone_normaliser_is_idempotent(s in "[+0-9 ().'-]{0,24}") {
            if let Ok(d) = normalize_phone(&s) {
                prop_assert!((8..=15).contains(&d.len()));
                prop_assert!(d.bytes().all(|b| b.is_ascii_digit()));
                prop_assert_eq!(normalize_phone(&d), Ok(d.clone()));
            }
        }

        #[test]
        fn phone_normaliser_accepts_plus_digits(d in "[1-9][0-9]{7,14}") {
            prop_assert_eq!(normalize_phone(&format!("+{d}")), Ok(d.clone()));
        }

        #[test]
        fn clean_text_is_idempotent_and_safe(
            s in "[a-z \t\n\r\u{a0}\u{2003}\u{200b}]{0,40}"
        ) {
            let (once, _) = clean_text(&s);
            prop_assert!(!once.contains('\n'));
            prop_assert!(!once.contains('\t'));
            prop_assert!(!once.contains("     "));
            prop_assert_eq!(clean_text(&once), (once.clone(), false));
        }
    }
}
