//! The schema's steps, oldest last in the file and first in [`MIGRATIONS`]: each one is SQL
//! that moves `PRAGMA user_version` up by one. A released step is never edited; a change is a
//! new step appended to the list (`schema.rs` applies them).

mod rebuilds;

use rebuilds::{SCHEMA_COMPACT, SCHEMA_STATUS_BY_MESSAGE};

/// Schema migrations, applied in order; migration `i` moves `PRAGMA user_version` from `i` to
/// `i + 1`. To change the schema, append a new entry (never edit a released one).
pub(super) const MIGRATIONS: &[&str] = &[
    SCHEMA_V1,
    SCHEMA_V2,
    SCHEMA_V3,
    SCHEMA_V4,
    SCHEMA_LIFECYCLE_PARAMS_ONCE,
    SCHEMA_FINANCE,
    SCHEMA_WEBHOOKS,
    SCHEMA_RUN_TARGET,
    SCHEMA_ANSWER_CLASS,
    SCHEMA_STATUS_BY_MESSAGE,
    SCHEMA_COMPACT,
    SCHEMA_WARNINGS,
    SCHEMA_SUPPRESSIONS,
    SCHEMA_PRICING,
    SCHEMA_PARTNERS,
    SCHEMA_ATTEMPT_LANGUAGE,
];

/// The template language of an attempt that does not name its row (it went to a partner's
/// next contact, `--fallback backup`), so a send proved unsent goes again in the language it
/// was first written in, whatever run resends it. An attempt that names its row reads the
/// row's, as before.
const SCHEMA_ATTEMPT_LANGUAGE: &str = "
ALTER TABLE attempts ADD COLUMN language TEXT;
DROP VIEW attempts_sent;
CREATE VIEW attempts_sent AS
SELECT a.attempt_id, a.run_id, a.order_key, a.attempt_no, a.intent_at, a.answered_at, a.result,
    a.http_status, a.error_code, a.error_detail, a.kind, a.named_id,
    COALESCE(a.phone, (SELECT d.phone FROM deliveries d
                       WHERE d.run_id = a.run_id AND d.row_no = a.row_no)) AS phone,
    COALESCE(a.params, (SELECT json_array(d.partner_name, d.order_number, d.product_name,
                                          d.delivery_note)
                        FROM deliveries d WHERE d.run_id = a.run_id AND d.row_no = a.row_no))
        AS params,
    (SELECT m.wamid FROM messages m WHERE m.attempt_id = a.attempt_id) AS wamid,
    CASE WHEN a.row_no IS NULL THEN a.language
         ELSE (SELECT d.language FROM deliveries d
               WHERE d.run_id = a.run_id AND d.row_no = a.row_no)
    END AS language
FROM attempts a;";

/// What Meta says each message is billed as (its statuses' `pricing`), so finance can count
/// billable messages and a rate card can estimate what a night cost. The latest status that
/// carries pricing sets it.
const SCHEMA_PRICING: &str = "
ALTER TABLE messages ADD COLUMN billable INTEGER;
ALTER TABLE messages ADD COLUMN pricing_category TEXT;";

/// A row read with a partners file (`--partners`): the partner id it names, the contact of
/// the partners file it was written to (as the report names it) and the template language
/// that contact is written in. All three are empty for a row read without one.
///
/// `attempts.settled`: the attempt was in doubt and its message was found later, so its
/// `accepted` does not say the send was answered: a fallback to the partner's next contact
/// never follows an order that was once in doubt. Attempts settled before this step are not
/// marked (nothing typed said so); their orders were sent without partners files.
const SCHEMA_PARTNERS: &str = "
ALTER TABLE deliveries ADD COLUMN partner_id TEXT;
ALTER TABLE deliveries ADD COLUMN contact TEXT;
ALTER TABLE deliveries ADD COLUMN language TEXT;
ALTER TABLE attempts ADD COLUMN settled INTEGER;";

/// The phones a person suppressed or lifted by hand (`handoff suppressions`). A phone whose
/// message failed with a partner's refusal (131050) is suppressed without a row here: that is
/// read from the message itself, and a row here with `lifted` set ends it (and every earlier
/// refusal), until a later one.
const SCHEMA_SUPPRESSIONS: &str = "
CREATE TABLE suppressions (
    phone  TEXT PRIMARY KEY,
    since  INTEGER,
    lifted INTEGER
) WITHOUT ROWID;";

