//! Fixtures the delivery tests share: a good row, a way to spoil one field
//! of it, Germany as the default country, and phone assertions.

use super::{Country, normalize_phone_in};
use crate::input::RawFields;

pub(super) fn raw(name: &str, phone: &str, order: &str, product: &str, note: &str) -> RawFields {
    RawFields {
        partner_name: name.into(),
        partner_phone: phone.into(),
        order_number: order.into(),
        product_name: product.into(),
        delivery_note: note.into(),
        ..RawFields::default()
    }
}

pub(super) fn good() -> RawFields {
    raw(
        "Müller GmbH",
        "+49 151 2345 6789",
        "A-1001",
        "Office chair",
        "Pick up until Friday",
    )
}

/// A phone normalised without a default country.
pub(super) fn normalize_phone(s: &str) -> Result<String, String> {
    normalize_phone_in(s, None)
}

#[track_caller]
pub(super) fn phone_ok(input: &str, want: &str) {
    assert_eq!(
        normalize_phone(input),
        Ok(want.to_string()),
        "input {input:?}"
    );
}

#[track_caller]
pub(super) fn phone_err(input: &str, needle: &str) {
    match normalize_phone(input) {
        Ok(d) => panic!("{input:?} normalised to {d}, expected an error"),
        Err(e) => assert!(e.contains(needle), "{input:?}: {e:?} lacks {needle:?}"),
    }
}

pub(super) fn de() -> Country {
    "DE".parse().expect("DE")
}
