//! How a message quotes a value from the file. Messages name the value so
//! a dispatcher can find it, but a value can be a whole 50 MB line: quoted
//! whole it fills the terminal, the log and the report's reason column. So
//! a long value is cut to a short prefix with its length, and a control
//! character is shown escaped, never written raw to a terminal. The file
//! itself is named by its file name, without the directory.

use std::path::Path;

/// Values up to this many characters are quoted whole.
const WHOLE: usize = 60;
/// How much of a longer value is quoted.
const PREFIX: usize = 40;

/// A value as messages quote it: `` `value` ``, or for a long one
/// `` `first forty characters…` (5000000 characters) ``.
pub fn echo(value: &str) -> String {
    let shown = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_debug().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    };
    match value.char_indices().nth(WHOLE) {
        None => format!("`{}`", shown(value)),
        Some(_) => cut(&shown(prefix(value)), value.chars().count()),
    }
}

fn prefix(s: &str) -> &str {
    s.char_indices().nth(PREFIX).map_or(s, |(i, _)| &s[..i])
}

fn cut(prefix: &str, chars: usize) -> String {
    format!("`{prefix}…` ({chars} characters)")
}

/// A path as messages name it: its file name, without the directory.
pub(super) fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `message` with every long value of `values` that it quotes whole (as
/// `` `value` ``, trimmed or `escape_debug`ged, the ways validation quotes
/// them) cut as [`echo`] cuts it. Validation quotes the value it judged; this
/// bounds what it wrote without each rule having to know the limit.
pub fn shorten_quoted(message: &str, values: &[&str]) -> Option<String> {
    let mut out: Option<String> = None;
    for &value in values {
        if value.char_indices().nth(WHOLE).is_none() {
            continue;
        }
        let trimmed = value.trim();
        let escaped = value.escape_debug().to_string();
        for quoted in [trimmed, value, escaped.as_str()] {
            if quoted.char_indices().nth(WHOLE).is_none() {
                continue;
            }
            let whole = format!("`{quoted}`");
            let text = out.as_deref().unwrap_or(message);
            if text.contains(&whole) {
                let short = cut(prefix(quoted), trimmed.chars().count());
                out = Some(text.replace(&whole, &short));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{echo, shorten_quoted};

    #[test]
    fn short_values_are_quoted_whole_and_long_ones_cut() {
        assert_eq!(echo("Müller"), "`Müller`");
        assert_eq!(echo("a\u{0}b"), "`a\\0b`");
        let long = "9".repeat(5_000_000);
        let e = echo(&long);
        assert_eq!(e, format!("`{}…` (5000000 characters)", "9".repeat(40)));
        let sixty = "é".repeat(60);
        assert_eq!(echo(&sixty), format!("`{sixty}`"));
        let e = echo(&"é".repeat(61));
        assert!(e.ends_with("…` (61 characters)"), "{e}");
    }

    #[test]
    fn a_message_quoting_a_long_value_is_cut() {
        let phone = format!(" {} ", "9".repeat(1000));
        let msg = format!("partner_phone: `{}` has 1000 digits", phone.trim());
        let short = shorten_quoted(&msg, &["ok", &phone]).expect("cut");
        assert_eq!(
            short,
            format!(
                "partner_phone: `{}…` (1000 characters) has 1000 digits",
                "9".repeat(40)
            )
        );
        let junk = "\u{200b}".repeat(100);
        let msg = format!("x: `{}` has only invisible", junk.escape_debug());
        let short = shorten_quoted(&msg, &[&junk]).expect("cut");
        assert!(
            short.ends_with("…` (100 characters) has only invisible"),
            "{short}"
        );
        assert_eq!(shorten_quoted("nothing quoted", &[&junk]), None);
        assert_eq!(shorten_quoted("`ok`", &["ok"]), None);
    }
}
