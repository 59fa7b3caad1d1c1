//! `handoff simulate`: the simulator in the foreground, for rehearsals and
//! for benchmarks that need it in a process of its own.

use anyhow::{Context, Result};

use crate::cli::{OnOff, RateModeArg, SimulateArgs};
use crate::sim::{self, Scenario, scenario::RateMode};

/// The scenario file (or the default) with the flags applied on top.
pub(crate) fn scenario_from(args: &SimulateArgs) -> Result<Scenario> {
    let mut s = match &args.scenario {
        Some(path) => Scenario::load(path).map_err(anyhow::Error::msg)?,
        None => Scenario::default(),
    };
    macro_rules! set {
        ($flag:expr => $field:expr) => {
            if let Some(v) = $flag.clone() {
                $field = v;
            }
        };
    }
    set!(args.channel => s.instance_id);
    set!(args.token => s.token);
    set!(args.seed => s.seed);
    set!(args.rate => s.limits.rate);
    set!(args.pair_interval => s.limits.pair_interval);
    set!(args.response_latency => s.latency.response);
    set!(args.sent_latency => s.latency.sent);
    set!(args.delivered_latency => s.latency.delivered);
    set!(args.read_latency => s.latency.read);
    set!(args.read_ratio => s.latency.read_ratio);
    set!(args.error_5xx => s.faults.error_5xx);
    set!(args.drop_before => s.faults.drop_before);
    set!(args.drop_after => s.faults.drop_after);
    set!(args.slow => s.faults.slow);
    set!(args.slow_delay => s.faults.slow_delay);
    set!(args.queued => s.faults.queued);
    if let Some(mode) = args.rate_mode {
        s.limits.rate_mode = match mode {
            RateModeArg::Http429 => RateMode::Http429,
            RateModeArg::Meta130429 => RateMode::Meta130429,
        };
    }
    if args.revoke_token_after.is_some() {
        s.faults.revoke_token_after = args.revoke_token_after;
    }
    if let Some(h) = args.history {
        s.history.enabled = h == OnOff::On;
    }
    if args.upper_case_status {
        s.templates_list.status_case = sim::scenario::StatusCase::Upper;
    }
    if args.ignore_offset {
        s.templates_list.ignore_offset = true;
    }
    Ok(s)
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
        crate::duration::format(scenario.limits.pair_interval)
    );
    println!("  introspection: http://{addr}/__sim/messages  http://{addr}/__sim/stats");
    println!("Press Ctrl-C to stop.");
    sim::serve(listener, scenario, crate::signal::shutdown_signal()).await?;
    eprintln!("simulator stopped");
    Ok(())
}
