//! The simulator's variants of the real 1MSG API (the product's docs/simulator.md, variants),
//! each driven over raw HTTP and checked for its exact shape; the hostile
//! preset; wamids that never repeat across simulator starts.

use std::time::Duration;

use handoff_sim::Scenario;
use handoff_sim::scenario::{
    CountMismatch, DEFAULT_NAMESPACE, FailedWord, Fault, HistoryBody, HistoryWrapper, HookShape,
    ListShape, Outcome, ReadWord, Rule,
};
use serde_json::{Value, json};

use crate::util::{Sim, eventually, scenario, send_body, send_body_with};

/// GET a channel method with `?token=` (every route takes it), expecting 200.
async fn get_q(sim: &Sim, path_and_query: &str) -> Value {
    let sep = if path_and_query.contains('?') {
        '&'
    } else {
        '?'
    };
    let url = format!("{}{sep}token={}", sim.url(path_and_query), sim.handle.token);
    let resp = sim.client.get(url).send().await.expect("GET");
    assert_eq!(resp.status(), 200, "GET {path_and_query}");
    resp.json().await.expect("JSON")
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_string())
        .collect()
}

fn numbers(list: &Value) -> Vec<u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| m["messageNumber"].as_u64().unwrap())
        .collect()
}

/// The one message `/__sim/messages` holds.
async fn only_message(sim: &Sim) -> Value {
    let messages = sim.sim_messages().await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    messages[0].clone()
}

/// A scenario where every send to any phone takes `fault`.
fn with_fault(fault: Fault) -> Scenario {
    let mut s = scenario();
    s.rules = vec![Rule {
        fault: Some(fault),
        ..Rule::default()
    }];
    s
}

// ---------------------------------------------------------------- history

#[tokio::test]
async fn history_body_is_rendered_the_template_name_or_empty() {
    for (mode, want) in [
        (HistoryBody::Rendered, "Order #A-1001"),
        (HistoryBody::TemplateName, "partner_delivery_confirmation"),
        (HistoryBody::Empty, ""),
    ] {
        let mut s = scenario();
        s.history.body = mode;
        let sim = Sim::start(s).await;
        sim.send_ok("491560000001").await;
        let v = get_q(&sim, "messages").await;
        let body = v["messages"][0]["body"].as_str().unwrap();
        if want.is_empty() {
            assert_eq!(body, "", "{mode:?}");
        } else {
            assert!(body.contains(want), "{mode:?}: {body}");
        }
        // The ground truth keeps the rendered text whatever history shows.
        assert!(
            only_message(&sim).await["body"]
                .as_str()
                .unwrap()
                .contains("A-1001")
        );
    }
}

#[tokio::test]
async fn history_lag_hides_a_message_until_it_has_passed() {
    let mut s = scenario();
    s.history.lag = Duration::from_secs(1);
    let sim = Sim::start(s).await;
    let wamid = sim.send_ok("491560000002").await;
    // Accepted (hookInfo and the ground truth know it), not in history yet.
    assert_eq!(only_message(&sim).await["wamid"], wamid.as_str());
    assert_eq!(get_q(&sim, "messages").await["messages"], json!([]));
    let shown = eventually(|| async {
        let v = get_q(&sim, "messages").await;
        (!v["messages"].as_array().unwrap().is_empty()).then_some(v)
    })
    .await
    .expect("the message appears after the lag");
    assert_eq!(ids(&shown["messages"]), [wamid]);
}