/// A row's warnings (a phone outside the numbering plan's ranges) in a column of their own,
/// as validation gives them, so the report reads them and no one looks for them in the notes.
///
/// Rows recorded before kept the warning inside `notes`; this step moves it once, found as the
/// report found it then: from the part (`partner_phone: ` or another field's label, after the
/// last `; `) holding "not in a range " to the end of "check the number if the message fails".
/// Everything else of the notes stays, in order. The one place allowed to read that prose.
const SCHEMA_WARNINGS: &str = "
ALTER TABLE deliveries ADD COLUMN warnings TEXT;
UPDATE deliveries SET warnings = p.warning,
    notes = CASE WHEN p.before = '' AND p.after = '' THEN NULL
                 WHEN p.before = '' THEN p.after
                 WHEN p.after = '' THEN p.before
                 ELSE p.before || '; ' || p.after END
FROM (SELECT run_id, row_no, substr(notes, start, stop - start) AS warning,
             CASE WHEN kept = '' THEN '' ELSE substr(kept, 1, length(kept) - 1) END AS before,
             ltrim(substr(notes, stop), '; ') AS after
      FROM (SELECT run_id, row_no, notes, kept,
                   CASE WHEN kept = '' THEN 1 ELSE length(kept) + 2 END AS start,
                   CASE WHEN e = 0 THEN length(notes) + 1
                        ELSE at + e - 1 + length('check the number if the message fails')
                   END AS stop
            FROM (SELECT run_id, row_no, notes, at,
                         rtrim(substr(notes, 1, at - 1), 'abcdefghijklmnopqrstuvwxyz_: ') AS kept,
                         instr(substr(notes, at), 'check the number if the message fails') AS e
                  FROM (SELECT run_id, row_no, notes, instr(notes, 'not in a range ') AS at
                        FROM deliveries WHERE instr(notes, 'not in a range ') > 0))
            WHERE kept = '' OR substr(kept, -1) = ';')) AS p
WHERE deliveries.run_id = p.run_id AND deliveries.row_no = p.row_no;";

/// What an answer proved, as typed columns beside `result` (issue 21): `kind` says why an
/// attempt is retried (`connect`, `too_many_requests`, …), stopped the run (`credentials`,
/// `configuration`) or is in doubt (`unsaid`, `named_id`, `without_id`), and `named_id` is the
/// id a doubtful answer named, to look for. Settling decides from these alone.
///
/// Rows answered before are classified here, once. A retry or a stop from the HTTP status and
/// the error code. A doubt from the words the client then wrote into `error_detail`: this step
/// is the one place allowed to read them, since nothing else was kept: "queued" or "accepted
/// without a message id" (older: "sent:true but gave no message id") said the API took the
/// send without an id; "it named the id `…`" named one; "its `message` is `…`" carried an id
/// in the message (kept unless shortened with `…`). Anything else said nothing.
const SCHEMA_ANSWER_CLASS: &str = "
ALTER TABLE attempts ADD COLUMN kind TEXT;
ALTER TABLE attempts ADD COLUMN named_id TEXT;
UPDATE attempts SET kind = CASE result
    WHEN 'retry' THEN CASE
        WHEN http_status = 429 THEN 'too_many_requests'
        WHEN error_code = 130429 THEN 'throughput'
        WHEN error_code = 131056 THEN 'pair_rate'
        WHEN error_code = 131000 THEN 'transient'
        ELSE 'connect' END
    WHEN 'fatal' THEN CASE
        WHEN http_status IN (401, 403) THEN 'credentials'
        ELSE 'configuration' END
    WHEN 'ambiguous' THEN CASE
        WHEN instr(error_detail, 'queued') > 0
          OR instr(error_detail, 'accepted without a message id') > 0
          OR instr(error_detail, 'sent:true but gave no message id') > 0 THEN 'without_id'
        WHEN instr(error_detail, 'it named the id `') > 0 THEN 'named_id'
        ELSE 'unsaid' END
    END
