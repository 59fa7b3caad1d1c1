//! Helpers shared by the simulator's tests: an in-process simulator on
//! `127.0.0.1:0`, a client, a valid sendTemplate request, the `/__sim`
//! introspection routes, a webhook receiver and polling with a deadline.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use handoff_sim::duration::Span;
use handoff_sim::scenario::{DEFAULT_NAMESPACE, DEFAULT_TEMPLATE};
use handoff_sim::{Scenario, SimHandle};
use serde_json::{Value, json};

/// How long any poll waits before the test fails.
pub(crate) const DEADLINE: Duration = Duration::from_secs(5);

/// A fast, permissive channel: no rate or pair limit, 10 ms status steps,
/// every delivered message read. Tests switch on what they exercise.
pub(crate) fn scenario() -> Scenario {
    let mut s = Scenario::default();
    s.limits.rate = 0;
    s.limits.pair_interval = Duration::ZERO;
    let ten = Span::fixed(Duration::from_millis(10));
    s.latency.sent = ten;
    s.latency.delivered = ten;
    s.latency.read = ten;
    s.latency.failed = ten;
    s.latency.read_ratio = 1.0;
    s
}

/// A client that never pools connections across a dropped one for long and
/// never waits forever.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

/// The four body texts of the default template.
pub(crate) const PARAMS: [&str; 4] = ["Ada", "A-1001", "Blue lamp", "Thank you"];

/// The JSON of a valid `partner_delivery_confirmation` send to `phone`, with
/// the given body texts.
pub(crate) fn send_body_with(phone: &str, texts: &[&str]) -> Value {
    json!({
        "phone": phone,
        "template": DEFAULT_TEMPLATE,
        "namespace": DEFAULT_NAMESPACE,
        "language": {"policy": "deterministic", "code": "en"},
        "params": [{
            "type": "body",
            "parameters": texts.iter().map(|t| json!({"type": "text", "text": t})).collect::<Vec<_>>(),
        }],
    })
}

/// The JSON of a valid send to `phone` with the four standard texts.
pub(crate) fn send_body(phone: &str) -> Value {
    send_body_with(phone, &PARAMS)
}

/// A simulator running in this test's runtime, plus a client for it.
pub(crate) struct Sim {
    pub handle: SimHandle,
    pub client: reqwest::Client,
}

impl Sim {
    pub(crate) async fn start(scenario: Scenario) -> Sim {
        let handle = handoff_sim::spawn(scenario).await.expect("spawn simulator");
        Sim {
            handle,
            client: client(),
        }
    }

    pub(crate) fn base(&self) -> String {
        self.handle.base_url()
    }

    /// `http://127.0.0.1:PORT/{instance}/{method}`.
    pub(crate) fn url(&self, method: &str) -> String {
        format!("{}/{}/{method}", self.base(), self.handle.instance_id)
    }

    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.handle.token)
    }

    /// POSTs `body` to a channel method with the token in `Authorization`.
    pub(crate) async fn post(&self, method: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(method))
            .header("Authorization", self.bearer())
            .json(body)
            .send()
            .await
            .expect("POST reaches the simulator")
    }

    /// GETs a channel method (`path_and_query` like `templates?limit=2`)
    /// with the token in `Authorization`.
    pub(crate) async fn get(&self, path_and_query: &str) -> reqwest::Response {
        self.client
            .get(self.url(path_and_query))
            .header("Authorization", self.bearer())
            .send()
            .await
            .expect("GET reaches the simulator")
    }

    /// GET, expecting 200 and JSON.
    pub(crate) async fn get_json(&self, path_and_query: &str) -> Value {
        let resp = self.get(path_and_query).await;
        assert_eq!(resp.status(), 200, "GET {path_and_query}");
        resp.json().await.expect("JSON answer")
    }

    /// A valid sendTemplate to `phone`; the raw response.
    pub(crate) async fn send(&self, phone: &str) -> reqwest::Response {
        self.post("sendTemplate", &send_body(phone)).await
    }

    /// A valid sendTemplate to `phone`, expecting HTTP 200; the JSON answer.
    pub(crate) async fn send_json(&self, phone: &str) -> Value {
        self.send_value(&send_body(phone)).await
    }

    /// sendTemplate with `body`, expecting HTTP 200; the JSON answer.
    pub(crate) async fn send_value(&self, body: &Value) -> Value {
        let resp = self.post("sendTemplate", body).await;
        assert_eq!(resp.status(), 200, "sendTemplate {body}");
        resp.json().await.expect("JSON answer")
    }

    /// Sends to `phone` and returns the wamid, failing unless accepted.
    pub(crate) async fn send_ok(&self, phone: &str) -> String {
        let answer = self.send_json(phone).await;
        assert_eq!(answer["sent"], true, "{answer}");
        answer["id"].as_str().expect("id").to_string()
    }

    /// `GET /__sim/messages` → the `messages` array.
    pub(crate) async fn sim_messages(&self) -> Vec<Value> {
        let v: Value = self
            .client
            .get(format!("{}/__sim/messages", self.base()))
            .send()
            .await
            .expect("sim messages")
            .json()
            .await
            .expect("JSON");
        v["messages"].as_array().cloned().unwrap_or_default()
    }

    /// `GET /__sim/stats`.
    pub(crate) async fn sim_stats(&self) -> Value {
        self.client
            .get(format!("{}/__sim/stats", self.base()))
            .send()
            .await
            .expect("sim stats")
            .json()
            .await
            .expect("JSON")
    }

    /// `GET hookInfo?messageId=` → the `hooks` array.
    pub(crate) async fn hooks(&self, wamid: &str) -> Vec<Value> {
        let v = self.get_json(&format!("hookInfo?messageId={wamid}")).await;
        v["hooks"].as_array().cloned().expect("hooks array")
    }

    /// The statuses hookInfo reports for `wamid`, in order.
    pub(crate) async fn hook_statuses(&self, wamid: &str) -> Vec<String> {
        self.hooks(wamid)
            .await
            .iter()
            .map(|h| h["status"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Polls hookInfo until `wamid` has exactly `want` statuses.
    pub(crate) async fn wait_for_statuses(&self, wamid: &str, want: &[&str]) -> Vec<Value> {
        let got = eventually(|| async {
            let hooks = self.hooks(wamid).await;
            let statuses: Vec<&str> = hooks
                .iter()
                .map(|h| h["status"].as_str().unwrap_or_default())
                .collect();
            (statuses == want).then_some(hooks.clone())
        })
        .await;
        got.unwrap_or_else(|| panic!("{wamid} never reached {want:?}"))
    }
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

    /// The statuses received for `wamid`, in arrival order.
    pub(crate) fn statuses_of(&self, wamid: &str) -> Vec<String> {
        self.acks()
            .iter()
            .filter(|a| a["id"] == wamid)
            .map(|a| a["status"].as_str().unwrap_or_default().to_string())
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

/// Registers `receiver` on the simulator and switches ack notifications on.
pub(crate) async fn subscribe(sim: &Sim, receiver: &Receiver) {
    let resp = sim
        .post("webhook", &json!({"webhookUrl": receiver.url}))
        .await;
    assert_eq!(resp.status(), 200);
    let resp = sim
        .post("settings", &json!({"ackNotificationsOn": true}))
        .await;
    assert_eq!(resp.status(), 200);
}

/// The Meta code of a `sent:false` answer.
pub(crate) fn meta_code(answer: &Value) -> Option<i64> {
    answer["error"]["code"].as_i64()
}
