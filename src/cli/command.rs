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
    /// The nightly job: message each partner, follow, reconcile.
    ///
    /// Validate the deliveries CSV, send each partner the WhatsApp
    /// template, track every message, write the reconciliation.
    #[command(after_help = RUN_EXAMPLES, after_long_help = RUN_EXAMPLES_LONG)]
    Run(RunArgs),
    /// Send again the rows of a corrected reconciliation.
    ///
    /// Sends the rows whose outcome allows it (failed, rejected, invalid,
    /// skipped), using the data in that file; a failed row only when its
    /// data changed or its error may pass.
    #[command(after_help = RERUN_EXAMPLES, after_long_help = RERUN_EXAMPLES_LONG)]
    Rerun(RerunArgs),
    /// Follow the messages not final yet and rewrite the report.
    ///
    /// Polls the statuses of messages not final yet (the morning after) and
    /// rewrites the report.
    #[command(after_help = TRACK_EXAMPLES)]
    Track(TrackArgs),
    /// List the ledger's runs; reads the ledger only.
    ///
    /// One line per run: kind, input, start, end, exit code, rows by
    /// outcome.
    #[command(after_help = RUNS_EXAMPLES)]
    Runs(RunsArgs),
    /// Write a past run's reconciliation again from the ledger.
    ///
    /// Writes any past run's reconciliation (CSV, workbook) again from the
    /// ledger alone; nothing is sent or polled.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// Everything the ledger holds for one order number.
    ///
    /// Every row, attempt, message and status the ledger holds for one
    /// order number, across nights.
    #[command(after_help = HISTORY_EXAMPLES)]
    History(HistoryArgs),
    /// List the phones never messaged: partners who refused our messages
    /// (131050) and phones suppressed by hand; `add` or `remove` one.
    Suppressions(SuppressionsArgs),
    /// Delete what old runs hold beyond what cross-night dedup needs.
    #[command(after_help = PRUNE_EXAMPLES)]
    Prune(PruneArgs),
    /// Copy the ledger with SQLite's online backup.
    ///
    /// Copies the ledger to PATH with SQLite's online backup; safe while a
    /// run writes.
    #[command(after_help = BACKUP_EXAMPLES)]
    Backup(BackupArgs),
    /// Show the ledger's size and what fills it.
    ///
    /// Shows the ledger's size and what fills it; `--vacuum` gives free
    /// pages back.
    #[command(after_help = LEDGER_EXAMPLES)]
    Ledger(LedgerArgs),
    /// Receive 1MSG's status pushes into the ledger.
    ///
    /// Receives 1MSG's status pushes for as long as it runs (Ctrl-C or
    /// SIGTERM ends it), recording them into the ledger for any run, so
    /// `handoff track` finds them final.
    #[command(after_help = RECEIVE_EXAMPLES)]
    Receive(ReceiveArgs),
    /// Run a local 1MSG API simulator in the foreground.
    ///
    /// For rehearsals and tests; stop it with Ctrl-C.
    #[command(after_help = SIMULATE_EXAMPLES)]
    Simulate(SimulateArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Examples:\n  handoff completions bash > /etc/bash_completion.d/handoff"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff), or write them all.
    ///
    /// `handoff man run > handoff-run.1`; or write every page with
    /// `--out-dir /usr/local/share/man/man1`.
    Man {
        /// The subcommand whose page to print (`handoff(1)` if none).
        subcommand: Option<String>,
        /// Write the pages (all of them, or the one named) into this
        /// directory as handoff.1, handoff-run.1, … instead of printing.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
    /// Print the effective settings of `handoff run`, and their sources.
    ///
    /// Where each setting comes from: a flag, the environment, the settings
    /// file or the default; the token redacted.
    Config {
        /// The settings file; default `handoff.toml` here, if there is one.
        #[arg(long)]
        config: Option<PathBuf>,
        /// `run` flags to include, as you would give them (after `--`).
        #[arg(last = true)]
        flags: Vec<String>,
    },
}

// The EXAMPLES of each command: `after_help` under `-h`, and the longer
// `after_long_help` under `--help`. Each line fits 80 columns.

const RUN_EXAMPLES: &str = "\
Examples:
  handoff run deliveries.csv --dry-run
  handoff run deliveries.csv --simulate
  handoff run deliveries.csv --channel 12345 --token-file /etc/handoff/token";

const RUN_EXAMPLES_LONG: &str = "\
Examples:
  # Check tonight's export and see the first messages; nothing is sent:
  handoff run deliveries.csv --dry-run
  # Rehearse the whole night against the built-in simulator:
  handoff run deliveries.csv --simulate
  # The nightly job, from cron: no message after 21:00, a workbook too:
  cd /srv/handoff && handoff run deliveries.csv --not-after 21:00 \\
    --channel 12345 --token-file /etc/handoff/token --xlsx report.xlsx -q
  # An export with its own headers and national phone numbers:
  handoff run export.xlsx --map order_number=\"Order No\" --default-country DE

More: `handoff man run` (exit codes, environment, files).";

const RERUN_EXAMPLES: &str = "\
Examples:
  handoff rerun reconciliation.csv --dry-run
  handoff rerun reconciliation.csv --only failed,invalid";

const RERUN_EXAMPLES_LONG: &str = "\
Examples:
  # Fix the phones in the report, then see what would go out:
  handoff rerun reconciliation.csv --dry-run
  # Send only the rows that failed or were invalid:
  handoff rerun reconciliation.csv --only failed,invalid
  # A report saved from Excel as a workbook, national numbers typed in:
  handoff rerun reconciliation.xlsx --default-country DE

More: `handoff man rerun` (exit codes, environment, files).";

const TRACK_EXAMPLES: &str = "\
Examples:
  handoff track
  handoff track --out /srv/handoff/reconciliation.csv --track-for 30m";

const RUNS_EXAMPLES: &str = "\
Examples:
  handoff runs
  handoff runs --ledger /srv/handoff/handoff.ledger.sqlite --json";

const REPORT_EXAMPLES: &str = "\
Examples:
  handoff report
  handoff report --run 12 --out run-12.csv --xlsx run-12.xlsx";

const HISTORY_EXAMPLES: &str = "\
Examples:
  handoff history 78-0
  handoff history 78-0 --ledger /srv/handoff/handoff.ledger.sqlite --json";

const PRUNE_EXAMPLES: &str = "\
Examples:
  handoff prune --ledger handoff.ledger.sqlite --older-than 400d --dry-run
  handoff prune --ledger /srv/handoff/handoff.ledger.sqlite --older-than 400d";

const BACKUP_EXAMPLES: &str = "\
Examples:
  handoff backup /backups/handoff.ledger.sqlite
  handoff backup /backups/ledger.sqlite --ledger /srv/handoff/ledger.sqlite";

const LEDGER_EXAMPLES: &str = "\
Examples:
  handoff ledger
  handoff ledger --ledger /srv/handoff/handoff.ledger.sqlite --vacuum";

const RECEIVE_EXAMPLES: &str = "\
Examples:
  handoff receive --listen 0.0.0.0:8088 --ledger /srv/handoff/ledger.sqlite";

const SIMULATE_EXAMPLES: &str = "\
Examples:
  handoff simulate --listen 127.0.0.1:8080
  handoff simulate --profile hostile --seed 7
  handoff simulate --scenario sim/scenarios/hostile.toml --webhook-drop 0.1";
