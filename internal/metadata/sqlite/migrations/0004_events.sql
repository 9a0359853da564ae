-- Event outbox, webhook subscriptions and deliveries.
--
-- Every write transaction that changes a manifest, a tag or an object
-- inserts its CloudEvents into event_outbox before it commits. The
-- dispatcher fans each event out into one webhook_deliveries row per
-- matching subscription and then sets fanned_out. Times are UTC Unix
-- nanoseconds.

CREATE TABLE event_outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    type       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    scope_kind TEXT    NOT NULL,
    scope_name TEXT    NOT NULL,
    time       INTEGER NOT NULL,
    data       BLOB    NOT NULL,
    fanned_out INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX event_outbox_waiting ON event_outbox (seq) WHERE fanned_out = 0;

-- types, repositories and buckets are JSON arrays of strings.
CREATE TABLE webhook_subscriptions (
    id           TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    url          TEXT    NOT NULL,
    secret       TEXT    NOT NULL,
    types        TEXT    NOT NULL,
    repositories TEXT    NOT NULL,
    buckets      TEXT    NOT NULL,
    origin       TEXT    NOT NULL,
    created      INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id TEXT    NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_seq       INTEGER NOT NULL REFERENCES event_outbox (seq) ON DELETE CASCADE,
    subject         TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt    INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    response_code   INTEGER NOT NULL DEFAULT 0,
    created         INTEGER NOT NULL,
    updated         INTEGER NOT NULL,
    UNIQUE (subscription_id, event_seq)
);

-- Serves the per-subject ordering check and the claim of due rows.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (subscription_id, subject, event_seq)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_seq);