WHERE result IN ('retry', 'fatal', 'ambiguous');
UPDATE attempts SET named_id = (
    SELECT CASE WHEN length(id) > 0 AND substr(id, -1) <> '…' THEN id END
    FROM (SELECT substr(rest, 1, instr(rest, '`') - 1) AS id
          FROM (SELECT substr(attempts.error_detail,
                              instr(attempts.error_detail, marker) + length(marker)) AS rest
                FROM (SELECT 'it named the id `' AS marker, 1 AS preference
                      UNION ALL SELECT 'its `message` is `', 2)
                WHERE instr(attempts.error_detail, marker) > 0
                ORDER BY preference LIMIT 1)))
WHERE result = 'ambiguous';";

/// Where each run's messages went (issue 21): the API's base URL and whether the run was a
/// rehearsal (`run --simulate`), beside the channel id `runs` always had. A rehearsal's
/// acceptance proves nothing about a partner, so a ledger holds one kind of run, never both.
///
/// Runs recorded before this step are read as real runs with an unknown URL: the old schema
/// cannot tell a rehearsal from a night (both recorded only a channel id, and the standalone
/// simulator stands in for production with the same one), and reading them as real is the side
/// that never messages a partner twice: their messages keep counting, as they did, and a
/// rehearsal is refused that ledger rather than mixed into it.
const SCHEMA_RUN_TARGET: &str = "
ALTER TABLE runs ADD COLUMN api_url TEXT;
ALTER TABLE runs ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0 CHECK (simulated IN (0, 1));";

/// Lifecycle (issue 14): a message's recipient and template parameters were a copy of its
/// attempt's, a tenth of the file; they are read through `attempt_id` now. Copies equal to
/// their attempt's are cleared; a copy that differs (none is known) is kept and still wins.
/// The freed space is reused by later nights, or given back by `handoff ledger --vacuum`.
pub(super) const SCHEMA_LIFECYCLE_PARAMS_ONCE: &str = "
UPDATE messages SET params = NULL
WHERE attempt_id IS NOT NULL AND params IS NOT NULL
  AND params = (SELECT a.params FROM attempts a WHERE a.attempt_id = messages.attempt_id);
UPDATE messages SET phone = NULL
WHERE attempt_id IS NOT NULL AND phone IS NOT NULL
  AND phone = (SELECT a.phone FROM attempts a WHERE a.attempt_id = messages.attempt_id);";

/// The finance schema step (issue 13): an invalid row's problem class, so
/// the report can say in plain words what is wrong with it. Rows recorded
/// before it have none and get a generic sentence.
const SCHEMA_FINANCE: &str = "ALTER TABLE deliveries ADD COLUMN problem TEXT;";

/// The webhook registrations a run made on a channel: what the channel's list and
/// `ackNotificationsOn` were before, so the run's end, or the next run after a crash, puts
/// them back. `restored_at` is null while the channel may still carry our URL.
const SCHEMA_WEBHOOKS: &str = "
CREATE TABLE webhook_registrations (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER REFERENCES runs(run_id),
    channel        TEXT NOT NULL,
    our_url        TEXT NOT NULL,
    original_urls  TEXT NOT NULL,
    turned_acks_on INTEGER NOT NULL,
    registered_at  TEXT NOT NULL,
    restored_at    TEXT
);
CREATE INDEX webhook_registrations_open ON webhook_registrations(channel)
    WHERE restored_at IS NULL;";

/// Schema version 4 changes no table: the status merge changed (issue 12), so messages merged
/// under the old rule are merged again from their history. A proof of delivery (`delivered`,
/// `read`, `viewed`, `played`) now wins over a failure, and `viewed`/`played` are final, so an
/// old ledger neither resends a message its partner read nor polls a viewed one forever.
const SCHEMA_V4: &str = "
UPDATE messages SET
    status = (SELECT h.status FROM status_history h WHERE h.wamid = messages.wamid
              AND lower(h.status) IN ('delivered', 'read', 'viewed', 'played')
              ORDER BY lower(h.status) = 'delivered', h.id LIMIT 1),
    status_at = (SELECT h.status_at FROM status_history h WHERE h.wamid = messages.wamid
              AND lower(h.status) IN ('delivered', 'read', 'viewed', 'played')
              ORDER BY lower(h.status) = 'delivered', h.id LIMIT 1),
    error_code = NULL, error_title = NULL, final = 1
