//! The 1MSG simulator: a real HTTP server on loopback that behaves like the
//! 1MSG WhatsApp Business API as its documentation and the vendor's SDKs describe it,
//! including its unpleasant parts (rate limits, pair limits, lost answers,
//! 5xx, queued sends, late and duplicated webhooks).
//!
//! Every end-to-end test, benchmark and rehearsal runs `handoff` against it,
//! because the real API cannot be reached from our machines and partners
//! must never receive a rehearsal. It is a crate of its own, beside the
//! product and depending on nothing of it; `handoff simulate` and
//! `handoff run --simulate` run it.
//!
//! Use [`serve`] with a bound listener and a shutdown future (tests bind
//! `127.0.0.1:0`), or [`spawn`] to run it in the background of this process
//! (`handoff run --simulate`).

pub mod cli;
pub mod duration;
mod routes;
pub mod scenario;
mod server;
mod state;
mod webhook;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use scenario::Scenario;
use state::SimState;

/// Serves the simulated channel described by `scenario` on `listener` until
/// `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    scenario: Scenario,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    server::serve_router(listener, router(scenario), shutdown).await
}

/// The simulated channel as a router, for a test that puts routes of its
/// own in front of it (an answer the simulator never gives).
pub fn router(scenario: Scenario) -> axum::Router {
    routes::router(Arc::new(SimState::new(scenario)))
}

/// A simulator running in the background of this process.
pub struct SimHandle {
    pub addr: SocketAddr,
    pub instance_id: String,
    pub token: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<io::Result<()>>>,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`, the API base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.unwrap_or(Ok(())),
            None => Ok(()),
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds `127.0.0.1:0` and serves `scenario` on the current tokio runtime.
pub async fn spawn(scenario: Scenario) -> io::Result<SimHandle> {
    spawn_state(SimState::new(scenario)).await
}

/// As [`spawn`], for a channel that outlives this process: the messages
/// accepted are kept in `memory` as they are accepted, and a simulator
/// spawned on the same file later takes them back, statuses going on by
/// the wall clock (a rehearsal's run, rerun and track are one night).
pub async fn spawn_remembering(scenario: Scenario, memory: &Path) -> io::Result<SimHandle> {
    spawn_state(SimState::new(scenario).remember(memory)?).await
}

async fn spawn_state(state: SimState) -> io::Result<SimHandle> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel();
    let instance_id = state.scenario.instance_id.clone();
    let token = state.scenario.token.clone();
    let app = routes::router(Arc::new(state));
    let task = tokio::spawn(server::serve_router(listener, app, async {
        let _ = stopped.await;
    }));
    Ok(SimHandle {
        addr,
        instance_id,
        token,
        stop: Some(stop),
        task: Some(task),
    })
}
