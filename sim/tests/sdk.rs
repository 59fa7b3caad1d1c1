//! The vendor's own Rust SDK (`one-msg-sdk`) as an independent client of our
//! simulator: if the simulator drifted from the contract the SDK was
//! generated from, these calls would fail to parse.

use one_msg_sdk::apis::configuration::Configuration;
use one_msg_sdk::apis::templates_api::{list_templates, send_template};
use one_msg_sdk::models::{SendTemplateRequest, SendTemplateRequestLanguage};
use serde_json::json;

use handoff_sim::{self as sim, Scenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendor_sdk_lists_templates_and_sends_one() {
    let sim = sim::spawn(Scenario::default()).await.unwrap();
    let mut config = Configuration::new();
    config.base_path = format!("{}/{}", sim.base_url(), sim.instance_id);

    let list = list_templates(&config, &sim.token)
        .await
        .expect("templates parse");
    let templates = list.templates.expect("a template list");
    assert_eq!(list.total, Some(1));
    let t = &templates[0];
    assert_eq!(t["name"], "partner_delivery_confirmation");
    assert_eq!(t["status"], "approved");
    let namespace = t["namespace"].as_str().unwrap().to_string();

    let mut request = SendTemplateRequest::new();
    request.template = Some("partner_delivery_confirmation".into());
    request.namespace = Some(namespace);
    request.phone = Some("4915123456701".into());
    request.language = Some(Box::new(SendTemplateRequestLanguage {
        policy: Some("deterministic".into()),
        code: Some("en".into()),
    }));
    request.params = Some(vec![json!({"type": "body", "parameters": [
        {"type": "text", "text": "North Distributor LLC"},
        {"type": "text", "text": "10482"},
        {"type": "text", "text": "Wireless headphones"},
        {"type": "text", "text": "Accepted today at 11:20 AM"},
    ]})]);
    let answer = send_template(&config, &sim.token, Some(request))
        .await
        .expect("sendTemplate parses");
    assert_eq!(answer["sent"], true);
    assert!(answer["id"].as_str().unwrap().starts_with("wamid."));
    assert_eq!(answer["message"], "Sent to 4915123456701@c.us");

    // A wrong token is the SDK's typed error, with 1MSG's 401 body.
    let err = list_templates(&config, "not-the-token").await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("401") || text.contains("Wrong token"),
        "{text}"
    );
}
