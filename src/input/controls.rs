//! Control characters in a value. A NUL or an ESC is invisible in a
//! spreadsheet, cuts a string short in C libraries and drives a terminal,
//! and no partner wrote one on purpose: a value that has one is refused,
//! with the field named, and the character never reaches the report.
//! Tab, line feed and carriage return are not refused: they are how cells
//! hold text over lines, and cleaning folds them to a space as it always
//! has; so are vertical tab, form feed and NEL, line breaks in some exports
//! (FileMaker writes a vertical tab for one).
//!
//! What the report keeps of such a value shows each control character as
//! its Unicode "control picture" (`␀` for NUL): visible, and refused in
//! turn when the report is read back, so an unfixed row stays unsent.

use super::echo::echo;

/// Whether `c` is a control character a value may not hold.
fn refused(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{8}'
            | '\u{e}'..='\u{1f}'
            | '\u{7f}'
            | '\u{80}'..='\u{84}'
            | '\u{86}'..='\u{9f}'
    ) || is_picture(c)
}

/// U+2400..U+2421: the symbols that stand for C0 controls and DEL, as the
/// report writes them.
fn is_picture(c: char) -> bool {
    ('\u{2400}'..='\u{2421}').contains(&c)
}

/// `c` as the report shows it: its control picture, or U+FFFD for a C1
/// control, which has none.
fn shown(c: char) -> char {
    match c {
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
        '\u{7f}' => '\u{2421}',
        c if c.is_control() => '\u{fffd}',
        c => c,
    }
}

/// Whether `value` may hold a refused character, by its bytes: a C0
/// control but tab, line feed, vertical tab, form feed and carriage return,
/// DEL, or the lead byte of a C1 control (U+0080..U+009F) or a control
/// picture (U+2400..U+2421). Most values are plain and pass on this alone.
fn may_refuse(value: &str) -> bool {
    value
        .bytes()
        .any(|b| (b < 0x20 && !matches!(b, b'\t'..=b'\r')) || b == 0x7f || b == 0xc2 || b == 0xe2)
}

/// The value with every refused control character made visible; `None`
/// when it has none (the common case, which then costs no copy).
pub(super) fn visible(value: &str) -> Option<String> {
    (may_refuse(value) && value.chars().any(|c| refused(c) && !is_picture(c))).then(|| {
        value
            .chars()
            .map(|c| if refused(c) { shown(c) } else { c })
            .collect()
    })
}

/// The first refused character of `value`: its index (in characters), the
/// character, and the lines before it within the value.
pub(super) fn first_refused(value: &str) -> Option<(usize, char, u64)> {
    if !may_refuse(value) {
        return None;
    }
    let (i, c) = value.chars().enumerate().find(|&(_, c)| refused(c))?;
    let newlines = value.chars().take(i).filter(|&c| c == '\n').count() as u64;
    Some((i, c, newlines))
}

/// The sentence for a value that has a refused character; `at` names the
/// field (`partner_name (column "Name" of orders.csv)`).
pub(super) fn refusal(at: &str, value: &str, index: usize, c: char, line: u64) -> String {
    let what = if is_picture(c) {
        format!(
            "the symbol {c} (U+{:04X}), which stands for a control character \
             the file had there (an earlier report wrote it so)",
            c as u32
        )
    } else {
        format!("a control character, {} (U+{:04X})", name(c), c as u32)
    };
    format!(
        "{at}: the value has {what}, character {} on line {line}: {}; it is \
         invisible in a spreadsheet, so the row is not sent; delete it (or \
         write the text it stands for) and run again",
        index + 1,
        echo(value)
    )
}

fn name(c: char) -> &'static str {
    const C0: [&str; 32] = [
        "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "TAB", "LF", "VT", "FF",
        "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM",
        "SUB", "ESC", "FS", "GS", "RS", "US",
    ];
    match c as u32 {
        n @ 0..=31 => C0[n as usize],
        0x7f => "DEL",
        _ => "a C1 control",
    }
}

