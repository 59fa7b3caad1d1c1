//! Which column holds which field. Exports name their columns every way a
//! TMS or a person can think of, so each field answers to a list of
//! aliases, matched loosely, and `--map` overrides them.

use super::{Field, Layout};

/// The column of each field a file has, in the order the fields were
/// found.
pub(super) type Columns = Vec<(Field, usize)>;

/// Header names each field answers to, best first. The canonical name comes
/// first so an export that uses it is never misread through an alias.
pub(super) fn aliases(f: Field) -> &'static [&'static str] {
    match f {
        Field::PartnerName => &[
            "partner name",
            "partner",
            "company",
            "company name",
            "partner company",
        ],
        Field::PartnerPhone => &[
            "partner phone",
            "phone",
            "manager phone",
            "phone number",
            "mobile",
            "whatsapp",
        ],
        Field::OrderNumber => &["order number", "order", "order no", "order #", "order id"],
        Field::ProductName => &["product name", "product", "item"],
        Field::DeliveryNote => &["delivery note", "note", "notes", "comment"],
        // In an export only through --map (see `Field::Country`), in a
        // partners file by these.
        Field::Country => &["country", "country code", "region"],
        Field::PartnerId => &[
            "partner id",
            "partner code",
            "partner no",
            "partner number",
            "pickup point",
            "pickup point id",
            "customer number",
            "customer no",
            "customer id",
        ],
        Field::Role => &["role", "contact role", "contact type"],
        Field::Language => &["language", "lang", "locale", "template language"],
        Field::Timezone => &["timezone", "time zone", "tz"],
        Field::OptOut => &[
            "opt_out",
            "opt out",
            "opted out",
            "do not message",
            "unsubscribed",
        ],
    }
}

