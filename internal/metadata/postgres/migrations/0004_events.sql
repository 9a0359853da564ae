-- Event outbox, webhook subscriptions and deliveries.
--
-- Every write transaction that changes a manifest, a tag or an object
-- inserts its CloudEvents into event_outbox before it commits. The
-- dispatcher fans each event out into one webhook_deliveries row per
-- matching subscription and then sets fanned_out. Times are UTC Unix
-- nanoseconds.

CREATE TABLE event_outbox (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    type       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    scope_kind TEXT    NOT NULL,
    scope_name TEXT    NOT NULL,
    time       BIGINT  NOT NULL,
    data       BYTEA   NOT NULL,
    fanned_out BOOLEAN NOT NULL DEFAULT false
);

CREATE INDEX event_outbox_waiting ON event_outbox (seq) WHERE NOT fanned_out;

-- types, repositories and buckets are JSON arrays of strings.
CREATE TABLE webhook_subscriptions (
    id           TEXT    COLLATE "C" PRIMARY KEY,
    name         TEXT    NOT NULL,
    url          TEXT    NOT NULL,
    secret       TEXT    NOT NULL,
    types        TEXT    NOT NULL,
    repositories TEXT    NOT NULL,
    buckets      TEXT    NOT NULL,
    origin       TEXT    NOT NULL,
    created      BIGINT  NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id TEXT    NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_seq       BIGINT  NOT NULL REFERENCES event_outbox (seq) ON DELETE CASCADE,
    subject         TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt    BIGINT  NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT    NOT NULL DEFAULT '',
    response_code   INTEGER NOT NULL DEFAULT 0,
    created         BIGINT  NOT NULL,
    updated         BIGINT  NOT NULL,
    UNIQUE (subscription_id, event_seq)
);

-- Serves the per-subject ordering check and the claim of due rows.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (subscription_id, subject, event_seq)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_seq);
