//! `handoff rerun`: the rows of a reconciliation that may be sent again,
//! with the data of that file (after a person fixed it), read as `run`
//! reads an export: whatever delimiter, encoding or workbook a spreadsheet
//! saved it as. Which rows are sent, and the outcome of the rest, come from
//! the ledger ([`plan`], [`crate::fate`]); `--dry-run` shows it without
//! sending.

mod encoding;
mod plan;

use std::path::Path;

use tracing::Instrument;

use crate::cli::RerunArgs;
use crate::error::Failure;
use crate::exit;
use crate::ingest::{Decided, Deciding, Judged, record_batch};
use crate::input::{self, InputReader};
use crate::report::read_back::{self, BackColumns};

use super::deliver::deliver;
use super::directory::{directory, suppress_opted_out};
use super::dry_run;
use super::finish::finish;
use super::session::{Session, check_local, connect, ledger_path, open_session, rehearsal, rules};
use crate::fate::rerun::Asked;

/// How many rows are looked up and recorded together.
const BATCH: usize = 1000;

/// `handoff rerun`: the rows of a reconciliation that may be sent again,
/// with the data of that file.
pub(crate) async fn rerun(args: RerunArgs) -> Result<u8, Failure> {
    let file = &args.reconciliation;
    let selected = read_back::selection(&args.only);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| read_back::default_out(file));
    let simulated = args.rehearsal.simulate;
    let ledger = ledger_path(&args.sending.output, &out, simulated);
    need_ledger(&ledger, file)?;
    // The partners file read again: a phone corrected there is a changed
    // phone for the rerun's rules.
    let directory = directory(&args.sending)?;
    let mut options =
        read_back::input_options(args.delimiter, args.encoding.clone(), args.sheet.clone());
    if directory.is_some() {
        options.layout = input::Layout::ByPartner;
        options
            .column_map
            .push((input::Field::PartnerId, "partner_id".into()));
    }
    let options = encoding::confirmed(file, options, &ledger);
    // Local before remote, as `run` does.
    let export = input::Export::resolve(file).map_err(super::unreadable)?;
    let mut reader = export.open(&options).map_err(super::unreadable)?;
    reader.keep_extra_columns();
    let columns = BackColumns::new(file, &reader.extra_headers())?;
    let held = match args.dry_run {
        true => None,
        false => Some(check_local(&out, &args.sending, simulated)?),
    };
    let simulate = rehearsal(args.rehearsal.profile(), &ledger);
    let rows = export.open(&options).map_err(super::unreadable)?;
    let conn = connect(&args.sending, simulate, directory.as_deref(), rows).await?;
    let rules = rules(&conn.template, &args.sending, &reader, directory);
    let ask = plan::Asking {
        rules: &rules,
        asked: Asked {
            selected: &selected,
            resend_unknown: args.sending.send.resend_unknown,
            force: args.force,
            now: chrono::Utc::now(),
        },
    };
    // A dry run holds nothing: it reads the ledger and writes nothing.
    let Some(held) = held else {
        let ledger = dry_run::read_ledger(&ledger, simulated)?;
        let preview = dry_run::Preview {
            rules: &rules,
            template: &conn.template,
            send: &args.sending.send,
            resend_changed: false,
            force: args.force,
            blocked: dry_run::blocked(&conn.client).await,
        };
        let judged = |raw| {
            let row = plan::back_row(raw, &columns);
            let lookup = plan::lookups(std::slice::from_ref(&row));
            let known = plan::messages(&ledger, &lookup)
                .map_err(|e| Failure::of(exit::CONFIG, e))?
                .pop()
                .unwrap_or_default();
            Ok(plan::judge_back(row, &known, &ask))
        };
        return dry_run::dry_run(reader, judged, &ledger, &preview);
    };
    suppress_opted_out(&held, &rules)?;
    let s = open_session(
        "rerun",
        file,
        &out,
        &args.sending.output,
        &args.sending.api,
        conn,
        held,
    )
    .await?;
    if !columns.kept_headers().is_empty() {
        s.recorder
            .set_extra_columns(s.run_id, columns.kept_headers().to_vec())
            .await?;
    }
    let span = tracing::info_span!("rerun", run_id = s.run_id);
    async {
        let (daily, forced) = (args.sending.send.daily_recipients, args.force);
        let how = s
            .recorder
            .read(move |l| Deciding::new(l, false, daily, forced))
            .await?;
        let decided = record(&s, reader, &columns, &ask, &how).await?;
        let delivered = deliver(&s, decided, &rules, &args.sending).await?;
        let run_id = s.run_id;
        finish(s, run_id, &out, &args.sending.output, delivered).await
    }
    .instrument(span)
    .await
}

/// A rerun decides from the ledger what was sent: without it every order
/// would look unsent, so it stops instead of creating an empty one.
fn need_ledger(ledger: &Path, file: &Path) -> Result<(), Failure> {
    if ledger.exists() {
        return Ok(());
    }
    let why = format!(
        "failed to find the ledger `{}`: a rerun reads what was sent from the ledger \
         of the run that wrote `{}`; pass it with --ledger; nothing was sent",
        ledger.display(),
        file.display()
    );
    Err(Failure::new(exit::NO_INPUT, why))
}

/// Reads the file a batch at a time, looks each row's message up, and has
/// the ledger record and decide the rows, as `ingest` does for `run`.
async fn record(
    s: &Session,
    mut reader: InputReader,
    columns: &BackColumns,
    ask: &plan::Asking<'_>,
    how: &Deciding,
) -> Result<Decided, Failure> {
    let mut decided = Decided::default();
    loop {
        let mut rows = Vec::with_capacity(BATCH);
        for item in reader.by_ref().take(BATCH) {
            let raw = item.map_err(super::unreadable)?;
            rows.push(plan::back_row(raw, columns));
        }
        if rows.is_empty() {
            return Ok(decided);
        }
        let lookups = plan::lookups(&rows);
        let messages = s
            .recorder
            .read(move |l| plan::messages(l, &lookups))
            .await?;
        let judged: Vec<Judged> = rows
            .into_iter()
            .zip(messages)
            .map(|(row, earlier)| plan::judge_back(row, &earlier, ask))
            .collect();
        s.progress.validated(judged.len() as u64);
        let more = record_batch(&s.recorder, s.run_id, judged, how.clone()).await?;
        decided.to_send += more.to_send;
        decided.open.extend(more.open);
        decided.doubts.extend(more.doubts);
    }
}
