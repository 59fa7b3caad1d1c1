//! Two columns that could each be one field: two `Phone` columns, or a
//! `Phone` and a `Mobile` column. Taking either silently sends half the
//! partners' messages to the wrong number, so the file stops, both columns
//! are named, and `--map` says which one it is (after which that choice is
//! the answer, and the other column is an extra like any other).

use std::path::Path;

use super::headers::{Columns, aliases, column_number, normalize_header};
use super::{Field, InputError};

/// The first field, in field order, that another column could also be:
/// one with the same name as its column (unless `--map` chose it by
/// number), or one named by another of its aliases (unless `--map` chose
/// one, or the column has the field's own name, `partner_phone`, which is
/// an export saying what it means). The error names both columns, and
/// whether they have the same name, so only a column number chooses.
pub(super) fn competing(
    path: &Path,
    line: u64,
    headers: &[String],
    columns: &Columns,
    column_map: &[(Field, String)],
) -> Result<(), InputError> {
    let normalized: Vec<String> = headers.iter().map(|h| normalize_header(h)).collect();
    let pair = |field, a: usize, b: usize, same_name| InputError::CompetingColumns {
        path: path.to_path_buf(),
        line,
        field,
        columns: [(a, headers[a].clone()), (b, headers[b].clone())],
        same_name,
    };
    for &(f, col) in columns {
        let mapped = column_map.iter().rev().find(|(mf, _)| *mf == f);
        let by_number = mapped.is_some_and(|(_, h)| {
            !normalized.contains(&normalize_header(h)) && column_number(h, headers.len()).is_some()
        });
        if by_number {
            continue;
        }
        let name = &normalized[col];
        if let Some(other) = (0..headers.len()).find(|&j| j != col && normalized[j] == *name) {
            return Err(pair(f, col.min(other), col.max(other), true));
        }
        if mapped.is_some() || aliases(f).first() == Some(&name.as_str()) {
            continue;
        }
        // A column `--map` gives another field (the row's `country`) is
        // that field's, not a rival.
        let mapped_elsewhere = |j: usize| {
            column_map
                .iter()
                .any(|(mf, h)| *mf != f && normalize_header(h) == normalized[j])
        };
        let rival = (0..headers.len()).find(|&j| {
            j != col
                && !columns.iter().any(|(_, c)| *c == j)
                && !mapped_elsewhere(j)
                && aliases(f).contains(&normalized[j].as_str())
        });
        if let Some(other) = rival {
            return Err(pair(f, col.min(other), col.max(other), false));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::competing;
    use crate::input::headers::map_columns;
    use crate::input::{Field, InputError, Layout};

    fn check(headers: &str, map: &[(Field, &str)]) -> Option<(Field, [usize; 2], bool)> {
        let headers: Vec<String> = headers.split(',').map(String::from).collect();
        let map: Vec<(Field, String)> = map.iter().map(|(f, h)| (*f, h.to_string())).collect();
        let columns = map_columns(&headers, &map, Layout::Export).expect("every field found");
        match competing(Path::new("in.csv"), 1, &headers, &columns, &map) {
            Ok(()) => None,
            Err(InputError::CompetingColumns {
                field,
                columns,
                same_name,
                ..
            }) => Some((field, [columns[0].0, columns[1].0], same_name)),
            Err(e) => panic!("expected CompetingColumns, got {e:?}"),
        }
    }

    #[test]
    fn competing_and_duplicate_columns() {
        let base = "partner_name,order_number,product_name,delivery_note";
        assert_eq!(check(&format!("{base},phone"), &[]), None);
        assert_eq!(
            check(&format!("{base},phone,mobile"), &[]),
            Some((Field::PartnerPhone, [4, 5], false))
        );
        assert_eq!(
            check(&format!("{base},Phone,phone "), &[]),
            Some((Field::PartnerPhone, [4, 5], true))
        );
        // The field's own name says what it means.
        assert_eq!(check(&format!("{base},phone,Partner Phone"), &[]), None);
        assert_eq!(
            check("Company,Partner,phone,order,item,note", &[]),
            Some((Field::PartnerName, [0, 1], false))
        );
        // --map chooses: by name among aliases, by number among namesakes.
        let mobile = [(Field::PartnerPhone, "Mobile")];
        assert_eq!(check(&format!("{base},phone,mobile"), &mobile), None);
        let by_name = [(Field::PartnerPhone, "phone")];
        assert_eq!(
            check(&format!("{base},phone,phone"), &by_name),
            Some((Field::PartnerPhone, [4, 5], true))
        );
        let second = [(Field::PartnerPhone, "#6")];
        assert_eq!(check(&format!("{base},phone,phone"), &second), None);
    }

    #[test]
    fn a_column_number_picks_that_column() {
        let headers: Vec<String> =
            "partner_name,order_number,product_name,delivery_note,phone,phone"
                .split(',')
                .map(String::from)
                .collect();
        let map = vec![(Field::PartnerPhone, "#6".to_string())];
        let columns = map_columns(&headers, &map, Layout::Export).expect("found");
        assert_eq!(columns[1], (Field::PartnerPhone, 5));
        let map = vec![(Field::PartnerPhone, "#7".to_string())];
        assert_eq!(
            map_columns(&headers, &map, Layout::Export),
            Err(vec![Field::PartnerPhone])
        );
    }
}
