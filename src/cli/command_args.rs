//! The flags of the commands that send or track (`run`, `rerun`, `track`):
//! kept apart from [`super::args`] so that neither file outgrows a reading.

use std::path::PathBuf;

use clap::Args;

use super::args::{ApiArgs, OutputArgs, PollArgs, SendArgs};
use super::args::{INPUT, OUTPUTS, SENDING, TRACKING};
use super::args::{delimiter, mapping};
use super::webhook_args::WebhookArgs;

#[derive(Debug, Args)]
#[command(mut_arg("default_country", |a| a.long_help(RUN_COUNTRY)))]
pub struct RunArgs {
    /// The deliveries CSV (or workbook) exported by the TMS/OMS.
    pub input: PathBuf,
    /// Which column holds a field; repeatable
    ///
    /// For example --map order_number="Order No". Fields: partner_name, partner_phone, order_number, product_name,
    /// delivery_note, and country (each row's phone country, a region or a
    /// calling code; read only when mapped, e.g. --map country="Country"),
    /// and with --partners partner_id.
    #[arg(long = "map", value_parser = mapping, value_name = "FIELD=COLUMN")]
    #[arg(help_heading = INPUT)]
    pub map: Vec<(crate::input::Field, String)>,
    /// The input's delimiter (, ; tab |); detected from the headers if not given.
    #[arg(long, value_parser = delimiter, help_heading = INPUT, hide_short_help = true)]
    pub delimiter: Option<u8>,
    /// The input's encoding when it is not UTF-8 (windows-1252, cp1251, latin1, …).
    #[arg(long, help_heading = INPUT, hide_short_help = true)]
    pub encoding: Option<String>,
    /// With a workbook (.xlsx, .xls, .ods): the sheet to read (the first by default).
    #[arg(long, value_name = "NAME", help_heading = INPUT, hide_short_help = true)]
    pub sheet: Option<String>,
    /// Leave the input's other columns (a delivery date, a carrier, a cost
    /// centre) out of the reconciliation and the workbook; by default they
    /// follow ours, so the clerk reads the night with the export's own facts.
    #[arg(long, help_heading = INPUT, hide_short_help = true)]
    pub drop_columns: bool,
    /// The default, kept for scripts that say it: the input's other columns
    /// follow ours.
    #[arg(long, hide = true, conflicts_with = "drop_columns")]
    pub keep_columns: bool,
    /// Refuse an input with more rows than this before sending anything (a
    /// runaway export).
    #[arg(long, value_name = "N", help_heading = INPUT, hide_short_help = true)]
    pub max_rows: Option<u64>,
    /// Refuse an input with fewer rows than this before sending anything:
    /// a header-only or truncated export exits 65 instead of a quiet 0.
    /// `0` accepts an empty file.
    #[arg(long, default_value_t = 1, value_name = "N", help_heading = INPUT)]
    #[arg(hide_short_help = true)]
    pub min_rows: u64,
    /// Validate and show the messages; send nothing.
    ///
    /// Validates, checks the template, shows the first messages as partners
    /// would read them, and sends nothing.
    #[arg(long, help_heading = SENDING)]
    pub dry_run: bool,
    /// Send again orders whose phone or text changed since their message
    /// was accepted (the report shows both wamids).
    #[arg(long, help_heading = SENDING, hide_short_help = true)]
    pub resend_changed: bool,
    #[command(flatten, next_help_heading = SENDING)]
    pub rehearsal: RehearsalArgs,
    #[command(flatten)]
    pub sending: SendingArgs,
    /// The reconciliation CSV.
    ///
    /// Where to write the reconciliation CSV: one row per input row,
    /// replaced atomically.
    #[arg(long, default_value = "reconciliation.csv", value_name = "FILE")]
    #[arg(help_heading = OUTPUTS, display_order = 0)]
    pub out: PathBuf,
}

/// `--default-country` as `run` reads it: a row's country column wins.
pub(super) const RUN_COUNTRY: &str = "The country of national phone numbers (`0151…`, `8 (912)…`): \
    a region (DE, RU) or a calling code (49, 7); a row's country column (--map country=…) wins. \
    Without either, a phone starting with 0 is invalid. A phone that reads as a valid number \
    both as a national number and as international digits is invalid (ambiguous): write it \
    with + .";

/// What both sending commands (`run`, `rerun`) take besides their input:
/// declared once, so the two cannot drift apart. Its texts are true of
/// both; `run` adds what only it has (its country column).
#[derive(Debug, Args)]
pub struct SendingArgs {
    /// Country of national phones: DE, 49
    ///
    /// The country of national phone numbers (`0151…`, `8 (912)…`) in the
    /// file: a region (DE, RU) or a calling code (49, 7). Without it, a
    /// phone starting with 0 is invalid. A phone that reads as a valid
    /// number both as a national number and as international digits is
    /// invalid (ambiguous): write it with + .
    #[arg(long, value_name = "COUNTRY", help_heading = INPUT)]
    pub default_country: Option<crate::delivery::Country>,
    /// The partners file (CSV or workbook): each partner's contacts, by
    /// partner id; the input then names its partner by partner_id.
    #[arg(long, value_name = "FILE", help_heading = INPUT, hide_short_help = true)]
    pub partners: Option<PathBuf>,
    /// With --partners: write to the partner's backup contact when the
    /// message to the one before provably cannot arrive (not on WhatsApp,
    /// opted out); never after a doubt or a late status.
    #[arg(long, value_enum, value_name = "CONTACT", requires = "partners")]
    #[arg(help_heading = SENDING, hide_short_help = true)]
    pub fallback: Option<Fallback>,
    #[command(flatten)]
    pub send: SendArgs,
    #[command(flatten)]
    pub poll: PollArgs,
    #[command(flatten)]
    pub webhook: WebhookArgs,
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Whom `--fallback` writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fallback {
    /// The partner's next contact in the partners file.
    Backup,
}

/// A rehearsal of the night and its morning: `run`, `rerun` and `track`
/// each take `--simulate`, and share one rehearsal ledger and one
/// simulated channel that remembers its messages beside it.
#[derive(Debug, Args)]
pub struct RehearsalArgs {
    /// Rehearse: a built-in simulator, nobody messaged.
    ///
    /// Start the built-in 1MSG simulator on a loopback port and run against
    /// it: no credentials, no network, nobody messaged. A rehearsal keeps a
    /// ledger of its own (and refuses one that holds real runs), and its
    /// simulated channel remembers its messages beside that ledger, so a
    /// rehearsal's run, rerun and track continue each other's messages.
    #[arg(long)]
    pub simulate: bool,
    /// With --simulate: how rude the embedded simulator is. `hostile` plays
    /// the real API's documented variants at once (see `handoff simulate
    /// --profile`); pair it with --token-in query, as that profile refuses
    /// the header outside sendTemplate and templates.
    #[arg(
        long,
        value_name = "PROFILE",
        requires = "simulate",
        default_value = "default",
        hide_short_help = true
    )]
    pub simulate_profile: String,
}

