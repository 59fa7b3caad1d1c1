//! Whether a row is sendable. Every rule that decides it is here, so the
//! send stage never second-guesses its input and every `invalid` outcome in
//! the report carries a reason naming the field.

use super::phone::phone_checked;
use super::text::clean_detailed;
use super::{Country, Delivery, Rules};
use crate::input::{Field, ProblemKind, RawFields, RowProblem};

/// Checks and cleans one row. The first problem in field order wins; the
/// body length is checked last because it depends on every cleaned value.
pub fn validate(raw: &RawFields, rules: &Rules) -> Result<Delivery, RowProblem> {
    validate_with(raw, rules, false)
}

/// Rebuilds the delivery of a row that [`validate`] accepted and the ledger
/// stored: its `partner_phone` is then the normalised digits `validate`
/// produced, so the numbering-plan parse (about 5 µs, the costliest check)
/// is not run a second time; the text fields are cleaned and checked again.
pub fn revalidate(stored: &RawFields, rules: &Rules) -> Result<Delivery, RowProblem> {
    validate_with(stored, rules, true)
}

/// `stored`: the row's phone is the digits a successful check produced
/// earlier (else as typed in the file: checked against the numbering plans).
fn validate_with(raw: &RawFields, rules: &Rules, stored: bool) -> Result<Delivery, RowProblem> {
    check_filled_in(raw, rules)?;
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    let phone = checked_phone(raw, rules, stored, &mut notes, &mut warnings)?;
    let mut text = |f: Field| cleaned_text(raw, f, rules, &mut notes);
    let delivery = Delivery {
        order_key: raw.order_key().to_string(),
        partner_name: text(Field::PartnerName)?,
        phone,
        order_number: text(Field::OrderNumber)?,
        product_name: text(Field::ProductName)?,
        delivery_note: text(Field::DeliveryNote)?,
        notes,
        warnings,
        language: Some(raw.language.trim().to_string()).filter(|l| !l.is_empty()),
    };
    check_body_length(&delivery, rules)?;
    Ok(delivery)
}

/// Every field has a value; the first empty one in field order is named.
fn check_filled_in(raw: &RawFields, rules: &Rules) -> Result<(), RowProblem> {
    for f in Field::ALL {
        if raw.get(f).trim().is_empty() {
            return Err(RowProblem {
                field: Some(f),
                kind: ProblemKind::Missing,
                message: format!(
                    "{}: the value is empty; fill it in and run again",
                    rules.at(f)
                ),
            });
        }
    }
    Ok(())
}

