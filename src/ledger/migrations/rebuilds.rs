//! The steps that rebuild tables rather than add to them (issue 21's compaction): each renames
//! the old tables aside, creates the new ones, copies and drops, in one transaction with the
//! rest of a migration. Kept apart from the additive steps, whose SQL is a line or two.

/// Statuses refer to their message by an integer (issue 21): the 45-character wamid was stored
/// again in every status row and in the `(wamid, status)` index, a third of the file
/// (BENCHMARKS.md, "Ledger size"). `messages` gets a declared `message_id` (its old rowid, so
/// every order by rowid stays as it was) for the history to reference; the wamid is kept once,
/// in `messages`, unique. Tables are renamed aside, rebuilt and copied, children first dropped,
/// as SQLite changes a table's keys; the history's ids (its insertion order) are kept. (A
/// status whose message is missing cannot exist, the key was enforced; the join would drop it.)
pub(super) const SCHEMA_STATUS_BY_MESSAGE: &str = "
ALTER TABLE status_history RENAME TO status_history_old;
ALTER TABLE messages RENAME TO messages_old;
CREATE TABLE messages (
    message_id  INTEGER PRIMARY KEY,
    wamid       TEXT NOT NULL UNIQUE,
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
INSERT INTO messages (message_id, wamid, order_key, run_id, attempt_id, phone, params,
    accepted_at, status, status_at, error_code, error_title, final, polls)
SELECT rowid, wamid, order_key, run_id, attempt_id, phone, params, accepted_at, status,
    status_at, error_code, error_title, final, polls
FROM messages_old;
CREATE TABLE status_history (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES messages(message_id),
    status      TEXT NOT NULL,
    status_at   TEXT,
    error_code  INTEGER,
    error_title TEXT,
    seen_at     TEXT NOT NULL,
    UNIQUE (message_id, status)
);
INSERT INTO status_history (id, message_id, status, status_at, error_code, error_title, seen_at)
SELECT h.id, m.message_id, h.status, h.status_at, h.error_code, h.error_title, h.seen_at
FROM status_history_old h JOIN messages m ON m.wamid = h.wamid;
DROP TABLE status_history_old;
DROP TABLE messages_old;
CREATE INDEX messages_order_key ON messages(order_key, accepted_at);
CREATE INDEX messages_open ON messages(final) WHERE final = 0;";

/// The ledger at most 700 bytes a message (issue 21; BENCHMARKS.md, "Ledger size"), every
/// table rebuilt in one step:
///
/// - Times are integer milliseconds since the epoch (6 bytes where RFC 3339 text took 24).
/// - An attempt names the input row it sent (`row_no`, in its run) instead of copying that
///   row's phone and four fields as its recipient and parameters; it keeps its own copy only
///   where they differ from the row as stored (a cleaned field), or when no row matches.
///   A prune that deletes the row writes the copy first.
/// - An attempt's wamid is its message's (`messages.attempt_id`, now indexed), not a copy.
/// - `status_history` is keyed by message and status alone (WITHOUT ROWID), which drops its
///   separate index. A status's `id` orders the statuses of one message by arrival (old ids
///   are kept; a new one is one more than its message's highest). (`deliveries` keeps its
///   rowid: appended rows fill a rowid table's pages, a WITHOUT ROWID one's only partly.)
///
/// The view `attempts_sent` puts an attempt back together (recipient, parameters, wamid) for
/// every reader. Old tables are renamed aside, all of them first so that the new tables'
/// references name the new ones, copied and dropped, children first.
pub(super) const SCHEMA_COMPACT: &str = "
ALTER TABLE webhook_registrations RENAME TO webhook_registrations_old;
ALTER TABLE status_history RENAME TO status_history_old;
ALTER TABLE messages RENAME TO messages_old;
ALTER TABLE attempts RENAME TO attempts_old;
ALTER TABLE deliveries RENAME TO deliveries_old;
ALTER TABLE runs RENAME TO runs_old;
CREATE TABLE runs (
    run_id        INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('run', 'rerun', 'track')),
    input_path    TEXT,
    channel       TEXT NOT NULL,
    template      TEXT NOT NULL,
    language      TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    exit_code     INTEGER,
    extra_columns TEXT,
    api_url       TEXT,
    simulated     INTEGER NOT NULL DEFAULT 0 CHECK (simulated IN (0, 1))
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
    extra         TEXT,
    problem       TEXT,
    PRIMARY KEY (run_id, row_no)
);
CREATE TABLE attempts (
    attempt_id   INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(run_id),
    order_key    TEXT NOT NULL,
    attempt_no   INTEGER NOT NULL,
    row_no       INTEGER,
    phone        TEXT,
    params       TEXT,
    intent_at    INTEGER NOT NULL,
    answered_at  INTEGER,
    result       TEXT
                 CHECK (result IN ('accepted', 'retry', 'rejected', 'ambiguous', 'fatal')),
    http_status  INTEGER,
    error_code   INTEGER,
    error_detail TEXT,
    kind         TEXT,
    named_id     TEXT,
    UNIQUE (run_id, order_key, attempt_no),
    CHECK ((row_no IS NULL) = (phone IS NOT NULL AND params IS NOT NULL))
);
CREATE TABLE messages (
    message_id  INTEGER PRIMARY KEY,
    wamid       TEXT NOT NULL UNIQUE,
    order_key   TEXT NOT NULL,
    run_id      INTEGER NOT NULL REFERENCES runs(run_id),
    attempt_id  INTEGER REFERENCES attempts(attempt_id),
    phone       TEXT,
    params      TEXT,
    accepted_at INTEGER NOT NULL,
    status      TEXT,
    status_at   INTEGER,
    error_code  INTEGER,
    error_title TEXT,
    final       INTEGER NOT NULL DEFAULT 0,
    polls       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE status_history (
    message_id  INTEGER NOT NULL REFERENCES messages(message_id),
    status      TEXT NOT NULL,
    id          INTEGER NOT NULL,
    status_at   INTEGER,
    error_code  INTEGER,
    error_title TEXT,
    seen_at     INTEGER NOT NULL,
    PRIMARY KEY (message_id, status)
) WITHOUT ROWID;
CREATE TABLE webhook_registrations (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER REFERENCES runs(run_id),
    channel        TEXT NOT NULL,
    our_url        TEXT NOT NULL,
    original_urls  TEXT NOT NULL,
    turned_acks_on INTEGER NOT NULL,
    registered_at  INTEGER NOT NULL,
    restored_at    INTEGER
);
INSERT INTO runs SELECT run_id, kind, input_path, channel, template, language,
    CAST(round(unixepoch(started_at, 'subsec') * 1000) AS INTEGER),
    CAST(round(unixepoch(finished_at, 'subsec') * 1000) AS INTEGER),
    exit_code, extra_columns, api_url, simulated
FROM runs_old;
INSERT INTO deliveries SELECT run_id, row_no, line_no, order_key, partner_name, phone,
    order_number, product_name, delivery_note, verdict, reason, notes, extra, problem
FROM deliveries_old;
INSERT INTO attempts SELECT attempt_id, run_id, order_key, attempt_no, row_no,
    CASE WHEN row_no IS NULL THEN phone END, CASE WHEN row_no IS NULL THEN params END,
    CAST(round(unixepoch(intent_at, 'subsec') * 1000) AS INTEGER),
    CAST(round(unixepoch(answered_at, 'subsec') * 1000) AS INTEGER),
    result, http_status, error_code, error_detail, kind, named_id
FROM (SELECT a.*, (SELECT r.row_no FROM deliveries_old r INDEXED BY deliveries_run_order
                   WHERE r.run_id = a.run_id AND r.order_key = a.order_key AND r.phone = a.phone
                     AND json_array(r.partner_name, r.order_number, r.product_name,
                                    r.delivery_note) = a.params
                   ORDER BY r.row_no LIMIT 1) AS row_no
      FROM attempts_old a);
INSERT INTO messages SELECT message_id, wamid, order_key, run_id, attempt_id, phone, params,
    CAST(round(unixepoch(accepted_at, 'subsec') * 1000) AS INTEGER), status,
    CAST(round(unixepoch(status_at, 'subsec') * 1000) AS INTEGER),
    error_code, error_title, final, polls
FROM messages_old;
INSERT INTO status_history SELECT message_id, status, id,
    CAST(round(unixepoch(status_at, 'subsec') * 1000) AS INTEGER),
    error_code, error_title,
    CAST(round(unixepoch(seen_at, 'subsec') * 1000) AS INTEGER)
FROM status_history_old;
INSERT INTO webhook_registrations SELECT id, run_id, channel, our_url, original_urls,
    turned_acks_on, CAST(round(unixepoch(registered_at, 'subsec') * 1000) AS INTEGER),
    CAST(round(unixepoch(restored_at, 'subsec') * 1000) AS INTEGER)
FROM webhook_registrations_old;
DROP TABLE webhook_registrations_old;
DROP TABLE status_history_old;
DROP TABLE messages_old;
DROP TABLE attempts_old;
DROP TABLE deliveries_old;
DROP TABLE runs_old;
CREATE INDEX deliveries_run_order ON deliveries(run_id, order_key);
CREATE INDEX attempts_order_key ON attempts(order_key);
CREATE INDEX messages_order_key ON messages(order_key, accepted_at);
CREATE INDEX messages_open ON messages(final) WHERE final = 0;
CREATE INDEX messages_attempt ON messages(attempt_id);
CREATE INDEX webhook_registrations_open ON webhook_registrations(channel)
    WHERE restored_at IS NULL;
CREATE VIEW attempts_sent AS
SELECT a.attempt_id, a.run_id, a.order_key, a.attempt_no, a.intent_at, a.answered_at, a.result,
    a.http_status, a.error_code, a.error_detail, a.kind, a.named_id,
    COALESCE(a.phone, (SELECT d.phone FROM deliveries d
                       WHERE d.run_id = a.run_id AND d.row_no = a.row_no)) AS phone,
    COALESCE(a.params, (SELECT json_array(d.partner_name, d.order_number, d.product_name,
                                          d.delivery_note)
                        FROM deliveries d WHERE d.run_id = a.run_id AND d.row_no = a.row_no))
        AS params,
    (SELECT m.wamid FROM messages m WHERE m.attempt_id = a.attempt_id) AS wamid
FROM attempts a;";