WHERE lower(status) IN ('failed', 'undelivered')
  AND EXISTS (SELECT 1 FROM status_history h WHERE h.wamid = messages.wamid
              AND lower(h.status) IN ('delivered', 'read', 'viewed', 'played'));
UPDATE messages SET final = 1 WHERE final = 0 AND lower(status) IN ('viewed', 'played');";

/// Schema version 3: the input's other columns, kept for the report when
/// the user asks (`--keep-columns`), as JSON arrays.
const SCHEMA_V3: &str = "ALTER TABLE deliveries ADD COLUMN extra TEXT;
ALTER TABLE runs ADD COLUMN extra_columns TEXT;";

/// Schema version 2: finding a run's earlier row with the same order key
/// without keeping every key of a million-row file in memory.
const SCHEMA_V2: &str = "CREATE INDEX deliveries_run_order ON deliveries(run_id, order_key);";

/// Schema version 1.
///
/// Column names differ from the first sketch in one place: `row`/`line` are `row_no`/`line_no`,
/// because `ROW` is an SQL keyword (window frames) and would need quoting everywhere.
const SCHEMA_V1: &str = r#"
CREATE TABLE runs (
    run_id      INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('run', 'rerun', 'track')),
    input_path  TEXT,
    channel     TEXT NOT NULL,
    template    TEXT NOT NULL,
    language    TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    exit_code   INTEGER
);

CREATE TABLE deliveries (
    run_id        INTEGER NOT NULL REFERENCES runs(run_id),
    row_no        INTEGER NOT NULL,
    line_no       INTEGER NOT NULL,
    order_key     TEXT,
    partner_name  TEXT NOT NULL,
    phone         TEXT NOT NULL,
    order_number  TEXT NOT NULL,
    product_name  TEXT NOT NULL,
    delivery_note TEXT NOT NULL,
    verdict       TEXT NOT NULL
                  CHECK (verdict IN ('send', 'invalid', 'duplicate', 'reused', 'skipped',
                                     'unknown')),
    reason        TEXT,
    notes         TEXT,
    PRIMARY KEY (run_id, row_no)
);

CREATE TABLE attempts (
    attempt_id   INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(run_id),
    order_key    TEXT NOT NULL,
    attempt_no   INTEGER NOT NULL,
    phone        TEXT NOT NULL,
    params       TEXT NOT NULL,
    intent_at    TEXT NOT NULL,
    answered_at  TEXT,
    result       TEXT
                 CHECK (result IN ('accepted', 'retry', 'rejected', 'ambiguous', 'fatal')),
    http_status  INTEGER,
    error_code   INTEGER,
    error_detail TEXT,
    wamid        TEXT,
    UNIQUE (run_id, order_key, attempt_no),
    CHECK ((result = 'accepted') = (wamid IS NOT NULL))
);
CREATE INDEX attempts_order_key ON attempts(order_key);

CREATE TABLE messages (
    wamid       TEXT PRIMARY KEY,
    order_key   TEXT NOT NULL,
    run_id      INTEGER NOT NULL REFERENCES runs(run_id),
    attempt_id  INTEGER REFERENCES attempts(attempt_id),
    phone       TEXT,
    params      TEXT,
    accepted_at TEXT NOT NULL,
    status      TEXT,
    status_at   TEXT,
    error_code  INTEGER,
    error_title TEXT,
    final       INTEGER NOT NULL DEFAULT 0,
    polls       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_order_key ON messages(order_key, accepted_at);
CREATE INDEX messages_open ON messages(final) WHERE final = 0;

CREATE TABLE status_history (
    id          INTEGER PRIMARY KEY,
    wamid       TEXT NOT NULL REFERENCES messages(wamid),
    status      TEXT NOT NULL,
    status_at   TEXT,
    error_code  INTEGER,
    error_title TEXT,
    seen_at     TEXT NOT NULL,
    UNIQUE (wamid, status)
);
"#;
