//! The read-only endpoints: `hookInfo`, `templates`, `messages`, `status`
//! (the preflight probes routes with `get_value` itself). Each answer is
//! read leniently (`hooks.rs`, `history.rs`, `templates.rs`); an unreadable
//! item is counted, never fatal.

use std::collections::HashSet;

use serde_json::Value;

use super::classify::ApiError;
use super::client::Client;
use super::history::{HistoryPage, read_page};
pub(crate) use super::hooks::HookInfo;
use super::hooks::read_hooks;
use super::loose;
use super::templates::{TemplateInfo, read_templates};

/// Templates per `/templates` page, and pages at most (the vendor's n8n
/// node reads the same).
const TEMPLATE_PAGE: usize = 100;
const TEMPLATE_PAGES: usize = 20;

impl Client {
    /// The phones blocked on the channel (`GET blockedUsers`, 1MSG's newer
    /// SDKs), as international digits; `None` where the route is not
    /// offered. The item's shape is not documented, so a text, `wa_id`,
    /// `phone` or `chatId` (`…@c.us`) is read.
    pub(crate) async fn blocked_users(&self) -> Result<Option<Vec<String>>, ApiError> {
        let v = match self.get_value("blockedUsers", &[]).await {
            Ok(v) => v,
            Err(ApiError::Status {
                status: 404 | 405 | 501,
                ..
            }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let list = ["blockedUsers", "users", "data"]
            .iter()
            .find_map(|k| v.get(k))
            .unwrap_or(&v);
        let phone = |item: &Value| {
            let raw = match item {
                Value::Object(_) => loose::first(item, &["wa_id", "phone", "chatId"], loose::text),
                other => loose::text(other),
            }?;
            let digits: String = raw
                .split('@')
                .next()?
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            (digits.len() >= 7).then_some(digits)
        };
        Ok(Some(
            list.as_array()
                .into_iter()
                .flatten()
                .filter_map(phone)
                .collect(),
        ))
    }

    /// The statuses received so far for one message.
    pub(crate) async fn hook_info(&self, wamid: &str) -> Result<HookInfo, ApiError> {
        match self
            .get_value("hookInfo", &[("messageId", wamid.to_string())])
            .await
        {
            Ok(v) => Ok(read_hooks(&v)),
            Err(ApiError::Status { status: 404, .. }) => Ok(HookInfo {
                not_found: true,
                ..HookInfo::default()
            }),
            Err(e) => Err(e),
        }
    }

    /// Every template of the channel. Pages through `limit`/`offset` and
    /// stops when a page adds nothing new, because the real list sometimes
    /// ignores `offset` and answers the first page again. An `error` in an
    /// answer without templates is the API's failure, not an empty list.
    pub(crate) async fn templates(&self) -> Result<Vec<TemplateInfo>, ApiError> {
        let mut all: Vec<TemplateInfo> = Vec::new();
        let mut seen = HashSet::new();
        for page in 0..TEMPLATE_PAGES {
            let v = self
                .get_value(
                    "templates",
                    &[
                        ("limit", TEMPLATE_PAGE.to_string()),
                        ("offset", (page * TEMPLATE_PAGE).to_string()),
                    ],
                )
                .await?;
            let r = read_templates(&v).map_err(ApiError::Body)?;
            if let Some(error) = r.error {
                return Err(ApiError::Answered(error));
            }
            if r.skipped > 0 {
                tracing::warn!(
                    skipped = r.skipped,
                    "templates without a name in the /templates answer were ignored"
                );
            }
            let count = r.len();
            let mut added = 0;
            for t in r.templates {
                let key = format!("{}\u{0}{}", t.name, t.language_code().unwrap_or_default());
                if seen.insert(key) {
                    all.push(t);
                    added += 1;
                }
            }
            let total_reached = r.total.is_some_and(|t| all.len() as u64 >= t);
            if added == 0 || count < TEMPLATE_PAGE || total_reached {
                break;
            }
        }
        Ok(all)
    }

    /// One page of the history of one chat, oldest first, after message
    /// number `after` (the history's only reliable cursor), between two
    /// instants (unix seconds; not every deployment honours them).
    pub(crate) async fn messages_page(
        &self,
        phone: &str,
        (min_time, max_time): (i64, i64),
        after: Option<u64>,
        limit: usize,
    ) -> Result<HistoryPage, ApiError> {
        let mut query = vec![
            ("chatId", format!("{phone}@c.us")),
            ("min_time", min_time.to_string()),
            ("max_time", max_time.to_string()),
            ("limit", limit.to_string()),
        ];
        if let Some(n) = after {
            query.push(("lastMessageNumber", n.to_string()));
        }
        let v = self.get_value("messages", &query).await?;
        read_page(&v).map_err(ApiError::Body)
    }

    /// The channel's `status` word (`connected`, `disconnected`, …), or
    /// `None` when the answer names none.
    pub(crate) async fn status(&self) -> Result<Option<String>, ApiError> {
        let v = self.get_value("status", &[]).await?;
        Ok(loose::field(&v, "status", loose::text))
    }
}
