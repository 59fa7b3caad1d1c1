//! The webhook flags of the sending commands, and `handoff receive`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// Status pushes from 1MSG beside polling (see the README's tracking section).
#[derive(Debug, Clone, Default, Args)]
pub struct WebhookArgs {
    /// Receive 1MSG's status pushes on this address (e.g. 0.0.0.0:8088),
    /// started before the first send. Needs --webhook-url.
    #[arg(long, requires = "webhook_url")]
    pub webhook_listen: Option<SocketAddr>,
    /// The public URL 1MSG reaches the receiver at (your ingress or proxy),
    /// added to the channel's webhooks for the run and taken off at its end;
    /// the channel's other webhook URLs are kept.
    #[arg(long, requires = "webhook_listen")]
    pub webhook_url: Option<String>,
    /// A shared secret the receiver requires, as a path segment of the URL
    /// (…/hook/SECRET) or in the X-Handoff-Secret header; other requests
    /// get 401 and are counted.
    #[arg(long, env = "HANDOFF_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// Trust the webhook alone: never poll hookInfo. A message whose final
    /// ack is lost stays `pending` (see the README before using it).
    #[arg(long, requires = "webhook_listen")]
    pub no_poll: bool,
}

/// `handoff receive`.
#[derive(Debug, Clone, Args)]
pub struct ReceiveArgs {
    /// Where to listen for 1MSG's pushes (e.g. 0.0.0.0:8088).
    #[arg(long)]
    pub listen: SocketAddr,
    /// A shared secret required as a path segment or in X-Handoff-Secret.
    #[arg(long, env = "HANDOFF_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// The ledger the runs write (where the acks go).
    #[arg(long)]
    pub ledger: PathBuf,
    /// Warnings only.
    #[arg(long, short)]
    pub quiet: bool,
    /// Log lines as text or json (as `run --log-format`).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: super::LogFormat,
    /// The lowest level logged (error, warn, info, debug, trace).
    #[arg(long)]
    pub log_level: Option<tracing::Level>,
}
