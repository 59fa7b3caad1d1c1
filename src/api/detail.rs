//! The human text of an answer, as the report and the log show it: the
//! message of a JSON error body, the title of a proxy's HTML page instead
//! of the page, and never the token (a 403's plain text or a 400's echo
//! could carry it).

use serde_json::Value;

/// Fragments of the token at least this long are redacted too: 1MSG's 401
/// text echoes the token with only its ends masked (`xxx7i1crxjxpkxxx`).
const FRAGMENT: usize = 8;

/// The text of an error body: a JSON body's message, an HTML page's title,
/// or the raw text, shortened.
pub(super) fn error_text(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(v) => message_of(&v).unwrap_or_else(|| v.to_string()),
        Err(_) => {
            let raw = String::from_utf8_lossy(body);
            match html_title(&raw) {
                Some(title) => format!("an HTML page: {title}"),
                None if looks_like_html(&raw) => "an HTML page without a title".to_string(),
                None => raw.into_owned(),
            }
        }
    };
    shorten(text.trim(), 300)
}

/// `s` cut after `max` characters, with `…` where it was cut.
pub(super) fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

/// The human message of an error body, looking where 1MSG puts it:
/// `message`, then `error` as a string, then Meta's error object.
pub(super) fn message_of(v: &Value) -> Option<String> {
    if let Some(m) = v.get("message").and_then(Value::as_str) {
        return Some(m.to_string());
    }
    match v.get("error")? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => ["error_user_msg", "error_user_title", "message"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str))
            .map(str::to_string),
        _ => None,
    }
}

fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(200)
        .collect::<String>()
        .to_ascii_lowercase();
    head.trim_start().starts_with('<') && (head.contains("<html") || head.contains("<!doctype"))
}

/// The `<title>` of an HTML page, whitespace collapsed.
pub(super) fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let title = text
        .get(start..end)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!title.is_empty()).then(|| shorten(&title, 120))
}

/// `text` with `secret` (and every fragment of it of [`FRAGMENT`] or more
/// characters) replaced by `[REDACTED]`.
pub(super) fn redact(text: &str, secret: &str) -> String {
    let secret: Vec<char> = secret.chars().collect();
    if secret.is_empty() {
        return text.to_string();
    }
    let min = FRAGMENT.min(secret.len());
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        // A match of n characters implies one of n − 1, so grow n while
        // it matches: most positions fail at the first check.
        let fits = |n: usize| secret.windows(n).any(|w| w == &chars[i..i + n]);
        let most = secret.len().min(chars.len() - i);
        let longest = (min..=most).take_while(|&n| fits(n)).last();
        match longest {
            Some(n) => {
                out.push_str("[REDACTED]");
                i += n;
            }
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_page_becomes_its_title() {
        let page = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        assert_eq!(error_text(page), "an HTML page: 502 Bad Gateway");
        let cloudflare = b"<!DOCTYPE html>\n<html lang=\"en-US\"><head><TITLE>\n  api.1msg.io | 504: Gateway time-out\n</TITLE></head><body>...</body></html>";
        assert_eq!(
            error_text(cloudflare),
            "an HTML page: api.1msg.io | 504: Gateway time-out"
        );
        assert_eq!(
            error_text(b"<html><body>oops</body></html>"),
            "an HTML page without a title"
        );
        assert_eq!(error_text(b"Channel is blocked"), "Channel is blocked");
        assert_eq!(
            error_text(br#"{"error":"Too many requests"}"#),
            "Too many requests"
        );
    }

    #[test]
    fn the_token_and_its_fragments_are_redacted() {
        let token = "CANARY-secret-0123456789";
        assert_eq!(
            redact("refused CANARY-secret-0123456789 here", token),
            "refused [REDACTED] here"
        );
        assert_eq!(
            redact("Wrong token \"xxxRY-secret-01234xxx\"", token),
            "Wrong token \"xxx[REDACTED]xxx\""
        );
        assert_eq!(redact("nothing of it", token), "nothing of it");
        assert_eq!(redact("t0ken t0ke", "t0ken"), "[REDACTED] t0ke");
        assert_eq!(redact("anything", ""), "anything");
    }
}
