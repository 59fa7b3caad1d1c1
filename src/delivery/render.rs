//! The row that passed, and the message it becomes: filling the template is
//! kept in one place so the length check, the dry-run preview and the send
//! all see the same text.

/// A row that passed every check, with values exactly as they will be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The order number, trimmed (the unique key across runs).
    pub order_key: String,
    pub partner_name: String,
    /// Digits only, international form, no `+`.
    pub phone: String,
    pub order_number: String,
    pub product_name: String,
    pub delivery_note: String,
    /// What cleaning changed, so the report can say why the sent text
    /// differs from the file.
    pub notes: Vec<String>,
    /// What a person may want to check though nothing was changed (a phone
    /// outside the numbering plan's ranges): the report's `warnings`.
    pub warnings: Vec<String>,
    /// The template language to send in, when not `--language`: the
    /// partners file's contact's.
    pub language: Option<String>,
}

impl Delivery {
    /// Template parameters in `{{1}}`..`{{4}}` order.
    pub fn params(&self) -> [&str; 4] {
        [
            &self.partner_name,
            &self.order_number,
            &self.product_name,
            &self.delivery_note,
        ]
    }

    pub fn render(&self, body_template: &str) -> String {
        render(body_template, &self.params())
    }
}

/// Fills `{{1}}`..`{{n}}` in one left-to-right pass, so a parameter that
/// itself contains `{{2}}` is sent literally instead of being expanded. A
/// placeholder without a parameter is left as it is, which makes a template
/// and parameter count mismatch visible in a dry-run preview.
pub fn render(body_template: &str, params: &[&str]) -> String {
    let mut out = String::with_capacity(body_template.len() + 64);
    let mut rest = body_template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let param = if digits > 0 && after[digits..].starts_with("}}") {
            after[..digits]
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| params.get(i))
        } else {
            None
        };
        match param {
            Some(p) => {
                out.push_str(p);
                rest = &after[digits + 2..];
            }
            None => {
                // Advance one brace only, so `{{{1}}}` still fills `{{1}}`.
                out.push('{');
                rest = &rest[start + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::render;
    use crate::delivery::DEFAULT_BODY;

    #[test]
    fn render_fills_placeholders_once() {
        assert_eq!(
            render(DEFAULT_BODY, &["Ada", "A-1", "Chair", "Thanks"]),
            "Hello, Ada! Order #A-1 for \"Chair\" has been delivered to your partner pickup point. Thanks."
        );
        assert_eq!(render("{{1}} {{2}}", &["{{2}}", "x"]), "{{2}} x");
        assert_eq!(render("{{1}} {{3}} {{x}} {{", &["a"]), "a {{3}} {{x}} {{");
        assert_eq!(render("{{{1}}}", &["a"]), "{a}");
        assert_eq!(render("{{10}}", &["a"; 10]), "a");
    }
}