#[tokio::test]
async fn history_page_cap_holds_for_limit_0_and_pages_on_by_last_message_number() {
    let mut s = scenario();
    s.history.page_cap = 2;
    let sim = Sim::start(s).await;
    let mut sent = Vec::new();
    for _ in 0..5 {
        sent.push(sim.send_ok("491560000003").await);
    }
    let chat = "messages?chatId=491560000003@c.us";
    let first = get_q(&sim, &format!("{chat}&limit=0")).await;
    assert_eq!(ids(&first["messages"]), sent[..2]);
    assert_eq!(numbers(&first["messages"]), [1, 2]);
    // A client that pages by the highest number seen gets everything, ascending.
    let mut all = Vec::new();
    let mut last = 0;
    loop {
        let page = get_q(&sim, &format!("{chat}&limit=0&lastMessageNumber={last}")).await;
        let got = numbers(&page["messages"]);
        assert!(got.len() <= 2, "{got:?}");
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
        all.extend(ids(&page["messages"]));
        match got.last() {
            Some(&n) => last = n,
            None => break,
        }
    }
    assert_eq!(all, sent);
    // A smaller limit still holds; a larger one is capped.
    assert_eq!(
        ids(&get_q(&sim, "messages?limit=1").await["messages"]),
        sent[..1]
    );
    assert_eq!(
        ids(&get_q(&sim, "messages?limit=50").await["messages"]).len(),
        2
    );
}

#[tokio::test]
async fn history_can_ignore_its_time_filters() {
    let mut s = scenario();
    s.history.ignore_time_filter = true;
    let sim = Sim::start(s).await;
    let wamid = sim.send_ok("491560000004").await;
    let far = "min_time=4102444800&max_time=4102448400"; // 2100
    let v = get_q(&sim, &format!("messages?{far}")).await;
    assert_eq!(ids(&v["messages"]), [wamid]);
}

#[tokio::test]
async fn history_can_wrap_its_list_under_data() {
    let mut s = scenario();
    s.history.wrapper = HistoryWrapper::Data;
    let sim = Sim::start(s).await;
    let wamid = sim.send_ok("491560000005").await;
    let v = get_q(&sim, "messages").await;
    assert!(v.get("messages").is_none(), "{v}");
    assert_eq!(ids(&v["data"]), [wamid]);
}

#[tokio::test]
async fn history_flags_are_booleans_or_0_1_and_self_is_1_for_our_sends() {
    let sim = Sim::start(scenario()).await;
    sim.send_ok("491560000006").await;
    let m = get_q(&sim, "messages").await["messages"][0].clone();
    assert_eq!(m["fromMe"], true);
    assert_eq!(m["isForwarded"], false);
    assert_eq!(m["self"], 1, "the old spec: 1 - generated by api");
    assert!(m["time"].is_u64());

    let mut s = scenario();
    s.history.numeric_flags = true;
    s.history.time_as_string = true;
    let sim = Sim::start(s).await;
    sim.send_ok("491560000006").await;
    let m = get_q(&sim, "messages").await["messages"][0].clone();
    assert_eq!(m["fromMe"], 1);
    assert_eq!(m["isForwarded"], 0);
    assert_eq!(m["self"], 1);
    let time = m["time"].as_str().expect("time as a string");
    assert!(time.parse::<u64>().is_ok(), "{time}");
}

#[tokio::test]
async fn history_holds_other_messages_that_fool_a_sloppy_matcher() {
    let mut s = scenario();
    s.history.others_in_chat = 4;
    let sim = Sim::start(s).await;
    let wamid = sim.send_ok("491560000007").await;
    sim.send_ok("491560000099").await;
    let chat = get_q(&sim, "messages?chatId=491560000007@c.us").await["messages"].clone();
    let list = chat.as_array().unwrap();
    assert_eq!(list.len(), 5, "{chat}");
    let nums = numbers(&chat);
    assert!(nums.windows(2).all(|w| w[0] < w[1]), "{nums:?}");
    // Ours is the third: two older messages before it, two replies after.
    assert_eq!(list[2]["id"], wamid.as_str());
    let older = &list[0];
    assert_eq!(older["fromMe"], true);
    assert_eq!(older["type"], "template");
    let older_body = older["body"].as_str().unwrap();
    assert!(
        older_body.contains("#A-10011"),
        "another order: {older_body}"
    );
    assert!(
        older_body.contains("A-1001"),
        "it contains ours: {older_body}"
    );
    assert!(older["time"].as_u64() < list[2]["time"].as_u64());
    let question = &list[1];
    assert_eq!(question["fromMe"], false);
    assert_eq!(question["self"], 0);
    assert!(question["body"].as_str().unwrap().contains("A-1001"));
    assert_eq!(list[3]["type"], "button");
    assert_eq!(list[3]["fromMe"], false);
    // Made up for the history only: the ground truth holds our two sends.
    assert_eq!(sim.sim_messages().await.len(), 2);
    // A second message to the chat brings no more others.
    let again = sim.send_ok("491560000007").await;
    let chat = get_q(&sim, "messages?chatId=491560000007@c.us").await["messages"].clone();
    assert_eq!(chat.as_array().unwrap().len(), 6);
    assert_eq!(ids(&chat).last(), Some(&again));
}

