use serde_json::json;

use super::*;
use crate::api::client::{SendClass, Timeouts, Token, TokenIn};
use crate::api::history::read_page;
use crate::api::wire::SendTemplateRequest;

const T0: i64 = 1_700_000_000;

fn page(v: Value) -> HistoryPage {
    read_page(&v).unwrap()
}

fn ours(number: u64, id: &str, order: &str, time: i64) -> Value {
    json!({"messageNumber": number, "id": id, "fromMe": true, "self": 1, "time": time,
           "body": format!("Hello, ACME! Order #{order} for \"Lamp\" has been delivered."),
           "metadata": {"template": "t"}})
}

fn other(number: u64) -> Value {
    json!({"messageNumber": number, "id": format!("in{number}"), "fromMe": 0, "self": 0,
           "time": T0, "type": "button", "body": "Thanks"})
}

fn fresh() -> Search<'static> {
    Search::new("7", "t", (T0 - 120, T0 + 3600), Vec::new())
}

#[test]
fn order_numbers_match_as_whole_tokens() {
    let body = "Hello, ACME! Order #10482 for \"Lamp\" has been delivered.";
    assert!(carries_order(body, "10482"));
    assert!(!carries_order(body, "1048"));
    assert!(!carries_order(body, "0482"));
    assert!(carries_order("Order #A-17.", "A-17"));
    assert!(!carries_order("Order #A-170.", "A-17"));
    assert!(!carries_order(body, ""));
    assert!(carries_order("x 5 y 5", "5"));
}

#[test]
fn only_our_outgoing_template_message_counts() {
    let m = |v: Value| page(json!([v])).messages.remove(0);
    let base = ours(1, "wamid.1", "7", T0);
    assert!(is_our_message(&m(base.clone()), "7", "t"));
    assert!(!is_our_message(&m(base.clone()), "8", "t"));
    assert!(!is_our_message(&m(base.clone()), "7", "other"));
    let mut inbound = base.clone();
    inbound["fromMe"] = json!(0);
    assert!(!is_our_message(&m(inbound), "7", "t"));
    // `self` alone says outgoing; neither field says nothing.
    let mut by_self = base.clone();
    by_self.as_object_mut().unwrap().remove("fromMe");
    assert!(is_our_message(&m(by_self.clone()), "7", "t"));
    by_self.as_object_mut().unwrap().remove("self");
    assert!(!is_our_message(&m(by_self), "7", "t"));
    // No template in the metadata: the order number decides.
    let mut plain = base;
    plain["metadata"] = json!({});
    plain["fromMe"] = json!("true");
    assert!(is_our_message(&m(plain), "7", "t"));
    // The OLD spec's example verbatim is not ours (no order in its body).
    let old = m(
        json!({"metadata":{},"messageNumber":1,"chatId":"556123122026@c.us",
        "author":"556123122026@c.us","caption":"caption","chatName":"556123122026","fromMe":true,
        "body":"Test message","type":"chat","quotedMsgId":"quotedMsgId",
        "senderName":"780005553535@c.us","self":1,"id":"0XzkmGNn4prUAQlzsHApGNRXQ0U",
        "time":1665396610,"isForwarded":0}),
    );
    assert!(!is_our_message(&old, "7", "t"));
}

#[test]
fn the_search_pages_after_the_highest_number_until_nothing_new() {
    let mut s = fresh();
    assert_eq!(
        s.take(page(json!({"messages": [other(1), other(2)]})), 2),
        Step::More(2)
    );
    // A short page is not the end (it may be the server's own cap).
    assert_eq!(
        s.take(page(json!({"messages": [other(3)]})), 2),
        Step::More(3)
    );
    assert_eq!(
        s.take(
            page(json!({"messages": [ours(4, "wamid.4", "7", T0 + 5)]})),
            2
        ),
        Step::Done(Finding::Sent {
            wamid: "wamid.4".into(),
            at: DateTime::from_timestamp(T0 + 5, 0).unwrap()
        })
    );
    let mut s = fresh();
    assert_eq!(s.take(page(json!({"data": [other(1)]})), 2), Step::More(1));
    assert_eq!(
        s.take(page(json!({"data": []})), 2),
        Step::Done(Finding::NotFound)
    );
}

