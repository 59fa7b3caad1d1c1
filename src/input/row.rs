//! The row as the reading stage hands it on. These types are input's
//! because input produces them: validation, the ledger and the report
//! consume a row that input has already shaped, so they import from here
//! rather than the reader importing from a later stage.

use std::fmt;
use std::str::FromStr;

use super::RowProblem;

/// The five input fields, in template order plus the recipient, and the
/// optional ones a row may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    PartnerName,
    PartnerPhone,
    OrderNumber,
    ProductName,
    DeliveryNote,
    /// The country of the row's phone (a region or a calling code), for
    /// exports that span countries; read only when `--map` names its
    /// column, so a `Country` column an export already has does not change
    /// how its phones are read unasked.
    Country,
    /// The partner a row is for, looked up in the partners file
    /// (`--partners`): read only with one, so an export without it reads as
    /// it always did.
    PartnerId,
    /// A partners file's contact: `primary` or `backup`.
    Role,
    /// A partners file's contact: the template language to write in.
    Language,
    /// A partners file's contact: its time zone.
    Timezone,
    /// A partners file's contact: opted out of our messages (`yes`), so its
    /// phone is suppressed.
    OptOut,
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

    /// The fields a file may have but need not: never required, never
    /// found through an alias, only through `--map`.
    pub const OPTIONAL: [Field; 2] = [Field::Country, Field::PartnerId];

    /// The canonical name: what `--map` accepts, what the default header is,
    /// and how reasons in the report refer to the field.
    pub fn name(self) -> &'static str {
        match self {
            Field::PartnerName => "partner_name",
            Field::PartnerPhone => "partner_phone",
            Field::OrderNumber => "order_number",
            Field::ProductName => "product_name",
            Field::DeliveryNote => "delivery_note",
            Field::Country => "country",
            Field::PartnerId => "partner_id",
            Field::Role => "role",
            Field::Language => "language",
            Field::Timezone => "timezone",
            Field::OptOut => "opt_out",
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
     order_number, product_name, delivery_note, country, partner_id"
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
            .chain(Field::OPTIONAL)
            .find(|f| f.name() == wanted)
            .ok_or_else(|| UnknownField(s.to_string()))
    }
}

/// The fields exactly as read, before any cleaning, so a report can
/// show the user what they actually wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawFields {
    pub partner_name: String,
    pub partner_phone: String,
    pub order_number: String,
    pub product_name: String,
    pub delivery_note: String,
    /// Empty when the file has no country column or the cell is empty:
    /// then `--default-country` applies.
    pub country: String,
    /// Empty unless the export is read with a partners file.
    pub partner_id: String,
    /// A partners file's row only (see [`Field::Role`]).
    pub role: String,
    /// A partners file's row only (see [`Field::Language`]); a row the
    /// directory resolved carries its contact's.
    pub language: String,
    /// A partners file's row only (see [`Field::Timezone`]).
    pub timezone: String,
    /// A partners file's row only (see [`Field::OptOut`]).
    pub opt_out: String,
}

/// The field `f` of a [`RawFields`] as a place, borrowed as `$fields`
/// says (`&self`, `&mut self`): the one table [`RawFields::get`] and
/// [`RawFields::set`] share.
macro_rules! slot {
    ($f:expr, $($fields:tt)+) => {
        match $f {
            Field::PartnerName => $($fields)+.partner_name,
            Field::PartnerPhone => $($fields)+.partner_phone,
            Field::OrderNumber => $($fields)+.order_number,
            Field::ProductName => $($fields)+.product_name,
            Field::DeliveryNote => $($fields)+.delivery_note,
            Field::Country => $($fields)+.country,
            Field::PartnerId => $($fields)+.partner_id,
            Field::Role => $($fields)+.role,
            Field::Language => $($fields)+.language,
            Field::Timezone => $($fields)+.timezone,
            Field::OptOut => $($fields)+.opt_out,
        }
    };
}

impl RawFields {
    pub fn get(&self, f: Field) -> &str {
        slot!(f, &self)
    }

    pub fn set(&mut self, f: Field, v: String) {
        *slot!(f, &mut self) = v;
    }