#[tokio::test]
async fn a_queued_message_shows_in_history_after_the_queue_and_the_lag() {
    let mut s = with_fault(Fault::Queued);
    s.faults.queued_delay = Duration::from_millis(200);
    s.history.lag = Duration::from_millis(300);
    let sim = Sim::start(s).await;
    let answer = sim.send_json("491560000008").await;
    assert_eq!(answer["sent"], false, "{answer}");
    let wamid = only_message(&sim).await["wamid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(get_q(&sim, "messages").await["messages"], json!([]));
    let shown = eventually(|| async {
        let v = get_q(&sim, "messages").await;
        (!v["messages"].as_array().unwrap().is_empty()).then_some(v)
    })
    .await
    .expect("shown in the end");
    assert_eq!(ids(&shown["messages"]), [wamid]);
}

// ------------------------------------------------------ sendTemplate answers

/// Sends once under `fault` and returns (status, raw body, the one message).
async fn send_under(fault: Fault, phone: &str) -> (Sim, u16, String, Value) {
    let sim = Sim::start(with_fault(fault)).await;
    let resp = sim.send(phone).await;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let held = only_message(&sim).await;
    (sim, status, text, held)
}

#[tokio::test]
async fn sent_true_without_an_id_is_still_an_accepted_message() {
    let (sim, status, text, held) = send_under(Fault::SentNoId, "491560000010").await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v,
        json!({"sent": true, "message": "Sent to 491560000010@c.us"})
    );
    assert_eq!(held["answer"], "sent_no_id");
    assert_eq!(held["wamid_told"], false);
    assert_eq!(held["params"][1], "A-1001");
    // It lives on like any other message.
    sim.wait_for_statuses(
        held["wamid"].as_str().unwrap(),
        &["sent", "delivered", "read"],
    )
    .await;
}

#[tokio::test]
async fn the_id_may_sit_in_message_instead() {
    let (_sim, status, text, held) = send_under(Fault::IdInMessage, "491560000011").await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v, json!({"sent": true, "message": held["wamid"]}));
    assert_eq!(held["wamid_told"], true);
}

#[tokio::test]
async fn an_answer_may_have_no_sent_field() {
    let (_sim, _, text, held) = send_under(Fault::NoSentField, "491560000012").await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v,
        json!({"id": held["wamid"], "message": "Sent to 491560000012@c.us"})
    );
}

#[tokio::test]
async fn sent_may_be_a_string() {
    let (_sim, _, text, held) = send_under(Fault::SentAsString, "491560000013").await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["sent"], "true");
    assert_eq!(v["id"], held["wamid"]);
}

#[tokio::test]
async fn a_numeric_id_is_known_by_its_decimal_string() {
    let (sim, _, text, held) = send_under(Fault::NumericId, "491560000014").await;
    let v: Value = serde_json::from_str(&text).unwrap();
    let id = v["id"].as_u64().expect("a JSON number");
    assert!(id < 1 << 53, "exact in JavaScript: {id}");
    assert_eq!(v["sent"], true);
    let decimal = id.to_string();
    assert_eq!(held["wamid"], decimal.as_str());
    assert_eq!(held["answer"], "numeric_id");
    let hooks = sim
        .wait_for_statuses(&decimal, &["sent", "delivered", "read"])
        .await;
    assert_eq!(hooks[0]["id"], decimal.as_str());
    let found = get_q(&sim, &format!("messages?msgId={decimal}")).await;
    assert_eq!(ids(&found["messages"]), [decimal]);
}