/// `Order_No`, `order-no`, ` ORDER\u{a0}NO ` all become `order no`.
pub(super) fn normalize_header(h: &str) -> String {
    let spaced: String = h
        .chars()
        .map(|c| match c {
            '_' | '-' => ' ',
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The column of each field `layout` reads, or the required fields that
/// have no column (and those `--map` names a column for that is not
/// there). `--map` entries are placed first so an alias cannot take a
/// column the user assigned to another field. The fields read only
/// through `--map` are [`map_optional`]'s.
pub(super) fn map_columns(
    headers: &[String],
    column_map: &[(Field, String)],
    layout: Layout,
) -> Result<Columns, Vec<Field>> {
    let normalized: Vec<String> = headers.iter().map(|h| normalize_header(h)).collect();
    let mut taken = vec![false; headers.len()];
    // A column --map gives a field read only through it is not for an
    // alias either.
    for (_, header) in column_map
        .iter()
        .filter(|(f, _)| layout.mapped().contains(f))
    {
        let want = normalize_header(header);
        if let Some(i) = normalized.iter().position(|h| *h == want) {
            taken[i] = true;
        }
    }
    let searched = || layout.required().iter().chain(layout.found()).copied();
    let mapped = |f: Field| column_map.iter().rev().find(|(mf, _)| *mf == f);
    let mut columns = Columns::new();
    let mut missing = Vec::new();
    let (by_map, by_alias): (Vec<Field>, Vec<Field>) =
        searched().partition(|&f| mapped(f).is_some());
    for f in by_map.into_iter().chain(by_alias) {
        let found = match mapped(f) {
            // The last --map for a field wins, as with repeated flags elsewhere.
            Some((_, header)) => {
                let want = normalize_header(header);
                (0..headers.len())
                    .find(|&i| !taken[i] && normalized[i] == want)
                    .or_else(|| column_number(header, headers.len()).filter(|&i| !taken[i]))
            }
            None => aliases(f).iter().find_map(|alias| {
                (0..headers.len()).find(|&i| !taken[i] && normalized[i] == *alias)
            }),
        };
        match found {
            Some(i) => {
                taken[i] = true;
                columns.push((f, i));
            }
            None if mapped(f).is_some() || layout.required().contains(&f) => missing.push(f),
            None => {}
        }
    }
    if !missing.is_empty() {
        // In the layout's order, so the first missing is the first a user
        // reads of.
        missing.sort_by_key(|m| searched().position(|f| f == *m));
        return Err(missing);
    }
    // In the layout's order, so problems are checked in reading order.
    columns.sort_by_key(|(c, _)| searched().position(|f| f == *c));
    Ok(columns)
}

/// `#3`: the third column, for `--map` when two columns have the same
/// name. A header that is literally `#3` is matched by name first.
pub(super) fn column_number(map_to: &str, columns: usize) -> Option<usize> {
    let n: usize = map_to.trim().strip_prefix('#')?.parse().ok()?;
    (1..=columns).contains(&n).then(|| n - 1)
}

/// The column `--map` gives an optional field, `None` when it was not
/// mapped, `Err` when the mapped header is not in the file (or is one a
/// required field already uses): the user asked for a column we cannot use.
pub(super) fn map_optional(
    headers: &[String],
    column_map: &[(Field, String)],
    field: Field,
    required: &Columns,
) -> Result<Option<usize>, Field> {
    let Some((_, header)) = column_map.iter().rev().find(|(f, _)| *f == field) else {
        return Ok(None);
    };
    let want = normalize_header(header);
    (0..headers.len())
        .find(|i| !required.iter().any(|(_, c)| c == i) && normalize_header(&headers[*i]) == want)
        .map(Some)
        .ok_or(field)
}

#[cfg(test)]
mod tests {
    use super::normalize_header;
    use crate::input::test_support::{Tmp, read_all, read_str};
    use crate::input::{Field, InputError, InputOptions, open};

    #[test]
    fn header_aliases_match_loosely() {
        let (r, rows, _t) = read_str(
            "Item;Notes;ORDER\u{a0}No;Company Name;Extra;Mobile\nChair;ring;A-7;Acme;x;+491\n",
        );
        assert_eq!(r.delimiter, b';');
        let f = &rows[0].fields;
        assert_eq!(f.partner_name, "Acme");
        assert_eq!(f.partner_phone, "+491");
        assert_eq!(f.order_number, "A-7");
        assert_eq!(f.product_name, "Chair");
        assert_eq!(f.delivery_note, "ring");
        assert_eq!(r.origin().column(Field::OrderNumber), Some("ORDER\u{a0}No"));
    }

    #[test]
    fn canonical_name_beats_alias() {
        let (_, rows, _t) =
            read_str("phone,partner-phone,partner,order,product,note\n111,222,A,O,P,N\n");
        assert_eq!(rows[0].fields.partner_phone, "222");
    }

    #[test]
    fn map_override_wins() {
        let t = Tmp::new();
        let p = t.write(
            "in.csv",
            b"Kunde,Phone,Tel WA,Order No,Item,Comment\nAcme,111,222,O1,P,N\n",
        );
        let opts = InputOptions {
            column_map: vec![
                (Field::PartnerName, "kunde".into()),
                (Field::PartnerPhone, "TEL_WA".into()),
            ],
            ..InputOptions::default()
        };
        let (_, rows) = read_all(&p, &opts);
        assert_eq!(rows[0].fields.partner_name, "Acme");
        assert_eq!(rows[0].fields.partner_phone, "222");
    }

    #[test]
    fn a_country_column_is_read_only_when_mapped() {
        let t = Tmp::new();
        let csv = b"Partner,Phone,Order,Product,Note,Country,Land\nA,1,O,P,N,DE,IT\n";
        let p = t.write("in.csv", csv);
        // An export's own `Country` column is not taken unasked.
        let (r, rows) = read_all(&p, &InputOptions::default());
        assert_eq!(rows[0].fields.country, "");
        assert_eq!(r.origin().column(Field::Country), None);
        let opts = |header: &str| InputOptions {
            column_map: vec![(Field::Country, header.into())],
            ..InputOptions::default()
        };
        let mut r = open(&p, &opts("land")).expect("mapped");
        r.keep_extra_columns();
        assert_eq!(r.extra_headers(), ["Country"]);
        let row = r.next().expect("a row").expect("readable");
        assert_eq!(row.fields.country, "IT");
        assert_eq!(row.extra, ["DE"]);
        assert_eq!(r.origin().column(Field::Country), Some("Land"));
        // A mapped column that is not there stops the file.
        match open(&p, &opts("Pays")).expect_err("no such column") {
            InputError::MissingColumns { missing, .. } => assert_eq!(missing, [Field::Country]),
            other => panic!("expected MissingColumns, got {other:?}"),
        }
        // A column mapped to the country is not an alias's to take.
        let p = t.write(
            "two.csv",
            b"Partner,Phone,Order,Product,Note,Notes\nA,1,O,P,N,DE\n",
        );
        let (_, rows) = read_all(&p, &opts("Note"));
        assert_eq!(rows[0].fields.country, "N");
        assert_eq!(rows[0].fields.delivery_note, "DE");
    }

    #[test]
    fn missing_columns_lists_missing_and_found() {
        let t = Tmp::new();
        let p = t.write("in.csv", b"Name;Tel;Order;Product;Note\nA;1;O;P;N\n");
        let err = open(&p, &InputOptions::default()).expect_err("missing");
        assert_eq!(err.exit_code(), 65);
        match &err {
            InputError::MissingColumns { missing, found, .. } => {
                assert_eq!(missing, &[Field::PartnerName, Field::PartnerPhone]);
                assert_eq!(found, &["Name", "Tel", "Order", "Product", "Note"]);
            }
            other => panic!("expected MissingColumns, got {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("partner_name, partner_phone"), "{msg}");
        assert!(msg.contains("\"Tel\""), "{msg}");
        assert!(msg.contains("--map"), "{msg}");
    }

    #[test]
    fn header_normalization() {
        assert_eq!(normalize_header(" Order_No "), "order no");
        assert_eq!(normalize_header("ORDER\u{a0}-\u{a0}No"), "order no");
        assert_eq!(normalize_header("Order #"), "order #");
    }
}
