//! The country a row's phone is read with: its own country column
//! (`--map country=…`) when the cell has a value, else
//! `--default-country`, so one export can span countries.

use super::{Country, Rules};
use crate::input::{Field, ProblemKind, RawFields, RowProblem};

/// The country the row's national phone belongs to, and where it came
/// from for the note: the row's country column (`--map country=…`) when
/// the cell has a value, else `--default-country`.
pub(super) fn row_country(
    raw: &RawFields,
    rules: &Rules,
) -> Result<(Option<Country>, String), RowProblem> {
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

#[cfg(test)]
mod tests {
    use crate::delivery::test_support::{de, good};
    use crate::delivery::{Rules, validate};
    use crate::input::{Field, Origin, ProblemKind};

    #[test]
    fn the_rows_country_wins_over_the_default() {
        let rules = Rules {
            default_country: Some(de()),
            origin: Some(Origin {
                file: "orders.csv".into(),
                columns: ["Kunde", "Mobil", "Auftrag", "Artikel", "Notiz"].map(String::from),
                country: Some("Land".into()),
            }),
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
}
