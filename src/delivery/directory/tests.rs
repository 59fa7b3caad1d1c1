//! Tests of the parent module.

use std::sync::Arc;

use super::*;
use crate::delivery::Rules;
use crate::input::{InputError, ProblemKind, RawFields};

/// The directory read from `text` as `partners.csv`, and its problems.
fn read(text: &str) -> (Directory, Vec<(u64, RowProblem)>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("partners.csv");
    std::fs::write(&path, text).expect("written");
    load::load(&path, None).expect("readable")
}

fn row(id: &str, name: &str, phone: &str) -> RawFields {
    RawFields {
        partner_id: id.into(),
        partner_name: name.into(),
        partner_phone: phone.into(),
        ..RawFields::default()
    }
}

const FILE: &str = "Partner Code,Partner Name,Phone,Role,Language\n\
                    P1,Acme,+49 151 23456789,,de\n\
                    P1,,+49 151 23456780,backup,\n\
                    P2,Beta,+44 7700 900123,primary,en_GB\n\
                    P3,Gamma,+49 12,primary,\n\
                    P4,Delta,+49 151 23456781,chief,\n\
                    P5,Epsilon,+49 151 23456782,,klingon\n";

#[test]
fn contacts_primary_first_and_bad_rows_said_with_their_line() {
    let (d, problems) = read(FILE);
    assert_eq!(d.file, "partners.csv");
    let lines: Vec<(u64, ProblemKind)> = problems.iter().map(|(l, p)| (*l, p.kind)).collect();
    assert_eq!(
        lines,
        [
            (5, ProblemKind::BadPhone),
            (6, ProblemKind::BadRole),
            (7, ProblemKind::BadLanguage)
        ]
    );
    let acme = &d.partners["P1"];
    assert_eq!(acme.name, Some(("Acme".into(), 2)));
    let roles: Vec<(Role, &str)> = acme
        .contacts
        .iter()
        .map(|c| (c.role, c.phone.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            (Role::Primary, "4915123456789"),
            (Role::Backup, "4915123456780")
        ]
    );
    assert_eq!(acme.contacts[0].language.as_deref(), Some("de"));
    assert_eq!(acme.contacts[0].label, "primary (line 2 of partners.csv)");
    // A refused row costs its contact, not its partner.
    assert!(d.partners["P3"].contacts.is_empty());
    assert_eq!(d.partners["P3"].name, Some(("Gamma".into(), 5)));
}

#[test]
fn a_row_takes_the_directorys_name_and_phone_and_says_where_they_differ() {
    let (d, _) = read(FILE);
    let rules = Rules {
        directory: Some(Arc::new(d.clone())),
        ..Rules::default()
    };
    let mut f = row("P1", "", "");
    let r = d.resolve(&mut f, &rules).expect("known");
    assert_eq!(
        (f.partner_name.as_str(), f.partner_phone.as_str()),
        ("Acme", "+4915123456789")
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.contacts.first().map(|c| c.line), Some(2));

    // The same phone written otherwise is no conflict; another name is.
    let mut f = row("P1", "ACME GmbH", "0049 151 23456789");
    let r = d.resolve(&mut f, &rules).expect("known");
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(r.warnings[0].contains("`ACME GmbH`") && r.warnings[0].contains("line 2"));
    let mut f = row("P2", "Beta", "+49 151 11111111");
    let r = d.resolve(&mut f, &rules).expect("known");
    assert!(r.warnings[0].starts_with("partner_phone: the export has `+49 151 11111111`"));
    assert_eq!(f.partner_phone, "+447700900123");

    // The export's phone is used where the directory has none.
    let mut f = row("P3", "", "+49 151 99999999");
    let r = d.resolve(&mut f, &rules).expect("known");
    assert_eq!(
        (r.contacts.first(), f.partner_phone.as_str()),
        (None, "+49 151 99999999")
    );
    let p = d
        .resolve(&mut row("P3", "", ""), &rules)
        .expect_err("no phone");
    assert_eq!(p.kind, ProblemKind::NoContact);
    assert!(p.message.contains("line 5: "), "{p}");

    let p = d
        .resolve(&mut row("P9", "X", "+49 151 1"), &rules)
        .expect_err("unknown");
    assert_eq!(p.kind, ProblemKind::UnknownPartner);
    assert!(
        p.message.contains("`P9`") && p.message.contains("partners.csv"),
        "{p}"
    );
}

#[test]
fn a_partners_file_without_a_partner_id_column_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("partners.csv");
    std::fs::write(&path, "Name,Phone\nAcme,+4915123456789\n").expect("written");
    match load::load(&path, None) {
        Err(InputError::MissingColumns { missing, .. }) => {
            assert_eq!(missing, [Field::PartnerId]);
        }
        other => panic!("expected MissingColumns, got {other:?}"),
    }
}