#[tokio::test]
async fn a_queued_answer_may_carry_a_numeric_job_id() {
    let (_sim, _, text, held) = send_under(Fault::QueuedNumericJob, "491560000015").await;
    let v: Value = serde_json::from_str(&text).unwrap();
    let job = v["jobId"].as_u64().expect("a numeric jobId");
    assert_eq!(v["sent"], false);
    assert!(v.get("id").is_none());
    assert_eq!(held["job_id"], job.to_string());
    assert_eq!(held["answer"], "queued_numeric_job");
}

#[tokio::test]
async fn html_502_accepts_nothing_and_html_504_accepts_the_message() {
    let sim = Sim::start(with_fault(Fault::Html502)).await;
    let resp = sim.send("491560000016").await;
    assert_eq!(resp.status(), 502);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = resp.text().await.unwrap();
    assert!(page.contains("<h1>502 Bad Gateway</h1>"), "{page}");
    assert!(sim.sim_messages().await.is_empty());
    assert_eq!(sim.sim_stats().await["faults"]["html_502"], 1);

    let (_sim, status, page, held) = send_under(Fault::Html504, "491560000017").await;
    assert_eq!(status, 504);
    assert!(page.contains("<h1>504 Gateway Timeout</h1>"), "{page}");
    assert_eq!(held["answer"], "html_504");
    assert_eq!(held["wamid_told"], false);
}

#[tokio::test]
async fn a_channel_not_connected_refuses_in_plain_text_and_status_says_so() {
    let mut s = scenario();
    s.channel_status = "disconnected".into();
    let sim = Sim::start(s).await;
    let v = sim.send_json("491560000018").await;
    assert_eq!(
        v,
        json!({"sent": false, "message": "Channel is not connected"})
    );
    assert!(sim.sim_messages().await.is_empty());
    assert_eq!(get_q(&sim, "status").await["status"], "disconnected");

    // Or mid-run: after N accepted sends.
    let mut s = scenario();
    s.faults.disconnect_after = Some(1);
    let sim = Sim::start(s).await;
    sim.send_ok("491560000019").await;
    assert_eq!(get_q(&sim, "status").await["status"], "disconnected");
    let v = sim.send_json("491560000020").await;
    assert_eq!(v["message"], "Channel is not connected");
    assert_eq!(sim.sim_messages().await.len(), 1);
}

#[tokio::test]
async fn a_required_namespace_is_a_laravel_422_when_missing_or_wrong() {
    let mut s = scenario();
    s.require_namespace = true;
    let sim = Sim::start(s).await;
    let mut missing = send_body("491560000021");
    missing.as_object_mut().unwrap().remove("namespace");
    let resp = sim.post("sendTemplate", &missing).await;
    assert_eq!(resp.status(), 422);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(
        v,
        json!({"message": "The namespace field is required.",
               "errors": {"namespace": ["The namespace field is required."]}})
    );
    let mut wrong = send_body("491560000021");
    wrong["namespace"] = json!("0000_not_ours");
    let resp = sim.post("sendTemplate", &wrong).await;
    assert_eq!(resp.status(), 422);
    let v: Value = resp.json().await.unwrap();
    assert!(v["errors"]["namespace"][0].is_string(), "{v}");
    assert!(sim.sim_messages().await.is_empty());
    // With the template's namespace it goes through.
    assert_eq!(send_body("491560000021")["namespace"], DEFAULT_NAMESPACE);
    sim.send_ok("491560000021").await;
}

