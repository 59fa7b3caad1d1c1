//! The command line's top: the subcommands. Each `///` comment is the
//! `--help` text; the flags of each live in the `*_args` files beside it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use handoff_sim::cli::SimulateArgs;

use super::command_args::{RerunArgs, RunArgs, TrackArgs};
use super::ledger_args::{HistoryArgs, ReportArgs, RunsArgs, SuppressionsArgs};
use super::lifecycle_args::{BackupArgs, LedgerArgs, PruneArgs};
use super::webhook_args::ReceiveArgs;

#[derive(Debug, Parser)]
#[command(name = "handoff", version, about, long_about = None, args_override_self = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The nightly job: validate the deliveries CSV, send each partner the
    /// WhatsApp template, track every message, write the reconciliation.
    Run(RunArgs),
    /// Send again the rows of a reconciliation whose outcome allows it
    /// (failed, rejected, invalid, skipped), using the data in that file; a
    /// failed row only when its data changed or its error may pass.
    Rerun(RerunArgs),
    /// Poll the statuses of messages not final yet (the morning after) and
    /// rewrite the report.
    Track(TrackArgs),
    /// List the ledger's runs: kind, input, start, end, exit code, rows by
    /// outcome. Reads the ledger only.
    Runs(RunsArgs),
    /// Write any past run's reconciliation (CSV, workbook) again from the
    /// ledger alone; nothing is sent or polled.
    Report(ReportArgs),
    /// Every row, attempt, message and status the ledger holds for one
    /// order number, across nights.
    History(HistoryArgs),
    /// List the phones never messaged: partners who refused our messages
    /// (131050) and phones suppressed by hand; `add` or `remove` one.
    Suppressions(SuppressionsArgs),
    /// Delete what old runs hold beyond what cross-night dedup needs.
    Prune(PruneArgs),
    /// Copy the ledger to PATH with SQLite's online backup; safe while a run writes.
    Backup(BackupArgs),
    /// Show the ledger's size and what fills it; `--vacuum` gives free pages back.
    Ledger(LedgerArgs),
    /// Receive 1MSG's status pushes for as long as it runs (Ctrl-C or
    /// SIGTERM ends it), recording them into the ledger for any run, so
    /// `handoff track` finds them final.
    Receive(ReceiveArgs),
    /// Run a local 1MSG API simulator in the foreground (for rehearsals and
    /// tests); stop it with Ctrl-C.
    Simulate(SimulateArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff): `handoff man run > handoff-run.1`; or write
    /// every page with `--out-dir /usr/local/share/man/man1`.
    Man {
        /// The subcommand whose page to print (`handoff(1)` if none).
        subcommand: Option<String>,
        /// Write the pages (all of them, or the one named) into this
        /// directory as handoff.1, handoff-run.1, … instead of printing.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
    /// Print the effective settings of `handoff run` and where each comes
    /// from (flag, environment, settings file, default); the token redacted.
    Config {
        /// The settings file; default `handoff.toml` here, if there is one.
        #[arg(long)]
        config: Option<PathBuf>,
        /// `run` flags to include, as you would give them (after `--`).
        #[arg(last = true)]
        flags: Vec<String>,
    },
}
