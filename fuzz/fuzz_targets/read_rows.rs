//! The row reader and validation on arbitrary bytes: the first byte picks
//! the options (delimiter, encoding, default country), the rest is the file.
//! Any panic is a bug; errors are fine.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use handoff::delivery::{Rules, validate};
use handoff::input::{InputOptions, from_reader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, bytes)) = data.split_first() else {
        return;
    };
    let delimiter = [None, Some(b','), Some(b';'), Some(b'\t'), Some(b'|')][usize::from(knobs % 5)];
    let encoding = [None, Some("windows-1252"), Some("windows-1251"), Some("utf-16le")]
        [usize::from((knobs / 5) % 4)];
    let country = [None, Some("DE"), Some("RU"), Some("US")][usize::from((knobs / 20) % 4)];
    let opts = InputOptions {
        delimiter,
        encoding: encoding.map(String::from),
        ..InputOptions::default()
    };
    let rules = Rules {
        default_country: country.map(|c| c.parse().expect("a known country")),
        ..Rules::default()
    };
    let Ok(reader) = from_reader(Path::new("fuzz.csv"), Cursor::new(bytes.to_vec()), &opts) else {
        return;
    };
    let mut rules = rules;
    rules.origin = Some(reader.origin());
    for row in reader {
        let Ok(row) = row else { break };
        assert!(row.line >= 1 && row.row >= 1);
        if row.problem.is_none() {
            let _ = validate(&row.fields, &rules);
        }
    }
});
