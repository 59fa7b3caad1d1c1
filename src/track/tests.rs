use super::*;
use crate::api::client::TokenIn;

#[test]
fn hooks_become_updates_with_errors_and_times() {
    let hooks = crate::api::hooks::read_hooks(&serde_json::json!(
        [{"id":"w","status":"sent","timestamp":"1700000000"},
         {"id":"w","status":"FAILED","timestamp":"1700000005",
          "errors":[{"code":"131026","title":"Message undeliverable","error_data":{}}]},
         {"id":"w","status":"failed","error":"User's number is part of an experiment"}]
    ))
    .hooks;
    let ups = updates("w", &hooks, Utc::now());
    assert_eq!(ups.len(), 3);
    assert_eq!(ups[1].status, "failed");
    assert_eq!(ups[1].error_code, Some(131026));
    assert_eq!(ups[1].error_title.as_deref(), Some("Message undeliverable"));
    assert_eq!(ups[0].status_at.unwrap().timestamp(), 1_700_000_000);
    assert_eq!(ups[2].error_code, None);
    assert_eq!(
        ups[2].error_title.as_deref(),
        Some("User's number is part of an experiment")
    );
}

#[test]
fn a_route_is_unavailable_only_when_every_answer_was_404() {
    let not_found = HookInfo {
        not_found: true,
        ..HookInfo::default()
    };
    let mut route = Route::default();
    for _ in 0..9 {
        route.saw(&not_found);
    }
    assert!(!route.all_not_found(NOT_FOUND_POLLS));
    assert!(route.all_not_found(1));
    route.saw(&not_found);
    assert!(route.all_not_found(NOT_FOUND_POLLS));
    // One real answer, even an empty one, proves the route works.
    route.saw(&HookInfo::default());
    assert!(!route.all_not_found(1));
    assert!(!Route::default().all_not_found(1));
}

#[test]
fn a_refusal_names_the_route_and_the_way_out() {
    let m = refused("hookInfo", 401, "", TokenIn::Header);
    assert!(
        m.starts_with("hookInfo refused our credentials (HTTP 401)"),
        "{m}"
    );
    assert!(m.contains("--token-in query"), "{m}");
    let m = refused("hookInfo", 403, ": trial channel", TokenIn::Query);
    assert!(m.contains("(HTTP 403): trial channel"), "{m}");
    assert!(!m.contains("--token-in"), "{m}");
    assert!(
        unavailable(10).starts_with("statuses unavailable: hookInfo answers 404 for every message")
    );
}
