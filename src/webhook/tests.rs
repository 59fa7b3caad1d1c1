use super::*;
use crate::ledger::{Answer, Ledger, RunMeta, SendClass};

#[test]
fn the_secret_in_the_path_or_the_header() {
    let uri: Uri = "/hooks/s3cret".parse().unwrap();
    let mut headers = HeaderMap::new();
    assert!(authorized(None, &uri, &headers));
    assert!(authorized(Some("s3cret"), &uri, &headers));
    let other: Uri = "/hooks/s3cre".parse().unwrap();
    assert!(!authorized(Some("s3cret"), &other, &headers));
    headers.insert(SECRET_HEADER, "s3cret".parse().unwrap());
    assert!(authorized(Some("s3cret"), &other, &headers));
    assert!(!authorized(Some("other"), &other, &headers));
}

/// A ledger with one run and one attempt's intent, not answered yet, on
/// the recorder's thread. In memory: a file's commit waits for the disk,
/// which a machine busy with builds can hold for seconds, longer than the
/// receiver's late tries, and the late match is what the test is about.
async fn ledger_with_intent() -> (Recorder, crate::ledger::AttemptId) {
    let (recorder, _thread) = Recorder::start(Ledger::open_in_memory().unwrap());
    let run = recorder
        .begin_run(RunMeta {
            kind: "run".into(),
            input_path: None,
            api_url: "http://127.0.0.1:1".into(),
            channel: "C".into(),
            simulated: false,
            template: "t".into(),
            language: "en".into(),
            started_at: Utc::now(),
        })
        .await
        .unwrap();
    let attempt = recorder
        .record_intent(crate::ledger::Intent {
            run,
            order_key: "A-1".into(),
            attempt_no: 1,
            phone: "4915100000".into(),
            params: Vec::new(),
            at: Utc::now(),
            language: None,
            contact: None,
        })
        .await
        .unwrap();
    (recorder, attempt)
}

async fn post(addr: SocketAddr, body: &'static str) -> u16 {
    reqwest::Client::new()
        .post(format!("http://{addr}/hook"))
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// 1MSG can push a status before the send's answer is recorded: the ack
/// is tried again a moment later and merged, and the tracker hears of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ack_that_overtakes_the_answer_is_matched_late() {
    let (recorder, attempt) = ledger_with_intent().await;
    let (tx, mut finals) = mpsc::unbounded_channel();
    let settings = ReceiverSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        secret: None,
    };
    let running = start(settings, recorder.clone(), Some(tx)).await.unwrap();
    let ack = r#"{"instanceId":"C","ack":[{"id":"wamid.1","status":"delivered"}]}"#;
    assert_eq!(post(running.addr, ack).await, 200);
    recorder
        .record_answer(
            attempt,
            Answer {
                result: SendClass::Accepted {
                    wamid: "wamid.1".into(),
                },
                http_status: Some(200),
                error_code: None,
                error_detail: None,
                at: Utc::now(),
            },
        )
        .await
        .unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(5), finals.recv())
        .await
        .expect("matched within the late tries");
    assert_eq!(heard.as_deref(), Some("wamid.1"));
    let status = recorder
        .read(|l| l.message("wamid.1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.status.as_deref(), Some("delivered"));
    assert!(status.status_at.is_some(), "the arrival is its time");
    assert_eq!(status.polls, 0);
    // The same ack again changes nothing.
    assert_eq!(post(running.addr, ack).await, 200);
    let counts = running.stop().await;
    assert_eq!(counts.unknown_wamids, 1);
    assert_eq!(counts.matched_late, 1);
    assert_eq!(counts.merged, 1);
    assert_eq!(counts.unchanged, 1);
}