/// The phone in international digits, its notes added to `notes` and its
/// warning to `warnings`; a `stored` phone that is normalised digits
/// already is taken as it is.
fn checked_phone(
    raw: &RawFields,
    rules: &Rules,
    stored: bool,
    notes: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Result<String, RowProblem> {
    if stored && is_normalised(&raw.partner_phone) {
        return Ok(raw.partner_phone.clone());
    }
    let (country, from) = row_country(raw, rules)?;
    let (digits, phone_notes, warning) = phone_checked(&raw.partner_phone, country.as_ref(), &from)
        .map_err(|e| RowProblem {
            message: format!("{}: {}", rules.at(Field::PartnerPhone), e.message),
            ..e
        })?;
    let field = Field::PartnerPhone;
    notes.extend(phone_notes.into_iter().map(|n| format!("{field}: {n}")));
    warnings.extend(warning.map(|w| format!("{field}: {w}")));
    Ok(digits)
}

/// The country the row's national phone belongs to, and where it came
/// from for the note: the row's country column (`--map country=…`) when
/// the cell has a value, else `--default-country`, so one export can span
/// countries.
fn row_country(raw: &RawFields, rules: &Rules) -> Result<(Option<Country>, String), RowProblem> {
    let cell = raw.country.trim();
    if cell.is_empty() {
        return Ok((rules.default_country.clone(), "--default-country".into()));
    }
    match cell.parse::<Country>() {
        Ok(c) => Ok((Some(c), format!("`{cell}` in {}", rules.at(Field::Country)))),
        Err(e) => Err(RowProblem {
            field: Some(Field::Country),
            kind: ProblemKind::BadCountry,
            message: format!(
                "{}: {e}; write the region (DE) or the calling code (49) of \
                 the phone's country, or leave the cell empty for \
                 --default-country",
                rules.at(Field::Country)
            ),
        }),
    }
}

/// A text field cleaned for WhatsApp, what cleaning changed added to
/// `notes`.
fn cleaned_text(
    raw: &RawFields,
    f: Field,
    rules: &Rules,
    notes: &mut Vec<String>,
) -> Result<String, RowProblem> {
    let cleaned = clean_detailed(raw.get(f));
    if cleaned.text.is_empty() {
        return Err(RowProblem {
            field: Some(f),
            kind: ProblemKind::EmptyAfterCleaning,
            message: format!(
                "{}: `{}` has only invisible or control characters; \
                 write a visible value",
                rules.at(f),
                raw.get(f).escape_debug()
            ),
        });
    }
    if let Some(what) = cleaned.describe() {
        notes.push(format!("{f}: {what}"));
    }
    Ok(cleaned.text)
}

/// The filled-in body fits WhatsApp's limit; checked last because it
/// depends on every cleaned value.
fn check_body_length(delivery: &Delivery, rules: &Rules) -> Result<(), RowProblem> {
    let body_len = utf16_len(&delivery.render(&rules.body_template));
    if body_len > rules.max_body_chars {
        // Name the longest parameter: shortening it is the likeliest fix.
        let params = delivery.params();
        let text_fields = Field::ALL.into_iter().filter(|&f| f != Field::PartnerPhone);
        let (longest, longest_len) = text_fields
            .zip(params)
            .map(|(f, p)| (f, utf16_len(p)))
            .max_by_key(|&(_, n)| n)
            .unwrap_or((Field::DeliveryNote, 0));
        let over = body_len - rules.max_body_chars;
        return Err(RowProblem {
            field: Some(longest),
            kind: ProblemKind::BodyTooLong,
            message: format!(
                "{}: the filled-in message is {body_len} characters \
                 (UTF-16 units, as WhatsApp counts) and the limit is {}; \
                 shorten {longest} ({longest_len} characters) by at least {over}",
                rules.at(longest),
                rules.max_body_chars
            ),
        });
    }
    Ok(())
}

/// What [`phone_checked`] returns: 8 to 15 ASCII digits, no leading zero.
/// A stored phone that is not (a ledger edited by hand) is checked again.
fn is_normalised(phone: &str) -> bool {
    (8..=15).contains(&phone.len())
        && phone.bytes().all(|b| b.is_ascii_digit())
        && !phone.starts_with('0')
}

/// Meta counts message length in UTF-16 code units, so an emoji outside the
/// Basic Multilingual Plane costs two.
fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::utf16_len;
    use crate::delivery::test_support::{de, good};
    use crate::delivery::{DEFAULT_BODY, Rules, render, revalidate, validate};
    use crate::input::Origin;
    use crate::input::{Field, ProblemKind, RawFields};

    /// The columns of a German export, `orders.csv`.
    fn orders_csv() -> Origin {
        Origin {
            file: "orders.csv".into(),
            columns: Field::ALL
                .into_iter()
                .chain([Field::Country])
                .zip(["Kunde", "Mobil", "Auftrag", "Artikel", "Notiz", "Land"])
                .map(|(f, h)| (f, h.to_string()))
                .collect(),
        }
    }

    #[test]
    fn the_rows_country_wins_over_the_default() {
        let rules = Rules {
            default_country: Some(de()),
            origin: Some(orders_csv()),
            ..Rules::default()
        };
        let mut r = good();
        r.partner_phone = "06 6982 1234".into();
        r.country = " it ".into();
        let d = validate(&r, &rules).expect("Italian");
        assert_eq!(d.phone, "390669821234");
        assert!(
            d.notes
                .iter()
                .any(|n| n.contains("`it` in country (column \"Land\"")),
            "{:?}",
            d.notes
        );
        r.country = String::new();
        assert_eq!(validate(&r, &rules).expect("German").phone, "49669821234");
        r.country = "+39".into();
        assert_eq!(validate(&r, &rules).expect("by code").phone, "390669821234");
        r.country = "Italia".into();
        let p = validate(&r, &rules).expect_err("no country");
        assert_eq!(p.kind, ProblemKind::BadCountry);
        assert_eq!(p.field, Some(Field::Country));
        assert!(
            p.message
                .starts_with("country (column \"Land\" of orders.csv): `Italia` is neither"),
            "{p}"
        );
    }

    #[test]
    fn a_stored_row_rebuilds_the_same_delivery_without_a_second_phone_parse() {
        let rules = Rules {
            default_country: Some(de()),
            ..Rules::default()
        };
        let mut file = good();
        file.partner_phone = "0151 2345 6789".into();
        file.product_name = "Office\tchair".into();
        let first = validate(&file, &rules).expect("valid row");
        // The ledger keeps the normalised phone and the file's text.
        let stored = RawFields {
            partner_phone: first.phone.clone(),
            ..file.clone()
        };
        let again = revalidate(&stored, &rules).expect("still valid");
        assert_eq!(again.phone, "4915123456789");
        assert_eq!(again.params(), first.params());
        assert_eq!(again.order_key, first.order_key);
        // A stored phone that is not normalised digits is checked again.
        let edited = RawFields {
            partner_phone: "0151 2345 6789".into(),
            ..file
        };
        assert_eq!(revalidate(&edited, &rules).unwrap().phone, "4915123456789");
        let bad = RawFields {
            partner_phone: "12".into(),
            ..good()
        };
        assert!(revalidate(&bad, &Rules::default()).is_err());
    }

    #[test]
    fn problems_name_the_file_and_column() {
        let rules = Rules {
            origin: Some(orders_csv()),
            ..Rules::default()
        };
        let mut r = good();
        r.partner_phone = "0151 2345 6789".into();
        let p = validate(&r, &rules).expect_err("national");
        assert!(
            p.message.starts_with(
                "partner_phone (column \"Mobil\" of orders.csv): `0151 2345 6789` starts with 0"
            ),
            "{p}"
        );
        let rules = Rules {
            default_country: Some(de()),
            ..rules
        };
        let d = validate(&r, &rules).expect("with DE");
        assert_eq!(d.phone, "4915123456789");
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
        r.partner_phone = "4915112345678.0".into();
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
}
