use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use super::*;

fn templates(v: serde_json::Value) -> Vec<TemplateInfo> {
    crate::api::templates::read_templates(&v).unwrap().templates
}

fn ours(extra: serde_json::Value) -> serde_json::Value {
    let mut t = json!({"name": "t", "language": "en", "status": "approved",
        "components": [{"type": "BODY", "text": "{{1}} {{2}} {{3}} {{4}}"}]});
    t.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    t
}

#[test]
fn the_namespace_from_any_key_then_from_siblings() {
    let list = templates(json!([ours(json!({"messageTemplateNamespace": "camel"}))]));
    let t = check_template(&list, "t", "en", None).ok().unwrap();
    assert_eq!(t.namespace.as_deref(), Some("camel"));
    let list = templates(json!({"total": "3", "templates": [
        ours(json!({})),
        {"name": "other", "language": "en", "namespace": "shared"},
        {"name": "third", "language": "de", "message_template_namespace": "shared"},
    ]}));
    let t = check_template(&list, "t", "en", None).ok().unwrap();
    assert_eq!(t.namespace.as_deref(), Some("shared"));
    // A configured namespace wins; siblings that disagree give none.
    let t = check_template(&list, "t", "en", Some("mine")).ok().unwrap();
    assert_eq!(t.namespace.as_deref(), Some("mine"));
    let list = templates(json!([ours(json!({})),
        {"name": "a", "namespace": "n1"}, {"name": "b", "namespace": "n2"}]));
    let t = check_template(&list, "t", "en", None).ok().unwrap();
    assert_eq!(t.namespace, None);
}

#[test]
fn only_a_connected_channel_sends() {
    for ok in ["connected", "CONNECTED", "connecting", "authorized"] {
        assert!(status_verdict(ok).is_ok(), "{ok}");
    }
    for bad in ["disconnected", "uninitialized", "unregistered", "loading"] {
        assert!(status_verdict(bad).is_err(), "{bad}");
    }
}

#[test]
fn an_error_object_is_an_outage_not_a_missing_template() {
    let f = templates_failure(
        ApiError::Answered("Channel is not connected".into()),
        "C1",
        TokenIn::Header,
    );
    assert_eq!(f.code(), exit::UNAVAILABLE);
    assert!(f.to_string().contains("Channel is not connected"), "{f}");
    assert!(!f.to_string().contains("does not exist"), "{f}");
    let f = templates_failure(
        ApiError::Credentials {
            route: "templates",
            status: 401,
            said: String::new(),
        },
        "C1",
        TokenIn::Header,
    );
    assert_eq!(f.code(), exit::NO_PERM);
    assert!(f.to_string().contains("on templates"), "{f}");
    assert!(f.to_string().contains("--token-in query"), "{f}");
}

#[tokio::test]
async fn transient_failures_are_tried_again_and_others_not() {
    let tries = AtomicUsize::new(0);
    let zero = [Duration::ZERO; 3];
    let r = retrying(&zero, || async {
        match tries.fetch_add(1, Ordering::SeqCst) {
            0 => Err(ApiError::Status {
                status: 429,
                detail: "slow down".into(),
            }),
            1 => Err(ApiError::Transport("timed out".into())),
            _ => Ok(7),
        }
    })
    .await;
    assert_eq!((r.unwrap(), tries.load(Ordering::SeqCst)), (7, 3));
    let tries = AtomicUsize::new(0);
    let r: Result<(), _> = retrying(&zero, || async {
        tries.fetch_add(1, Ordering::SeqCst);
        Err(ApiError::Status {
            status: 503,
            detail: "down".into(),
        })
    })
    .await;
    assert!(r.is_err());
    assert_eq!(tries.load(Ordering::SeqCst), 4, "one try and three retries");
    let tries = AtomicUsize::new(0);
    let r: Result<(), _> = retrying(&zero, || async {
        tries.fetch_add(1, Ordering::SeqCst);
        Err(ApiError::Answered("error object".into()))
    })
    .await;
    assert!(r.is_err());
    assert_eq!(tries.load(Ordering::SeqCst), 1);
}

#[test]
fn a_template_meta_moved_out_of_utility_stops_unless_allowed() {
    let list = templates(json!([ours(
        json!({"category": "MARKETING", "quality_score": {"score": "RED"}})
    )]));
    let t = check_template(&list, "t", "en", None).ok().unwrap();
    assert_eq!(
        (t.category.as_deref(), t.quality.as_deref()),
        (Some("MARKETING"), Some("RED"))
    );
    let Err(refused) = check_health(&t, "t", &[]) else {
        panic!("a MARKETING template must stop the run");
    };
    assert_eq!(refused.code(), exit::CONFIG);
    assert!(
        refused.to_string().contains("--allow-category marketing"),
        "{refused}"
    );
    assert!(check_health(&t, "t", &["Marketing".into()]).is_ok());
    // UTILITY, or a list that names no category, goes on.
    let list = templates(json!([ours(json!({"category": "utility"}))]));
    let utility = check_template(&list, "t", "en", None).ok().unwrap();
    assert!(check_health(&utility, "t", &[]).is_ok());
    let list = templates(json!([ours(json!({}))]));
    let unnamed = check_template(&list, "t", "en", None).ok().unwrap();
    assert!(check_health(&unnamed, "t", &[]).is_ok());
}
