//! How a run is asked to stop: Ctrl-C or SIGTERM (the first asks for a
//! graceful stop, the second ends the process), and the sending window
//! closing (`--not-after`). Both arrive on the one interrupt channel with
//! the reason in words, which the rows not sent and the summary show. The
//! channel is shared by send and track without either owning it.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::watch;
use tracing::warn;

use crate::exit;
use crate::window::Window;

/// Asks the run to stop gracefully, saying why; `None` while it may go on.
/// The first reason given stands.
pub(crate) type Interrupt = watch::Receiver<Option<String>>;

/// Sends `why` on the interrupt channel unless a reason is there already.
pub(crate) fn interrupt(tx: &watch::Sender<Option<String>>, why: &str) {
    tx.send_if_modified(|current| {
        let first = current.is_none();
        current.get_or_insert_with(|| why.to_string());
        first
    });
}

/// The first Ctrl-C or SIGTERM asks for a graceful stop; a second one ends
/// the process at once (the ledger makes the next run resume correctly).
pub(crate) async fn watch_signals(interrupt_tx: Arc<watch::Sender<Option<String>>>) {
    shutdown_signal().await;
    interrupt(&interrupt_tx, "interrupted by a signal (Ctrl-C or SIGTERM)");
    eprintln!(
        "stopping: no new sends; waiting for requests in flight (press Ctrl-C again to stop at once)"
    );
    shutdown_signal().await;
    eprintln!("stopped at once");
    std::process::exit(i32::from(exit::TEMPFAIL));
}

/// The sending window: closed now, nothing is sent (the send stage sees the
/// interrupt at once and the rows get its reason like any stop); open, it
/// stops the run as a signal would when it closes.
pub(crate) fn sending_window(window: Window, interrupt_tx: &Arc<watch::Sender<Option<String>>>) {
    let described = window.describe();
    if window.is_open(Utc::now()) {
        let closes = window.closes_in(Utc::now());
        let tx = Arc::clone(interrupt_tx);
        tokio::spawn(async move {
            tokio::time::sleep(closes).await;
            interrupt(
                &tx,
                &format!("the sending window {described} closed (--not-after)"),
            );
        });
    } else {
        warn!(window = %described, "outside the sending window: nothing is sent");
        interrupt(
            interrupt_tx,
            &format!(
                "the run is outside the sending window {described} (--not-before/--not-after)"
            ),
        );
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