#[tokio::test]
async fn a_count_mismatch_can_be_a_422() {
    let mut s = scenario();
    s.count_mismatch_as = CountMismatch::Http422;
    let sim = Sim::start(s).await;
    let resp = sim
        .post(
            "sendTemplate",
            &send_body_with("491560000022", &["only", "three", "texts"]),
        )
        .await;
    assert_eq!(resp.status(), 422);
    let v: Value = resp.json().await.unwrap();
    let text = v["message"].as_str().unwrap();
    assert!(text.contains("count mismatch"), "{v}");
    assert_eq!(v["errors"]["params"], json!([text]));
    assert!(sim.sim_messages().await.is_empty());
}

#[tokio::test]
async fn a_429_may_come_without_retry_after() {
    let mut s = scenario();
    s.limits.rate = 1;
    s.limits.omit_retry_after = true;
    s.rules = vec![Rule {
        phones: vec!["491560000024".into()],
        fault: Some(Fault::TooManyRequests),
        ..Rule::default()
    }];
    let sim = Sim::start(s).await;
    let resp = sim.send("491560000024").await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_none());
    sim.send_ok("491560000023").await;
    // Over the rate (one a second), the second send in the same second.
    let resp = sim.send("491560000025").await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_none());
}

#[tokio::test]
async fn sim_messages_is_the_ground_truth_whatever_the_answers_said() {
    let mut s = scenario();
    let rule = |suffix: &str, fault| Rule {
        phone_suffix: Some(suffix.into()),
        fault: Some(fault),
        ..Rule::default()
    };
    s.rules = vec![
        rule("1", Fault::SentNoId),
        rule("2", Fault::Html504),
        rule("3", Fault::Queued),
        rule("4", Fault::Html502),
        rule("5", Fault::DropAfter),
    ];
    let sim = Sim::start(s).await;
    for (i, order) in ["o-1", "o-2", "o-3", "o-4", "o-5", "o-6"]
        .iter()
        .enumerate()
    {
        let phone = format!("49156000010{}", i + 1);
        let _ = sim
            .client
            .post(sim.url("sendTemplate"))
            .header("Authorization", sim.bearer())
            .json(&send_body_with(&phone, &["Ada", order, "Lamp", "Thanks"]))
            .send()
            .await;
    }
    let held = sim.sim_messages().await;
    let orders: Vec<&str> = held
        .iter()
        .map(|m| m["params"][1].as_str().unwrap())
        .collect();
    // Everything but the 502 was accepted, once each.
    assert_eq!(orders, ["o-1", "o-2", "o-3", "o-5", "o-6"]);
    let answers: Vec<&str> = held.iter().map(|m| m["answer"].as_str().unwrap()).collect();
    assert_eq!(
        answers,
        ["sent_no_id", "html_504", "queued", "drop_after", "sent"]
    );
}

// ------------------------------------------------------------------ auth

#[tokio::test]
async fn the_header_token_works_only_on_the_routes_that_take_it() {
    let mut s = scenario();
    s.auth.header_routes = Some(vec!["sendTemplate".into(), "templates".into()]);
    let sim = Sim::start(s).await;
    let wamid = sim.send_ok("491560000030").await;
    assert_eq!(sim.get("templates").await.status(), 200);
    for path in [
        format!("hookInfo?messageId={wamid}"),
        "messages?limit=1".to_string(),
        "status".to_string(),
        "me".to_string(),
        "settings".to_string(),
    ] {
        let resp = sim.get(&path).await;
        assert_eq!(resp.status(), 401, "{path} with the header only");
        let v: Value = resp.json().await.unwrap();
        assert!(
            v["error"].as_str().unwrap().contains("GET parameter"),
            "{v}"
        );
        // ?token= always works.
        get_q(&sim, &path).await;
    }
    let resp = sim
        .post("settings", &json!({"ackNotificationsOn": true}))
        .await;
    assert_eq!(resp.status(), 401);
}

// -------------------------------------------------------------- hookInfo

/// Polls hookInfo (with `?token=`) until `done` holds for its hooks.
async fn hooks_until(sim: &Sim, id: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    eventually(|| async {
        let v = get_q(sim, &format!("hookInfo?messageId={id}")).await;
        let hooks = v["hooks"].as_array().cloned().unwrap_or_default();
        done(&hooks).then_some(hooks)
    })
    .await
    .unwrap_or_else(|| panic!("{id}: hooks never complete"))
}

