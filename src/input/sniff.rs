//! Files that are not text at all: a compressed export, or a spreadsheet
//! saved in its own format. Their first bytes say so (magic numbers), and
//! saying it beats the "not valid UTF-8, try --encoding" they would get
//! from the decoder, which sends the user after the wrong fix.

/// What the first bytes of a file say it is, when it is not text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Gzip,
    Bzip2,
    Xz,
    Zstd,
    SevenZip,
    /// A zip archive that is not a spreadsheet.
    Zip,
    /// An Office Open XML workbook (a zip with `xl/` in it).
    Xlsx,
    /// An OpenDocument spreadsheet (a zip whose `mimetype` says so).
    Ods,
    /// The binary Excel 97–2003 format (an OLE2 compound file).
    Xls,
}

impl Container {
    /// How messages name it.
    pub fn describe(self) -> &'static str {
        match self {
            Container::Gzip => "compressed (gzip)",
            Container::Bzip2 => "compressed (bzip2)",
            Container::Xz => "compressed (xz)",
            Container::Zstd => "compressed (zstd)",
            Container::SevenZip => "compressed (7-Zip)",
            Container::Zip => "compressed (zip)",
            Container::Xlsx => "an Excel workbook (xlsx), not CSV",
            Container::Ods => "an OpenDocument spreadsheet (ods), not CSV",
            Container::Xls => "an Excel 97-2003 workbook (xls), not CSV",
        }
    }

    /// What to do about it.
    pub fn advice(self) -> &'static str {
        match self {
            Container::Xlsx => "give it an .xlsx name, or save it as CSV (UTF-8)",
            Container::Ods | Container::Xls => {
                "save it as CSV (UTF-8) or as an Excel workbook (.xlsx)"
            }
            _ => "decompress it first and pass the CSV inside",
        }
    }
}

/// What `start` (the first bytes of a file, a few KiB are plenty) says
/// the file is, or `None` for what may be text.
pub fn sniff_container(start: &[u8]) -> Option<Container> {
    const MAGIC: [(&[u8], Container); 6] = [
        (b"\x1f\x8b", Container::Gzip),
        (b"BZh", Container::Bzip2),
        (b"\xfd7zXZ\x00", Container::Xz),
        (b"\x28\xb5\x2f\xfd", Container::Zstd),
        (b"7z\xbc\xaf\x27\x1c", Container::SevenZip),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", Container::Xls),
    ];
    if let Some(&(_, c)) = MAGIC.iter().find(|(m, _)| start.starts_with(m)) {
        // `BZh` is also how a line of text can start: bzip2 follows it
        // with the block size digit and a block magic.
        if c != Container::Bzip2 || start.get(4..10) == Some(b"\x31\x41\x59\x26\x53\x59") {
            return Some(c);
        }
    }
    let zip = [&b"PK\x03\x04"[..], b"PK\x05\x06", b"PK\x07\x08"];
    if !zip.iter().any(|m| start.starts_with(m)) {
        return None;
    }
    // A zip's first entry names come early in the file; a workbook's
    // `[Content_Types].xml` or `xl/…` parts are among them.
    let has = |needle: &[u8]| start.windows(needle.len()).any(|w| w == needle);
    Some(
        if has(b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet") {
            Container::Ods
        } else if has(b"xl/") || has(b"[Content_Types].xml") {
            Container::Xlsx
        } else {
            Container::Zip
        },
    )
}

#[cfg(test)]
mod tests {
    use super::{Container, sniff_container};

    #[test]
    fn magic_bytes() {
        assert_eq!(sniff_container(b"\x1f\x8b\x08\x00"), Some(Container::Gzip));
        assert_eq!(sniff_container(b"BZh91AY&SY\x00"), Some(Container::Bzip2));
        assert_eq!(sniff_container(b"BZh is a name,phone\n"), None);
        assert_eq!(
            sniff_container(b"PK\x03\x04....data.csv"),
            Some(Container::Zip)
        );
        assert_eq!(
            sniff_container(b"PK\x03\x04....[Content_Types].xml"),
            Some(Container::Xlsx)
        );
        assert_eq!(
            sniff_container(
                b"PK\x03\x04....mimetypeapplication/vnd.oasis.opendocument.spreadsheetPK"
            ),
            Some(Container::Ods)
        );
        assert_eq!(sniff_container(b"partner_name,partner_phone"), None);
        assert_eq!(sniff_container(b""), None);
        assert_eq!(sniff_container(b"PK,phone\n"), None);
    }
}