    /// The order key exactly as [`Delivery::order_key`](crate::delivery::Delivery::order_key) computes it, so the
    /// caller can key invalid rows (for duplicate detection and reruns) the
    /// same way as valid ones.
    pub fn order_key(&self) -> &str {
        self.order_number.trim()
    }
}

/// One data row as read, before validation.
#[derive(Debug, Clone)]
pub struct RawRow {
    /// 1-based data-row number: header excluded, blank lines not counted.
    pub row: u64,
    /// 1-based physical line where the record starts, so a user can find
    /// it in an editor.
    pub line: u64,
    pub fields: RawFields,
    /// A problem with the row's shape (ragged row); value problems are
    /// found later by `validate`.
    pub problem: Option<RowProblem>,
    /// The values of the columns no field uses, in
    /// [`InputReader::extra_headers`](super::InputReader::extra_headers)
    /// order, when
    /// [`InputReader::keep_extra_columns`](super::InputReader::keep_extra_columns)
    /// asked for them.
    pub extra: Vec<String>,
}

/// The file and the header each field was read from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The file name as the user knows it (no directory).
    pub file: String,
    /// The header of each field the file has a column for.
    pub columns: Vec<(Field, String)>,
}

impl Origin {
    /// The header `f` was read from, if the file has its column.
    pub fn column(&self, f: Field) -> Option<&str> {
        self.columns
            .iter()
            .find_map(|(cf, h)| (*cf == f).then_some(h.as_str()))
    }
}

/// Which fields a file is read for: the columns it must have, those it
/// may have (found by their aliases too) and those read only when `--map`
/// names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Layout {
    /// The export as it has always been read: every row names its partner
    /// and phone.
    #[default]
    Export,
    /// The export read with a partners file (`--partners`): a row names
    /// its partner by id, and the directory gives the name and phone (the
    /// export's own, when it has them, only where the directory has none).
    ByPartner,
    /// The partners file: a row per contact of a partner.
    Partners,
}

impl Layout {
    /// The fields whose column the file must have.
    pub(crate) fn required(self) -> &'static [Field] {
        match self {
            Layout::Export => &Field::ALL,
            Layout::ByPartner => &[
                Field::PartnerId,
                Field::OrderNumber,
                Field::ProductName,
                Field::DeliveryNote,
            ],
            Layout::Partners => &[Field::PartnerId],
        }
    }

    /// The fields read when the file has a column for them.
    pub(crate) fn found(self) -> &'static [Field] {
        match self {
            Layout::Export => &[],
            Layout::ByPartner => &[Field::PartnerName, Field::PartnerPhone],
            Layout::Partners => &[
                Field::PartnerName,
                Field::PartnerPhone,
                Field::Role,
                Field::Language,
                Field::Country,
                Field::Timezone,
                Field::OptOut,
            ],
        }
    }

    /// The fields read only from the column `--map` names.
    pub(crate) fn mapped(self) -> &'static [Field] {
        match self {
            Layout::Export | Layout::ByPartner => &[Field::Country],
            Layout::Partners => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_round_trip() {
        for f in Field::ALL.into_iter().chain(Field::OPTIONAL) {
            assert_eq!(f.name().parse::<Field>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert_eq!("Order Number".parse::<Field>(), Ok(Field::OrderNumber));
        assert_eq!("partner-phone".parse::<Field>(), Ok(Field::PartnerPhone));
        assert_eq!("Country".parse::<Field>(), Ok(Field::Country));
        let e = "phone".parse::<Field>().unwrap_err();
        assert!(e.to_string().contains("unknown field `phone`"), "{e}");
    }

    #[test]
    fn raw_fields_get_set() {
        let mut r = RawFields::default();
        let more = [Field::Role, Field::Language, Field::Timezone, Field::OptOut];
        let every = Field::ALL.into_iter().chain(Field::OPTIONAL).chain(more);
        for (i, f) in every.clone().enumerate() {
            r.set(f, i.to_string());
        }
        for (i, f) in every.enumerate() {
            assert_eq!(r.get(f), i.to_string());
        }
    }
}
