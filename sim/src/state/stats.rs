//! What `/__sim/stats` and `/{instance}/settings` read back.

use std::collections::BTreeMap;

use serde::Serialize;

/// Counters for `/__sim/stats`.
#[derive(Debug, Default, Clone, Serialize)]
pub(crate) struct Stats {
    /// Requests by route, then by answer (`200`, `429`, `dropped`, …).
    pub requests: BTreeMap<String, BTreeMap<String, u64>>,
    pub accepted: u64,
    /// `sent:false` answers by Meta code.
    pub refused_by_code: BTreeMap<String, u64>,
    /// Send requests refused because the channel rate was exceeded.
    pub rate_violations: u64,
    /// Send requests refused because one recipient was sent to too soon.
    pub pair_violations: u64,
    /// The most accepted sends in any one-second window.
    pub max_sends_in_one_second: u64,
    /// The most sendTemplate requests that passed validation in any
    /// one-second window, accepted or not.
    pub max_send_requests_in_one_second: u64,
    /// The smallest gap between two send requests (that passed validation)
    /// to one recipient, in milliseconds; null until a recipient got two.
    pub min_pair_spacing_ms: Option<f64>,
    /// The same for accepted sends only.
    pub min_accepted_pair_spacing_ms: Option<f64>,
    pub faults: BTreeMap<String, u64>,
    pub webhook_posts: u64,
    pub webhook_failures: u64,
    /// Acks not pushed (`webhooks.drop`).
    pub webhook_dropped: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Settings {
    pub webhook_url: Vec<String>,
    pub ack_notifications_on: bool,
    pub guaranteed_hooks: bool,
    pub raw_hooks: bool,
    // 1MSG spells these two in snake case, and POST settings takes them so.
    #[serde(rename = "template_analytics_enabled")]
    pub template_analytics_enabled: bool,
    #[serde(rename = "cta_url_link_tracking_opted_out")]
    pub cta_url_link_tracking_opted_out: bool,
}
