//! `handoff track`: the morning after, the run's doubts are looked up in
//! the history again, the messages not final yet are polled again, and the
//! report of a run is rewritten.

use tokio::sync::mpsc;
use tracing::info;

use super::preflight::Template;
use crate::cli::TrackArgs;
use crate::cli::config::target;
use crate::error::Failure;
use crate::exit;

use super::deliver::{Delivered, track_settings};
use super::finish::finish;
use super::report::{open_ledger, send_run};
use super::session::{Connection, hold_ledger, ledger_path, open_session, rehearsal};

/// `handoff track`: polls the messages that are not final yet and rewrites
/// the report of a run.
pub(crate) async fn track(args: TrackArgs) -> Result<u8, Failure> {
    let simulated = args.rehearsal.simulate;
    let ledger_path = ledger_path(&args.output, &args.out, simulated);
    {
        // Before anything is recorded or polled: a run that is not there
        // would otherwise be tracked for --track-for and reported empty.
        let l = open_ledger(&ledger_path)?;
        if let Some(run) = args.run {
            send_run(&l, run)?;
        }
    }
    let held = hold_ledger(&args.out, &args.output, simulated)?;
    let target = target(&args.api, rehearsal(args.rehearsal.profile(), &ledger_path)).await?;
    let client = target.client(&args.api)?;
    // Tracking sends nothing, so no template check: only hookInfo is used.
    let conn = Connection {
        target,
        client,
        template: Template::default(),
    };
    let s = open_session(
        "track",
        &ledger_path,
        &args.out,
        &args.output,
        &args.api,
        conn,
        held,
    )
    .await?;
    let report_run = match args.run {
        Some(r) => r,
        None => s
            .recorder
            .read(|l| l.last_send_run())
            .await?
            .ok_or_else(|| Failure::new(exit::NO_INPUT, "the ledger holds no run to track"))?,
    };
    // The night's doubts first: a send the history shows late is found,
    // recorded, and then tracked with the rest.
    crate::settle::look_again(&s.conn.client, &s.recorder, report_run, &args.api.template).await?;
    let open: Vec<String> = s
        .recorder
        .read(|l| l.open_messages())
        .await?
        .into_iter()
        .map(|m| m.wamid)
        .collect();
    info!(
        report_run,
        open = open.len(),
        "tracking the messages not final yet"
    );
    let (accepted_tx, accepted_rx) = mpsc::unbounded_channel();
    drop(accepted_tx);
    let tracked = crate::track::run(
        track_settings(&args.poll, true),
        s.conn.client.clone(),
        s.recorder.clone(),
        s.progress.clone(),
        open,
        accepted_rx,
        None,
        s.interrupt.clone(),
        None,
    )
    .await
    .map_err(|e| Failure::new(exit::INTERNAL, format!("the tracker failed: {e}")))?;
    let delivered = Delivered {
        stop: None,
        tracked,
        webhook: None,
        daily_recipients: None,
    };
    finish(s, report_run, &args.out, &args.output, delivered).await
}