#[tokio::test]
async fn hooks_can_come_as_normalized_acks() {
    let mut s = scenario();
    s.hooks.shape = HookShape::NormalizedAck;
    let sim = Sim::start(s).await;
    let wamid = sim.send_ok("15550100031").await;
    let hooks = hooks_until(&sim, &wamid, |h| h.len() == 2).await;
    assert_eq!(
        hooks[0],
        json!({"id": wamid, "status": "sent", "chatId": "15550100031@c.us", "phone": "15550100031",
               "bsuid": null, "category": "utility", "userName": null})
    );
    assert_eq!(hooks[1]["status"], "failed");
    assert_eq!(hooks[1]["error"], "Message undeliverable");
    assert!(hooks[1].get("errors").is_none());
}

#[tokio::test]
async fn hooks_can_come_as_raw_meta_envelopes() {
    let mut s = scenario();
    s.hooks.shape = HookShape::RawEnvelope;
    let sim = Sim::start(s).await;
    let wamid = sim.send_ok("491560000032").await;
    let hooks = hooks_until(&sim, &wamid, |h| h.len() == 3).await;
    let statuses: Vec<&str> = hooks
        .iter()
        .map(|h| {
            assert!(h.get("status").is_none(), "{h}");
            let status = &h["entry"][0]["changes"][0]["value"]["statuses"][0];
            assert_eq!(status["id"], wamid.as_str());
            status["status"].as_str().unwrap()
        })
        .collect();
    assert_eq!(statuses, ["sent", "delivered", "read"]);
}

#[tokio::test]
async fn hooks_can_have_loose_types_and_one_without_a_status() {
    let mut s = scenario();
    s.hooks.shape = HookShape::LooseTypes;
    let sim = Sim::start(s).await;
    let wamid = sim.send_ok("15550100033").await;
    let hooks = hooks_until(&sim, &wamid, |h| h.len() == 3).await;
    assert_eq!(hooks[0]["status"], "sent");
    assert_eq!(hooks[0]["recipient_id"], 15550100033_u64);
    assert!(hooks[0]["timestamp"].is_u64());
    assert!(hooks[1].get("status").is_none(), "{}", hooks[1]);
    assert_eq!(hooks[1]["id"], wamid.as_str());
    let failed = &hooks[2];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["errors"][0]["code"], "131026");
    assert_eq!(failed["errors"][0]["error_data"], json!({}));
}

