use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, Workbook};

use super::{is_workbook, pick_sheet};
use crate::delivery::{Rules, validate};
use crate::input::test_support::Tmp;
use crate::input::{Field, InputError, InputOptions, ProblemKind, RawRow, open};

const HEADER: [&str; 5] = ["Partner", "Phone", "Order No", "Item", "Note"];

/// A workbook with a sheet "Notes" first (so `--sheet` matters) and the
/// deliveries on "Orders", starting at row `top` (0-based), with one
/// number per phone cell where `phones` says so.
fn book(t: &Tmp, top: u32) -> PathBuf {
    let mut b = Workbook::new();
    b.add_worksheet()
        .set_name("Notes")
        .unwrap()
        .write_string(0, 0, "not the deliveries")
        .unwrap();
    let s = b.add_worksheet();
    s.set_name("Orders").unwrap();
    for (c, h) in HEADER.iter().enumerate() {
        s.write_string(top, c as u16, *h).unwrap();
    }
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let row = |r: u32| top + r;
    // An exact phone stored as a number, an order number stored as one.
    s.write_string(row(1), 0, "Müller GmbH").unwrap();
    s.write_number(row(1), 1, 4_915_123_456_701.0).unwrap();
    s.write_number(row(1), 2, 100_234.0).unwrap();
    s.write_string(row(1), 3, "Stuhl").unwrap();
    s.write_string(row(1), 4, "first line\nsecond line")
        .unwrap();
    s.write_number_with_format(row(1), 5, 45_730.0, &date)
        .unwrap();
    // A phone a spreadsheet rounded through its display.
    s.write_string(row(2), 0, "Rounded AG").unwrap();
    s.write_number(row(2), 1, 4_915_120_000_000.0).unwrap();
    s.write_string(row(2), 2, "R-2").unwrap();
    s.write_string(row(2), 3, "Tisch").unwrap();
    s.write_string(row(2), 4, "ok").unwrap();
    // An empty row, then a phone as text.
    s.write_string(row(4), 0, "Text Phone").unwrap();
    s.write_string(row(4), 1, "+49 151 2345 6702").unwrap();
    s.write_string(row(4), 2, "R-4").unwrap();
    s.write_string(row(4), 3, "Lampe").unwrap();
    s.write_string(row(4), 4, "ok").unwrap();
    s.write_string(top, 5, "Delivery Date").unwrap();
    let path = t.dir.path().join("orders.xlsx");
    b.save(&path).unwrap();
    path
}

fn read(path: &Path, sheet: Option<&str>) -> Result<(Vec<RawRow>, String), InputError> {
    let opts = InputOptions {
        sheet: sheet.map(String::from),
        ..InputOptions::default()
    };
    let mut r = open(path, &opts)?;
    r.keep_extra_columns();
    let rows = r.by_ref().map(|row| row.expect("row")).collect();
    Ok((rows, r.file_name()))
}

#[test]
fn a_sheet_reads_as_its_csv_would_with_the_sheet_rows() {
    let t = Tmp::new();
    let path = book(&t, 2);
    let (rows, name) = read(&path, Some("orders")).expect("read");
    assert_eq!(name, "sheet \"Orders\" of orders.xlsx");
    assert_eq!(rows.len(), 3, "the empty row is skipped");
    let first = &rows[0];
    assert_eq!((first.row, first.line), (1, 4), "row 4 of the sheet");
    assert_eq!(first.fields.partner_name, "Müller GmbH");
    assert_eq!(first.fields.partner_phone, "4915123456701");
    assert_eq!(first.fields.order_number, "100234");
    assert_eq!(first.fields.delivery_note, "first line\nsecond line");
    assert_eq!(first.extra, ["2025-03-14"]);
    // After a cell with a line break, rows still carry the sheet's numbers.
    assert_eq!((rows[1].row, rows[1].line), (2, 5));
    assert_eq!(rows[1].fields.partner_phone, "4.91512E+12");
    assert_eq!((rows[2].row, rows[2].line), (3, 7));
    assert_eq!(rows[2].fields.partner_phone, "+49 151 2345 6702");
}

#[test]
fn problems_name_the_sheet_row_and_column() {
    let t = Tmp::new();
    let path = book(&t, 0);
    let mut r = open(
        &path,
        &InputOptions {
            sheet: Some("Orders".into()),
            ..InputOptions::default()
        },
    )
    .expect("open");
    let rules = Rules {
        origin: Some(r.origin()),
        ..Rules::default()
    };
    let rounded = r.nth(1).expect("a row").expect("readable");
    assert_eq!(rounded.line, 3);
    let p = validate(&rounded.fields, &rules).expect_err("rounded phone");
    assert_eq!(p.kind, ProblemKind::ExcelScientific);
    assert!(
        p.message
            .starts_with("partner_phone (column \"Phone\" of sheet \"Orders\" of orders.xlsx)"),
        "{p}"
    );
    assert_eq!(r.origin().column(Field::PartnerPhone), Some("Phone"));
}

#[test]
fn the_first_sheet_by_default_and_a_missing_one_is_named() {
    let t = Tmp::new();
    let path = book(&t, 0);
    match read(&path, None) {
        Err(InputError::MissingColumns { found, .. }) => {
            assert_eq!(found, ["not the deliveries"]);
        }
        other => panic!("the first sheet has no deliveries: {other:?}"),
    }
    let err = read(&path, Some("Deliveries")).expect_err("no such sheet");
    assert_eq!(err.exit_code(), 65);
    let msg = err.to_string();
    assert!(
        msg.contains("no sheet \"Deliveries\"; its sheets are \"Notes\", \"Orders\""),
        "{msg}"
    );
    assert_eq!(
        pick_sheet(&[], None, None).expect_err("empty"),
        "the workbook has no sheets"
    );
    // A preferred sheet is taken when there, else the first; a sheet asked
    // for wins.
    let names = ["Summary", "Needs action", "Reconciliation"].map(String::from);
    let pick = |wanted, preferred| pick_sheet(&names, wanted, preferred).unwrap();
    assert_eq!(pick(None, Some("reconciliation")), "Reconciliation");
    assert_eq!(pick(None, Some("Rows")), "Summary");
    assert_eq!(pick(None, None), "Summary");
    assert_eq!(
        pick(Some("Needs action"), Some("Reconciliation")),
        "Needs action"
    );
}

#[test]
fn workbooks_are_told_by_their_ending() {
    assert!(is_workbook(Path::new("a/Orders.XLSX")));
    assert!(is_workbook(Path::new("b.ods")));
    assert!(!is_workbook(Path::new("b.csv")));
    assert!(!is_workbook(Path::new("xlsx")));
    let t = Tmp::new();
    let err = read(&t.dir.path().join("gone.xlsx"), None).expect_err("missing");
    assert_eq!(err.exit_code(), 66);
    let not_a_book = t.write("fake.xlsx", b"partner,phone\n");
    let err = read(&not_a_book, None).expect_err("not a workbook");
    assert!(matches!(err, InputError::Workbook { .. }), "{err:?}");
    assert!(err.to_string().starts_with("failed to read"), "{err}");
}
