//! Before the first send: every file the run will write at the end can be
//! written. A report path in a missing directory used to be found only
//! after ten thousand partners were messaged, leaving no report, metrics
//! or summary for the night; now it stops the run here, naming the path,
//! with nothing sent.
//!
//! The check does what the writer will do: every output is replaced
//! atomically through a temporary file beside it (`report::write_atomic`),
//! so what must work is creating a file in its directory, and the path
//! itself must not be a directory. The ledger needs its directory writable
//! too (SQLite's WAL and lock files live beside it).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Failure;
use crate::exit;

/// One file a command will write: what a person calls it, its path (none
/// when its flag is not given) and its flag.
pub(in crate::commands) type Output<'a> = (&'static str, Option<&'a Path>, &'static str);

/// Checks each output given in turn; the first that cannot be written
/// stops the run with exit 78.
pub(in crate::commands) fn check(outputs: &[Output<'_>]) -> Result<(), Failure> {
    for (what, path, flag) in outputs {
        let Some(path) = path else { continue };
        probe(path).map_err(|e| {
            let why = format!(
                "cannot write the {what} `{}` ({flag}): {e}; nothing was sent",
                path.display(),
            );
            Failure::new(exit::CONFIG, why)
        })?;
    }
    Ok(())
}

/// The directory a file is written in (`.` for a bare name).
fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes, as the writer will, a file where it will put its own, and
/// removes it.
fn probe(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a directory",
        ));
    }
    let dir = dir_of(path);
    if !dir.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("the directory `{}` does not exist", dir.display()),
        ));
    }
    let name = path.file_name().map_or_else(
        || "output".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let tmp = dir.join(format!(".{name}.probe-{}", std::process::id()));
    let result = crate::report::write_atomic(&tmp, |w| w.write_all(b"probe"));
    let _ = std::fs::remove_file(&tmp);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_directory_or_a_directory_path_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let fine = dir.path().join("r.csv");
        let missing = dir.path().join("nope").join("r.csv");
        let ok = [("report", Some(fine.as_path()), "--out")];
        assert!(check(&ok).is_ok());
        assert!(!fine.exists(), "the probe leaves nothing behind");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let bad = [
            ("report", Some(fine.as_path()), "--out"),
            ("metrics file", Some(missing.as_path()), "--metrics-file"),
        ];
        let e = check(&bad).unwrap_err();
        assert_eq!(e.code(), exit::CONFIG);
        let text = e.to_string();
        assert!(text.contains(&missing.display().to_string()), "{text}");
        assert!(text.contains("--metrics-file"), "{text}");
        assert!(text.contains("nothing was sent"), "{text}");
        let is_dir = [("workbook", Some(dir.path()), "--xlsx")];
        assert!(
            check(&is_dir)
                .unwrap_err()
                .to_string()
                .contains("directory")
        );
    }
}
