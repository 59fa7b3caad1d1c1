//! B1 hook shapes, B3 status words, B4 a hookInfo that answers 404 for
//! every message.

use super::*;

// B1: hook shapes

/// Three rows read, two failing with 131026 and two with 131050, under
/// hooks of `shape`: every final status is seen, each failed row carries
/// its error (Meta's code where the shape has one, the text always), and
/// no answer is lost because of one odd hook. Exit 10: the failed rows
/// need a person; every other row is read.
async fn every_status_is_read_in_shape(shape: HookShape, tag: &str, has_code: bool) {
    let mut s = quick();
    s.hooks.shape = shape;
    let env = Env::start(s).await;
    let mut input = readers(tag, 3);
    input.extend(failing("10", tag, 2));
    input.extend(failing("20", tag, 2));
    let file = env.csv(&input);
    let out = run_late_first_poll(&env, &file).await;
    assert_eq!(code(&out), 10, "{shape:?}: {}", stderr(&out));
    let report = assert_truthful(&env, &format!("hooks.shape = {shape:?}")).await;
    assert_eq!(report.len(), 7);
    for r in report.values() {
        let order = r["order_number"].as_str();
        let (outcome, code, title) = if order.starts_with("F10") {
            ("failed", "131026", "Message undeliverable")
        } else if order.starts_with("F20") {
            ("failed", "131050", "User has stopped marketing messages")
        } else {
            ("read", "", "")
        };
        assert_eq!(r["outcome"], outcome, "{shape:?}: {r:?}");
        assert_eq!(r["whatsapp_status"], outcome, "{shape:?}: {r:?}");
        if outcome == "failed" {
            let want = if has_code { code } else { "" };
            assert_eq!(r["error_code"], want, "{shape:?}: {r:?}");
            assert_eq!(r["error_detail"], title, "{shape:?}: {r:?}");
        }
    }
    let said = summary(&out);
    let unreadable = said["unreadable_hooks"].as_u64().unwrap();
    if shape == HookShape::LooseTypes {
        // Every answer carries one hook without `status`: skipped, counted.
        assert!(unreadable >= 7, "{said}");
    } else {
        assert_eq!(unreadable, 0, "{said}");
    }
    // One poll saw each read row final; each failure was watched
    // FOLLOW_UPS more times for a later proof of delivery, then left.
    assert_eq!(polls(&out), 3 + 4 * (1 + FOLLOW_UPS), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_in_the_normalized_ack_shape_keep_every_status_and_the_error_text() {
    // The ack item carries the error as text only: no code to report.
    every_status_is_read_in_shape(HookShape::NormalizedAck, "01", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_in_a_raw_meta_envelope_keep_every_status_and_error() {
    every_status_is_read_in_shape(HookShape::RawEnvelope, "02", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_with_loose_types_keep_every_status_and_error() {
    every_status_is_read_in_shape(HookShape::LooseTypes, "03", true).await;
}

// B3: status words

/// Every message read under the word `word`: the rows are read and keep
/// the word, and polling stops at it (one poll per message). Exit 0: every
/// row read.
async fn a_read_word_is_read_and_final(word: ReadWord, tag: &str) {
    let mut s = quick();
    s.hooks.read_as = word;
    let env = Env::start(s).await;
    let file = env.csv(&readers(tag, 4));
    let out = run_late_first_poll(&env, &file).await;
    assert_eq!(code(&out), 0, "{word:?}: {}", stderr(&out));
    let report = assert_truthful(&env, &format!("hooks.read_as = {word:?}")).await;
    for r in report.values() {
        assert_eq!(r["outcome"], "read", "{r:?}");
        assert_eq!(r["whatsapp_status"], word.word(), "{r:?}");
    }
    assert_eq!(polls(&out), 4, "final at the first poll, not polled again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewed_is_read_and_ends_polling() {
    a_read_word_is_read_and_final(ReadWord::Viewed, "04").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn played_is_read_and_ends_polling() {
    a_read_word_is_read_and_final(ReadWord::Played, "05").await;
}

/// `undelivered` is a failure with its Meta error; exit 10 for the failed
/// rows, the others read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undelivered_is_failed_with_its_error() {
    let mut s = quick();
    s.hooks.failed_as = FailedWord::Undelivered;
    let env = Env::start(s).await;
    let mut input = readers("06", 2);
    input.extend(failing("10", "06", 2));
    let file = env.csv(&input);
    let out = run_late_first_poll(&env, &file).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let report = assert_truthful(&env, "hooks.failed_as = undelivered").await;
    for r in report.values() {
        if r["order_number"].starts_with("F10") {
            assert_eq!(r["outcome"], "failed", "{r:?}");
            assert_eq!(r["whatsapp_status"], "undelivered", "{r:?}");
            assert_eq!(r["error_code"], "131026", "{r:?}");
            assert_eq!(r["error_detail"], "Message undeliverable", "{r:?}");
        } else {
            assert_eq!(r["outcome"], "read", "{r:?}");
        }
    }
    assert_eq!(polls(&out), 2 + 2 * (1 + FOLLOW_UPS));
}

/// A read message the partner then deleted stays read, and the row names
/// `deleted`. Exit 0: every row read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_after_read_stays_read_and_is_named() {
    let mut s = quick();
    s.hooks.deleted_after_read = true;
    let env = Env::start(s).await;
    let file = env.csv(&readers("07", 3));
    let out = run_late_first_poll(&env, &file).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = assert_truthful(&env, "hooks.deleted_after_read").await;
    for r in report.values() {
        assert_eq!(r["outcome"], "read", "{r:?}");
        assert_eq!(r["whatsapp_status"], "read", "{r:?}");
        assert_warning(r, "1MSG also reported `deleted`");
    }
    assert_eq!(polls(&out), 3);
}

// B4: hookInfo answers 404 for every message

/// Statuses cannot be learned: said once at the end of the run, each row
/// pending with that reason, and polling stops after a few 404s instead of
/// asking about every message until `--track-for`. Exit 10: the report is
/// complete, but pending rows need a person (or `handoff track` once the
/// route works); it is not 69, since every send went through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hook_info_gone_is_statuses_unavailable_once_and_polling_stops() {
    let mut s = quick();
    s.hooks.not_found_for_all = true;
    let env = Env::start(s).await;
    let n = 30;
    let file = env.csv(&readers("08", n));
    let out = env.run(&file, &["--track-for", "5s"]).await;
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let report = assert_truthful(&env, "hooks.not_found_for_all").await;
    for r in report.values() {
        assert_eq!(r["outcome"], "pending", "{r:?}");
        assert_detail(r, "statuses unavailable");
    }
    let said = summary(&out);
    assert_eq!(said["statuses_unavailable"], true, "{said}");
    // Said once (with --quiet, in the log; without, also on the last
    // line of the run), never once per message.
    let err = stderr(&out);
    assert_eq!(err.matches("statuses unavailable").count(), 1, "{err}");
    assert!(
        said["tracking_problem"]
            .as_str()
            .is_some_and(|p| p.starts_with("statuses unavailable")),
        "{said}"
    );
    let hook_info = requests(&env.stats().await, "hookInfo");
    let asked = total(&hook_info);
    assert_eq!(hook_info.get("404").copied(), Some(asked), "{hook_info:?}");
    // The preflight probe, ten polls, and at most the eight in flight.
    assert!(
        (11..=19).contains(&asked),
        "{asked} hookInfo requests for {n} messages"
    );
}
