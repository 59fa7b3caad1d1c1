//! Fixtures the input tests share: a temporary directory to write exports
//! into and the shortest ways to read one back.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{InputOptions, InputReader, RawRow, open};

pub(super) const HEADER: &str =
    "partner_name,partner_phone,order_number,product_name,delivery_note";

pub(super) struct Tmp {
    pub(super) dir: tempfile::TempDir,
}

impl Tmp {
    pub(super) fn new() -> Self {
        Tmp {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub(super) fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        let mut f = File::create(&p).expect("create");
        f.write_all(bytes).expect("write");
        p
    }
}

pub(super) fn read_all(path: &Path, opts: &InputOptions) -> (InputReader, Vec<RawRow>) {
    let mut r = open(path, opts).expect("open");
    let rows: Vec<RawRow> = r.by_ref().map(|row| row.expect("row")).collect();
    (r, rows)
}

pub(super) fn read_str(contents: &str) -> (InputReader, Vec<RawRow>, Tmp) {
    let t = Tmp::new();
    let p = t.write("in.csv", contents.as_bytes());
    let (r, rows) = read_all(&p, &InputOptions::default());
    (r, rows, t)
}
