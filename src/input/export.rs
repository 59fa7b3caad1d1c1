//! The export as the command line names it: a file, or a stream a nightly
//! job pipes in (`-` for standard input, `/dev/stdin`, a pipe, a FIFO, a
//! process substitution such as `<(psql … \copy … to stdout)`).
//!
//! A command reads its export more than once (a first pass counts the
//! rows for `--min-rows`/`--max-rows` before anything is recorded, then the
//! rows are read again to be sent), and a stream can be read only once: the
//! second read of a pipe finds it drained, and a FIFO's second open waits
//! for a writer that never comes. So a stream is read once, as it arrives,
//! into a private temporary file (removed when the command ends), and every
//! pass reads that, with the same checks and the same messages as a file;
//! messages name the stream, never the temporary file.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::error::{unopened, unreadable};
use super::open::{InputOptions, from_reader, open};
use super::{InputError, InputReader};

/// How messages name standard input given as `-`.
const STDIN_NAME: &str = "standard input";

/// An export ready to be read as often as the command needs.
#[derive(Debug)]
pub struct Export {
    /// As messages name it.
    shown: PathBuf,
    /// A stream's bytes, read once; `None` for a file, read in place.
    spool: Option<NamedTempFile>,
}

impl Export {
    /// The export at `path`: a regular file as it is; a stream read to its
    /// end now (so a producer that fails is seen before anything is sent).
    pub fn resolve(path: &Path) -> Result<Export, InputError> {
        if path == Path::new("-") {
            let shown = PathBuf::from(STDIN_NAME);
            let spool = Some(spool(&shown, io::stdin().lock())?);
            return Ok(Export { shown, spool });
        }
        let meta = std::fs::metadata(path).map_err(|e| unopened(path, e))?;
        // A directory is refused by the reader, with its own message.
        let spool = if meta.is_file() || meta.is_dir() {
            None
        } else {
            let file = File::open(path).map_err(|e| unopened(path, e))?;
            Some(spool(path, file)?)
        };
        let shown = path.to_path_buf();
        Ok(Export { shown, spool })
    }

    /// Opens one pass over the export.
    pub fn open(&self, opts: &InputOptions) -> Result<InputReader, InputError> {
        match &self.spool {
            None => open(&self.shown, opts),
            Some(spool) => {
                let file = spool.reopen().map_err(|e| unreadable(&self.shown, e))?;
                from_reader(&self.shown, file, opts)
            }
        }
    }
}

/// Copies `source` to the end into a private temporary file.
fn spool(shown: &Path, mut source: impl io::Read) -> Result<NamedTempFile, InputError> {
    let mut spool = NamedTempFile::new().map_err(|e| unreadable(shown, e))?;
    io::copy(&mut source, spool.as_file_mut()).map_err(|e| unreadable(shown, e))?;
    Ok(spool)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const CSV: &str = "Partner Name,Partner Phone,Order Number,Product Name,Delivery Note\n\
                       Ada,+49 151 00000001,A-1,Lamp,Thanks\n";

    /// A FIFO is read once, and every pass reads the same rows: the
    /// second open of the FIFO itself would wait for a writer forever.
    #[test]
    fn a_fifo_is_read_once_and_every_pass_sees_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("export.csv");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut f = File::create(&fifo).unwrap();
                f.write_all(CSV.as_bytes()).unwrap();
            })
        };
        let export = Export::resolve(&fifo).unwrap();
        writer.join().unwrap();
        for _ in 0..2 {
            let rows: Vec<_> = export.open(&InputOptions::default()).unwrap().collect();
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0].as_ref().unwrap().fields.order_number, "A-1");
        }
        // Messages name the FIFO, never the temporary file.
        let reader = export.open(&InputOptions::default()).unwrap();
        assert_eq!(reader.file_name(), "export.csv");
    }

    #[test]
    fn a_regular_file_is_read_in_place_and_a_missing_one_named() {
        let mut f = NamedTempFile::new().unwrap();
        f.write_all(CSV.as_bytes()).unwrap();
        let export = Export::resolve(f.path()).unwrap();
        assert!(export.spool.is_none());
        assert_eq!(export.open(&InputOptions::default()).unwrap().count(), 1);
        let missing = Path::new("/nonexistent/export.csv");
        assert!(matches!(
            Export::resolve(missing),
            Err(InputError::NotFound { .. })
        ));
    }
}
