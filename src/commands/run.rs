//! `handoff run`: the nightly job, from the export to the report.

use std::sync::Mutex;

use tracing::Instrument;

use crate::cli::RunArgs;
use crate::delivery::Rules;
use crate::error::Failure;
use crate::exit;
use crate::ingest::{Pass, ingest, judge};
use crate::input::{self, InputOptions, ProblemSummary};

use super::finish::deliver_and_finish;
use super::session::{connect, open_session, rules};

/// `handoff run`: the nightly job.
pub(crate) async fn run(args: RunArgs) -> Result<u8, Failure> {
    crate::delivery::warm_up();
    let options = InputOptions {
        delimiter: args.delimiter,
        encoding: args.encoding.clone(),
        column_map: args.map.clone(),
        sheet: args.sheet.clone(),
    };
    let simulate = args.simulate.then_some(args.simulate_profile.as_str());
    let conn = connect(&args.sending.api, simulate).await?;
    let mut reader = input::open(&args.input, &options)
        .map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
    if args.keep_columns {
        reader.keep_extra_columns();
    }
    let rules = Rules {
        default_country: args.sending.default_country.clone(),
        origin: Some(reader.origin()),
        ..rules(&conn.template)
    };
    let problems = Mutex::new(ProblemSummary::new(reader.file_name()));
    if args.dry_run {
        return super::dry_run::dry_run(reader, &rules, &conn.template);
    }
    if let Some(max) = args.max_rows {
        refuse_over(&args, &options, max)?;
    }
    let s = open_session(
        "run",
        &args.input,
        &args.out,
        &args.sending.output,
        &args.sending.api,
        conn,
    )
    .await?;
    if args.keep_columns {
        s.recorder
            .set_extra_columns(s.run_id, reader.extra_headers())
            .await?;
    }
    let span = tracing::info_span!("run", run_id = s.run_id);
    async {
        let rows = reader.map(|item| {
            item.map(|raw| {
                let j = judge(raw, &rules, Pass::Normal);
                if let (Err(p), Ok(mut summary)) = (&j.result, problems.lock()) {
                    summary.add(j.raw.line, p);
                }
                j
            })
            .map_err(|e| Failure::new(e.exit_code(), e.to_string()))
        });
        let decided = ingest(
            &s.recorder,
            &s.progress,
            s.run_id,
            rows,
            args.resend_changed,
        )
        .await?;
        let code = deliver_and_finish(s, decided, &rules, &args.sending, &args.out).await?;
        if let Ok(summary) = problems.lock() {
            eprint!("{summary}");
        }
        Ok(code)
    }
    .instrument(span)
    .await
}

/// A first, cheap pass for `--max-rows`: a runaway export is refused before
/// a single row is recorded or sent.
fn refuse_over(args: &RunArgs, options: &InputOptions, max: u64) -> Result<(), Failure> {
    let rows = input::open(&args.input, options)
        .map_err(|e| Failure::new(e.exit_code(), e.to_string()))?
        .count() as u64;
    if rows > max {
        return Err(Failure::new(
            exit::DATA,
            format!(
                "`{}` has {rows} rows, more than --max-rows {max}; nothing was sent (check the export, or raise --max-rows)",
                args.input.display()
            ),
        ));
    }
    Ok(())
}
