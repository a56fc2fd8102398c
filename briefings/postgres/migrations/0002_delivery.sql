-- Claims on due subscriptions: the instance that delivers one (claim_owner)
-- and until when its lease holds (claim_until). A subscription is claimable
-- when claim_until has passed; a claim with an empty owner and a future
-- claim_until is a deferral (the platform asked to wait). Several instances
-- claim with SELECT ... FOR UPDATE SKIP LOCKED, so they split the due work
-- instead of queueing behind each other's row locks.
ALTER TABLE subscriptions
    ADD COLUMN claim_owner text        NOT NULL DEFAULT '',
    ADD COLUMN claim_until timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00';

-- RenewClaims and ReleaseClaims: ... WHERE claim_owner = $1 AND claim_owner <> ''.
CREATE INDEX subscriptions_claim_owner ON subscriptions (claim_owner) WHERE claim_owner <> '';

-- The delivery ledger: one row per subscription and local date, written
-- before the first message is sent and finished in the same transaction
-- that moves the subscription's next_due on.
CREATE TABLE deliveries (
    subscription_id bigint      NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    local_date      text        NOT NULL CHECK (local_date <> ''),
    due             timestamptz NOT NULL,
    since           timestamptz NOT NULL,
    composed_at     timestamptz NOT NULL,
    story_ids       bigint[]    NOT NULL,
    briefing        jsonb,      -- what is sent, while pending; NULL once finished
    messages_sent   integer     NOT NULL CHECK (messages_sent >= 0),
    state           text        NOT NULL CHECK (state IN ('pending', 'sent', 'empty', 'failed', 'gone', 'skipped')),
    error           text        NOT NULL,
    created_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    PRIMARY KEY (subscription_id, local_date)
);

-- PruneDeliveries: created_at < $1.
CREATE INDEX deliveries_created ON deliveries (created_at);

-- LastDelivery: the latest sent or empty entry of a subscription.
CREATE INDEX deliveries_last ON deliveries (subscription_id, composed_at DESC, local_date DESC)
    WHERE state IN ('sent', 'empty');
