//! Reading the partners file: every row a contact, or a problem of that row
//! alone.

use std::path::Path;

use super::{Contact, Directory, Role};
use crate::delivery::{Country, Rules, normalize_phone_in};
use crate::input::{
    self, Field, InputError, InputOptions, Layout, ProblemKind, RawRow, RowProblem,
};

/// Reads the partners file at `path`; national phones without a country
/// cell are read in `default_country`. Returns the directory and the
/// problems of the rows it did not take, each with its line, to be said
/// once. A file that cannot be read (not there, no partner id column, an
/// undecodable line) is the error.
pub(crate) fn load(
    path: &Path,
    default_country: Option<&Country>,
) -> Result<(Directory, Vec<(u64, RowProblem)>), InputError> {
    let opts = InputOptions {
        layout: Layout::Partners,
        ..InputOptions::default()
    };
    let reader = input::open(path, &opts)?;
    let rules = Rules {
        default_country: default_country.cloned(),
        origin: Some(reader.origin()),
        ..Rules::default()
    };
    let mut directory = Directory {
        file: reader.file_name(),
        ..Directory::default()
    };
    let mut problems = Vec::new();
    for row in reader {
        let row = row?;
        let id = row.fields.partner_id.trim().to_string();
        let checked = match &row.problem {
            Some(p) => Err(p.clone()),
            None if id.is_empty() => Err(RowProblem {
                field: Some(Field::PartnerId),
                kind: ProblemKind::Missing,
                message: format!(
                    "{}: the value is empty; fill it in",
                    rules.at(Field::PartnerId)
                ),
            }),
            None => contact(&row, &rules),
        };
        if id.is_empty() {
            problems.extend(checked.err().map(|p| (row.line, p)));
            continue;
        }
        let partner = directory.partners.entry(id).or_default();
        let name = row.fields.partner_name.trim();
        if partner.name.is_none() && !name.is_empty() {
            partner.name = Some((name.to_string(), row.line));
        }
        match checked {
            Ok(Some(c)) => partner.contacts.push(c),
            Ok(None) => {}
            Err(p) => {
                partner
                    .refused
                    .push(format!("line {}: {}", row.line, p.message));
                problems.push((row.line, p));
            }
        }
    }
    for partner in directory.partners.values_mut() {
        // Stable: each role keeps its file order.
        partner.contacts.sort_by_key(|c| c.role == Role::Backup);
    }
    Ok((directory, problems))
}

/// The row's contact, `None` when it has no phone (it names the partner
/// only), or why it cannot be used.
fn contact(row: &RawRow, rules: &Rules) -> Result<Option<Contact>, RowProblem> {
    let f = &row.fields;
    let problem = |field: Field, kind, why: String| RowProblem {
        field: Some(field),
        kind,
        message: format!("{}: {why}", rules.at(field)),
    };
    let Some(role) = Role::parse(&f.role) else {
        let why = format!("`{}` is not a role; write primary or backup", f.role.trim());
        return Err(problem(Field::Role, ProblemKind::BadRole, why));
    };
    let language = f.language.trim();
    if !language.is_empty() && !is_language(language) {
        let why = format!(
            "`{language}` is not a template language code; write one such as en, de, pt_BR"
        );
        return Err(problem(Field::Language, ProblemKind::BadLanguage, why));
    }
    let opt_out = match f.opt_out.trim().to_ascii_lowercase().as_str() {
        "" | "no" | "n" | "false" | "0" => false,
        "yes" | "y" | "true" | "1" | "x" => true,
        other => {
            let why = format!("`{other}` is neither yes nor no");
            return Err(problem(Field::OptOut, ProblemKind::BadOptOut, why));
        }
    };
    if f.partner_phone.trim().is_empty() {
        return Ok(None);
    }
    let cell = f.country.trim();
    let country = match cell {
        "" => rules.default_country.clone(),
        cell => match cell.parse::<Country>() {
            Ok(c) => Some(c),
            Err(e) => {
                return Err(problem(
                    Field::Country,
                    ProblemKind::BadCountry,
                    e.to_string(),
                ));
            }
        },
    };
    let phone = normalize_phone_in(&f.partner_phone, country.as_ref())
        .map_err(|why| problem(Field::PartnerPhone, ProblemKind::BadPhone, why))?;
    Ok(Some(Contact {
        line: row.line,
        role,
        phone,
        language: (!language.is_empty()).then(|| language.to_string()),
        opt_out,
        label: format!("{role} (line {} of {})", row.line, file_of(rules)),
    }))
}

/// The partners file as messages name it.
fn file_of(rules: &Rules) -> &str {
    rules.origin.as_ref().map_or("", |o| o.file.as_str())
}

/// A WhatsApp template language code: `en`, `fil`, `pt_BR`, `zh_HK`.
fn is_language(code: &str) -> bool {
    let (lang, region) = code.split_once('_').unwrap_or((code, ""));
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && (region.is_empty()
            || (region.len() == 2 && region.bytes().all(|b| b.is_ascii_uppercase())))
}