#[test]
fn a_history_that_ignores_the_cursor_is_incomplete_when_full() {
    let full = json!({"messages": [other(1), other(2)]});
    let mut s = fresh();
    assert_eq!(s.take(page(full.clone()), 2), Step::More(2));
    let Step::Done(Finding::Failed(why)) = s.take(page(full), 2) else {
        panic!("a repeated full page must not be `NotFound`");
    };
    assert!(why.contains("ignores lastMessageNumber"), "{why}");
    // Not full: the whole chat was in the first answer.
    let short = json!({"messages": [other(1)]});
    let mut s = fresh();
    assert_eq!(s.take(page(short.clone()), 2), Step::More(1));
    assert_eq!(s.take(page(short), 2), Step::Done(Finding::NotFound));
}

#[test]
fn the_page_cap_makes_an_incomplete_search() {
    let mut s = fresh();
    let mut last = None;
    for n in 1..=MAX_PAGES as u64 {
        last = Some(s.take(page(json!([other(n)])), 1));
    }
    let Some(Step::Done(Finding::Failed(why))) = last else {
        panic!("{last:?}");
    };
    assert!(why.contains("stopped after 50 pages"), "{why}");
}

/// What a search finds in `items`, followed by the empty page that ends it.
fn finding(items: Value) -> Finding {
    let mut s = fresh();
    if let Step::Done(f) = s.take(page(items), 5) {
        return f;
    }
    match s.take(page(json!([])), 5) {
        Step::Done(f) => f,
        more => panic!("an empty page ends the search: {more:?}"),
    }
}

#[test]
fn time_is_checked_here_too_and_unreadable_items_are_not_absence() {
    // The server ignored min_time: an older message for the same order is
    // an earlier send, not this one.
    assert_eq!(
        finding(json!([ours(1, "wamid.old", "7", T0 - 86_400)])),
        Finding::NotFound
    );
    let mut untimed = ours(1, "wamid.x", "7", T0);
    untimed.as_object_mut().unwrap().remove("time");
    let Finding::Failed(why) = finding(json!([untimed])) else {
        panic!("an untimed match is not absence");
    };
    assert!(why.contains("wamid.x"), "{why}");
    let no_id = json!({"fromMe": 1, "body": "Order #7 delivered", "time": T0});
    let Finding::Failed(why) = finding(json!([no_id, other(2)])) else {
        panic!("an unreadable item naming the order is not absence");
    };
    assert!(why.contains("could not be read"), "{why}");
    // Unreadable items that do not mention the order change nothing.
    assert_eq!(
        finding(json!([{"body": "hi"}, other(2)])),
        Finding::NotFound
    );
    // A time as a string, fromMe as 1: found.
    let mut loose = ours(3, "wamid.3", "7", T0);
    loose["time"] = json!(T0.to_string());
    loose["fromMe"] = json!(1);
    assert!(matches!(finding(json!([loose])), Finding::Sent { .. }));
}

#[test]
fn no_history_only_on_the_first_page() {
    let off = json!({"messages": [], "notice": "Message history is not stored for this channel."});
    assert_eq!(
        fresh().take(page(off.clone()), 5),
        Step::Done(Finding::NoHistory)
    );
    let mut s = fresh();
    assert_eq!(s.take(page(json!([other(1)])), 5), Step::More(1));
    assert!(matches!(
        s.take(page(off), 5),
        Step::Done(Finding::Failed(_))
    ));
}

async fn simulator(history: bool) -> (handoff_sim::SimHandle, Client) {
    let mut scenario = handoff_sim::Scenario::default();
    scenario.limits.pair_interval = std::time::Duration::ZERO;
    scenario.history.enabled = history;
    let sim = handoff_sim::spawn(scenario).await.unwrap();
    let token = Token::new(sim.token.clone());
    let client = Client::new(
        &sim.base_url(),
        &sim.instance_id,
        &token,
        Timeouts::default(),
        TokenIn::Header,
    )
    .unwrap();
    (sim, client)
}

