//! The partner directory (`--partners`): an export that names its partners
//! by id, their contacts resolved from the partners file, each order sent
//! to its partner's contact, the rest of the night going on whatever one
//! row or one partners row gets wrong.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use handoff_sim::duration::Span;
use handoff_sim::scenario::{Rule, TemplateSpec};

use crate::binary::*;

/// A partners file: Acme with a primary (in German) and a backup, Beta
/// with its primary. The channel has the template in German too
/// ([`in_languages`]).
const PARTNERS: &str = "\
Partner ID,Partner Name,Phone,Role,Language
P1,Acme Pickup,+49 151 10000001,primary,de
P1,,+49 151 10000002,backup,de
P2,Beta Kiosk,+49 151 20000001,,
";

/// Writes `text` as `name` in the test's directory.
fn write(env: &Env, name: &str, text: &str) -> PathBuf {
    let path = env.path(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The report's rows by order number.
fn by_order(env: &Env) -> HashMap<String, HashMap<String, String>> {
    env.report()
        .into_iter()
        .map(|r| (r["order_number"].clone(), r))
        .collect()
}

/// The phone of each message the simulator accepted, in no order.
async fn phones(env: &Env) -> Vec<String> {
    let mut phones: Vec<String> = env
        .sim_messages()
        .await
        .iter()
        .map(|m| m["phone"].as_str().unwrap_or_default().to_string())
        .collect();
    phones.sort();
    phones
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_of_partner_ids_is_sent_to_each_partners_primary_contact() {
    let env = Env::start(in_languages(&["en", "de"])).await;
    let partners = write(&env, "partners.csv", PARTNERS);
    let export = write(
        &env,
        "orders.csv",
        "Pickup Point,Order Number,Product Name,Delivery Note\n\
         P1,A-1,Lamp,Thanks\n\
         P2,A-2,Desk,Bye\n\
         P1,A-3,Chair,Thanks\n",
    );
    let out = env
        .run(&export, &["--partners", partners.to_str().unwrap()])
        .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        phones(&env).await,
        ["4915110000001", "4915110000001", "4915120000001"],
        "each order to its partner's primary, never the backup"
    );
    let rows = by_order(&env);
    let acme = &rows["A-1"];
    assert_eq!(acme["partner_id"], "P1");
    assert_eq!(acme["partner_name"], "Acme Pickup");
    assert_eq!(acme["phone"], "4915110000001");
    assert_eq!(acme["contact"], "primary (line 2 of partners.csv)");
    assert_eq!(acme["warnings"], "", "{acme:?}");
    let beta = &rows["A-2"];
    assert_eq!(
        (beta["partner_name"].as_str(), beta["contact"].as_str()),
        ("Beta Kiosk", "primary (line 4 of partners.csv)")
    );
    assert!(
        rows.values()
            .all(|r| ["delivered", "read"].contains(&r["outcome"].as_str())),
        "{rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ids_bad_partners_rows_and_conflicts_are_said_and_the_rest_sent() {
    let env = Env::start(in_languages(&["en", "de"])).await;
    let partners = write(
        &env,
        "partners.csv",
        &format!("{PARTNERS}P3,Gamma Depot,+49 12,primary,\n"),
    );
    // The export keeps its own name and phone columns: used only where the
    // directory has none, said where they differ.
    let export = write(
        &env,
        "orders.csv",
        "Partner ID,Partner Name,Partner Phone,Order Number,Product Name,Delivery Note\n\
         P1,Acme GmbH,+49 151 99999999,A-1,Lamp,Thanks\n\
         P9,Nobody,,A-2,Desk,Bye\n\
         P3,,,A-3,Chair,Thanks\n\
         P2,Beta Kiosk,,A-4,Shelf,Bye\n",
    );
    let out = env
        .run(&export, &["--partners", partners.to_str().unwrap()])
        .await;
    let err = stderr(&out);
    assert_eq!(code(&out), 10, "invalid rows need a person: {err}");
    // The partners row is said once, with its line and file.
    assert_eq!(err.matches("partners.csv line 5: ").count(), 1, "{err}");
    assert_eq!(
        phones(&env).await,
        ["4915110000001", "4915120000001"],
        "the two good rows were sent, to the directory's phones"
    );
    let rows = by_order(&env);
    let conflict = &rows["A-1"];
    assert!(
        ["delivered", "read"].contains(&conflict["outcome"].as_str()),
        "{conflict:?}"
    );
    assert_eq!(conflict["partner_name"], "Acme Pickup");
    assert_warning(
        conflict,
        "the export has `Acme GmbH`, line 2 of partners.csv has",
    );
    assert_warning(conflict, "the export has `+49 151 99999999`");
    let unknown = &rows["A-2"];
    assert_eq!(unknown["outcome"], "invalid");
    assert_detail(unknown, "line 3: ");
    assert_detail(
        unknown,
        "partner `P9` is not in the partners file partners.csv",
    );
    let no_phone = &rows["A-3"];
    assert_eq!(no_phone["outcome"], "invalid");
    assert_detail(no_phone, "partner `P3` has no usable phone (line 5: ");
    assert_eq!(rows["A-4"]["warnings"], "", "the same name is no conflict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partners_file_that_cannot_be_used_stops_before_anything_is_sent() {
    let env = Env::start(in_languages(&["en", "de"])).await;
    let export = write(
        &env,
        "orders.csv",
        "Partner ID,Order Number,Product Name,Delivery Note\nP1,A-1,Lamp,Thanks\n",
    );
    let no_id = write(&env, "partners.csv", "Name,Phone\nAcme,+4915110000001\n");
    let missing = env.path("nowhere.csv");
    for (partners, says) in [(&no_id, "partner_id"), (&missing, "nowhere.csv")] {
        let out = env
            .run(&export, &["--partners", partners.to_str().unwrap()])
            .await;
        let err = stderr(&out);
        assert_eq!(code(&out), 78, "{err}");
        assert!(err.contains("--partners") && err.contains(says), "{err}");
    }
    assert!(env.sim_messages().await.is_empty());
}

/// The simulator's channel with the default template in each of `languages`.
fn in_languages(languages: &[&str]) -> handoff_sim::Scenario {
    let mut s = fast();
    s.templates = languages
        .iter()
        .map(|l| TemplateSpec {
            language: (*l).to_string(),
            ..TemplateSpec::default()
        })
        .collect();
    s
}

/// The language of each message the simulator accepted, by phone.
async fn languages(env: &Env) -> HashMap<String, String> {
    env.sim_messages()
        .await
        .iter()
        .map(|m| {
            let field = |k: &str| m[k].as_str().unwrap_or_default().to_string();
            (field("phone"), field("language"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_partner_is_written_to_in_its_contacts_language() {
    let env = Env::start(in_languages(&["en", "de"])).await;
    let partners = write(&env, "partners.csv", PARTNERS);
    let export = write(
        &env,
        "orders.csv",
        "Partner ID,Order Number,Product Name,Delivery Note\nP1,A-1,Lamp,Danke\nP2,A-2,Desk,Bye\n",
    );
    let out = env
        .run(&export, &["--partners", partners.to_str().unwrap()])
        .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let sent = languages(&env).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent["4915110000001"], "de", "Acme's primary is German");
    assert_eq!(sent["4915120000001"], "en", "Beta's has none: --language");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_night_needing_a_language_the_template_lacks_stops_at_preflight() {
    let env = Env::start(in_languages(&["en", "de"])).await;
    let partners = write(
        &env,
        "partners.csv",
        &format!("{PARTNERS}P3,Gamma,+49 151 30000001,,fr\nP4,Delta,+49 151 40000001,,it\n"),
    );
    let export = write(
        &env,
        "orders.csv",
        "Partner ID,Order Number,Product Name,Delivery Note\n\
         P1,A-1,Lamp,Danke\nP3,A-3,Desk,Merci\nP4,A-4,Desk,Grazie\n",
    );
    let out = env
        .run(&export, &["--partners", partners.to_str().unwrap()])
        .await;
    let err = stderr(&out);
    assert_eq!(code(&out), 78, "{err}");
    assert!(err.contains("no `fr`, `it` translation"), "{err}");
    assert!(env.sim_messages().await.is_empty(), "nothing sent");
    // A language the night does not need stops nothing.
    let export = write(
        &env,
        "orders.csv",
        "Partner ID,Order Number,Product Name,Delivery Note\nP1,A-1,Lamp,Danke\n",
    );
    let out = env
        .run(&export, &["--partners", partners.to_str().unwrap()])
        .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(languages(&env).await["4915110000001"], "de");
}

/// Acme's primary is not on WhatsApp (the simulator's `1555010…`), its
/// backup is; Beta's primary is.
const NOT_ON_WHATSAPP: &str = "\
Partner ID,Partner Name,Phone,Role
P1,Acme Pickup,+1 555 010 0001,primary
P1,,+49 151 10000002,backup
P2,Beta Kiosk,+49 151 20000001,
";

/// The night: one order for each partner.
const NIGHT: &str = "Partner ID,Order Number,Product Name,Delivery Note\n\
                     P1,A-1,Lamp,Thanks\nP2,A-2,Desk,Bye\n";

/// The night (the partners file `partners`, the export [`NIGHT`]) with
/// `--fallback backup` and `extra`; a second call runs it again, with the
/// partners file as it says then.
async fn fallback_night(env: &Env, partners: &str, extra: &[&str]) -> std::process::Output {
    let partners = write(env, "partners.csv", partners);
    let export = write(env, "orders.csv", NIGHT);
    let p = partners.to_str().unwrap();
    let args = [&["--partners", p, "--fallback", "backup"][..], extra].concat();
    env.run(&export, &args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_not_on_whatsapp_falls_back_to_the_backup_once() {
    let env = Env::start(fast()).await;
    let out = fallback_night(&env, NOT_ON_WHATSAPP, &[]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        phones(&env).await,
        ["15550100001", "4915110000002", "4915120000001"],
        "the backup got one message, after the primary's failed"
    );
    let rows = by_order(&env);
    let acme = &rows["A-1"];
    assert!(
        ["delivered", "read"].contains(&acme["outcome"].as_str()),
        "{acme:?}"
    );
    assert_eq!(acme["contact"], "backup (line 3 of partners.csv)");
    assert_eq!(acme["phone"], "4915110000002");
    assert!(
        acme["notes"].contains("the message to +15550100001 failed with code 131026"),
        "{acme:?}"
    );
    assert_eq!(rows["A-2"]["contact"], "primary (line 4 of partners.csv)");

    // The night again: every order has its message; nothing more is sent.
    let out = fallback_night(&env, NOT_ON_WHATSAPP, &[]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(env.sim_messages().await.len(), 3, "nothing sent again");
    let again = by_order(&env);
    assert_eq!(again["A-1"]["outcome"], acme["outcome"], "{again:?}");
    assert_eq!(
        (
            again["A-1"]["contact"].as_str(),
            again["A-1"]["phone"].as_str()
        ),
        ("backup (line 3 of partners.csv)", "4915110000002"),
        "the row names the contact its order's message went to"
    );
    assert!(
        !again["A-1"]["warnings"].contains("changed since"),
        "the backup's phone is no change: {again:?}"
    );
}

/// The backup has `--max-attempts` of its own: the primary's attempt does
/// not use up one of its tries. With two attempts, the primary's one
/// (its message failed), and a 429 on the backup's first, the backup's
/// second try is still made, and accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backup_has_its_own_attempts() {
    let mut s = fast();
    s.rules = vec![Rule {
        phones: vec!["4915110000002".into()],
        fault: Some(handoff_sim::scenario::Fault::TooManyRequests),
        times: Some(1),
        ..Rule::default()
    }];
    let env = Env::start(s).await;
    let out = fallback_night(&env, NOT_ON_WHATSAPP, &["--max-attempts", "2"]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let acme = &by_order(&env)["A-1"];
    assert!(
        ["delivered", "read"].contains(&acme["outcome"].as_str()),
        "{acme:?}"
    );
    assert_eq!(acme["phone"], "4915110000002");
    assert_eq!(
        phones(&env).await,
        ["15550100001", "4915110000002", "4915120000001"],
        "one message to the backup, after its 429"
    );
    assert_eq!(
        send_requests(&env.stats().await),
        4,
        "primary, 429, backup, P2"
    );
}

/// The primary's messages fail (131026), and then, 400 ms later, are read.
fn with_read_after_failed() -> handoff_sim::Scenario {
    let mut s = fast();
    s.latency.read = Span::fixed(Duration::from_millis(400));
    s.rules = vec![Rule {
        outcome: Some(handoff_sim::scenario::Outcome::FailedThenRead),
        error: Some(131_026),
        ..rule("4915110000001")
    }];
    s
}

/// A `failed` that a `read` follows (the real API says `sent, failed,
/// read` at times) is no proof while tracking still follows it up: the
/// primary read the order, so the backup is never written to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_the_primary_then_read_sends_nothing_to_the_backup() {
    let env = Env::start(with_read_after_failed()).await;
    let partners = write(
        &env,
        "partners.csv",
        &NOT_ON_WHATSAPP.replace("+1 555 010 0001", "+49 151 10000001"),
    );
    let export = write(&env, "orders.csv", NIGHT);
    // Polls at 300, 450, 675 and 1012 ms after acceptance: the failure is
    // seen first, the read at a follow-up.
    let args = [
        "--partners",
        partners.to_str().unwrap(),
        "--fallback",
        "backup",
        "--first-poll",
        "300ms",
    ];
    let out = env.run(&export, &args).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        phones(&env).await,
        ["4915110000001", "4915120000001"],
        "the primary read it: no backup"
    );
    let acme = &by_order(&env)["A-1"];
    assert_eq!(acme["outcome"], "read", "{acme:?}");
    assert_eq!(acme["contact"], "primary (line 2 of partners.csv)");

    // The same night with the channel's webhook on as well (its acks are
    // recorded as they come; the fallback still waits for the polls).
    let env = Env::start(with_read_after_failed()).await;
    let partners = write(
        &env,
        "partners.csv",
        &NOT_ON_WHATSAPP.replace("+1 555 010 0001", "+49 151 10000001"),
    );
    let export = write(&env, "orders.csv", NIGHT);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (listen, url) = (
        format!("127.0.0.1:{port}"),
        format!("http://127.0.0.1:{port}/hook"),
    );
    let hooked = [
        "--partners",
        partners.to_str().unwrap(),
        "--fallback",
        "backup",
        "--first-poll",
        "300ms",
        "--webhook-listen",
        &listen,
        "--webhook-url",
        &url,
    ];
    let out = env.run(&export, &hooked).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        phones(&env).await,
        ["4915110000001", "4915120000001"],
        "with the webhook too, the primary read it: no backup"
    );
}

/// A send in doubt is looked up, and sent again, only at the phone it
/// went to: the history of another chat proves nothing about it. Night 1:
/// the primary is not on WhatsApp, and the backup's send is accepted but
/// its answer lost. Then both phones change in the partners file. Night 2,
/// trusting the history's silence: the backup's chat holds the message, so
/// nothing is sent, to the new phones or the old.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doubt_is_looked_up_where_it_went_whatever_the_partners_file_says_now() {
    let mut s = fast();
    s.rules = vec![Rule {
        fault: Some(handoff_sim::scenario::Fault::DropAfter),
        times: Some(1),
        ..rule("4915110000002")
    }];
    let env = Env::start(s).await;
    let out = fallback_night(&env, NOT_ON_WHATSAPP, &["--lookup-for", "0s"]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    assert_eq!(by_order(&env)["A-1"]["outcome"], "unknown");
    let moved = NOT_ON_WHATSAPP
        .replace("+1 555 010 0001", "+49 151 10000009")
        .replace("+49 151 10000002", "+49 151 10000003");
    let night2 = ["--lookup-for", "0s", "--history-proves-absence"];
    let out = fallback_night(&env, &moved, &night2).await;
    assert_eq!(code(&out), 0, "{}\n{:?}", stderr(&out), by_order(&env));
    assert_eq!(
        phones(&env).await,
        ["15550100001", "4915110000002", "4915120000001"],
        "nothing sent on night 2"
    );
    let acme = &by_order(&env)["A-1"];
    assert!(
        ["delivered", "read"].contains(&acme["outcome"].as_str()),
        "found in the backup's chat: {acme:?}"
    );
    assert_eq!(acme["phone"], "4915110000002", "{acme:?}");
}

/// A backup that refuses the order: the row reports the backup's refusal,
/// its code and detail, and none of the failed primary message's facts
/// (wamid, status, cost).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_backup_reports_its_refusal_not_the_primarys_message() {
    let mut s = fast();
    s.rules = vec![Rule {
        reject: Some(131_050),
        ..rule("4915110000002")
    }];
    let env = Env::start(s).await;
    let out = fallback_night(&env, NOT_ON_WHATSAPP, &[]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let acme = &by_order(&env)["A-1"];
    assert_eq!(acme["outcome"], "rejected", "{acme:?}");
    assert_eq!(acme["error_code"], "131050", "{acme:?}");
    assert_eq!(
        (acme["phone"].as_str(), acme["contact"].as_str()),
        ("4915110000002", "backup (line 3 of partners.csv)")
    );
    for column in [
        "wamid",
        "whatsapp_status",
        "accepted_at",
        "failed_at",
        "pricing_category",
    ] {
        assert_eq!(acme[column], "", "{column}: {acme:?}");
    }
    assert!(
        acme["notes"].contains("written to the backup (line 3 of partners.csv) instead"),
        "{acme:?}"
    );
}

/// A next contact the suppression list holds back is not written to, and
/// the row says so: its outcome stays the primary's failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_held_back_is_said_in_the_rows_notes() {
    let env = Env::start(fast()).await;
    let partners = write(
        &env,
        "partners.csv",
        "Partner ID,Partner Name,Phone,Role,Opt Out\n\
         P1,Acme Pickup,+1 555 010 0001,primary,no\n\
         P1,,+49 151 10000002,backup,yes\n\
         P2,Beta Kiosk,+49 151 20000001,,no\n",
    );
    let export = write(&env, "orders.csv", NIGHT);
    let args = [
        "--partners",
        partners.to_str().unwrap(),
        "--fallback",
        "backup",
    ];
    let out = env.run(&export, &args).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    assert_eq!(phones(&env).await, ["15550100001", "4915120000001"]);
    let acme = &by_order(&env)["A-1"];
    assert_eq!(acme["outcome"], "failed", "{acme:?}");
    assert_eq!(acme["contact"], "primary (line 2 of partners.csv)");
    assert!(
        acme["notes"].contains(
            "failed with code 131026 (The message could not be delivered: the number is not on \
             WhatsApp, uses an old app, or has blocked us.); the backup (line 3 of partners.csv) \
             was not written to: its phone is suppressed"
        ),
        "{acme:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_flag_or_after_a_doubt_no_backup_is_messaged() {
    // Without --fallback: the primary's failure is the row's outcome.
    let env = Env::start(fast()).await;
    let partners = write(&env, "partners.csv", NOT_ON_WHATSAPP);
    let export = write(&env, "orders.csv", NIGHT);
    let out = env
        .run(&export, &["--partners", partners.to_str().unwrap()])
        .await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    assert_eq!(phones(&env).await, ["15550100001", "4915120000001"]);
    let acme = &by_order(&env)["A-1"];
    assert_eq!(acme["outcome"], "failed", "{acme:?}");
    assert_eq!(acme["contact"], "primary (line 2 of partners.csv)");

    // A primary whose answer was lost is in doubt: never a backup, even
    // though its message (found or not) could not arrive.
    let mut s = fast();
    s.rules = vec![Rule {
        fault: Some(handoff_sim::scenario::Fault::DropAfter),
        outcome: Some(handoff_sim::scenario::Outcome::Failed),
        error: Some(131_026),
        ..rule("15550100001")
    }];
    let env = Env::start(s).await;
    let out = fallback_night(&env, NOT_ON_WHATSAPP, &[]).await;
    assert_ne!(code(&out), 0, "{:?}", env.report());
    assert_eq!(
        phones(&env).await,
        ["15550100001", "4915120000001"],
        "the backup was never messaged"
    );
    assert_eq!(
        by_order(&env)["A-1"]["contact"],
        "primary (line 2 of partners.csv)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_reads_the_partners_file_again_and_sends_to_a_corrected_phone() {
    let env = Env::start(fast()).await;
    let partners = write(&env, "partners.csv", NOT_ON_WHATSAPP);
    let export = write(&env, "orders.csv", NIGHT);
    let out = env
        .run(&export, &["--partners", partners.to_str().unwrap()])
        .await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    assert_eq!(by_order(&env)["A-1"]["outcome"], "failed");

    // The account manager corrects Acme's primary in the partners file.
    write(
        &env,
        "partners.csv",
        &NOT_ON_WHATSAPP.replace("+1 555 010 0001", "+49 151 10000009"),
    );
    let out = env
        .rerun("rerun.csv", &["--partners", partners.to_str().unwrap()])
        .await;
    assert_eq!(code(&out), 0, "{:?}", env.read_csv("rerun.csv"));
    assert_eq!(
        phones(&env).await,
        ["15550100001", "4915110000009", "4915120000001"],
        "the corrected phone got the order; the rest was not sent again"
    );
    let rerun: HashMap<String, HashMap<String, String>> = env
        .read_csv("rerun.csv")
        .into_iter()
        .map(|r| (r["order_number"].clone(), r))
        .collect();
    assert_eq!(rerun["A-1"]["phone"], "4915110000009", "{rerun:?}");
    assert_eq!(rerun["A-1"]["partner_id"], "P1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_proved_unsent_goes_again_in_its_contacts_language() {
    let mut s = in_languages(&["en", "de"]);
    s.rules = vec![Rule {
        fault: Some(handoff_sim::scenario::Fault::DropBefore),
        times: Some(1),
        ..rule("4915110000001")
    }];
    let env = Env::start(s).await;
    let partners = write(&env, "partners.csv", PARTNERS);
    let export = write(
        &env,
        "orders.csv",
        "Partner ID,Order Number,Product Name,Delivery Note\nP1,A-1,Lamp,Danke\n",
    );
    let partners = partners.to_str().unwrap();
    let args = ["--partners", partners, "--history-proves-absence"];
    let out = env.run(&export, &args).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let acme = &by_order(&env)["A-1"];
    assert_eq!(
        acme["attempts"], "2",
        "the dropped send, then the one: {acme:?}"
    );
    assert_eq!(languages(&env).await["4915110000001"], "de");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_send_proved_unsent_the_next_night_goes_again_to_the_backup_in_its_language() {
    // The backup's first send never reaches the API: the night ends with
    // it in doubt, the row naming the backup it may have gone to.
    let mut s = in_languages(&["en", "de"]);
    s.rules = vec![Rule {
        fault: Some(handoff_sim::scenario::Fault::DropBefore),
        times: Some(1),
        ..rule("4915110000002")
    }];
    let env = Env::start(s).await;
    let partners = write(
        &env,
        "partners.csv",
        "Partner ID,Partner Name,Phone,Role,Language\n\
         P1,Acme Pickup,+1 555 010 0001,primary,en\n\
         P1,,+49 151 10000002,backup,de\n\
         P2,Beta Kiosk,+49 151 20000001,,\n",
    );
    let export = write(&env, "orders.csv", NIGHT);
    let partners = partners.to_str().unwrap();
    let args = ["--partners", partners, "--fallback", "backup"];
    let out = env.run(&export, &args).await;
    assert_ne!(code(&out), 0, "{:?}", env.report());
    let acme = &by_order(&env)["A-1"];
    assert_eq!(acme["outcome"], "unknown", "{acme:?}");
    assert_eq!(acme["contact"], "backup (line 3 of partners.csv)");

    // The next night proves it unsent and sends it once more: to the
    // backup, in the backup's language, never to the primary again.
    let args = [&args[..], &["--history-proves-absence"]].concat();
    let out = env.run(&export, &args).await;
    assert_eq!(code(&out), 0, "{} {:?}", stderr(&out), env.report());
    assert_eq!(
        phones(&env).await,
        ["15550100001", "4915110000002", "4915120000001"]
    );
    assert_eq!(languages(&env).await["4915110000002"], "de");
    let acme = &by_order(&env)["A-1"];
    assert!(
        ["delivered", "read"].contains(&acme["outcome"].as_str()),
        "{acme:?}"
    );
    assert_eq!(
        (acme["contact"].as_str(), acme["phone"].as_str()),
        ("backup (line 3 of partners.csv)", "4915110000002"),
        "{acme:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_file_names_the_partners_file_beside_it() {
    let env = Env::start(fast()).await;
    std::fs::create_dir(env.path("conf")).unwrap();
    write(&env, "conf/partners.csv", NOT_ON_WHATSAPP);
    let settings = write(
        &env,
        "conf/handoff.toml",
        "partners = \"partners.csv\"\nfallback = \"backup\"\n",
    );
    let export = write(&env, "orders.csv", NIGHT);
    let out = env
        .run(&export, &["--config", settings.to_str().unwrap()])
        .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        phones(&env).await,
        ["15550100001", "4915110000002", "4915120000001"]
    );
}

/// A contact the partners file marks as opted out joins the suppression
/// list: its orders are `suppressed`, nothing is sent to it, `handoff
/// suppressions` lists it; an opt-out cell that says neither yes nor no
/// costs that contact, named with its line.
/// A send in doubt is never held back before its look-up (it may have
/// been accepted); once the history proves it unsent, a phone suppressed
/// since holds it back as any row. Night 1: the send is lost before the
/// API took it. Then the partner opts out. Night 2: nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doubt_proved_unsent_is_not_sent_to_a_phone_suppressed_since() {
    let mut s = fast();
    s.rules = vec![Rule {
        fault: Some(handoff_sim::scenario::Fault::DropBefore),
        times: Some(1),
        ..rule("4915130000001")
    }];
    let env = Env::start(s).await;
    let directory = |opt_out: &str| {
        format!(
            "Partner ID,Partner Name,Phone,Opt Out\nP1,Acme Pickup,+49 151 30000001,{opt_out}\n"
        )
    };
    let partners = write(&env, "partners.csv", &directory("no"));
    let export = write(
        &env,
        "orders.csv",
        "Partner ID,Order Number,Product Name,Delivery Note\nP1,O-1,Lamp,Thanks\n",
    );
    let args = [
        "--partners",
        partners.to_str().unwrap(),
        "--lookup-for",
        "0s",
    ];
    let out = env.run(&export, &args).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    assert_eq!(by_order(&env)["O-1"]["outcome"], "unknown");
    write(&env, "partners.csv", &directory("yes"));
    let night2 = [&args[..], &["--history-proves-absence"]].concat();
    let out = env.run(&export, &night2).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    assert!(
        phones(&env).await.is_empty(),
        "nothing sent to the opted-out phone"
    );
    let row = &by_order(&env)["O-1"];
    assert_eq!(row["outcome"], "suppressed", "{row:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_opted_out_in_the_partners_file_is_suppressed() {
    let env = Env::start(fast()).await;
    let partners = write(
        &env,
        "partners.csv",
        "Partner ID,Partner Name,Phone,Opt Out\n\
         P1,Acme Pickup,+49 151 30000001,yes\n\
         P2,Beta Kiosk,+49 151 30000002,no\n\
         P3,Gamma Shop,+49 151 30000003,maybe\n",
    );
    let export = write(
        &env,
        "orders.csv",
        "Partner ID,Order Number,Product Name,Delivery Note\n\
         P1,O-1,Lamp,Thanks\nP2,O-2,Desk,Bye\nP3,O-3,Chair,Hi\n",
    );
    // The preview holds back what the run will: Acme is not "to send".
    let dry = env
        .run(
            &export,
            &["--partners", partners.to_str().unwrap(), "--dry-run"],
        )
        .await;
    let said = String::from_utf8_lossy(&dry.stdout);
    assert!(
        said.contains("3 rows: 1 to send, 1 invalid, 0 duplicate, 1 to suppressed phones."),
        "{said}"
    );
    let out = env
        .run(&export, &["--partners", partners.to_str().unwrap()])
        .await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    assert_eq!(phones(&env).await, ["4915130000002"], "only Beta");
    let rows = by_order(&env);
    assert_eq!(rows["O-1"]["outcome"], "suppressed", "{:?}", rows["O-1"]);
    assert_eq!(rows["O-3"]["outcome"], "invalid", "{:?}", rows["O-3"]);
    assert!(
        stderr(&out).contains("line 4") && stderr(&out).contains("`maybe` is neither yes nor no"),
        "{}",
        stderr(&out)
    );
    let list = std::process::Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args(["suppressions", "--json", "--ledger"])
        .arg(env.path("ledger.sqlite"))
        .output()
        .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON");
    assert_eq!(
        listed["suppressions"][0]["phone"], "+4915130000001",
        "{listed}"
    );
}
