//! Meta's judgement of the channel, forwarded through 1MSG: a template's
//! category and quality, a pause or a re-categorisation in the middle of a
//! night, what each status says it costs, and the users blocked on the
//! channel.

use serde_json::Value;

use crate::util::{Sim, meta_code, scenario};

async fn listed(sim: &Sim) -> Value {
    sim.get_json("templates").await["templates"][0].clone()
}

#[tokio::test]
async fn the_template_list_shows_category_and_quality() {
    let mut s = scenario();
    s.templates = vec![handoff_sim::scenario::TemplateSpec {
        quality: "RED".into(),
        category: "MARKETING".into(),
        ..Default::default()
    }];
    let sim = Sim::start(s).await;
    let t = listed(&sim).await;
    assert_eq!(t["category"], "MARKETING", "{t}");
    assert_eq!(t["quality_score"]["score"], "RED", "{t}");
}

#[tokio::test]
async fn a_template_paused_after_n_sends_refuses_the_rest_with_132015() {
    let mut s = scenario();
    s.faults.pause_template_after = Some(2);
    let sim = Sim::start(s).await;
    assert_eq!(listed(&sim).await["status"], "approved");
    sim.send_ok("491510000201").await;
    sim.send_ok("491510000202").await;
    let refused = sim.send_json("491510000203").await;
    assert_eq!(refused["sent"], false, "{refused}");
    assert_eq!(meta_code(&refused), Some(132015), "{refused}");
    assert_eq!(listed(&sim).await["status"], "paused");
    assert_eq!(sim.sim_messages().await.len(), 2);
}

#[tokio::test]
async fn a_recategorised_template_is_listed_and_priced_as_marketing_from_then_on() {
    let mut s = scenario();
    s.faults.recategorize_after = Some(1);
    let sim = Sim::start(s).await;
    let before = sim.send_ok("491510000204").await;
    assert_eq!(listed(&sim).await["category"], "MARKETING");
    let after = sim.send_ok("491510000205").await;
    let want = ["sent", "delivered", "read"];
    let first = sim.wait_for_statuses(&before, &want).await;
    let second = sim.wait_for_statuses(&after, &want).await;
    assert_eq!(first[0]["pricing"]["category"], "utility", "{first:?}");
    assert_eq!(second[0]["pricing"]["category"], "marketing", "{second:?}");
    assert_eq!(second[0]["pricing"]["type"], "regular");
    assert_eq!(second[0]["pricing"]["billable"], true);
}

#[tokio::test]
async fn statuses_carry_the_pricing_type_the_scenario_asks_for_or_none() {
    let mut s = scenario();
    s.hooks.pricing = "free_customer_service".into();
    let sim = Sim::start(s).await;
    let wamid = sim.send_ok("491510000206").await;
    let hooks = sim
        .wait_for_statuses(&wamid, &["sent", "delivered", "read"])
        .await;
    assert_eq!(hooks[1]["pricing"]["type"], "free_customer_service");
    assert_eq!(hooks[1]["pricing"]["billable"], false);

    let mut s = scenario();
    s.hooks.pricing = "none".into();
    let sim = Sim::start(s).await;
    let wamid = sim.send_ok("491510000207").await;
    let hooks = sim
        .wait_for_statuses(&wamid, &["sent", "delivered", "read"])
        .await;
    assert!(
        hooks.iter().all(|h| h.get("pricing").is_none()),
        "{hooks:?}"
    );

    let mut s = scenario();
    s.hooks.pricing = "free".into();
    let err = s.check().unwrap_err();
    assert!(err.contains("hooks.pricing"), "{err}");
}

#[tokio::test]
async fn blocked_users_lists_the_scenarios_phones() {
    let mut s = scenario();
    s.blocked_users = vec!["491510000208".into(), "491510000209".into()];
    let sim = Sim::start(s).await;
    let listed = sim.get_json("blockedUsers").await;
    assert_eq!(
        listed["blockedUsers"],
        serde_json::json!([{"wa_id": "491510000208"}, {"wa_id": "491510000209"}])
    );
    let empty = Sim::start(scenario()).await.get_json("blockedUsers").await;
    assert_eq!(empty["blockedUsers"], serde_json::json!([]));
}