impl RehearsalArgs {
    /// The simulator's profile, when this is a rehearsal.
    pub fn profile(&self) -> Option<&str> {
        self.simulate.then_some(self.simulate_profile.as_str())
    }
}

#[derive(Debug, Args)]
pub struct RerunArgs {
    /// A reconciliation written by `handoff run` (or `rerun`), with the data
    /// fixed where needed (a corrected phone number, say): the CSV as we
    /// wrote it or as a spreadsheet saved it (`;`, another encoding, a BOM),
    /// or a workbook (the `--xlsx` one, or the CSV saved as .xlsx).
    pub reconciliation: PathBuf,
    /// Only rows with these outcomes: failed, rejected, invalid, skipped, suppressed.
    ///
    /// All five by default; several with commas (--only failed,invalid).
    /// Rows delivered, read, pending, duplicate or unknown are never sent by
    /// a rerun.
    #[arg(long, value_delimiter = ',', value_parser = rerun_outcome)]
    #[arg(value_name = "OUTCOME", help_heading = INPUT)]
    pub only: Vec<crate::report::Outcome>,
    /// The file's delimiter (, ; tab |); detected from the headers if not given.
    #[arg(long, value_parser = delimiter, help_heading = INPUT, hide_short_help = true)]
    pub delimiter: Option<u8>,
    /// The file's encoding when it is not UTF-8 (Calc and Excel in Western
    /// Europe save CSV as windows-1252).
    #[arg(long, help_heading = INPUT, hide_short_help = true)]
    pub encoding: Option<String>,
    /// With a workbook: the sheet to read (the first by default).
    #[arg(long, value_name = "NAME", help_heading = INPUT, hide_short_help = true)]
    pub sheet: Option<String>,
    /// Show what the rerun would send, and why not the rest; send nothing.
    #[arg(long, help_heading = SENDING)]
    pub dry_run: bool,
    /// Send failed rows again even when they would fail the same way.
    ///
    /// Sends `failed` rows again even when their data is unchanged and their
    /// error says it fails the same way (opted out, not on WhatsApp) or not
    /// yet (a day's wait), and even to a suppressed phone. Never sends a
    /// delivered, read or pending row.
    #[arg(long, help_heading = SENDING)]
    pub force: bool,
    #[command(flatten, next_help_heading = SENDING)]
    pub rehearsal: RehearsalArgs,
    #[command(flatten)]
    pub sending: SendingArgs,
    /// Where to write this rerun's reconciliation (every row of the file).
    ///
    /// Default: `<file>-rerun.csv` beside the file, or `<file>-rerun-2.csv`,
    /// `-rerun-3.csv`, … when an earlier rerun's report is there.
    #[arg(long, value_name = "FILE", help_heading = OUTPUTS, display_order = 0)]
    pub out: Option<PathBuf>,
}

fn rerun_outcome(s: &str) -> Result<crate::report::Outcome, String> {
    use crate::report::Outcome;
    use crate::report::read_back::RESENDABLE;
    let choose = || RESENDABLE.map(Outcome::as_str).join(", ");
    match Outcome::parse(s.trim()) {
        Some(o) if RESENDABLE.contains(&o) => Ok(o),
        Some(o) => Err(format!(
            "`{}` rows are never sent again by a rerun; choose from {}",
            o.as_str(),
            choose()
        )),
        None => Err(format!("`{s}` is not an outcome; choose from {}", choose())),
    }
}

#[derive(Debug, Args)]
#[command(mut_arg("timezone", |a| a.long_help(None::<&str>).help(TRACK_TIMEZONE)))]
pub struct TrackArgs {
    /// The run whose report to rewrite; default the latest run or rerun.
    #[arg(long, value_name = "ID", help_heading = TRACKING)]
    pub run: Option<i64>,
    #[command(flatten)]
    pub poll: PollArgs,
    #[command(flatten, next_help_heading = TRACKING)]
    pub rehearsal: RehearsalArgs,
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Where to rewrite the reconciliation of the tracked run.
    #[arg(long, default_value = "reconciliation.csv", value_name = "FILE")]
    #[arg(help_heading = OUTPUTS, display_order = 0)]
    pub out: PathBuf,
}

/// `--timezone` on `track`, which has no sending window.
const TRACK_TIMEZONE: &str = "The time zone (an IANA name such as Europe/Berlin) of the \
    workbook's date cells; default the machine's.";
