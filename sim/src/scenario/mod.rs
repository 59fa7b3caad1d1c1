//! What a simulated channel looks like and how it misbehaves: identity,
//! templates, limits, latencies, faults, answer shapes and per-recipient
//! outcome rules.
//!
//! A scenario is a TOML file (`handoff simulate --scenario FILE`); every field
//! has a default, so an empty file is the default channel that
//! `handoff run --simulate` talks to. Flags override single fields on top.
//! Every variant of the real API is off by default; [`Scenario::hostile`]
//! (`--profile hostile`, `scenarios/hostile.toml`) turns on a mix.

mod answers;
mod channel;
mod profile;
mod rules;

use std::path::Path;

use serde::Deserialize;

pub use answers::{
    Auth, CountMismatch, FailedWord, History, HistoryBody, HistoryWrapper, HookShape, Hooks,
    ListShape, ROUTES, ReadWord, StatusCase, TemplatesList, UnknownMessage,
};
pub use channel::{Fault, Faults, Latency, Limits, RateMode};
pub use rules::{Outcome, Rule, TemplateSpec, builtin_rules, meta_error_title};

/// The body text of the seed's template; the simulator's default template and
/// the message our users' partners read.
pub const DEFAULT_BODY: &str = "Hello, {{1}}! Order #{{2}} for \"{{3}}\" has been delivered to your partner pickup point. {{4}}.";
pub const DEFAULT_TEMPLATE: &str = "partner_delivery_confirmation";
pub const DEFAULT_NAMESPACE: &str = "c4f1d2a0_5e7b_4a39_9d61_0a8e3b7c2f15";
pub const DEFAULT_INSTANCE: &str = "SIM0001";
pub const DEFAULT_TOKEN: &str = "sim-token";

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Seeds every random draw (faults, latencies, outcome probabilities), so
    /// a run against the same scenario and the same requests replays exactly.
    /// Wamids are not drawn from it alone: each simulator start adds its own
    /// random part, so a restarted simulator never repeats one.
    pub seed: u64,
    pub instance_id: String,
    pub token: String,
    /// `GET status` answers this (`connected`, `disconnected`, …). Anything
    /// but `connected` makes sendTemplate answer 200
    /// `{"sent":false,"message":"Channel is not connected"}`.
    pub channel_status: String,
    /// 422 `{"message":"The namespace field is required.","errors":{…}}`
    /// for a send without a namespace, or with another than the template's.
    pub require_namespace: bool,
    /// How a wrong number of template variables is refused.
    pub count_mismatch_as: CountMismatch,
    pub limits: Limits,
    pub latency: Latency,
    pub faults: Faults,
    pub templates_list: TemplatesList,
    pub history: History,
    pub hooks: Hooks,
    pub auth: Auth,
    pub webhooks: Webhooks,
    /// Replaces the default template list when non-empty.
    #[serde(rename = "template")]
    pub templates: Vec<TemplateSpec>,
    /// Evaluated in order; the first rule that matches a recipient decides.
    #[serde(rename = "rule")]
    pub rules: Vec<Rule>,
    /// When false, the built-in test-number rules (see [`builtin_rules`]) are
    /// not appended after the scenario's own rules.
    pub builtin_rules: bool,
    /// The phones `GET blockedUsers` lists (users blocked on the channel).
    pub blocked_users: Vec<String>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            seed: 1,
            instance_id: DEFAULT_INSTANCE.into(),
            token: DEFAULT_TOKEN.into(),
            channel_status: "connected".into(),
            require_namespace: false,
            count_mismatch_as: CountMismatch::Meta,
            limits: Limits::default(),
            latency: Latency::default(),
            faults: Faults::default(),
            templates_list: TemplatesList::default(),
            history: History::default(),
            hooks: Hooks::default(),
            auth: Auth::default(),
            webhooks: Webhooks::default(),
            templates: Vec::new(),
            rules: Vec::new(),
            builtin_rules: true,
            blocked_users: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Webhooks {
    /// Deliver each ack after a random extra delay, so acks can overtake
    /// each other.
    pub out_of_order: bool,
    /// Deliver every ack twice.
    pub duplicate: bool,
    /// The share of acks never pushed (0..1), each drawn on its own: the
    /// receiver's fallback, polling, must find those statuses.
    pub drop: f64,
}

