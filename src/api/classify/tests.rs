use super::*;

fn ok(body: &str) -> SendAnswer {
    classify(StatusCode::OK, None, body.as_bytes())
}

/// A doubt whose answer said `taken`, naming `id`.
fn doubt(taken: Taken, id: Option<&str>) -> SendClass {
    SendClass::Ambiguous {
        taken,
        named_id: id.map(str::to_string),
    }
}

/// What a doubtful answer proved is typed here, once, and settling reads
/// only that: an acceptance without an id (queued, `sent:true` without
/// one), an id named without a `sent`, or nothing; and the id to look for.
#[test]
fn what_a_doubtful_answer_proved_is_typed_with_the_id_it_named() {
    // Accepted without an id, whichever way the API put it.
    let queued = ok(r#"{"sent":false,"jobId":"job-7"}"#);
    assert_eq!(queued.class, doubt(Taken::WithoutId, None));
    assert!(
        queued
            .detail
            .unwrap()
            .contains("queued the send as job job-7"),
        "the words stay for people"
    );
    assert_eq!(ok(r#"{"sent":true}"#).class, doubt(Taken::WithoutId, None));
    assert_eq!(
        ok(r#"{"message":"Message Queued"}"#).class,
        doubt(Taken::WithoutId, None)
    );
    // Named an id: in `id`, or in a `message` that looks like one.
    assert_eq!(
        ok(r#"{"id":"wamid.7","message":"Sent to 49@c.us"}"#).class,
        doubt(Taken::NamedId, Some("wamid.7"))
    );
    assert_eq!(
        ok(r#"{"sent":true,"message":"wamid.HBgL1"}"#).class,
        doubt(Taken::WithoutId, Some("wamid.HBgL1"))
    );
    // Queued and named: the stronger claim, and the id to look for.
    assert_eq!(
        ok(r#"{"id":"w","jobId":"j"}"#).class,
        doubt(Taken::WithoutId, Some("w"))
    );
    // An id too long to show whole, or nothing named: nothing to look for.
    let long = format!(
        r#"{{"sent":true,"message":"wamid.HBgL{}"}}"#,
        "A".repeat(130)
    );
    let a = ok(&long);
    assert_eq!(a.class, doubt(Taken::WithoutId, None));
    assert!(a.detail.unwrap().contains('…'));
    let failed = classify(
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
        b"Internal server error",
    );
    assert_eq!(failed.class, SendClass::UNSAID);
}

#[test]
fn acceptance_needs_sent_true_and_an_id() {
    assert_eq!(
        ok(r#"{"sent":true,"id":"wamid.1","message":"Sent to 1@c.us"}"#).class,
        SendClass::Accepted {
            wamid: "wamid.1".into()
        }
    );
    assert_eq!(ok(r#"{"sent":true}"#).class, doubt(Taken::WithoutId, None));
    assert_eq!(ok("not json").class, SendClass::UNSAID);
    assert_eq!(
        ok(r#"{"sent":false,"message":"queued","jobId":"j1"}"#).class,
        doubt(Taken::WithoutId, None)
    );
}

#[test]
fn meta_codes_decide_retry_reject_or_stop() {
    let a = ok(r#"{"sent":false,"message":"(#131056) pair rate limit hit"}"#);
    assert_eq!(a.error_code, Some(131056));
    assert_eq!(a.class, SendClass::Retry(RetryKind::PairRate));
    let a = ok(r#"{"sent":false,"message":"x","error":{"code":130429,"message":"x"}}"#);
    assert_eq!(a.class, SendClass::Retry(RetryKind::Throughput));
    let a = ok(r#"{"sent":false,"message":"(#132001) Template name does not exist"}"#);
    assert_eq!(a.class, SendClass::Fatal(Fatal::Configuration));
    let a = ok(r#"{"sent":false,"message":"rejected"}"#);
    assert_eq!(a.class, SendClass::Rejected);
    assert_eq!(a.detail.as_deref(), Some("rejected"));
    let a = ok(r#"{"sent":false,"error":{"error_code":"131026","message":"undeliverable"}}"#);
    assert_eq!(a.error_code, Some(131026));
    assert_eq!(a.class, SendClass::Rejected);
}

#[test]
fn http_statuses() {
    let c = |s: u16| classify(StatusCode::from_u16(s).unwrap(), None, b"{\"error\":\"x\"}").class;
    assert_eq!(c(401), SendClass::Fatal(Fatal::Credentials));
    assert_eq!(c(403), SendClass::Fatal(Fatal::Credentials));
    assert_eq!(c(400), SendClass::Rejected);
    assert_eq!(c(500), SendClass::UNSAID);
    assert_eq!(
        c(503),
        SendClass::Retry(RetryKind::Unavailable),
        "not processed"
    );
    let a = classify(
        StatusCode::TOO_MANY_REQUESTS,
        Some(Duration::from_secs(3)),
        b"{\"error\":\"Too many requests\"}",
    );
    assert_eq!(a.class, SendClass::Retry(RetryKind::TooManyRequests));
    assert_eq!(a.retry_after, Some(Duration::from_secs(3)));
    assert_eq!(a.detail.as_deref(), Some("Too many requests"));
}

#[test]
fn a_refused_token_is_never_echoed() {
    let a = classify(
        StatusCode::UNAUTHORIZED,
        None,
        br#"{"error":"Wrong token \"xxxRY-SECRET-VALUExxx\" for channel \"1\"."}"#,
    );
    let detail = a.detail.unwrap();
    assert!(!detail.contains("SECRET"), "{detail}");
    assert!(detail.contains("HTTP 401"));
}

#[test]
fn sent_true_without_an_id_is_accepted_without_a_message_id() {
    for body in [
        r#"{"sent":true}"#,
        r#"{"sent":true,"message":"Sent to 556123122026@c.us"}"#,
        r#"{"sent":"true","description":"Message has been sent to the provider"}"#,
        r#"{"sent":1,"id":null}"#,
        r#"{"sent":true,"id":""}"#,
    ] {
        let a = ok(body);
        assert_eq!(a.class, doubt(Taken::WithoutId, None), "{body}");
        let detail = a.detail.unwrap();
        assert!(
            detail.contains("accepted without a message id"),
            "{body}: {detail}"
        );
    }
    let a = ok(r#"{"sent":true,"message":"Sent to 556123122026@c.us"}"#);
    assert!(a.detail.unwrap().contains("Sent to 556123122026@c.us"));
    // NEW's TS SDK mock keeps the id in `message` too.
    let a = ok(r#"{"sent":true,"message":"wamid.HBgMNTczMDAx"}"#);
    assert_eq!(a.class, doubt(Taken::WithoutId, Some("wamid.HBgMNTczMDAx")));
    let detail = a.detail.unwrap();
    assert!(detail.contains("accepted without a message id"), "{detail}");
    assert!(detail.contains("`wamid.HBgMNTczMDAx`"), "{detail}");
    let a = ok(r#"{"sent":true,"message":"gBGGeRhGZTEfAgkJCh2wAz4ZH-8"}"#);
    assert_eq!(
        a.class,
        doubt(Taken::WithoutId, Some("gBGGeRhGZTEfAgkJCh2wAz4ZH-8"))
    );
    assert!(a.detail.unwrap().contains("may be the message id"));
}

#[test]
fn loose_types_in_a_send_answer() {
    let accepted = |wamid: &str| SendClass::Accepted {
        wamid: wamid.into(),
    };
    assert_eq!(
        ok(r#"{"sent":"true","id":"wamid.1"}"#).class,
        accepted("wamid.1")
    );
    assert_eq!(ok(r#"{"sent":1,"id":12345}"#).class, accepted("12345"));
    assert_eq!(
        ok(r#"{"sent":true,"message":"msg-id","id":"msg-id"}"#).class,
        accepted("msg-id")
    );
    let a = ok(r#"{"sent":"false","message":"(#131026) Message undeliverable"}"#);
    assert_eq!(
        (a.class, a.error_code),
        (SendClass::Rejected, Some(131_026))
    );
    let a = ok(r#"{"sent":0,"message":"queued","jobId":4711}"#);
    assert_eq!(a.class, doubt(Taken::WithoutId, None));
    assert!(a.detail.unwrap().contains("queued the send as job 4711"));
    // `queued` said without a job id is still a queued send.
    let a = ok(r#"{"sent":false,"message":"Message queued"}"#);
    assert_eq!(a.class, doubt(Taken::WithoutId, None));
    assert!(a.detail.unwrap().contains("queued"));
}

#[test]
fn no_sent_field_is_a_doubt_not_a_rejection() {
    let a = ok("{}");
    assert_eq!(a.class, SendClass::UNSAID);
    assert_eq!(
        a.detail.as_deref(),
        Some("the answer had no `sent` field: {}")
    );
    let a = ok(r#"{"id":"wamid.1","message":"Sent to 1@c.us"}"#);
    assert_eq!(a.class, doubt(Taken::NamedId, Some("wamid.1")));
    let detail = a.detail.unwrap();
    assert!(
        detail.contains("the answer had no `sent` field"),
        "{detail}"
    );
    assert!(detail.contains("`wamid.1`"), "{detail}");
    let a = ok(r#"{"id":77}"#);
    assert_eq!(a.class, doubt(Taken::NamedId, Some("77")));
    assert!(a.detail.unwrap().contains("`77`"));
    let a = ok(r#"{"sent":"perhaps","id":"wamid.1"}"#);
    assert_eq!(a.class, doubt(Taken::NamedId, Some("wamid.1")));
    assert!(a.detail.unwrap().contains("neither true nor false"));
    assert_eq!(ok("[1]").class, SendClass::UNSAID);
}

#[test]
fn a_plain_refusal_stays_rejected_without_a_code() {
    let a = ok(r#"{"sent":false,"message":"Channel is not connected"}"#);
    assert_eq!(a.class, SendClass::Rejected);
    assert_eq!(a.error_code, None);
    assert_eq!(a.detail.as_deref(), Some("Channel is not connected"));
}

#[test]
fn proxy_pages_429_without_retry_after_and_a_403_text() {
    let page = b"<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center></body></html>";
    let a = classify(StatusCode::GATEWAY_TIMEOUT, None, page);
    assert_eq!(a.class, SendClass::UNSAID);
    assert_eq!(
        a.detail.as_deref(),
        Some("an HTML page: 504 Gateway Time-out")
    );
    let a = classify(
        StatusCode::BAD_GATEWAY,
        None,
        b"<html><title>502 Bad Gateway</title></html>",
    );
    assert_eq!(a.detail.as_deref(), Some("an HTML page: 502 Bad Gateway"));
    let a = classify(
        StatusCode::TOO_MANY_REQUESTS,
        None,
        b"{\"error\":\"Rate limit exceeded\"}",
    );
    assert_eq!(a.class, SendClass::Retry(RetryKind::TooManyRequests));
    assert_eq!(a.retry_after, None);
    let a = classify(StatusCode::FORBIDDEN, None, b"Channel is in trial mode");
    assert_eq!(a.class, SendClass::Fatal(Fatal::Credentials));
    assert_eq!(
        a.detail.as_deref(),
        Some("the API refused this channel (HTTP 403): Channel is in trial mode")
    );
}

#[test]
fn retry_after_in_both_forms() {
    assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
    let later = chrono::Utc::now() + chrono::Duration::seconds(30);
    let d = parse_retry_after(&later.to_rfc2822()).unwrap();
    assert!(
        d > Duration::from_secs(25) && d <= Duration::from_secs(30),
        "{d:?}"
    );
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon"), None);
}

/// What 1MSG forwards from Meta: the Cloud API's own acceptance (its id in
/// `messages[]`, whatever its `message_status`, held for Meta's quality
/// check included) is an acceptance; 1MSG's plain overload refusal and a
/// 503 say nothing was processed, so they are retried, never a refusal of
/// the row nor a doubt. A refusal in words we do not know stays one.
#[test]
fn answers_forwarded_from_meta_are_read_for_what_they_prove() {
    let wamid = "wamid.HBgLNDkxNTE=";
    for status in ["accepted", "held_for_quality_assessment", "paused"] {
        let body = format!(
            r#"{{"messaging_product":"whatsapp","contacts":[{{"input":"49151","wa_id":"49151"}}],"messages":[{{"id":"{wamid}","message_status":"{status}"}}]}}"#
        );
        assert_eq!(
            ok(&body).class,
            SendClass::Accepted {
                wamid: wamid.into()
            },
            "{status}"
        );
    }
    // Without `message_status` (Meta's older answers) it is the same.
    assert_eq!(
        ok(r#"{"messages":[{"id":"wamid.2"}]}"#).class,
        SendClass::Accepted {
            wamid: "wamid.2".into()
        }
    );
    // `sent:false` wins over an odd `messages`: not accepted.
    assert_eq!(
        ok(r#"{"sent":false,"message":"Channel is not connected","messages":[{"id":"w"}]}"#).class,
        SendClass::Rejected
    );
    for text in [
        "Too many requests. Please try again later.",
        "Rate limit exceeded",
        "Server overloaded",
        "Request throttled",
    ] {
        let body = format!(r#"{{"sent":false,"message":"{text}"}}"#);
        assert_eq!(
            ok(&body).class,
            SendClass::Retry(RetryKind::TooManyRequests),
            "{text}"
        );
    }
    assert_eq!(
        ok(r#"{"sent":false,"message":"Channel is not connected"}"#).class,
        SendClass::Rejected,
        "unknown words stay a refusal"
    );
    // A 429 is one whatever its body says.
    let plain_429 = classify(
        StatusCode::TOO_MANY_REQUESTS,
        None,
        b"Too many requests. Please try again later.",
    );
    assert_eq!(
        plain_429.class,
        SendClass::Retry(RetryKind::TooManyRequests)
    );
    let page = b"<html><head><title>503 Service Temporarily Unavailable</title></head></html>";
    let unavailable = classify(
        StatusCode::SERVICE_UNAVAILABLE,
        Some(Duration::from_secs(30)),
        page,
    );
    assert_eq!(unavailable.class, SendClass::Retry(RetryKind::Unavailable));
    assert_eq!(unavailable.retry_after, Some(Duration::from_secs(30)));
    // Other 5xx stay doubts: the request may have been processed.
    for status in [
        StatusCode::INTERNAL_SERVER_ERROR,
        StatusCode::BAD_GATEWAY,
        StatusCode::GATEWAY_TIMEOUT,
    ] {
        assert_eq!(classify(status, None, b"").class, SendClass::UNSAID);
    }
}