#[tokio::test]
async fn the_simulators_history_is_paged_and_searched() {
    let (_sim, client) = simulator(true).await;
    let since = Utc::now();
    let mut wamids = Vec::new();
    for order in ["A-1", "A-2", "A-3", "A-4", "A-5"] {
        let request = SendTemplateRequest::with_body(
            "4915112345678",
            handoff_sim::scenario::DEFAULT_TEMPLATE,
            None,
            "en",
            &["ACME", order, "Lamp", "Thanks"],
        );
        let SendClass::Accepted { wamid } = client.send_template(&request).await.class else {
            panic!("the simulator accepts the default template");
        };
        wamids.push(wamid);
    }
    let what = ("A-5", handoff_sim::scenario::DEFAULT_TEMPLATE);
    let found = look_up(&client, "4915112345678", what, since, (2, Vec::new())).await;
    let Finding::Sent { wamid, .. } = found else {
        panic!("{found:?}");
    };
    assert_eq!(wamid, wamids[4]);
    let what = ("A-6", handoff_sim::scenario::DEFAULT_TEMPLATE);
    let missing = look_up(&client, "4915112345678", what, since, (2, Vec::new())).await;
    assert_eq!(missing, Finding::NotFound);
    assert_eq!(
        look_up(
            &client,
            "4915112345678",
            ("A-1", "other_template"),
            since,
            (PAGE, Vec::new())
        )
        .await,
        Finding::NotFound
    );
}

#[tokio::test]
async fn a_channel_without_history_and_an_unreachable_one() {
    let (sim, client) = simulator(false).await;
    let finding = look_up(
        &client,
        "4915112345678",
        ("A-1", "t"),
        Utc::now(),
        (PAGE, Vec::new()),
    )
    .await;
    assert_eq!(finding, Finding::NoHistory);
    sim.stop().await.unwrap();
    let finding = look_up(
        &client,
        "4915112345678",
        ("A-1", "t"),
        Utc::now(),
        (PAGE, Vec::new()),
    )
    .await;
    assert!(matches!(finding, Finding::Failed(_)), "{finding:?}");
}

#[test]
fn a_message_of_ours_that_hides_its_order_makes_absence_unprovable() {
    let hiding = |body: Value| {
        let mut m = ours(1, "wamid.h", "7", T0);
        m["body"] = body;
        m
    };
    for body in [json!("t"), json!(""), json!(null), json!("Order #{{2}}")] {
        assert_eq!(
            finding(json!([hiding(body.clone())])),
            Finding::Hidden(1),
            "{body}"
        );
    }
    // Another order's filled-in text, or another template: not this send.
    assert_eq!(finding(json!([ours(1, "w", "8", T0)])), Finding::NotFound);
    let mut theirs = hiding(json!(""));
    theirs["metadata"] = json!({"template": "other"});
    assert_eq!(finding(json!([theirs])), Finding::NotFound);
    // Yesterday's, outside the window: an earlier send.
    let mut old = hiding(json!("t"));
    old["time"] = json!(T0 - 86_400);
    assert_eq!(finding(json!([old])), Finding::NotFound);
    // An inbound one is the partner's.
    let mut inbound = hiding(json!(""));
    inbound["fromMe"] = json!(0);
    assert_eq!(finding(json!([inbound])), Finding::NotFound);
}

#[test]
fn an_id_the_answer_named_is_ours_whatever_its_text() {
    let mut s = Search {
        hints: vec!["wamid.named".into()],
        ..fresh()
    };
    let mut named = ours(2, "wamid.named", "7", T0 + 1);
    named["body"] = json!("t");
    assert_eq!(
        s.take(page(json!([other(1), named.clone()])), 5),
        Step::Done(Finding::Sent {
            wamid: "wamid.named".into(),
            at: DateTime::from_timestamp(T0 + 1, 0).unwrap()
        })
    );
    // Without a time too; but never an inbound message with that id.
    named.as_object_mut().unwrap().remove("time");
    let mut s = Search {
        hints: vec!["wamid.named".into()],
        ..fresh()
    };
    assert!(matches!(
        s.take(page(json!([named.clone()])), 5),
        Step::Done(Finding::Sent { .. })
    ));
    named["fromMe"] = json!(false);
    let mut s = Search {
        hints: vec!["wamid.named".into()],
        ..fresh()
    };
    assert_eq!(s.take(page(json!([named])), 5), Step::More(2));
}
