//! The flags of the commands that only read the ledger (`runs`, `report`,
//! `history`): they send nothing and need no credentials.

use std::path::PathBuf;

use clap::Args;

/// Which ledger to read, and how to print.
#[derive(Debug, Clone, Args)]
pub struct LedgerReadArgs {
    /// The ledger (SQLite) the runs wrote.
    #[arg(long, default_value = "handoff.ledger.sqlite")]
    pub ledger: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub read: LedgerReadArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run whose reconciliation to write (see `handoff runs`); default
    /// the latest run or rerun.
    #[arg(long)]
    pub run: Option<i64>,
    /// Where to write the reconciliation CSV; default
    /// `reconciliation-run-N.csv` here, so tonight's report is not replaced.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write the workbook.
    #[arg(long)]
    pub xlsx: Option<PathBuf>,
    /// The ledger (SQLite) the runs wrote.
    #[arg(long, default_value = "handoff.ledger.sqlite")]
    pub ledger: PathBuf,
    /// The time zone (an IANA name such as Europe/Berlin) of the workbook's
    /// date cells; default the machine's, as for `run`.
    #[arg(long)]
    pub timezone: Option<chrono_tz::Tz>,
    /// Print the summary only as JSON on stdout (no table on stderr).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The order number (as in the deliveries file; spaces around it do not count).
    pub order: String,
    #[command(flatten)]
    pub read: LedgerReadArgs,
}

/// `handoff suppressions`: the phones never messaged.
#[derive(Debug, Args)]
pub struct SuppressionsArgs {
    #[command(subcommand)]
    pub change: Option<SuppressionChange>,
    /// The ledger (SQLite) the runs wrote.
    #[arg(long, default_value = "handoff.ledger.sqlite", global = true)]
    pub ledger: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// A person's word on one phone.
#[derive(Debug, clap::Subcommand)]
pub enum SuppressionChange {
    /// Suppress a phone by hand (international form, `+49 151 …`): no order
    /// to it is sent until it is removed.
    Add { phone: String },
    /// Lift a phone (the partner accepts our messages again): its refusals
    /// so far no longer count, and its next orders are sent.
    Remove { phone: String },
}
