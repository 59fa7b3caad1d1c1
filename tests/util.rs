//! Helpers shared by the integration tests: a client, a valid sendTemplate
//! request, a webhook receiver and polling with a deadline. The simulator's
//! own tests have theirs in `sim/tests/util.rs`.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use handoff_sim::scenario::{DEFAULT_NAMESPACE, DEFAULT_TEMPLATE};
use serde_json::{Value, json};

/// How long any poll waits before the test fails.
pub(crate) const DEADLINE: Duration = Duration::from_secs(5);

/// A client that never pools connections across a dropped one for long and
/// never waits forever.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

/// The JSON of a valid `partner_delivery_confirmation` send to `phone`.
pub(crate) fn send_body(phone: &str) -> Value {
    let texts = ["Ada", "A-1001", "Blue lamp", "Thank you"];
    json!({
        "phone": phone,
        "template": DEFAULT_TEMPLATE,
        "namespace": DEFAULT_NAMESPACE,
        "language": {"policy": "deterministic", "code": "en"},
        "params": [{
            "type": "body",
            "parameters": texts.map(|t| json!({"type": "text", "text": t})),
        }],
    })
}

/// Polls `check` every 10 ms until it yields `Some`, or [`DEADLINE`] passes.
pub(crate) async fn eventually<T, F, Fut>(mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A webhook endpoint on loopback that records every JSON body POSTed to it.
pub(crate) struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Value>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Receiver {
    pub(crate) async fn start() -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/hook", post(record))
            .with_state(Arc::clone(&received));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("receiver address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Receiver {
            url: format!("http://{addr}/hook"),
            received,
            stop: Some(stop),
        }
    }

    /// Every body received so far.
    pub(crate) fn bodies(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }

    /// Every ack received so far, flattened across bodies.
    pub(crate) fn acks(&self) -> Vec<Value> {
        self.bodies()
            .iter()
            .flat_map(|b| b["ack"].as_array().cloned().unwrap_or_default())
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn record(
    State(store): State<Arc<Mutex<Vec<Value>>>>,
    Json(body): Json<Value>,
) -> &'static str {
    store.lock().unwrap().push(body);
    "ok"
}
