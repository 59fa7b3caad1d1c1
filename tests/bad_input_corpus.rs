//! Files no one here wrote: csv-spectrum's acid test for CSV parsers and
//! csvkit's example files (`fixtures/input/csv-spectrum/`,
//! `fixtures/input/csvkit/`, each with its licence and where it came
//! from). Each goes through the real binary twice: as it is, and as its
//! bytes under our header (so its records reach the row checks, rather
//! than stopping at a header that names none of our columns). None may
//! panic; each gets a documented exit code; a refusal names the file; and a
//! run that reads the rows reports every line that has anything on it.

use std::path::PathBuf;

use crate::bad_input::{HEADER, assert_every_line_reported, dry, fixture, full};

/// Every file of both folders but the licence notes.
fn corpus() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["csv-spectrum", "csvkit"] {
        for entry in std::fs::read_dir(fixture(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap();
            if !["COPYING", "LICENSE", "SOURCE"].contains(&name) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// What the file as it is gets: every one is refused (exit 65), most for
/// a header without our columns; these for what they are.
fn refusal(file: &str) -> Option<&'static str> {
    match file {
        "csvkit/dummy.csv.gz" => Some("the file is compressed (gzip)"),
        "csvkit/dummy.csv.bz2" => Some("the file is compressed (bzip2)"),
        "csvkit/empty.csv" => Some("the file is empty"),
        "csvkit/testdbf.dbf" => Some("is not valid UTF-8"),
        // Read as workbooks now that `run` reads them (their sheets do not
        // hold our columns, or the first is empty); either way refused.
        "csvkit/dummy.xlsx" | "csvkit/sheets.xlsx" | "csvkit/sheets.xls" => None,
        _ => Some("failed to find the columns partner_name, partner_phone"),
    }
}

#[test]
fn files_no_one_here_wrote_get_a_documented_exit_code_and_no_panic() {
    let files = corpus();
    assert!(files.len() >= 50, "{} files", files.len());
    let dir = tempfile::tempdir().unwrap();
    let mut read_rows = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let folder = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let out = dry(path, &[]);
        assert_eq!(out.code, 65, "{folder}/{name}: {}", out.stderr);
        assert!(out.stderr.contains(name), "{name}: {}", out.stderr);
        if let Some(why) = refusal(&format!("{folder}/{name}")) {
            assert!(
                out.stderr.contains(why),
                "{name}: wants {why:?}: {}",
                out.stderr
            );
        }

        let mut bytes = format!("{HEADER}\n").into_bytes();
        bytes.extend_from_slice(&std::fs::read(path).unwrap());
        let under = dir.path().join(format!("{folder}-{name}"));
        std::fs::write(&under, &bytes).unwrap();
        let (out, report, _) = full(&under, &[]);
        assert!(
            [0, 10, 65].contains(&out.code),
            "{name}: exit {}: {}",
            out.code,
            out.stderr
        );
        if out.code == 65 {
            assert!(
                out.stderr.contains(&format!("{folder}-{name}")),
                "{name}: {}",
                out.stderr
            );
            assert!(report.is_empty(), "{name}: refused, yet a report");
        } else {
            let text = String::from_utf8(bytes).expect("read rows are UTF-8");
            assert_every_line_reported(&text, &report);
            read_rows += report.len();
        }
    }
    assert!(read_rows > 100, "{read_rows} rows read");
}
