//! Physical line numbers. csv counts `\n` only and stamps a record where the
//! previous one ended; a user looking for a row in an editor needs the line
//! where it starts, in CR, LF and CRLF files alike.

use std::io::Read;

use super::quotes::QuoteGuard;

/// The physical line where the record just read starts.
///
/// csv stamps a record with the position where the previous one ended, which
/// is before any blank lines and, with CRLF, before the `\n`. So we count
/// back from where the record ends instead: every line end is `\n` by then
/// (see [`QuoteGuard`]), and it was consumed unless the file ended without
/// one.
pub(super) fn record_start_line<R: Read>(
    rdr: &csv::Reader<QuoteGuard<R>>,
    record: &csv::ByteRecord,
) -> u64 {
    let end = rdr.position();
    let inside: u64 = record.iter().map(newlines).sum();
    let src = rdr.get_ref();
    let unterminated = src.eof && end.byte() == src.queued && src.last != Some(b'\n');
    let terminator = u64::from(!unterminated);
    end.line().saturating_sub(inside + terminator).max(1)
}

/// How many `\n` `bytes` hold: lines a value spans beyond its first.
pub(super) fn newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use crate::input::test_support::{HEADER, read_str};

    #[test]
    fn crlf_and_cr_line_ends() {
        let (_, rows, _t) = read_str(&format!("{HEADER}\r\nA,1,O1,P,N\r\nB,2,O2,P,N\r\n"));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].fields.delivery_note, "N");
        assert_eq!(rows[1].line, 3);
        let (_, rows, _t) = read_str(&format!("{HEADER}\rA,1,O1,P,N\rB,2,O2,P,N\r"));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].fields.order_number, "O2");
        assert_eq!(rows[1].line, 3);
        // Last line without a line end, after a quoted CRLF inside a value.
        let (_, rows, _t) = read_str(&format!("{HEADER}\r\nA,1,O1,P,\"a\r\nb\"\r\nB,2,O2,P,N"));
        assert_eq!(rows[0].fields.delivery_note, "a\nb");
        assert_eq!((rows[1].row, rows[1].line), (2, 4));
    }
}
