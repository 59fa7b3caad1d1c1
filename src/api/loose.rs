//! Reading one JSON value the way 1MSG's answers need: the same field comes
//! as `true`, `1`, `"1"` or `"true"` from one deployment to the next, an id
//! as a string or a number, a time as a number or a string
//! (docs/real-api.md, A2, B1, B5). Each reader answers `None`
//! for a value it cannot read, so the caller decides what a missing field
//! means instead of the whole answer failing.

use serde_json::Value;

/// A boolean as 1MSG writes it: `true`/`false`, `1`/`0`, or those as text.
pub(crate) fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64()? {
            1 => Some(true),
            0 => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A text or a number as text (ids, codes); empty text is none.
pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A whole number, or a text that is one.
pub(crate) fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Unix seconds from a number or a text; a value too large to be seconds
/// is taken as milliseconds.
pub(crate) fn unix_seconds(v: &Value) -> Option<i64> {
    let n = match v {
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| f as i64),
        other => int(other),
    }?;
    Some(if n > 100_000_000_000 { n / 1000 } else { n })
}

/// The field `key` of an object, read by `read`.
pub(crate) fn field<T>(v: &Value, key: &str, read: impl Fn(&Value) -> Option<T>) -> Option<T> {
    v.get(key).and_then(read)
}

/// The first of the fields `keys` of an object that `read` can read.
pub(crate) fn first<T>(v: &Value, keys: &[&str], read: impl Fn(&Value) -> Option<T>) -> Option<T> {
    keys.iter().find_map(|k| field(v, k, &read))
}

/// A Meta error code written into a text as `(#131026)`.
pub(crate) fn code_in_text(text: &str) -> Option<i64> {
    let start = text.find("(#")? + 2;
    let end = start + text[start..].find(')')?;
    text[start..end].trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flags_in_every_spelling_seen() {
        for yes in [
            json!(true),
            json!(1),
            json!("1"),
            json!("true"),
            json!("TRUE"),
        ] {
            assert_eq!(flag(&yes), Some(true), "{yes}");
        }
        for no in [json!(false), json!(0), json!("0"), json!("false")] {
            assert_eq!(flag(&no), Some(false), "{no}");
        }
        for neither in [json!(null), json!(2), json!("maybe"), json!({})] {
            assert_eq!(flag(&neither), None, "{neither}");
        }
    }

    #[test]
    fn texts_ints_and_times() {
        assert_eq!(text(&json!(" wamid.1 ")).as_deref(), Some("wamid.1"));
        assert_eq!(text(&json!(42)).as_deref(), Some("42"));
        assert_eq!(text(&json!("")), None);
        assert_eq!(text(&json!(null)), None);
        assert_eq!(int(&json!("131026")), Some(131_026));
        assert_eq!(int(&json!(131026)), Some(131_026));
        assert_eq!(int(&json!("x")), None);
        assert_eq!(unix_seconds(&json!("1654864094")), Some(1_654_864_094));
        assert_eq!(unix_seconds(&json!(1654864094)), Some(1_654_864_094));
        assert_eq!(unix_seconds(&json!(1654864094123_i64)), Some(1_654_864_094));
        assert_eq!(unix_seconds(&json!("soon")), None);
        assert_eq!(code_in_text("(#131056) pair rate limit hit"), Some(131_056));
        assert_eq!(code_in_text("no code"), None);
    }
}
