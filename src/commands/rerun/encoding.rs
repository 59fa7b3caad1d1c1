//! A reconciliation a spreadsheet saved in its own code page (LibreOffice
//! and Excel in Western Europe: `;` and Windows-1252) is read without
//! `--encoding` when the ledger confirms the guess. A single-byte decoder
//! never fails, so a guess alone could turn `Großmann` into `GroÃŸmann` and
//! send it; but the ledger holds the exact texts of the messages it sent,
//! so the file's rows that carry them say whether the guess is right.

use std::io::Read;
use std::path::Path;

use tracing::info;

use crate::input::{self, InputOptions};
use crate::ledger::Ledger;

/// How much of the file the guess reads.
const SAMPLE: u64 = 1 << 20;

/// `options` with the file's encoding, when none was given, the file is
/// not UTF-8, and the ledger confirms the guess: at least one text with
/// letters beyond ASCII that the ledger sent reads back the same, and none
/// reads otherwise. Else `options` as they were (and the reader stops at
/// the first undecodable row with its hint, as before).
pub(super) fn confirmed(file: &Path, options: InputOptions, ledger: &Path) -> InputOptions {
    if options.encoding.is_some() {
        return options;
    }
    let mut sample = Vec::new();
    let read = std::fs::File::open(file).and_then(|f| f.take(SAMPLE).read_to_end(&mut sample));
    // UTF-8 (a character cut at the sample's end is no evidence), a BOM, or
    // a workbook or archive: nothing to guess.
    let utf8 = match std::str::from_utf8(&sample) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    if read.is_err() || utf8 || input::sniff_container(&sample).is_some() {
        return options;
    }
    let guess = input::guess_encoding(&[&sample])
        .name()
        .to_ascii_lowercase();
    let guessed = InputOptions {
        encoding: Some(guess.clone()),
        ..options.clone()
    };
    let Ok(l) = Ledger::open_read_only(ledger) else {
        return options;
    };
    let (same, other) = compare(file, &guessed, &l).unwrap_or((0, 1));
    if same > 0 && other == 0 {
        info!(
            encoding = %guess,
            texts = same,
            "the file is not UTF-8; read as {guess}, which the ledger's texts confirm"
        );
        return guessed;
    }
    options
}

/// How many texts beyond ASCII the ledger sent read back the same from
/// `file` read with `options`, and how many read otherwise.
fn compare(file: &Path, options: &InputOptions, l: &Ledger) -> Option<(u64, u64)> {
    let export = input::Export::resolve(file).ok()?;
    let (mut same, mut other) = (0, 0);
    for row in export.open(options).ok()? {
        let f = row.ok()?.fields;
        let Some(m) = l.accepted_message(f.order_number.trim()).ok()? else {
            continue;
        };
        let read = [
            &f.partner_name,
            &f.order_number,
            &f.product_name,
            &f.delivery_note,
        ];
        for (sent, read) in m.params.iter().zip(read) {
            if sent.is_ascii() {
                continue;
            }
            match sent.trim() == read.trim() {
                true => same += 1,
                false => other += 1,
            }
        }
    }
    Some((same, other))
}