impl Scenario {
    pub fn load(path: &Path) -> Result<Scenario, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("failed to read scenario `{}`: {e}", path.display()))?;
        Scenario::from_toml(&text)
            .map_err(|e| format!("failed to parse scenario `{}`: {e}", path.display()))
    }

    pub fn from_toml(text: &str) -> Result<Scenario, String> {
        let s: Scenario = toml::from_str(text).map_err(|e| e.to_string())?;
        s.check()?;
        Ok(s)
    }

    /// A preset by name: `default` or `hostile`.
    pub fn profile(name: &str) -> Result<Scenario, String> {
        match name {
            "default" => Ok(Scenario::default()),
            "hostile" => Ok(Scenario::hostile()),
            other => Err(format!(
                "no simulator profile `{other}`; choose default or hostile"
            )),
        }
    }

    /// What TOML cannot say about a scenario: the fault probabilities fit
    /// in one draw, the route names exist, a `/templates` failure is one the
    /// simulator can answer.
    pub fn check(&self) -> Result<(), String> {
        let sum: f64 = self.faults.table().iter().map(|(p, _)| p).sum();
        if let Some((p, fault)) = self
            .faults
            .table()
            .into_iter()
            .find(|(p, _)| !(0.0..=1.0).contains(p))
        {
            return Err(format!(
                "faults: probability {p} of {fault:?} is not between 0 and 1"
            ));
        }
        if sum > 1.0 + 1e-9 {
            return Err(format!(
                "faults: the probabilities add up to {sum}, more than 1"
            ));
        }
        for route in self.auth.header_routes.iter().flatten() {
            if !ROUTES.contains(&route.as_str()) {
                return Err(format!(
                    "auth.header_routes: no route `{route}`; the routes are {}",
                    ROUTES.join(", ")
                ));
            }
        }
        if !(0.0..=1.0).contains(&self.webhooks.drop) {
            return Err(format!(
                "webhooks.drop: {} is not between 0 and 1",
                self.webhooks.drop
            ));
        }
        const PRICING: [&str; 4] = [
            "regular",
            "free_customer_service",
            "free_entry_point",
            "none",
        ];
        if !PRICING.contains(&self.hooks.pricing.as_str()) {
            return Err(format!(
                "hooks.pricing: `{}` is not one of {}",
                self.hooks.pricing,
                PRICING.join(", ")
            ));
        }
        if ![429, 500, 502, 503, 504].contains(&self.templates_list.fail_status) {
            return Err(format!(
                "templates_list.fail_status: {} is not one of 429, 500, 502, 503, 504",
                self.templates_list.fail_status
            ));
        }
        Ok(())
    }

    /// The templates the channel owns: the scenario's, or the default one.
    pub fn template_list(&self) -> Vec<TemplateSpec> {
        if self.templates.is_empty() {
            vec![TemplateSpec::default()]
        } else {
            self.templates.clone()
        }
    }

    /// The scenario's rules followed by the built-in test numbers.
    pub fn all_rules(&self) -> Vec<Rule> {
        let mut rules = self.rules.clone();
        if self.builtin_rules {
            rules.extend(builtin_rules());
        }
        rules
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_template_counts_its_distinct_variables() {
        let with = |body: &str| {
            TemplateSpec {
                body: body.into(),
                ..TemplateSpec::default()
            }
            .variables()
        };
        assert_eq!(TemplateSpec::default().variables(), 4);
        assert_eq!(with("{{1}} and {{1}}"), 1);
        assert_eq!(with("no variables"), 0);
        assert_eq!(with("{{ 2 }} {{x}} {{3"), 1);
    }

    #[test]
    fn empty_file_is_the_default_channel() {
        let s = Scenario::from_toml("").unwrap();
        assert_eq!(s.instance_id, "SIM0001");
        assert_eq!(s.token, "sim-token");
        assert_eq!(s.limits.rate, 80);
        assert_eq!(s.limits.pair_interval, Duration::from_secs(6));
        assert_eq!(s.template_list()[0].name, DEFAULT_TEMPLATE);
    }

    #[test]
    fn parses_a_full_scenario() {
        let s = Scenario::from_toml(
            r#"
            seed = 7
            [limits]
            rate = 10
            rate_mode = "meta130429"
            pair_interval = "500ms"
            [latency]
            response = "5ms..10ms"
            read_ratio = 1.0
            [faults]
            drop_after = 0.1
            revoke_token_after = 3
            [templates_list]
            status_case = "upper"
            ignore_offset = true
            [[template]]
            name = "paused_one"
            status = "paused"
            [[rule]]
            phones = ["491511111111"]
            outcome = "failed"
            error = 131050
            [[rule]]
            phone_prefix = "44"
            fault = "5xx"
            times = 1
            "#,
        )
        .unwrap();
        assert_eq!(s.limits.rate_mode, RateMode::Meta130429);
        assert_eq!(s.latency.response.max, Duration::from_millis(10));
        assert_eq!(s.faults.revoke_token_after, Some(3));
        assert_eq!(s.templates[0].body, DEFAULT_BODY);
        assert_eq!(s.rules[1].fault, Some(Fault::Error5xx));
        assert!(s.rules[0].matches_phone("491511111111"));
        assert!(!s.rules[0].matches_phone("491511111112"));
        assert!(s.rules[1].matches_phone("447700900123"));
        assert_eq!(s.all_rules().len(), 2 + builtin_rules().len());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = Scenario::from_toml("[limits]\nrte = 3").unwrap_err();
        assert!(err.contains("rte"), "{err}");
    }
}
