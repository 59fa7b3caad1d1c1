use super::*;
use crate::ledger::Ledger;
use crate::ledger::fixtures::{history, p, st, t, with_message};

/// A ledger left at schema `version` by an older build, holding what `sql` wrote
/// then, migrated as a newer build opens it.
fn migrated_from(version: usize, sql: &str) -> Ledger {
    let mut conn = Connection::open_in_memory().unwrap();
    for step in &MIGRATIONS[..version] {
        conn.execute_batch(step).unwrap();
    }
    conn.pragma_update(None, "user_version", version as i64)
        .unwrap();
    conn.execute_batch(sql).unwrap();
    // As `Ledger::open` migrates: with the foreign keys enforced.
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    migrate(&mut conn).unwrap();
    Ledger { conn }
}

/// A step that fails undoes the steps before it: the file keeps the version it had.
#[test]
fn a_failed_step_leaves_the_file_at_the_version_it_had() {
    let mut conn = Connection::open_in_memory().unwrap();
    for step in &MIGRATIONS[..8] {
        conn.execute_batch(step).unwrap();
    }
    conn.pragma_update(None, "user_version", 8).unwrap();
    // In the way of the rename migration 10 makes.
    conn.execute_batch("CREATE TABLE messages_old (x);")
        .unwrap();
    assert!(matches!(
        migrate(&mut conn),
        Err(LedgerError::Migrate { version: 10, .. })
    ));
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 8);
    let kind_columns: i64 = conn
        .query_row(
            "SELECT count(*) FROM pragma_table_info('attempts') WHERE name = 'kind'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kind_columns, 0, "step 9 was undone with step 10");
}

/// Runs recorded before the ledger kept their target are real runs with no URL.
#[test]
fn runs_recorded_before_their_target_read_as_real() {
    let l = migrated_from(
        7,
        "INSERT INTO runs (kind, channel, template, language, started_at)
         VALUES ('run', 'SIM0001', 't', 'en', '2026-11-25T00:00:00.000Z');",
    );
    let run = &l.runs().unwrap()[0];
    assert_eq!((run.api_url.as_deref(), run.simulated), (None, false));
    assert_eq!(run.channel, "SIM0001");
    assert_eq!(l.latest_run(false).unwrap().map(|r| r.run_id), Some(1));
    assert_eq!(l.latest_run(true).unwrap(), None);
}

/// Answers recorded before the answer class was typed are classified once, from the
/// HTTP status and error code, and a doubt from the words the client then wrote (these
/// are its exact wordings, old and new).
#[test]
fn answers_recorded_before_their_class_was_typed_are_classified_once() {
    use crate::ledger::{Fatal, RetryKind, SendClass, Taken};
    let doubt = |taken, id: Option<&str>| {
        Some(SendClass::Ambiguous {
            taken,
            named_id: id.map(str::to_string),
        })
    };
    // `result, http_status, error_code, error_detail` as an older build wrote them.
    let cases = [
        (
            "'ambiguous', 200, NULL, 'the API queued the send as job job-7 and gave no message id'",
            doubt(Taken::WithoutId, None),
        ),
        (
            "'ambiguous', 200, NULL, 'the API said sent:true: accepted without a message id'",
            doubt(Taken::WithoutId, None),
        ),
        (
            "'ambiguous', 200, NULL, 'the API said sent:true but gave no message id'",
            doubt(Taken::WithoutId, None),
        ),
        (
            "'ambiguous', 500, NULL, 'Internal server error'",
            doubt(Taken::Unsaid, None),
        ),
        (
            "'ambiguous', NULL, NULL, 'failed to reach the API: operation timed out'",
            doubt(Taken::Unsaid, None),
        ),
        (
            "'ambiguous', 200, NULL, 'the answer had no `sent` field; it named the id `wamid.7`; the API said: Sent to 49@c.us'",
            doubt(Taken::NamedId, Some("wamid.7")),
        ),
        (
            "'ambiguous', 200, NULL, 'sent:true: accepted without a message id; its `message` is `wamid.HBgL1`, which may be the message id'",
            doubt(Taken::WithoutId, Some("wamid.HBgL1")),
        ),
        (
            "'ambiguous', 200, NULL, 'the answer had no `sent` field; its `message` is `wamid.HBgL…`, which may be the message id'",
            doubt(Taken::Unsaid, None),
        ),
        ("'ambiguous', NULL, NULL, NULL", doubt(Taken::Unsaid, None)),
        (
            "'retry', 429, NULL, 'Too many requests'",
            Some(SendClass::Retry(RetryKind::TooManyRequests)),
        ),
        (
            "'retry', 200, 131056, 'pair rate limit hit'",
            Some(SendClass::Retry(RetryKind::PairRate)),
        ),
        (
            "'retry', NULL, NULL, 'failed to reach the API: connection refused'",
            Some(SendClass::Retry(RetryKind::Connect)),
        ),
        (
            "'fatal', 401, NULL, 'the API refused the token (HTTP 401)'",
            Some(SendClass::Fatal(Fatal::Credentials)),
        ),
        (
            "'fatal', 200, 132001, 'Template name does not exist'",
            Some(SendClass::Fatal(Fatal::Configuration)),
        ),
        (
            "'rejected', 400, NULL, 'queued? no: refused'",
            Some(SendClass::Rejected),
        ),
    ];
    let mut sql = String::from(
        "INSERT INTO runs (kind, channel, template, language, started_at)
         VALUES ('run', 'c', 't', 'en', '2026-11-25T00:00:00.000Z');",
    );
    for (no, (answer, _)) in cases.iter().enumerate() {
        sql.push_str(&format!(
            "INSERT INTO attempts (run_id, order_key, attempt_no, phone, params, intent_at,
                 answered_at, result, http_status, error_code, error_detail)
             VALUES (1, 'K', {no}, '49', '[]', '2026-11-25T00:00:01.000Z',
                     '2026-11-25T00:00:02.000Z', {answer});"
        ));
    }
    let l = migrated_from(8, &sql);
    let attempts = l.order_history("K").unwrap().attempts;
    assert_eq!(attempts.len(), cases.len());
    for ((answer, want), got) in cases.iter().zip(attempts) {
        assert_eq!(&got.result, want, "{answer}");
    }
    // The prose is kept for people, as it was.
    assert_eq!(
        l.doubts("K").unwrap()[0].attempt.error_detail.as_deref(),
        Some("the API queued the send as job job-7 and gave no message id")
    );
}

