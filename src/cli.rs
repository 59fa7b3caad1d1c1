//! The command line: subcommands and flags. Each `///` comment is the
//! `--help` text. Nothing downstream sees clap: [`crate::app`] turns these
//! into validated settings.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::duration::Span;

#[derive(Debug, Parser)]
#[command(name = "handoff", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a local 1MSG API simulator in the foreground (for rehearsals and
    /// tests); stop it with Ctrl-C.
    Simulate(SimulateArgs),
}

fn duration(s: &str) -> Result<Duration, String> {
    crate::duration::parse(s)
}

fn span(s: &str) -> Result<Span, String> {
    Span::parse(s)
}

fn probability(s: &str) -> Result<f64, String> {
    let p: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number between 0 and 1"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("`{s}` is not between 0 and 1"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RateModeArg {
    /// HTTP 429 with Retry-After.
    Http429,
    /// HTTP 200 `sent:false` with Meta error 130429.
    Meta130429,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// A scenario file (TOML): templates, rules, limits, faults. Flags below
    /// override its fields.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// The channel (instance) id.
    #[arg(long)]
    pub channel: Option<String>,
    /// The channel's API token.
    #[arg(long)]
    pub token: Option<String>,
    /// Seed for every random draw.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Channel rate limit in accepted messages per second (0 = off).
    #[arg(long)]
    pub rate: Option<u32>,
    /// How the channel refuses sends beyond the rate.
    #[arg(long, value_enum)]
    pub rate_mode: Option<RateModeArg>,
    /// Minimum spacing between two messages to one recipient (0 = off).
    #[arg(long, value_parser = duration)]
    pub pair_interval: Option<Duration>,
    /// sendTemplate response latency, fixed (`50ms`) or a range (`20ms..200ms`).
    #[arg(long, value_parser = span)]
    pub response_latency: Option<Span>,
    /// Acceptance → sent latency.
    #[arg(long, value_parser = span)]
    pub sent_latency: Option<Span>,
    /// Sent → delivered latency.
    #[arg(long, value_parser = span)]
    pub delivered_latency: Option<Span>,
    /// Delivered → read latency.
    #[arg(long, value_parser = span)]
    pub read_latency: Option<Span>,
    /// Share of delivered messages that are read (0..1).
    #[arg(long, value_parser = probability)]
    pub read_ratio: Option<f64>,
    /// Probability of an HTTP 500 on sendTemplate (nothing accepted).
    #[arg(long, value_parser = probability)]
    pub error_5xx: Option<f64>,
    /// Probability of closing the connection before processing.
    #[arg(long, value_parser = probability)]
    pub drop_before: Option<f64>,
    /// Probability of accepting the message and then closing the connection.
    #[arg(long, value_parser = probability)]
    pub drop_after: Option<f64>,
    /// Probability of answering an accepted send only after --slow-delay.
    #[arg(long, value_parser = probability)]
    pub slow: Option<f64>,
    #[arg(long, value_parser = duration)]
    pub slow_delay: Option<Duration>,
    /// Probability of answering `{"sent":false,"jobId":…}` and sending later.
    #[arg(long, value_parser = probability)]
    pub queued: Option<f64>,
    /// After this many accepted sends, the token stops working.
    #[arg(long)]
    pub revoke_token_after: Option<u64>,
    /// Whether `GET messages` has history.
    #[arg(long, value_enum)]
    pub history: Option<OnOff>,
    /// `GET templates` answers statuses in upper case (APPROVED).
    #[arg(long)]
    pub upper_case_status: bool,
    /// `GET templates` ignores `offset`, as the real list sometimes does.
    #[arg(long)]
    pub ignore_offset: bool,
}
