-- What the operator's panel reads (bot/admin).

-- The last fetch's result: 'ok', 'not_modified' or 'error'; '' before the
-- first fetch. A failure's text stays in last_error.
ALTER TABLE sources ADD COLUMN last_result text NOT NULL DEFAULT '';

-- The feeds page: failing feeds first, then in the order added, a page at a
-- time: ORDER BY last_error = '', id LIMIT ? OFFSET ?, read off the index.
CREATE INDEX sources_failing_first ON sources ((last_error = ''), id);

-- A feed's recent items and how many it brought in the last day:
-- feed_url = $1 AND ingested_at >= $2.
CREATE INDEX items_feed ON items (feed_url, ingested_at);

-- Subscriptions by platform and state, a page at a time in id order, and the
-- totals per platform and state read from the index alone.
CREATE INDEX subscriptions_platform_active ON subscriptions (platform, active, id);

-- Search by chat id on any platform.
CREATE INDEX subscriptions_chat ON subscriptions (chat_id);

-- The retry queue: deferrals (no owner, a lease in the future) ...
CREATE INDEX subscriptions_deferred ON subscriptions (claim_until) WHERE claim_owner = '';
-- ... and deliveries started and not finished.
CREATE INDEX deliveries_pending ON deliveries (created_at) WHERE state = 'pending';

-- Today's deliveries by outcome, from the index alone: created_at >= $1.
CREATE INDEX deliveries_created_state ON deliveries (created_at, state);

-- Messages sent per platform and minute, counted as each message's progress
-- is recorded, kept for the last days only: the ledger knows how many
-- messages a delivery sent, not when each went out.
CREATE TABLE send_minutes (
    minute   timestamptz NOT NULL,
    platform text        NOT NULL,
    sends    integer     NOT NULL CHECK (sends > 0),
    PRIMARY KEY (minute, platform)
);