/// The statuses hookInfo has for a message once it has `n` of them.
async fn statuses(sim: &Sim, wamid: &str, n: usize) -> Vec<String> {
    hooks_until(sim, wamid, |h| h.len() == n)
        .await
        .iter()
        .map(|h| h["status"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn status_words_can_be_viewed_played_undelivered_and_deleted() {
    let mut s = scenario();
    s.hooks.read_as = ReadWord::Viewed;
    s.hooks.failed_as = FailedWord::Undelivered;
    let sim = Sim::start(s).await;
    let read = sim.send_ok("491560000034").await;
    let failed = sim.send_ok("15550100034").await;
    assert_eq!(
        statuses(&sim, &read, 3).await,
        ["sent", "delivered", "viewed"]
    );
    assert_eq!(statuses(&sim, &failed, 2).await, ["sent", "undelivered"]);

    let mut s = scenario();
    s.hooks.read_as = ReadWord::Played;
    s.hooks.deleted_after_read = true;
    let sim = Sim::start(s).await;
    let read = sim.send_ok("491560000035").await;
    assert_eq!(
        statuses(&sim, &read, 4).await,
        ["sent", "delivered", "played", "deleted"]
    );

    // Per recipient, by rule.
    let mut s = scenario();
    let rule = |phone: &str, outcome| Rule {
        phones: vec![phone.into()],
        outcome: Some(outcome),
        ..Rule::default()
    };
    s.rules = vec![
        rule("491560000036", Outcome::Viewed),
        rule("491560000037", Outcome::Played),
        rule("491560000038", Outcome::Undelivered),
        rule("491560000039", Outcome::Deleted),
    ];
    let sim = Sim::start(s).await;
    let mut want = Vec::new();
    for (phone, n, last) in [
        ("491560000036", 3, "viewed"),
        ("491560000037", 3, "played"),
        ("491560000038", 2, "undelivered"),
        ("491560000039", 4, "deleted"),
    ] {
        want.push((sim.send_ok(phone).await, n, last));
    }
    for (wamid, n, last) in want {
        let got = statuses(&sim, &wamid, n).await;
        assert_eq!(got.last().map(String::as_str), Some(last), "{got:?}");
    }
}

#[tokio::test]
async fn contradicting_sequences_failed_then_read_and_read_then_failed() {
    let mut s = scenario();
    s.rules = vec![
        Rule {
            phones: vec!["491560000040".into()],
            outcome: Some(Outcome::FailedThenRead),
            error: Some(131000),
            ..Rule::default()
        },
        Rule {
            phones: vec!["491560000041".into()],
            outcome: Some(Outcome::ReadThenFailed),
            ..Rule::default()
        },
    ];
    let sim = Sim::start(s).await;
    let a = sim.send_ok("491560000040").await;
    let b = sim.send_ok("491560000041").await;
    let hooks = hooks_until(&sim, &a, |h| h.len() == 3).await;
    let words: Vec<&str> = hooks
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(words, ["sent", "failed", "read"]);
    assert_eq!(hooks[1]["errors"][0]["code"], 131000);
    assert_eq!(statuses(&sim, &b, 3).await, ["sent", "read", "failed"]);
    let held = sim.sim_messages().await;
    assert_eq!(held[0]["outcome"], "failed_then_read");
    assert_eq!(held[1]["outcome"], "read_then_failed");
    assert_eq!(held[1]["statuses"], json!(["sent", "read", "failed"]));
}

#[tokio::test]
async fn hook_info_can_be_gone_for_every_id() {
    let mut s = scenario();
    s.hooks.not_found_for_all = true;
    let sim = Sim::start(s).await;
    let wamid = sim.send_ok("491560000042").await;
    for id in [wamid.as_str(), "wamid.nope"] {
        let resp = sim.get(&format!("hookInfo?messageId={id}")).await;
        assert_eq!(resp.status(), 404);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v, json!({"error": "could not find that method"}));
    }
}

// -------------------------------------------------------------- templates

#[tokio::test]
async fn templates_can_be_a_bare_array_or_have_a_string_total() {
    let mut s = scenario();
    s.templates_list.shape = ListShape::BareArray;
    let sim = Sim::start(s).await;
    let v = sim.get_json("templates").await;
    let list = v.as_array().expect("a bare array");
    assert_eq!(list[0]["name"], "partner_delivery_confirmation");

    let mut s = scenario();
    s.templates_list.total_as_string = true;
    let sim = Sim::start(s).await;
    let v = sim.get_json("templates").await;
    assert_eq!(v["total"], "1");
    assert_eq!(v["templates"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn templates_can_answer_an_error_object() {
    let mut s = scenario();
    s.templates_list.error_object = true;
    let sim = Sim::start(s).await;
    let v = sim.get_json("templates").await;
    assert_eq!(v["templates"], json!([]));
    assert!(v["error"]["code"].is_i64(), "{v}");
    assert!(v["error"]["message"].is_string(), "{v}");
    assert_eq!(v.as_object().unwrap().len(), 2, "{v}");
}

#[tokio::test]
async fn templates_can_fail_its_first_requests() {
    for (status, html) in [(503, false), (429, false), (502, true)] {
        let mut s = scenario();
        s.templates_list.fail_first = 2;
        s.templates_list.fail_status = status;
        let sim = Sim::start(s).await;
        for _ in 0..2 {
            let resp = sim.get("templates").await;
            assert_eq!(resp.status(), status);
            if status == 429 {
                assert_eq!(resp.headers()["retry-after"], "1");
            }
            let text = resp.text().await.unwrap();
            assert_eq!(text.starts_with("<html>"), html, "{text}");
        }
        assert_eq!(sim.get_json("templates").await["total"], 1);
    }
}

// ------------------------------------------------------- starts, presets

#[tokio::test]
async fn two_simulators_with_the_same_scenario_issue_different_wamids() {
    let a = Sim::start(scenario()).await;
    let b = Sim::start(scenario()).await;
    let mut seen = std::collections::BTreeSet::new();
    for sim in [&a, &b] {
        for i in 0..5 {
            let wamid = sim.send_ok(&format!("49156000005{i}")).await;
            assert!(wamid.starts_with("wamid."), "{wamid}");
            assert!(seen.insert(wamid.clone()), "{wamid} issued twice");
        }
    }
    // Numeric ids too.
    let a = Sim::start(with_fault(Fault::NumericId)).await;
    let b = Sim::start(with_fault(Fault::NumericId)).await;
    let ida = a.send_json("491560000056").await["id"].clone();
    let idb = b.send_json("491560000056").await["id"].clone();
    assert_ne!(ida, idb);
}

#[test]
fn the_hostile_profile_parses_and_differs_from_the_default() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/hostile.toml");
    let file = Scenario::load(std::path::Path::new(path)).expect("the shipped file parses");
    let hostile = Scenario::hostile();
    assert_eq!(
        file, hostile,
        "the file and the preset are the same scenario"
    );
    assert_eq!(Scenario::profile("hostile").unwrap(), hostile);
    assert_ne!(hostile, Scenario::default());
    assert!(hostile.require_namespace);
    assert_eq!(hostile.history.wrapper, HistoryWrapper::Data);
    assert_eq!(hostile.hooks.shape, HookShape::LooseTypes);
    assert!(Scenario::profile("nice").is_err());
}

#[tokio::test]
async fn the_hostile_channel_answers_in_many_shapes_and_records_every_acceptance() {
    let mut s = Scenario::hostile();
    s.limits.rate = 0;
    s.limits.pair_interval = Duration::ZERO;
    s.faults.queued_delay = Duration::ZERO;
    let sim = Sim::start(s).await;
    let mut accepted_answers = 0;
    for i in 0..300 {
        let resp = sim.send(&format!("4915700{i:05}")).await;
        if resp.status() != 502 {
            accepted_answers += 1;
        }
    }
    let held = sim.sim_messages().await;
    assert_eq!(held.len(), accepted_answers);
    let kinds: std::collections::BTreeSet<&str> =
        held.iter().map(|m| m["answer"].as_str().unwrap()).collect();
    assert!(kinds.len() >= 6, "{kinds:?}");
    // The header is refused where the preset says, the query is not.
    assert_eq!(sim.get("messages").await.status(), 401);
    let v = get_q(&sim, "messages?limit=0").await;
    assert!(v["data"].as_array().unwrap().len() <= 100);
}

#[test]
fn scenario_files_name_the_new_faults_and_outcomes() {
    let s = Scenario::from_toml(
        r#"
        [[rule]]
        phone_suffix = "1"
        fault = "html_504"
        [[rule]]
        phone_suffix = "2"
        fault = "queued_numeric_job"
        outcome = "read_then_failed"
        "#,
    )
    .unwrap();
    assert_eq!(s.rules[0].fault, Some(Fault::Html504));
    assert_eq!(s.rules[1].outcome, Some(Outcome::ReadThenFailed));
    let too_much = Scenario::from_toml("[faults]\nsent_no_id = 0.7\nnumeric_id = 0.7").unwrap_err();
    assert!(too_much.contains("more than 1"), "{too_much}");
    let bad_route = Scenario::from_toml("[auth]\nheader_routes = [\"hookinfo\"]").unwrap_err();
    assert!(bad_route.contains("hookinfo"), "{bad_route}");
}
