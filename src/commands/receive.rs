//! `handoff receive`: the webhook receiver on its own, for teams whose
//! receiver must run all the time (a Deployment behind an ingress) rather
//! than only during a run. It records every ack into the ledger for any
//! run, so `handoff track` the morning after finds those messages final and
//! does not poll them. It takes no ledger lock: SQLite's own locking lets
//! it write beside a run (both wait up to the busy timeout), and the run's
//! lock is about sending, which it never does. It registers nothing: the
//! team registers its URL once (or a run adds it with --webhook-url).

use serde_json::json;

use crate::cli::ReceiveArgs;
use crate::error::Failure;
use crate::exit;
use crate::ledger::Ledger;
use crate::recorder::Recorder;
use crate::webhook::{self, ReceiverSettings};

/// Receives until Ctrl-C or SIGTERM, then prints what it saw.
pub(crate) async fn receive(args: ReceiveArgs) -> Result<u8, Failure> {
    webhook::guarded(args.listen, args.webhook_secret.as_deref())?;
    let ledger = Ledger::open(&args.ledger).map_err(|e| Failure::of(exit::CONFIG, e))?;
    let (recorder, ledger_thread) = Recorder::start(ledger);
    let settings = ReceiverSettings {
        listen: args.listen,
        secret: args.webhook_secret.clone(),
    };
    let running = webhook::start(settings, recorder.clone(), None)
        .await
        .map_err(|e| {
            let context = format!("failed to listen on {}", args.listen);
            Failure::because(exit::CONFIG, context, e)
        })?;
    if !args.quiet {
        eprintln!(
            "receiving 1MSG status pushes on {} into {}; Ctrl-C or SIGTERM stops",
            running.addr,
            args.ledger.display()
        );
    }
    crate::signal::shutdown_signal().await;
    let counts = running.stop().await;
    drop(recorder);
    let _ = tokio::task::spawn_blocking(move || ledger_thread.join()).await;
    tracing::info!(counts = %json!(counts), "receiver stopped");
    println!("{}", json!({"webhook": counts}));
    Ok(exit::OK)
}
