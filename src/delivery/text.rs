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

/// A value cleaned for WhatsApp, and what cleaning changed beyond trimming.
#[derive(Debug, Default)]
pub(super) struct Cleaned {
    pub(super) text: String,
    /// What was folded to one space, by [`Fold`].
    folded: [bool; 4],
    /// Non-breaking or other Unicode spaces made plain.
    odd_spaces: bool,
    /// Zero-width characters removed.
    invisible: bool,
}

/// What a run of whitespace is folded to one space for, in the order the
/// note names them.
#[derive(Clone, Copy)]
enum Fold {
    LineBreaks,
    Tabs,
    Controls,
    LongRuns,
}

/// How the note names each [`Fold`].
const FOLDED: [&str; 4] = [
    "line breaks",
    "tabs",
    "control characters",
    "runs of more than four spaces",
];

impl Cleaned {
    /// A note for the report, or `None` when only trimming happened.
    pub(super) fn describe(&self) -> Option<String> {
        let folded: Vec<&str> = FOLDED
            .into_iter()
            .zip(self.folded)
            .filter_map(|(what, done)| done.then_some(what))
            .collect();
        let mut parts = Vec::new();
        if !folded.is_empty() {
            parts.push(format!("{} folded to one space", folded.join(", ")));
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

#[derive(Clone, Copy)]
enum Class {
    Keep,
    Space,
    /// A Unicode space other than U+0020.
    Odd,
    /// Whitespace WhatsApp refuses, folded with its run.
    Folded(Fold),
    Drop,
}

fn classify(c: char) -> Class {
    match c {
        ' ' => Class::Space,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
            Class::Folded(Fold::LineBreaks)
        }
        '\t' => Class::Folded(Fold::Tabs),
        // Zero-width space, word joiner and a stray BOM are invisible junk
        // from copy-paste. ZWJ (U+200D) is kept: emoji sequences need it.
        '\u{200B}' | '\u{2060}' | '\u{FEFF}' => Class::Drop,
        c if c.is_whitespace() => Class::Odd,
        c if c.is_control() => Class::Folded(Fold::Controls),
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
    // worth a note. The run so far: its length, what it would be folded
    // for, and whether it has odd spaces.
    let (mut len, mut folds, mut odd) = (0, [false; 4], false);
    let mut seen_visible = false;
    for c in s.chars() {
        match classify(c) {
            Class::Keep => {
                let fold = folds.contains(&true);
                if seen_visible && (fold || len > 4) {
                    folds[Fold::LongRuns as usize] = !fold;
                    for (done, f) in out.folded.iter_mut().zip(folds) {
                        *done |= f;
                    }
                    out.text.push(' ');
                } else if seen_visible {
                    out.odd_spaces |= odd;
                    out.text.extend(std::iter::repeat_n(' ', len));
                }
                (len, folds, odd) = (0, [false; 4], false);
                seen_visible = true;
                out.text.push(c);
            }
            Class::Drop => out.invisible = true,
            class => {
                len += 1;
                odd |= matches!(class, Class::Odd);
                if let Class::Folded(f) = class {
                    folds[f as usize] = true;
                }
            }
        }
    }
    out
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
