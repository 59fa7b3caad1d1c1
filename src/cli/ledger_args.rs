//! The flags of the commands that only read the ledger (`runs`, `report`,
//! `history`): they send nothing and need no credentials. Their `--ledger`
//! defaults to the one `run` keeps beside a report in the current folder,
//! as on `ledger` and `backup`.

use std::path::PathBuf;

use clap::Args;

use super::args::{LEDGER_HERE, OUTPUTS, QUIET, QUIET_LONG, RATE_CARD};

/// `--ledger` on the commands that read or keep the ledger without a
/// report of their own to find it beside.
pub(super) const LEDGER_READ: &str = "The ledger the runs wrote";
pub(super) const LEDGER_READ_LONG: &str = "The ledger (SQLite) the runs wrote. Default: \
    handoff.ledger.sqlite in the current folder, where `handoff run` keeps it beside a report \
    written there. A ledger that is not there is never created: the command says so and exits \
    66.";

/// Which ledger to read, and how to print.
#[derive(Debug, Clone, Args)]
pub struct LedgerReadArgs {
    #[arg(long, default_value = LEDGER_HERE, value_name = "FILE")]
    #[arg(help = LEDGER_READ, long_help = LEDGER_READ_LONG)]
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
    #[arg(long, value_name = "ID")]
    pub run: Option<i64>,
    #[arg(long, default_value = LEDGER_HERE, value_name = "FILE")]
    #[arg(help = LEDGER_READ, long_help = LEDGER_READ_LONG)]
    pub ledger: PathBuf,
    /// Where to write the reconciliation CSV; default
    /// `reconciliation-run-N.csv` here, so tonight's report is not replaced.
    #[arg(long, value_name = "FILE", help_heading = OUTPUTS)]
    pub out: Option<PathBuf>,
    /// Also write the workbook.
    #[arg(long, value_name = "FILE", help_heading = OUTPUTS)]
    pub xlsx: Option<PathBuf>,
    #[arg(long, value_name = "FILE", help_heading = OUTPUTS, help = RATE_CARD)]
    pub rate_card: Option<PathBuf>,
    /// The time zone (an IANA name such as Europe/Berlin) of the workbook's
    /// date cells; default the machine's, as for `run`.
    #[arg(long, value_name = "ZONE", help_heading = OUTPUTS)]
    pub timezone: Option<chrono_tz::Tz>,
    #[arg(long, short, help = QUIET, long_help = QUIET_LONG, help_heading = OUTPUTS)]
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
