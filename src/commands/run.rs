//! `handoff run`: the nightly job, from the export to the report.

use std::sync::Mutex;

use tracing::Instrument;

use crate::cli::RunArgs;
use crate::error::Failure;
use crate::exit;
use crate::fate::Ask;
use crate::ingest::{Deciding, ingest, judge};
use crate::input::{self, InputOptions, Layout, ProblemSummary};

use super::deliver::deliver;
use super::directory::{directory, suppress_opted_out};
use super::dry_run;
use super::finish::finish;
use super::session::{check_local, connect, ledger_path, open_session, rehearsal, rules};

/// `handoff run`: the nightly job.
pub(crate) async fn run(args: RunArgs) -> Result<u8, Failure> {
    crate::delivery::warm_up();
    let directory = directory(&args.sending)?;
    let options = input_options(&args, directory.is_some());
    // Local before remote: the export is read (once, if it is a stream) and
    // counted, and the outputs checked, before the first API request, so a
    // file that is not there, an empty export or a folder we cannot write
    // stops at once with its own exit code, whether the API is up or not.
    let export = input::Export::resolve(&args.input).map_err(super::unreadable)?;
    let mut reader = export.open(&options).map_err(super::unreadable)?;
    let held = match args.dry_run {
        true => None,
        false => {
            refuse_count(&args, &export, &options)?;
            Some(check_local(
                &args.out,
                &args.sending,
                args.rehearsal.simulate,
            )?)
        }
    };
    let ledger_path = ledger_path(&args.sending.output, &args.out, args.rehearsal.simulate);
    let simulate = rehearsal(args.rehearsal.profile(), &ledger_path);
    let rows = export.open(&options).map_err(super::unreadable)?;
    let conn = connect(&args.sending, simulate, directory.as_deref(), rows).await?;
    if !args.drop_columns {
        reader.keep_extra_columns();
    }
    let rules = rules(&conn.template, &args.sending, &reader, directory);
    let problems = Mutex::new(ProblemSummary::new(reader.file_name()));
    // A dry run holds nothing: it reads the ledger and writes nothing.
    let Some(held) = held else {
        let ledger = dry_run::read_ledger(&ledger_path, conn.target.simulated())?;
        let preview = dry_run::Preview {
            rules: &rules,
            template: &conn.template,
            send: &args.sending.send,
            resend_changed: args.resend_changed,
            force: false,
            blocked: dry_run::blocked(&conn.client).await,
        };
        let judged = |raw| Ok(judge(raw, &rules, Ask::Send));
        return dry_run::dry_run(reader, judged, &ledger, &preview);
    };
    suppress_opted_out(&held, &rules)?;
    let s = open_session(
        "run",
        &args.input,
        &args.out,
        &args.sending.output,
        &args.sending.api,
        conn,
        held,
    )
    .await?;
    if !args.drop_columns {
        s.recorder
            .set_extra_columns(s.run_id, reader.extra_headers())
            .await?;
    }
    let span = tracing::info_span!("run", run_id = s.run_id);
    async {
        let rows = reader.map(|item| {
            item.map(|raw| {
                let j = judge(raw, &rules, Ask::Send);
                if let (Err(p), Ok(mut summary)) = (&j.result, problems.lock()) {
                    summary.add(j.raw.line, p);
                }
                j
            })
            .map_err(super::unreadable)
        });
        let (resend_changed, daily) = (args.resend_changed, args.sending.send.daily_recipients);
        let how = s
            .recorder
            .read(move |l| Deciding::new(l, resend_changed, daily, false))
            .await?;
        let decided = ingest(&s.recorder, &s.progress, s.run_id, rows, &how).await?;
        // Said when the rows are read, before the sends: the end of the run
        // says who acts on them, row by row.
        if let Ok(summary) = problems.lock()
            && !summary.is_empty()
        {
            if crate::logging::is_json() {
                tracing::warn!(rows = summary.total(), problems = %summary, "rows that will not be sent");
            } else {
                let _ = crate::progress::write_stderr(summary.to_string().as_bytes());
            }
        }
        let delivered = deliver(&s, decided, &rules, &args.sending).await?;
        let run_id = s.run_id;
        finish(s, run_id, &args.out, &args.sending.output, delivered).await
    }
    .instrument(span)
    .await
}

/// How the export is read: with a partners file (`by_partner`), a row
/// names its partner by id.
fn input_options(args: &RunArgs, by_partner: bool) -> InputOptions {
    InputOptions {
        delimiter: args.delimiter,
        encoding: args.encoding.clone(),
        column_map: args.map.clone(),
        sheet: args.sheet.clone(),
        preferred_sheet: None,
        layout: match by_partner {
            true => Layout::ByPartner,
            false => Layout::Export,
        },
    }
}

/// A first, cheap pass for `--max-rows` and `--min-rows`: a runaway or an
/// empty export is refused before a single row is recorded or sent. Without
/// `--max-rows` only the first `--min-rows` rows are read.
fn refuse_count(
    args: &RunArgs,
    export: &input::Export,
    options: &InputOptions,
) -> Result<(), Failure> {
    let reader = export.open(options).map_err(super::unreadable)?;
    let rows = match args.max_rows {
        Some(_) => reader.count(),
        None => reader
            .take(usize::try_from(args.min_rows).unwrap_or(usize::MAX))
            .count(),
    } as u64;
    if rows < args.min_rows {
        let why = format!(
            "`{}` has {rows} row(s), fewer than --min-rows {}: an empty or truncated export? nothing was sent (check the export, or lower --min-rows)",
            args.input.display(),
            args.min_rows
        );
        return Err(Failure::new(exit::DATA, why));
    }
    let Some(max) = args.max_rows else {
        return Ok(());
    };
    if rows > max {
        let why = format!(
            "`{}` has {rows} rows, more than --max-rows {max}; nothing was sent (check the export, or raise --max-rows)",
            args.input.display()
        );
        return Err(Failure::new(exit::DATA, why));
    }
    Ok(())
}
