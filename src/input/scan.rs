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
    /// A `"` inside an unquoted value of the record so far (csv reads it as
    /// part of the value).
    stray_quote: bool,
}

impl Scan {
    pub(super) fn new(delimiter: u8) -> Self {
        Scan {
            delimiter,
            state: State::StartRecord,
            fields: 0,
            clean: true,
            stray_quote: false,
        }
    }

    pub(super) fn step(&mut self, b: u8) -> Event {
        let (state, event) = match self.state {
            State::StartRecord if b == b'\n' => (State::StartRecord, Event::Nothing),
            State::StartRecord | State::StartField => {
                if self.state == State::StartRecord {
                    self.fields = 1;
                    self.clean = true;
                    self.stray_quote = false;
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
        self.stray_quote |= b == b'"';
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
    let mut scan = Scan::new(delimiter);
    let ended = line.iter().chain(b"\n").find_map(|&b| match scan.step(b) {
        Event::RecordEnded(n) => Some(n),
        _ => None,
    });
    ended == Some(want) && scan.clean && !scan.stray_quote
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