#[cfg(test)]
mod tests {
    use super::{first_refused, refusal, visible};

    #[test]
    fn which_characters_are_refused_and_how_they_are_shown() {
        for ok in [
            "plain",
            "tab\there",
            "two\nlines",
            "cr\r\n",
            "vt\u{b}ff\u{c}",
            "nel\u{85}",
        ] {
            assert_eq!(first_refused(ok), None, "{ok:?}");
            assert_eq!(visible(ok), None, "{ok:?}");
        }
        assert_eq!(first_refused("a\u{0}b"), Some((1, '\u{0}', 0)));
        assert_eq!(first_refused("x\ny\u{1b}[31m"), Some((3, '\u{1b}', 1)));
        assert_eq!(first_refused("del\u{7f}"), Some((3, '\u{7f}', 0)));
        assert_eq!(first_refused("c1\u{9b}"), Some((2, '\u{9b}', 0)));
        assert_eq!(
            visible("a\u{0}b\u{1b}\u{7f}\u{9b}").as_deref(),
            Some("a␀b␛␡\u{fffd}")
        );
        // What the report wrote is refused again, and left as it is.
        assert_eq!(first_refused("a␀b"), Some((1, '␀', 0)));
        assert_eq!(visible("a␀b"), None);
    }

    #[test]
    fn the_refusal_names_the_character_and_where() {
        let m = refusal(
            "partner_name (column \"Name\" of in.csv)",
            "A\u{0}B",
            1,
            '\u{0}',
            3,
        );
        assert_eq!(
            m,
            "partner_name (column \"Name\" of in.csv): the value has a control \
             character, NUL (U+0000), character 2 on line 3: `A\\0B`; it is \
             invisible in a spreadsheet, so the row is not sent; delete it (or \
             write the text it stands for) and run again"
        );
        let m = refusal("x", "A␀B", 1, '␀', 2);
        assert!(m.contains("the symbol ␀ (U+2400), which stands for"), "{m}");
    }
}

#[cfg(test)]
mod reading {
    use crate::input::test_support::{HEADER, Tmp, read_all};
    use crate::input::{Field, InputOptions, ProblemKind};

    #[test]
    fn a_row_with_a_control_character_is_refused_and_shown_visibly() {
        let t = Tmp::new();
        let p = t.write(
            "in.csv",
            format!("{HEADER},Ex\u{1b}tra\nA\u{0}B,1,O1,P,N,x\u{7}\nC,2,O2,P\tQ,\"a\nb\u{1}\",k\n")
                .as_bytes(),
        );
        let mut r = crate::input::open(&p, &InputOptions::default()).expect("open");
        r.keep_extra_columns();
        assert_eq!(r.extra_headers(), ["Ex␛tra"]);
        let rows: Vec<_> = r.map(|row| row.expect("row")).collect();
        let p0 = rows[0].problem.as_ref().expect("refused");
        assert_eq!(
            (p0.kind, p0.field),
            (ProblemKind::ControlCharacter, Some(Field::PartnerName))
        );
        assert!(p0.message.starts_with("partner_name (column \"partner_name\" of in.csv): the value has a control character, NUL (U+0000), character 2 on line 2: `A\\0B`"), "{p0}");
        assert_eq!(rows[0].fields.partner_name, "A␀B");
        assert_eq!(rows[0].extra, ["x␇"]);
        // A tab is folded later, as before; the SOH on the value's second
        // line is refused with that line.
        let p1 = rows[1].problem.as_ref().expect("refused");
        assert_eq!(p1.field, Some(Field::DeliveryNote));
        assert!(
            p1.message.contains("SOH (U+0001), character 4 on line 4"),
            "{p1}"
        );
        let (_, again) = read_all(&p, &InputOptions::default());
        assert_eq!(again.len(), 2);
    }
}
