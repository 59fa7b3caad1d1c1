//! What the checks are measured against: the approved template, WhatsApp's
//! length limit, the default country and where the values came from. One
//! struct, so a customer with a different approved template does not need a
//! code change.

use super::Country;
use super::Directory;
use crate::input::{Field, Origin};

/// The approved template body; it must match what Meta approved so the
/// length check measures what WhatsApp will measure.
pub const DEFAULT_BODY: &str = "Hello, {{1}}! Order #{{2}} for \"{{3}}\" has been delivered to your partner pickup point. {{4}}.";

/// WhatsApp's limit for a filled-in body (error 132005 beyond it).
pub const MAX_BODY_CHARS: usize = 1024;

/// What [`validate`](super::validate()) checks against; a struct so a
/// customer with a different approved template does not need a code change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Body text with `{{1}}`..`{{4}}`.
    pub body_template: String,
    /// Limit for the filled-in body, in UTF-16 code units.
    pub max_body_chars: usize,
    /// The country national numbers (`0151…`, `8 (912)…`) belong to, where
    /// the row names none in its country column; `None` refuses them.
    pub default_country: Option<Country>,
    /// Where the values come from, so every problem names the file and the
    /// column as the user sees them; `None` names the field only.
    pub origin: Option<Origin>,
    /// The partners file (`--partners`): a row's partner id names its
    /// partner's name and phone there.
    pub directory: Option<std::sync::Arc<Directory>>,
}

impl Rules {
    /// How a problem names the field: `partner_phone`, or with an origin
    /// `partner_phone (column "Mobile" of orders.csv)`.
    pub fn at(&self, f: Field) -> String {
        match &self.origin {
            None => f.name().to_string(),
            Some(o) => {
                let column = o.column(f).unwrap_or_default();
                format!("{f} (column {column:?} of {})", o.file)
            }
        }
    }
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            body_template: DEFAULT_BODY.to_string(),
            max_body_chars: MAX_BODY_CHARS,
            default_country: None,
            origin: None,
            directory: None,
        }
    }
}
