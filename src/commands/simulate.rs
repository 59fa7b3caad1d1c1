//! `handoff simulate`: the simulator in the foreground, for rehearsals and
//! for benchmarks that need it in a process of its own.

use anyhow::{Context, Result};

use crate::cli::{AnswerArgs, FaultArgs, OnOff, RateModeArg, SimulateArgs};
use handoff_sim::scenario::{RateMode, StatusCase};
use handoff_sim::{self as sim, Scenario};

/// Sets `$field` from an `Option` flag when the flag was given.
macro_rules! set {
    ($flag:expr => $field:expr) => {
        if let Some(v) = $flag.clone() {
            $field = v;
        }
    };
}

/// Turns `$field` on when a switch flag was given.
macro_rules! on {
    ($flag:expr => $field:expr) => {
        if $flag {
            $field = true;
        }
    };
}

/// The scenario file, the profile or the default, with the flags applied on
/// top, checked as a file would be.
pub(crate) fn scenario_from(args: &SimulateArgs) -> Result<Scenario> {
    let mut s = match (&args.scenario, &args.profile) {
        (Some(path), _) => Scenario::load(path).map_err(anyhow::Error::msg)?,
        (None, Some(name)) => Scenario::profile(name).map_err(anyhow::Error::msg)?,
        (None, None) => Scenario::default(),
    };
    set!(args.channel => s.instance_id);
    set!(args.token => s.token);
    set!(args.seed => s.seed);
    set!(args.rate => s.limits.rate);
    set!(args.pair_interval => s.limits.pair_interval);
    on!(args.omit_retry_after => s.limits.omit_retry_after);
    set!(args.response_latency => s.latency.response);
    set!(args.sent_latency => s.latency.sent);
    set!(args.delivered_latency => s.latency.delivered);
    set!(args.read_latency => s.latency.read);
    set!(args.read_ratio => s.latency.read_ratio);
    set!(args.webhook_drop => s.webhooks.drop);
    on!(args.webhook_out_of_order => s.webhooks.out_of_order);
    on!(args.webhook_duplicate => s.webhooks.duplicate);
    if let Some(mode) = args.rate_mode {
        s.limits.rate_mode = match mode {
            RateModeArg::Http429 => RateMode::Http429,
            RateModeArg::Meta130429 => RateMode::Meta130429,
        };
    }
    apply_faults(&args.faults, &mut s);
    apply_answers(&args.answers, &mut s);
    s.check().map_err(anyhow::Error::msg)?;
    Ok(s)
}

fn apply_faults(f: &FaultArgs, s: &mut Scenario) {
    let faults = &mut s.faults;
    set!(f.error_5xx => faults.error_5xx);
    set!(f.drop_before => faults.drop_before);
    set!(f.drop_after => faults.drop_after);
    set!(f.slow => faults.slow);
    set!(f.slow_delay => faults.slow_delay);
    set!(f.queued => faults.queued);
    set!(f.queued_delay => faults.queued_delay);
    set!(f.queued_numeric_job => faults.queued_numeric_job);
    set!(f.sent_no_id => faults.sent_no_id);
    set!(f.id_in_message => faults.id_in_message);
    set!(f.no_sent_field => faults.no_sent_field);
    set!(f.sent_as_string => faults.sent_as_string);
    set!(f.numeric_id => faults.numeric_id);
    set!(f.html_502 => faults.html_502);
    set!(f.html_504 => faults.html_504);
    if f.revoke_token_after.is_some() {
        faults.revoke_token_after = f.revoke_token_after;
    }
    if f.disconnect_after.is_some() {
        faults.disconnect_after = f.disconnect_after;
    }
}

fn apply_answers(a: &AnswerArgs, s: &mut Scenario) {
    set!(a.channel_status => s.channel_status);
    on!(a.require_namespace => s.require_namespace);
    set!(a.count_mismatch_as => s.count_mismatch_as);
    if a.header_routes.is_some() {
        s.auth.header_routes.clone_from(&a.header_routes);
    }
    let h = &mut s.history;
    if let Some(on) = a.history {
        h.enabled = on == OnOff::On;
    }
    set!(a.history_body => h.body);
    set!(a.history_lag => h.lag);
    set!(a.history_page_cap => h.page_cap);
    on!(a.history_ignore_time_filter => h.ignore_time_filter);
    set!(a.history_wrapper => h.wrapper);
    on!(a.history_numeric_flags => h.numeric_flags);
    on!(a.history_time_as_string => h.time_as_string);
    set!(a.history_others_in_chat => h.others_in_chat);
    let hooks = &mut s.hooks;
    set!(a.hooks_shape => hooks.shape);
    set!(a.read_as => hooks.read_as);
    set!(a.failed_as => hooks.failed_as);
    on!(a.deleted_after_read => hooks.deleted_after_read);
    on!(a.hooks_not_found => hooks.not_found_for_all);
    let list = &mut s.templates_list;
    if a.upper_case_status {
        list.status_case = StatusCase::Upper;
    }
    on!(a.ignore_offset => list.ignore_offset);
    set!(a.templates_shape => list.shape);
    on!(a.templates_total_as_string => list.total_as_string);
    on!(a.templates_error_object => list.error_object);
    set!(a.templates_fail_first => list.fail_first);
    set!(a.templates_fail_status => list.fail_status);
}

pub(crate) async fn run(args: SimulateArgs) -> Result<()> {
    let scenario = scenario_from(&args)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("failed to listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("1MSG simulator listening");
    println!("  base URL:  http://{addr}");
    println!("  instance:  {}", scenario.instance_id);
    println!("  token:     {}", scenario.token);
    for t in scenario.template_list() {
        println!(
            "  template:  {} (language {}, namespace {}, status {})",
            t.name, t.language, t.namespace, t.status
        );
    }
    println!(
        "  limits:    {} msg/s, one message per {} to a recipient",
        scenario.limits.rate,
        handoff_sim::duration::format(scenario.limits.pair_interval)
    );
    if let Some(profile) = &args.profile {
        println!("  profile:   {profile}");
    }
    println!("  introspection: http://{addr}/__sim/messages  http://{addr}/__sim/stats");
    println!("Press Ctrl-C to stop.");
    sim::serve(listener, scenario, crate::signal::shutdown_signal()).await?;
    eprintln!("simulator stopped");
    Ok(())
}
