//! `--profile hostile`: the real API as the product's docs/real-api.md says it may be, all
//! at once, in proportions a night of a few hundred sends meets several
//! times. `scenarios/hostile.toml` is the same scenario as a file
//! to copy and tune (a test keeps the two equal).

use std::time::Duration;

use super::{
    CountMismatch, Faults, History, HistoryBody, HistoryWrapper, HookShape, Hooks, ListShape,
    Outcome, Rule, Scenario, StatusCase, TemplatesList, Webhooks, builtin_rules,
};

impl Scenario {
    /// Every answer shape a correct client must read, and every doubt it
    /// must not turn into a second message:
    /// - sendTemplate: a namespace is required (422 without it), a count
    ///   mismatch is a 422, 429s carry no `Retry-After`; 2 % each accepted
    ///   with no id, without `sent`, with `sent:"true"`, under a numeric id,
    ///   queued; 1 % each with the id in `message`, queued with a numeric
    ///   jobId, an HTML 502 (not accepted), an HTML 504 (accepted);
    /// - auth: the `Authorization` header works only on sendTemplate and
    ///   templates (`?token=` everywhere);
    /// - templates: the first request answers 503; `APPROVED`, offset
    ///   ignored, `total` a string;
    /// - history: the template's name as body, 10 s lag, 100 a page, time
    ///   filters ignored, the list under `data`, 0/1 flags, `time` a string,
    ///   3 other messages in each chat;
    /// - hookInfo: loose types; 5 % viewed, 2 % each played, undelivered,
    ///   deleted after read, failed then read, read then failed;
    /// - webhooks: out of order and duplicated.
    ///
    /// The built-in test numbers keep their fates. 5xx, dropped and slow
    /// answers are left at 0 for a test to add on top.
    pub fn hostile() -> Scenario {
        let outcome = |outcome, error, probability| Rule {
            outcome: Some(outcome),
            error,
            probability: Some(probability),
            ..Rule::default()
        };
        let mut rules = builtin_rules();
        rules.extend([
            outcome(Outcome::Viewed, None, 0.05),
            outcome(Outcome::Played, None, 0.02),
            outcome(Outcome::Undelivered, Some(131026), 0.02),
            outcome(Outcome::Deleted, None, 0.02),
            outcome(Outcome::FailedThenRead, Some(131000), 0.02),
            outcome(Outcome::ReadThenFailed, Some(131000), 0.02),
        ]);
        let mut s = Scenario {
            seed: 12,
            require_namespace: true,
            count_mismatch_as: CountMismatch::Http422,
            faults: Faults {
                queued: 0.02,
                sent_no_id: 0.02,
                id_in_message: 0.01,
                no_sent_field: 0.02,
                sent_as_string: 0.02,
                numeric_id: 0.02,
                queued_numeric_job: 0.01,
                html_502: 0.01,
                html_504: 0.01,
                ..Faults::default()
            },
            templates_list: TemplatesList {
                status_case: StatusCase::Upper,
                ignore_offset: true,
                shape: ListShape::Object,
                total_as_string: true,
                fail_first: 1,
                fail_status: 503,
                ..TemplatesList::default()
            },
            history: History {
                enabled: true,
                body: HistoryBody::TemplateName,
                lag: Duration::from_secs(10),
                page_cap: 100,
                ignore_time_filter: true,
                wrapper: HistoryWrapper::Data,
                numeric_flags: true,
                time_as_string: true,
                others_in_chat: 3,
            },
            hooks: Hooks {
                shape: HookShape::LooseTypes,
                ..Hooks::default()
            },
            webhooks: Webhooks {
                out_of_order: true,
                duplicate: true,
                ..Webhooks::default()
            },
            rules,
            builtin_rules: false,
            ..Scenario::default()
        };
        s.limits.omit_retry_after = true;
        s.auth.header_routes = Some(vec!["sendTemplate".into(), "templates".into()]);
        s
    }
}
