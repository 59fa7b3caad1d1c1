//! The webhook flags of the sending commands, and `handoff receive`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::args::{LOG_FORMAT, LOG_FORMAT_LONG, LOG_LEVEL, LOGS, QUIET, QUIET_LONG};

/// Status pushes from 1MSG beside polling (see the README's tracking section).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = super::args::TRACKING)]
pub struct WebhookArgs {
    /// Receive 1MSG's status pushes on this address (e.g. 0.0.0.0:8088),
    /// started before the first send. Needs --webhook-url.
    #[arg(
        long,
        requires = "webhook_url",
        value_name = "ADDR",
        hide_short_help = true
    )]
    pub webhook_listen: Option<SocketAddr>,
    /// The public URL 1MSG reaches the receiver at (your ingress or proxy),
    /// added to the channel's webhooks for the run and taken off at its end;
    /// the channel's other webhook URLs are kept.
    #[arg(
        long,
        requires = "webhook_listen",
        value_name = "URL",
        hide_short_help = true
    )]
    pub webhook_url: Option<String>,
    /// A shared secret the receiver requires, as a path segment of the URL
    /// (…/hook/SECRET) or in the X-Handoff-Secret header; other requests
    /// get 401 and are counted.
    #[arg(long, env = "HANDOFF_WEBHOOK_SECRET", hide_env_values = true)]
    #[arg(value_name = "SECRET", hide_short_help = true)]
    pub webhook_secret: Option<String>,
    /// Trust the webhook alone: never poll hookInfo. A message whose final
    /// ack is lost stays `pending` (see the README before using it).
    #[arg(long, requires = "webhook_listen", hide_short_help = true)]
    pub no_poll: bool,
}

/// `handoff receive`.
#[derive(Debug, Clone, Args)]
pub struct ReceiveArgs {
    /// Where to listen for 1MSG's pushes (e.g. 0.0.0.0:8088).
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// A shared secret required as a path segment or in X-Handoff-Secret.
    #[arg(long, env = "HANDOFF_WEBHOOK_SECRET", hide_env_values = true)]
    #[arg(value_name = "SECRET")]
    pub webhook_secret: Option<String>,
    /// The ledger the runs write, where the acks go (required).
    ///
    /// Required, with no default: the receiver writes into it for as long
    /// as it runs, so it must be the very ledger the nights keep, named.
    #[arg(long, value_name = "FILE")]
    pub ledger: PathBuf,
    #[arg(long, short, help = QUIET, long_help = QUIET_LONG, help_heading = LOGS)]
    pub quiet: bool,
    #[arg(long, value_enum, default_value = "text", help_heading = LOGS)]
    #[arg(value_name = "FORMAT", hide_possible_values = true)]
    #[arg(help = LOG_FORMAT, long_help = LOG_FORMAT_LONG)]
    pub log_format: super::LogFormat,
    #[arg(long, value_name = "LEVEL", help_heading = LOGS, help = LOG_LEVEL)]
    pub log_level: Option<tracing::Level>,
}