/// A ledger written before the cut (a copy in every message) reads the same after it, and
/// keeps no copy; a copy that differs from its attempt's is kept.
#[test]
fn params_once_clears_copies_equal_to_the_attempt() {
    let (l, _run) = with_message();
    l.conn
        .execute(
            "UPDATE messages SET phone = (SELECT phone FROM attempts),
                 params = (SELECT params FROM attempts)",
            [],
        )
        .unwrap();
    let before = l.message("w1").unwrap().unwrap();
    l.conn
        .execute_batch(super::super::migrations::SCHEMA_LIFECYCLE_PARAMS_ONCE)
        .unwrap();
    let copies: (Option<String>, Option<String>) = l
        .conn
        .query_row("SELECT phone, params FROM messages", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(copies, (None, None));
    assert_eq!(l.message("w1").unwrap().unwrap(), before);
    assert_eq!(before.params, p());
    assert_eq!(before.phone.as_deref(), Some("491711234567"));

    l.conn
        .execute("UPDATE messages SET params = '[\"other\"]'", [])
        .unwrap();
    l.conn
        .execute_batch(super::super::migrations::SCHEMA_LIFECYCLE_PARAMS_ONCE)
        .unwrap();
    assert_eq!(l.message("w1").unwrap().unwrap().params, ["other"]);
    assert_eq!(
        l.accepted_message("A-1").unwrap().unwrap().params,
        ["other"]
    );
}

/// A message merged `failed` over `read` by the old rule is `read` after
/// the migration, and a `viewed` one is final.
#[test]
fn version_4_merges_old_messages_again() {
    // What the old merge left behind: `w1` read, then failed, merged `failed`; `w2`
    // viewed and not final.
    let l = migrated_from(
        3,
        "INSERT INTO runs (kind, channel, template, language, started_at)
         VALUES ('run', 'c', 't', 'en', '2026-11-25T00:00:00.000Z');
         INSERT INTO messages (wamid, order_key, run_id, accepted_at, status, status_at,
             error_code, final)
         VALUES ('w1', 'A-1', 1, '2026-11-25T00:00:00.020Z', 'failed',
                 '2026-11-25T00:00:00.300Z', 131026, 1),
                ('w2', 'B-2', 1, '2026-11-25T00:00:00.020Z', 'Viewed',
                 '2026-11-25T00:00:00.300Z', NULL, 0);
         INSERT INTO status_history (wamid, status, status_at, error_code, seen_at)
         VALUES ('w1', 'sent', '2026-11-25T00:00:00.100Z', NULL, '2026-11-25T00:00:00.105Z'),
                ('w1', 'read', '2026-11-25T00:00:00.200Z', NULL, '2026-11-25T00:00:00.205Z'),
                ('w1', 'failed', '2026-11-25T00:00:00.300Z', 131026,
                 '2026-11-25T00:00:00.305Z');",
    );
    let m = l.message("w1").unwrap().unwrap();
    assert_eq!(m.status.as_deref(), Some("read"));
    assert_eq!(m.status_at, Some(t(200)));
    assert_eq!(m.error_code, None);
    assert!(m.is_final);
    assert!(l.message("w2").unwrap().unwrap().is_final);
}

/// Statuses written when they named their message by wamid name it by its id after the
/// migration, in the same order, and keep merging.
#[test]
fn statuses_refer_to_their_message_by_id_after_the_migration() {
    let mut l = migrated_from(
        9,
        "INSERT INTO runs (kind, channel, template, language, started_at)
         VALUES ('run', 'c', 't', 'en', '2026-11-25T00:00:00.000Z');
         INSERT INTO messages (wamid, order_key, run_id, accepted_at, status, status_at,
             final)
         VALUES ('w0', 'Z-0', 1, '2026-11-25T00:00:00.010Z', NULL, NULL, 0),
                ('w1', 'A-1', 1, '2026-11-25T00:00:00.020Z', 'read',
                 '2026-11-25T00:00:00.200Z', 1);
         INSERT INTO status_history (wamid, status, status_at, seen_at)
         VALUES ('w1', 'sent', '2026-11-25T00:00:00.100Z', '2026-11-25T00:00:00.105Z'),
                ('w1', 'read', '2026-11-25T00:00:00.200Z', '2026-11-25T00:00:00.205Z'),
                ('w1', 'delivered', '2026-11-25T00:00:00.150Z',
                 '2026-11-25T00:00:00.305Z');",
    );
    assert_eq!(history(&l, "w1"), ["sent", "read", "delivered"]);
    let ids: (i64, i64) = l
        .conn
        .query_row(
            "SELECT (SELECT message_id FROM messages WHERE wamid = 'w1'),
                    (SELECT DISTINCT message_id FROM status_history)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(ids, (2, 2), "the old rowid is the message's id");
    let m = l.message("w1").unwrap().unwrap();
    assert_eq!((m.status.as_deref(), m.is_final), (Some("read"), true));
    l.record_statuses(&[st("w0", "sent", 400), st("w1", "sent", 400)])
        .unwrap();
    assert_eq!(history(&l, "w0"), ["sent"]);
    assert_eq!(
        history(&l, "w1").len(),
        3,
        "a repeated status is not kept twice"
    );
    assert_eq!(l.integrity_check().unwrap(), "ok");
}

/// A ledger written with RFC 3339 times, attempts carrying copies of their row and their
/// wamid, and a status index, reads the same after schema 11 rebuilt it: every time to the
/// millisecond, an attempt's recipient and parameters (from its row where they match it,
/// its own copy where a field was cleaned), its wamid (from its message), the statuses in
/// their order, an open webhook registration; and it goes on recording.
#[test]
fn compact_schema_keeps_every_fact_of_an_old_ledger() {
    let mut l = migrated_from(
        10,
        r#"INSERT INTO runs (kind, input_path, channel, template, language, started_at,
               finished_at, exit_code, api_url)
         VALUES ('run', 'd.csv', 'c', 't', 'en', '2026-11-25T00:00:00.000Z',
                 '2026-11-25T00:00:09.876Z', 0, 'https://api.1msg.io');
         INSERT INTO deliveries (run_id, row_no, line_no, order_key, partner_name, phone,
             order_number, product_name, delivery_note, verdict)
         VALUES (1, 1, 2, 'A-1', 'Partner 1', '491711234567', 'A-1', 'Widget', 'DN-1', 'send'),
                (1, 2, 3, 'B-2', ' Partner  2', '491711234568', 'B-2', 'Widget', 'DN-2',
                 'send');
         INSERT INTO attempts (run_id, order_key, attempt_no, phone, params, intent_at,
             answered_at, result, http_status, wamid)
         VALUES (1, 'A-1', 1, '491711234567', '["Partner 1","A-1","Widget","DN-1"]',
                 '2026-11-25T00:00:00.010Z', '2026-11-25T00:00:00.020Z', 'accepted', 200,
                 'w1');
         INSERT INTO attempts (run_id, order_key, attempt_no, phone, params, intent_at,
             answered_at, result, kind)
         VALUES (1, 'B-2', 1, '491711234568', '["Partner 2","B-2","Widget","DN-2"]',
                 '2026-11-25T00:00:00.030Z', '2026-11-25T00:00:00.031Z', 'ambiguous',
                 'unsaid');
         INSERT INTO messages (wamid, order_key, run_id, attempt_id, accepted_at, status,
             status_at, final, polls)
         VALUES ('w1', 'A-1', 1, 1, '2026-11-25T00:00:00.020Z', 'read',
                 '2026-11-25T00:00:00.200Z', 1, 2);
         INSERT INTO status_history (message_id, status, status_at, seen_at)
         VALUES (1, 'sent', '2026-11-25T00:00:00.100Z', '2026-11-25T00:00:00.105Z'),
                (1, 'read', '2026-11-25T00:00:00.200Z', '2026-11-25T00:00:00.205Z'),
                (1, 'delivered', '2026-11-25T00:00:00.150Z', '2026-11-25T00:00:00.305Z');
         INSERT INTO webhook_registrations (run_id, channel, our_url, original_urls,
             turned_acks_on, registered_at)
         VALUES (1, 'c', 'https://us.example/hook', '[]', 1, '2026-11-25T00:00:00.001Z');"#,
    );
    assert_eq!(l.integrity_check().unwrap(), "ok");
    let run = l.run(1).unwrap().unwrap();
    assert_eq!((run.started_at, run.finished_at), (t(0), Some(t(9_876))));
    assert_eq!(run.rows, 2);
    let m = l.accepted_message("A-1").unwrap().unwrap();
    assert_eq!(
        (m.accepted_at, m.status_at, m.polls),
        (t(20), Some(t(200)), 2)
    );
    assert_eq!(m.params, p());
    assert_eq!(m.phone.as_deref(), Some("491711234567"));
    let a1 = &l.order_history("A-1").unwrap().attempts[0];
    assert_eq!((a1.intent_at, a1.answered_at), (t(10), Some(t(20))));
    assert_eq!(
        a1.result,
        Some(crate::ledger::SendClass::Accepted { wamid: "w1".into() })
    );
    // A-1's attempt names its row; B-2's fields were cleaned, so it keeps its copy.
    let stored: Vec<(Option<i64>, Option<String>)> = l
        .conn
        .prepare("SELECT row_no, params FROM attempts ORDER BY attempt_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(stored[0], (Some(1), None));
    assert_eq!(stored[1].0, None);
    let doubt = &l.doubts("B-2").unwrap()[0];
    assert_eq!(doubt.attempt.params, ["Partner 2", "B-2", "Widget", "DN-2"]);
    assert_eq!(
        (doubt.attempt.phone.as_str(), doubt.attempt.intent_at),
        ("491711234568", t(30))
    );
    let statuses = &l.order_history("A-1").unwrap().messages[0].statuses;
    let seen: Vec<_> = statuses
        .iter()
        .map(|s| (s.status.as_str(), s.seen_at))
        .collect();
    assert_eq!(
        seen,
        [("sent", t(105)), ("delivered", t(305)), ("read", t(205))]
    );
    assert_eq!(history(&l, "w1"), ["sent", "read", "delivered"]);
    assert_eq!(l.open_webhook_registrations("c").unwrap().len(), 1);
    assert_eq!(
        l.size().unwrap().oldest_run.as_deref(),
        Some("2026-11-25T00:00:00.000Z")
    );
    // A new status comes after the migrated ones.
    l.record_statuses(&[st("w1", "failed", 50)]).unwrap();
    assert_eq!(history(&l, "w1"), ["sent", "read", "delivered", "failed"]);
}

/// A row recorded with the numbering-plan warning inside its notes has it in `warnings`
/// after the migration, the rest of its notes kept in order; other rows are untouched.
#[test]
fn an_old_rows_plan_warning_moves_to_its_column_once() {
    let plan = "partner_phone: not in a range GB has allocated (libphonenumber metadata); \
                check the number if the message fails";
    let notes = [
        format!("delivery_note: tabs folded to one space; {plan}; trunk removed"),
        plan.to_string(),
        "x".to_string(),
    ];
    let mut sql = String::from(
        "INSERT INTO runs (kind, channel, template, language, started_at)
         VALUES ('run', 'c', 't', 'en', '2026-11-25T00:00:00.000Z');",
    );
    for (i, n) in notes.iter().enumerate() {
        sql.push_str(&format!(
            "INSERT INTO deliveries (run_id, row_no, line_no, order_key, partner_name, phone,
                 order_number, product_name, delivery_note, verdict, notes)
             VALUES (1, {i}, {i}, 'K{i}', 'P', '447700900123', 'K{i}', 'X', 'N', 'send',
                     '{n}');"
        ));
    }
    let l = migrated_from(11, &sql);
    let rows: Vec<(Option<String>, Option<String>)> = l
        .conn
        .prepare("SELECT notes, warnings FROM deliveries ORDER BY row_no")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        rows,
        [
            (
                some("delivery_note: tabs folded to one space; trunk removed"),
                some(plan)
            ),
            (None, some(plan)),
            (some("x"), None),
        ]
    );
    let facts = l.report_rows(1).unwrap();
    assert_eq!(facts[1].warnings.as_deref(), Some(plan));
}
