//! Status pushes: when a webhook URL is registered and `ackNotificationsOn`
//! is set, every status change of a message is POSTed as
//! `{"instanceId":…,"ack":[…]}`, optionally out of order and twice, the way
//! production users have seen 1MSG deliver them, and some never (`drop`).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};

use super::scenario::meta_error_title;
use super::state::{Message, PlannedHook, SimState};

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default()
    })
}

/// Starts pushing the statuses of `wamid` if webhooks are on right now.
/// Settings are checked again before each push, so turning acks off stops
/// the pushes of messages already in flight.
pub(crate) fn schedule(state: &Arc<SimState>, wamid: &str) {
    {
        let inner = state.lock();
        if inner.settings.webhook_url.is_empty() || !inner.settings.ack_notifications_on {
            return;
        }
    }
    let Some(message) = state.message(wamid) else {
        return;
    };
    let state = Arc::clone(state);
    let options = state.scenario.webhooks.clone();
    for hook in message.plan.clone() {
        let state = Arc::clone(&state);
        let message = message.clone();
        if options.drop > 0.0 && state.draw() < options.drop {
            state.lock().stats.webhook_dropped += 1;
            continue;
        }
        let extra = if options.out_of_order {
            Duration::from_millis((state.draw() * 1500.0) as u64)
        } else {
            Duration::ZERO
        };
        tokio::spawn(async move {
            let due = tokio::time::Instant::from_std(message.accepted_instant) + hook.after + extra;
            tokio::time::sleep_until(due).await;
            let urls = {
                let inner = state.lock();
                if !inner.settings.ack_notifications_on {
                    return;
                }
                inner.settings.webhook_url.clone()
            };
            let ack = ack_json(&message, &hook);
            let payload = json!({"instanceId": state.scenario.instance_id, "ack": [ack]});
            let copies = if options.duplicate { 2 } else { 1 };
            for _ in 0..copies {
                for url in &urls {
                    let ok = client()
                        .post(url)
                        .json(&payload)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    let mut inner = state.lock();
                    if ok {
                        inner.stats.webhook_posts += 1;
                    } else {
                        inner.stats.webhook_failures += 1;
                    }
                }
            }
        });
    }
}

/// One status of `message` as 1MSG's normalized ack item (EB's production
/// capture): the shape of a webhook push, and of hookInfo with
/// `hooks.shape = "normalized_ack"`.
pub(crate) fn ack_json(message: &Message, hook: &PlannedHook) -> Value {
    let mut ack = json!({
        "id": message.wamid,
        "status": hook.status,
        "chatId": format!("{}@c.us", message.phone),
        "phone": message.phone,
        "bsuid": null,
        "category": "utility",
        "userName": null,
    });
    if let Some(code) = hook.error {
        // The failed ack carries Meta's error as human text, not a code.
        ack["error"] = json!(meta_error_title(code));
    }
    ack
}
