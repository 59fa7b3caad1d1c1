//! Reading a reconciliation back for `handoff rerun`: the data of each row
//! (which the user may have corrected), its outcome, and which outcomes the
//! user wants sent again.

use std::path::{Path, PathBuf};

use super::Outcome;
use crate::error::Failure;
use crate::exit;
use crate::input::Field;
use crate::input::InputOptions;

/// The outcomes a rerun may send again (design.md): never delivered, read,
/// pending, duplicate or unknown.
pub(crate) const RESENDABLE: [Outcome; 4] = [
    Outcome::Failed,
    Outcome::Rejected,
    Outcome::Invalid,
    Outcome::Skipped,
];

/// `--only`, or every resendable outcome.
pub(crate) fn selection(only: &[Outcome]) -> Vec<Outcome> {
    if only.is_empty() {
        RESENDABLE.to_vec()
    } else {
        only.to_vec()
    }
}

/// `<file>-rerun.csv` beside the file.
pub(crate) fn default_out(file: &Path) -> PathBuf {
    let stem = file.file_stem().map_or_else(
        || "reconciliation".into(),
        |s| s.to_string_lossy().into_owned(),
    );
    file.with_file_name(format!("{stem}-rerun.csv"))
}

/// Our own columns, named exactly: the file has both `delivery_note` and
/// `notes`, which the aliases would otherwise confuse.
pub(crate) fn input_options() -> InputOptions {
    InputOptions {
        delimiter: Some(b','),
        encoding: None,
        sheet: None,
        column_map: vec![
            (Field::PartnerName, "partner_name".into()),
            (Field::PartnerPhone, "phone".into()),
            (Field::OrderNumber, "order_number".into()),
            (Field::ProductName, "product_name".into()),
            (Field::DeliveryNote, "delivery_note".into()),
        ],
    }
}

/// The `outcome` of every row, in file order (`None` where the cell is not
/// an outcome, e.g. edited by hand).
pub(crate) fn outcomes(file: &Path) -> Result<Vec<Option<Outcome>>, Failure> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(file)
        .map_err(|e| {
            let code = match &e.kind() {
                csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
                    exit::NO_INPUT
                }
                _ => exit::DATA,
            };
            Failure::new(code, format!("failed to read `{}`: {e}", file.display()))
        })?;
    let headers = reader
        .headers()
        .map_err(|e| {
            Failure::new(
                exit::DATA,
                format!("failed to read `{}`: {e}", file.display()),
            )
        })?
        .clone();
    let Some(column) = headers.iter().position(|h| h.trim() == "outcome") else {
        return Err(Failure::new(
            exit::DATA,
            format!(
                "`{}` has no `outcome` column: give the reconciliation CSV that `handoff run` wrote",
                file.display()
            ),
        ));
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            Failure::new(
                exit::DATA,
                format!("failed to read `{}`: {e}", file.display()),
            )
        })?;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        out.push(record.get(column).and_then(|c| Outcome::parse(c.trim())));
    }
    Ok(out)
}

// Lives with the report's own `neutralise`, so both directions share one
// set of formula characters.

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_out_sits_beside_the_file() {
        assert_eq!(
            default_out(Path::new("/n/reconciliation.csv")),
            PathBuf::from("/n/reconciliation-rerun.csv")
        );
        assert_eq!(selection(&[]), RESENDABLE.to_vec());
        assert_eq!(selection(&[Outcome::Failed]), vec![Outcome::Failed]);
    }
}
