//! csv's reading of a line, mirrored byte by byte, for the quote guard
//! ([`super::quotes`]), which must know where csv is without waiting for
//! csv to tell it.

/// Where csv's parser is, mirrored: csv-core's states for the defaults the
/// reader uses (`"` quotes, doubled inside a quoted value, no escape
/// character, no comments, every line end already `\n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    StartRecord,
    StartField,
    InField,
    InQuoted,
    /// A `"` inside a quoted value: doubled, or the closing one.
    QuoteInQuoted,
}

/// What a byte did besides moving the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Event {
    Nothing,
    QuoteOpened,
    /// The record ended with this many fields.
    RecordEnded(usize),
}

/// The parser's position in the current record.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scan {
    pub(super) delimiter: u8,
    pub(super) state: State,
    pub(super) fields: usize,
    /// Every quote of the record so far closed before a delimiter or the
    /// line end (csv also accepts `"a"b`, reading `ab`).
    pub(super) clean: bool,
}

impl Scan {
    pub(super) fn new(delimiter: u8) -> Self {
        Scan {
            delimiter,
            state: State::StartRecord,
            fields: 0,
            clean: true,
        }
    }

    pub(super) fn step(&mut self, b: u8) -> Event {
        let (state, event) = match self.state {
            State::StartRecord if b == b'\n' => (State::StartRecord, Event::Nothing),
            State::StartRecord | State::StartField => {
                if self.state == State::StartRecord {
                    self.fields = 1;
                    self.clean = true;
                }
                if b == b'"' {
                    (State::InQuoted, Event::QuoteOpened)
                } else {
                    self.unquoted(b)
                }
            }
            State::InField => self.unquoted(b),
            State::InQuoted if b == b'"' => (State::QuoteInQuoted, Event::Nothing),
            State::InQuoted => (State::InQuoted, Event::Nothing),
            State::QuoteInQuoted if b == b'"' => (State::InQuoted, Event::Nothing),
            State::QuoteInQuoted => {
                self.clean &= b == self.delimiter || b == b'\n';
                self.unquoted(b)
            }
        };
        self.state = state;
        event
    }

    /// A byte outside quotes: a delimiter starts a field, `\n` ends the
    /// record, anything else (a `"` too) is part of the value.
    fn unquoted(&mut self, b: u8) -> (State, Event) {
        if b == self.delimiter {
            self.fields += 1;
            (State::StartField, Event::Nothing)
        } else if b == b'\n' {
            (State::StartRecord, Event::RecordEnded(self.fields))
        } else {
            (State::InField, Event::Nothing)
        }
    }
}

/// Whether `line` on its own is a well-formed record of `want` fields:
/// every quoted value closed before the delimiter or the end of the line,
/// and no `"` inside an unquoted value. The continuation lines of a quoted
/// value with line breaks rarely are, so a line that is one is taken to be
/// the next row, and the quote before it to be unclosed.
pub(super) fn reads_as_record(line: &[u8], delimiter: u8, want: usize) -> bool {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return false;
    }
    let mut fields = 0;
    let mut rest = line;
    loop {
        fields += 1;
        let after = if let Some(quoted) = rest.strip_prefix(b"\"") {
            match closing_quote(quoted) {
                Some(end) => &quoted[end + 1..],
                None => return false,
            }
        } else {
            let end = rest
                .iter()
                .position(|&b| b == delimiter || b == b'"')
                .unwrap_or(rest.len());
            &rest[end..]
        };
        match after.split_first() {
            None => return fields == want,
            Some((&b, tail)) if b == delimiter => rest = tail,
            Some(_) => return false,
        }
    }
}

/// The index of the `"` that closes a quoted value (`""` is a quote in it).
fn closing_quote(quoted: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < quoted.len() {
        if quoted[i] == b'"' {
            if quoted.get(i + 1) == Some(&b'"') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::reads_as_record;

    #[test]
    fn which_lines_read_as_a_record() {
        assert!(reads_as_record(b"a,b,c\n", b',', 3));
        assert!(reads_as_record(b"\"a,x\",\"b\"\"\",c", b',', 3));
        assert!(reads_as_record(b",,x\n", b',', 3));
        assert!(!reads_as_record(b"a,b\n", b',', 3));
        assert!(!reads_as_record(b"a,b,c,d\n", b',', 3));
        // The last line of a quoted value with line breaks.
        assert!(!reads_as_record(b"two lines\",b,c\n", b',', 3));
        assert!(!reads_as_record(b"a,b,\"c\n", b',', 3));
        assert!(!reads_as_record(b"a,\"b\"x,c\n", b',', 3));
        assert!(!reads_as_record(b"  \n", b',', 1));
        assert!(reads_as_record(b"a;b,c;d\n", b';', 3));
    }
}
