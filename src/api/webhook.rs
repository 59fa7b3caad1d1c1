//! The channel's webhook registration: `GET/POST webhook` and the
//! `ackNotificationsOn` setting. `POST webhook` replaces the whole list (at
//! most five URLs) and rejects an empty one, so adding ours means reading
//! the list first, and an empty list is cleared through `POST settings`
//! (1MSG's webhook settings). `GET webhook` may answer a string, an
//! array or a comma-separated string.

use serde_json::{Value, json};

use super::classify::ApiError;
use super::client::Client;
use super::loose;

/// The most webhook URLs a channel takes.
pub(crate) const MAX_WEBHOOK_URLS: usize = 5;

/// `webhookUrl` in any of its documented spellings, trimmed, empty ones dropped.
pub(crate) fn read_urls(v: Option<&Value>) -> Vec<String> {
    let urls: Vec<&str> = match v {
        Some(Value::String(s)) => s.split(',').collect(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    urls.into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Client {
    /// The channel's webhook URLs.
    pub(crate) async fn webhook_urls(&self) -> Result<Vec<String>, ApiError> {
        let v = self.get_value("webhook", &[]).await?;
        Ok(read_urls(v.get("webhookUrl")))
    }

    /// Replaces the channel's webhook URLs with `urls`; an empty list is
    /// cleared through the settings, since `POST webhook` refuses it.
    pub(crate) async fn set_webhook_urls(&self, urls: &[String]) -> Result<(), ApiError> {
        if urls.is_empty() {
            self.post_value("settings", &json!({"webhookUrl": ""}))
                .await?;
        } else {
            self.post_value("webhook", &json!({"webhookUrl": urls}))
                .await?;
        }
        Ok(())
    }

    /// Whether status acks are pushed (`ackNotificationsOn`); `None` when
    /// the settings do not say.
    pub(crate) async fn ack_notifications(&self) -> Result<Option<bool>, ApiError> {
        let v = self.get_value("settings", &[]).await?;
        Ok(loose::field(&v, "ackNotificationsOn", loose::flag))
    }

    /// Switches status acks on or off.
    pub(crate) async fn set_ack_notifications(&self, on: bool) -> Result<(), ApiError> {
        self.post_value("settings", &json!({"ackNotificationsOn": on}))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_the_list() {
        assert_eq!(read_urls(None), Vec::<String>::new());
        assert_eq!(read_urls(Some(&json!(""))), Vec::<String>::new());
        assert_eq!(read_urls(Some(&json!("https://a"))), ["https://a"]);
        assert_eq!(
            read_urls(Some(&json!("https://a, https://b"))),
            ["https://a", "https://b"]
        );
        assert_eq!(
            read_urls(Some(&json!(["https://a", "", 7, "https://b"]))),
            ["https://a", "https://b"]
        );
        assert_eq!(read_urls(Some(&json!(null))), Vec::<String>::new());
    }
}
