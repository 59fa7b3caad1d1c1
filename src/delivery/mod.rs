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

mod choose;
mod country;
mod directory;
mod national;
mod phone;
mod phone_error;
#[cfg(test)]
mod phone_props;
mod plan;
mod readings;
mod render;
mod rules;
mod scan;
#[cfg(test)]
mod test_support;
mod text;
mod validate;

pub use country::{Country, UnknownCountry};
pub use directory::Directory;
#[cfg(test)]
pub(crate) use directory::Role;
pub(crate) use directory::{Contact, load_directory};
pub use phone::{normalize_phone_in, warm_up};
pub use render::{Delivery, render};
pub use rules::{DEFAULT_BODY, MAX_BODY_CHARS, Rules};
pub use text::clean_text;
pub use validate::{revalidate, validate};
