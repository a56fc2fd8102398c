-- Claims on due subscriptions: the instance that delivers one (claim_owner)
-- and until when its lease holds (claim_until, microseconds). A subscription
-- is claimable when claim_until has passed; a claim with an empty owner and a
-- future claim_until is a deferral (the platform asked to wait).
ALTER TABLE subscriptions ADD COLUMN claim_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN claim_until INTEGER NOT NULL DEFAULT -62135596800000000;

-- RenewClaims and ReleaseClaims: ... WHERE claim_owner = ? AND claim_owner <> ''.
CREATE INDEX subscriptions_claim_owner ON subscriptions (claim_owner) WHERE claim_owner <> '';

-- The delivery ledger: one row per subscription and local date, written
-- before the first message is sent and finished in the same transaction
-- that moves the subscription's next_due on.
CREATE TABLE deliveries (
    subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    local_date      TEXT    NOT NULL CHECK (local_date <> ''),
    due             INTEGER NOT NULL,
    since           INTEGER NOT NULL,
    composed_at     INTEGER NOT NULL,
    story_ids_json  TEXT    NOT NULL CHECK (json_valid(story_ids_json)), -- a JSON array of story ids
    briefing_json   TEXT    NOT NULL,                                   -- '' once finished
    messages_sent   INTEGER NOT NULL CHECK (messages_sent >= 0),
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'empty', 'failed', 'gone', 'skipped')),
    error           TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER NOT NULL,
    PRIMARY KEY (subscription_id, local_date)
) STRICT, WITHOUT ROWID;

-- PruneDeliveries: created_at < ?.
CREATE INDEX deliveries_created ON deliveries (created_at);

-- The one process running on this file (see LockInstance).
CREATE TABLE instance_lock (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    owner       TEXT    NOT NULL,
    pid         INTEGER NOT NULL,
    acquired_at INTEGER NOT NULL
) STRICT;
