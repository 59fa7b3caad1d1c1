//! The partner directory (`--partners`): each partner's contacts, read from
//! the partners file, a CRM export or the account managers' spreadsheet.
//! An export that carries only a partner id (a pickup point, a customer
//! number) takes the partner's name and phone from here, so nobody joins
//! the two by hand in Excel, where phones get rounded.
//!
//! The file is read by [`crate::input`] like the export ([`Layout::Partners`]):
//! same decoding, same header aliases, same row problems. A bad row costs
//! only its contact and is reported once, with its line; a file we cannot
//! read stops the command before anything is sent.

mod load;

use std::collections::HashMap;
use std::fmt;

use crate::delivery::{Country, Rules, normalize_phone_in};
use crate::input::{Field, ProblemKind, RawFields, RowProblem};

pub(crate) use load::load as load_directory;

/// Which of a partner's contacts a row of the partners file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Written to first (the default when the role cell is empty).
    Primary,
    /// Written to only when the message to the contact before it cannot
    /// arrive (`--fallback backup`).
    Backup,
}

impl Role {
    fn parse(cell: &str) -> Option<Role> {
        match cell.trim().to_ascii_lowercase().as_str() {
            "" | "primary" | "main" => Some(Role::Primary),
            "backup" | "secondary" | "fallback" => Some(Role::Backup),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Primary => "primary",
            Role::Backup => "backup",
        })
    }
}

/// One contact of a partner: a row of the partners file whose phone is
/// usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Contact {
    /// Its line in the partners file, which names it in the report.
    pub line: u64,
    pub role: Role,
    /// International digits, as validation gives them.
    pub phone: String,
    /// The template language to write to it in; `None`: `--language`.
    pub language: Option<String>,
    /// The partners file says it opted out of our messages: its phone is
    /// suppressed (`handoff suppressions`) before any row is decided.
    pub opt_out: bool,
    /// How the report names it: its role and its line in the file.
    pub label: String,
}

/// A partner as the directory knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Partner {
    /// Its name, and the line it was first read on.
    name: Option<(String, u64)>,
    /// Its contacts, primaries first, each in file order.
    contacts: Vec<Contact>,
    /// Why its rows with a phone that could not be used were not taken:
    /// the reason a row for a partner left with no contact names.
    refused: Vec<String>,
}

/// The partners file, read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    /// The file as messages name it.
    pub(crate) file: String,
    partners: HashMap<String, Partner>,
}

/// What the directory made of an export row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// Where the export and the directory disagree: the row's warnings.
    pub warnings: Vec<String>,
    /// Every contact of the partner, the one written to first; none when
    /// the export's own phone is used (the directory has none for the
    /// partner). A message an order sent to any of them went to the
    /// partner.
    pub contacts: Vec<Contact>,
}

impl Directory {
    /// The phones of the contacts the file says opted out of our messages.
    pub(crate) fn opted_out(&self) -> impl Iterator<Item = &str> {
        let contacts = self.partners.values().flat_map(|p| &p.contacts);
        contacts.filter(|c| c.opt_out).map(|c| c.phone.as_str())
    }

    /// Fills in the row's partner name and phone from the directory: the
    /// directory's win; the export's are used only where the directory has
    /// none, and a disagreement is a warning, never a silent choice. A
    /// partner id the directory does not know, or a partner with no phone
    /// anywhere, is the row's problem.
    pub(crate) fn resolve(
        &self,
        fields: &mut RawFields,
        rules: &Rules,
    ) -> Result<Resolved, RowProblem> {
        let id = fields.partner_id.trim();
        let at = rules.at(Field::PartnerId);
        if id.is_empty() {
            return Err(RowProblem {
                field: Some(Field::PartnerId),
                kind: ProblemKind::Missing,
                message: format!("{at}: the value is empty; fill it in and run again"),
            });
        }
        let Some(partner) = self.partners.get(id) else {
            return Err(RowProblem {
                field: Some(Field::PartnerId),
                kind: ProblemKind::UnknownPartner,
                message: format!(
                    "{at}: partner `{id}` is not in the partners file {}; add it there \
                     or correct the id, and run again",
                    self.file
                ),
            });
        };
        let mut warnings = Vec::new();
        if let Some((name, line)) = &partner.name {
            let own = fields.partner_name.trim();
            if !own.is_empty() && own != name {
                warnings.push(format!(
                    "partner_name: the export has `{own}`, line {line} of {} has `{name}`; \
                     sent with the partners file's",
                    self.file
                ));
            }
            fields.partner_name.clone_from(name);
        }
        let Some(contact) = partner.contacts.first() else {
            if fields.partner_phone.trim().is_empty() {
                return Err(self.no_contact(id, partner));
            }
            return Ok(Resolved {
                warnings,
                contacts: Vec::new(),
            });
        };
        let own = fields.partner_phone.trim();
        if !own.is_empty() && !self.same_phone(own, &fields.country, &contact.phone, rules) {
            warnings.push(format!(
                "partner_phone: the export has `{own}`, line {} of {} has +{}; sent to the \
                 partners file's",
                contact.line, self.file, contact.phone
            ));
        }
        fields.partner_phone = format!("+{}", contact.phone);
        fields.language = contact.language.clone().unwrap_or_default();
        // The directory's phone is international: the export's country
        // column is not for it.
        fields.country.clear();
        Ok(Resolved {
            warnings,
            contacts: partner.contacts.clone(),
        })
    }

    /// The contacts of partner `id`, in the order they are written to;
    /// none for a partner the directory does not know.
    pub(crate) fn contacts(&self, id: &str) -> &[Contact] {
        self.partners
            .get(id.trim())
            .map_or(&[], |p| p.contacts.as_slice())
    }

    /// The template languages the contacts of `ids` are written in, other
    /// than `--language` (`default`), once each, in order: preflight checks
    /// each before anything is sent. With `fallback`, every contact of
    /// theirs counts, not only the first.
    pub(crate) fn languages(
        &self,
        ids: impl IntoIterator<Item = String>,
        default: &str,
        fallback: bool,
    ) -> Vec<String> {
        let mut seen = std::collections::BTreeSet::new();
        for id in ids {
            let contacts = self.contacts(&id);
            let written = match fallback {
                true => contacts,
                false => &contacts[..contacts.len().min(1)],
            };
            for language in written.iter().filter_map(|c| c.language.as_deref()) {
                if language != default {
                    seen.insert(language.to_string());
                }
            }
        }
        seen.into_iter().collect()
    }

    /// Whether the export's phone is the directory's, read as the export's
    /// phones are read.
    fn same_phone(&self, own: &str, country: &str, digits: &str, rules: &Rules) -> bool {
        let country = country
            .trim()
            .parse::<Country>()
            .ok()
            .or(rules.default_country.clone());
        normalize_phone_in(own, country.as_ref()).is_ok_and(|d| d == digits)
    }

    /// The problem of a row for a partner the directory knows without a
    /// usable phone, naming the partners rows that were refused.
    fn no_contact(&self, id: &str, partner: &Partner) -> RowProblem {
        let why = match partner.refused.is_empty() {
            true => "has no phone".to_string(),
            false => format!("has no usable phone ({})", partner.refused.join("; ")),
        };
        RowProblem {
            field: Some(Field::PartnerPhone),
            kind: ProblemKind::NoContact,
            message: format!(
                "partner `{id}` {why} in the partners file {}, and the export gives none; \
                 correct the partners file and run again",
                self.file
            ),
        }
    }
}

#[cfg(test)]
mod tests;
