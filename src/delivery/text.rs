//! Cleaning a text parameter so WhatsApp accepts it (error 132018: no
//! newline, tab or run of more than four spaces), while noting what changed
//! so the report can say why the sent text differs from the file.

/// Cleans a text parameter so WhatsApp accepts it (no newline, tab or run of
/// more than four spaces: error 132018). Returns the cleaned text and whether
/// anything changed beyond trimming.
pub fn clean_text(s: &str) -> (String, bool) {
    let c = clean_detailed(s);
    let changed = c.text != s.trim();
    (c.text, changed)
}

#[derive(Debug, Default)]
pub(super) struct Cleaned {
    pub(super) text: String,
    line_breaks: bool,
    tabs: bool,
    long_runs: bool,
    odd_spaces: bool,
    controls: bool,
    invisible: bool,
}

impl Cleaned {
    /// A note for the report, or `None` when only trimming happened.
    pub(super) fn describe(&self) -> Option<String> {
        let mut what = Vec::new();
        if self.line_breaks {
            what.push("line breaks");
        }
        if self.tabs {
            what.push("tabs");
        }
        if self.controls {
            what.push("control characters");
        }
        if self.long_runs {
            what.push("runs of more than four spaces");
        }
        let mut parts = Vec::new();
        if !what.is_empty() {
            parts.push(format!("{} folded to one space", what.join(", ")));
        }
        if self.odd_spaces {
            parts.push("non-breaking or other Unicode spaces made plain".to_string());
        }
        if self.invisible {
            parts.push("invisible zero-width characters removed".to_string());
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Keep,
    Space,
    Odd,
    Break,
    Tab,
    Control,
    Drop,
}

fn classify(c: char) -> Class {
    match c {
        ' ' => Class::Space,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => Class::Break,
        '\t' => Class::Tab,
        // Zero-width space, word joiner and a stray BOM are invisible junk
        // from copy-paste. ZWJ (U+200D) is kept: emoji sequences need it.
        '\u{200B}' | '\u{2060}' | '\u{FEFF}' => Class::Drop,
        c if c.is_whitespace() => Class::Odd,
        c if c.is_control() => Class::Control,
        _ => Class::Keep,
    }
}

pub(super) fn clean_detailed(s: &str) -> Cleaned {
    let mut out = Cleaned {
        text: String::with_capacity(s.len()),
        ..Cleaned::default()
    };
    // A run is a stretch of whitespace-like characters between visible ones;
    // it is judged as a whole because WhatsApp only objects to runs that
    // contain a break or tab or are longer than four spaces. Runs before the
    // first and after the last visible character are trimming, which is not
    // worth a note.
    let mut run = Run::default();
    let mut seen_visible = false;
    for c in s.chars() {
        match classify(c) {
            Class::Keep => {
                if seen_visible {
                    run.flush_into(&mut out);
                }
                run = Run::default();
                seen_visible = true;
                out.text.push(c);
            }
            Class::Drop => out.invisible = true,
            class => run.add(class),
        }
    }
    out
}

/// Whitespace seen since the last visible character.
#[derive(Default)]
struct Run {
    len: usize,
    line_breaks: bool,
    tabs: bool,
    controls: bool,
    odd_spaces: bool,
}

impl Run {
    fn add(&mut self, class: Class) {
        self.len += 1;
        match class {
            Class::Break => self.line_breaks = true,
            Class::Tab => self.tabs = true,
            Class::Control => self.controls = true,
            Class::Odd => self.odd_spaces = true,
            Class::Space | Class::Keep | Class::Drop => {}
        }
    }

    fn flush_into(&self, out: &mut Cleaned) {
        if self.len == 0 {
            return;
        }
        let fold = self.line_breaks || self.tabs || self.controls;
        out.line_breaks |= self.line_breaks;
        out.tabs |= self.tabs;
        out.controls |= self.controls;
        if fold || self.len > 4 {
            out.long_runs |= !fold;
            out.text.push(' ');
        } else {
            out.odd_spaces |= self.odd_spaces;
            out.text.extend(std::iter::repeat_n(' ', self.len));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::clean_text;
    use proptest::prelude::*;

    #[test]
    fn clean_text_cases() {
        assert_eq!(clean_text("  plain  "), ("plain".to_string(), false));
        assert_eq!(clean_text("a\nb"), ("a b".to_string(), true));
        assert_eq!(clean_text("a\r\n\r\nb"), ("a b".to_string(), true));
        assert_eq!(clean_text("a\tb"), ("a b".to_string(), true));
        assert_eq!(clean_text("a \t b"), ("a b".to_string(), true));
        assert_eq!(clean_text("a     b"), ("a b".to_string(), true));
        assert_eq!(clean_text("a    b"), ("a    b".to_string(), false));
        assert_eq!(clean_text("a\u{a0}b"), ("a b".to_string(), true));
        assert_eq!(clean_text("a\u{202f}\u{2003}b"), ("a  b".to_string(), true));
        assert_eq!(clean_text("\u{a0}x\u{a0}"), ("x".to_string(), false));
        assert_eq!(clean_text("x\u{200b}y"), ("xy".to_string(), true));
        assert_eq!(
            clean_text("👩\u{200d}💻"),
            ("👩\u{200d}💻".to_string(), false)
        );
        assert_eq!(clean_text("line\n"), ("line".to_string(), false));
        for s in ["a\n\tb", "x     y", "p\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}q"] {
            let (once, _) = clean_text(s);
            assert_eq!(clean_text(&once), (once.clone(), false), "{s:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any text at all: cleaning never panics, never leaves a newline,
        /// a tab or five spaces in a row, and cleaning again changes nothing.
        #[test]
        fn clean_text_any_input(s in any::<String>()) {
            let (once, _) = clean_text(&s);
            prop_assert!(!once.contains(['\n', '\r', '\t']));
            prop_assert!(!once.contains("     "));
            prop_assert_eq!(clean_text(&once), (once.clone(), false));
        }

        #[test]
        fn clean_text_is_idempotent_and_safe(
            s in "[a-z \t\n\r\u{a0}\u{2003}\u{200b}]{0,40}"
        ) {
            let (once, _) = clean_text(&s);
            prop_assert!(!once.contains('\n'));
            prop_assert!(!once.contains('\t'));
            prop_assert!(!once.contains("     "));
            prop_assert_eq!(clean_text(&once), (once.clone(), false));
        }
    }
}
