-- What the operator's panel reads (bot/admin).

-- The last fetch's result: 'ok', 'not_modified' or 'error'; '' before the
-- first fetch. A failure's text stays in last_error.
ALTER TABLE sources ADD COLUMN last_result TEXT NOT NULL DEFAULT '';

-- The feeds page: failing feeds first, then in the order added, a page at a
-- time: ORDER BY last_error = '', id LIMIT ? OFFSET ?, read off the index.
CREATE INDEX sources_failing_first ON sources (last_error = '', id);

-- A feed's recent items and how many it brought in the last day:
-- feed_url = ? AND ingested_at >= ?.
CREATE INDEX items_feed ON items (feed_url, ingested_at);

-- Subscriptions by platform and state, a page at a time in id order, and the
-- totals per platform and state read from the index alone.
CREATE INDEX subscriptions_platform_active ON subscriptions (platform, active, id);

-- One platform's subscriptions due soon, counted and listed from the index:
-- active AND platform = ? AND next_due <= ?; with active among its columns
-- SQLite counts from the index alone. (ClaimDue keeps to subscriptions_due:
-- its +platform cannot use this one.)
CREATE INDEX subscriptions_platform_due ON subscriptions (platform, next_due, active) WHERE active;

-- Search by chat id on any platform.
CREATE INDEX subscriptions_chat ON subscriptions (chat_id);

-- The retry queue: deferrals (no owner, a lease in the future) ...
CREATE INDEX subscriptions_deferred ON subscriptions (claim_until) WHERE claim_owner = '';
-- ... and deliveries started and not finished.
CREATE INDEX deliveries_pending ON deliveries (created_at) WHERE state = 'pending';

-- Today's deliveries by outcome, from the index alone: created_at >= ?.
CREATE INDEX deliveries_created_state ON deliveries (created_at, state);

-- Messages sent per platform and minute (the start of the minute, in
-- microseconds), counted as each message's progress is recorded, kept for
-- the last days only: the ledger knows how many messages a delivery sent, not
-- when each went out.
CREATE TABLE send_minutes (
    minute   INTEGER NOT NULL,
    platform TEXT    NOT NULL,
    sends    INTEGER NOT NULL CHECK (sends > 0),
    PRIMARY KEY (minute, platform)
) STRICT, WITHOUT ROWID;

-- Counts the panel reads with a look-up instead of counting up to 100,000
-- rows on every page, kept by triggers in the transaction that changes the
-- rows they count, so they are never off by a write.

-- Subscriptions per platform and state.
CREATE TABLE subscription_counts (
    platform TEXT    NOT NULL,
    active   INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (platform, active)
) STRICT, WITHOUT ROWID;

INSERT INTO subscription_counts (platform, active, n)
    SELECT platform, active, count(*) FROM subscriptions GROUP BY platform, active;

CREATE TRIGGER subscription_counts_insert AFTER INSERT ON subscriptions BEGIN
    INSERT INTO subscription_counts (platform, active, n) VALUES (new.platform, new.active, 1)
        ON CONFLICT (platform, active) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER subscription_counts_delete AFTER DELETE ON subscriptions BEGIN
    UPDATE subscription_counts SET n = n - 1 WHERE platform = old.platform AND active = old.active;
END;

-- An upsert's DO UPDATE fires it too (SaveSubscription).
CREATE TRIGGER subscription_counts_update AFTER UPDATE OF platform, active ON subscriptions
    WHEN old.platform <> new.platform OR old.active <> new.active BEGIN
    UPDATE subscription_counts SET n = n - 1 WHERE platform = old.platform AND active = old.active;
    INSERT INTO subscription_counts (platform, active, n) VALUES (new.platform, new.active, 1)
        ON CONFLICT (platform, active) DO UPDATE SET n = n + 1;
END;

-- Ledger entries per state and quarter of an hour of created_at (every zone's
-- midnight falls on one), for today's counts.
CREATE TABLE delivery_counts (
    quarter INTEGER NOT NULL, -- created_at rounded down to 15 minutes
    state   TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (quarter, state)
) STRICT, WITHOUT ROWID;

INSERT INTO delivery_counts (quarter, state, n)
    SELECT created_at - (created_at % 900000000 + 900000000) % 900000000, state, count(*)
    FROM deliveries GROUP BY 1, 2;

CREATE TRIGGER delivery_counts_insert AFTER INSERT ON deliveries BEGIN
    INSERT INTO delivery_counts (quarter, state, n)
        VALUES (new.created_at - (new.created_at % 900000000 + 900000000) % 900000000, new.state, 1)
        ON CONFLICT (quarter, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER delivery_counts_delete AFTER DELETE ON deliveries BEGIN
    UPDATE delivery_counts SET n = n - 1
        WHERE quarter = old.created_at - (old.created_at % 900000000 + 900000000) % 900000000 AND state = old.state;
END;

CREATE TRIGGER delivery_counts_update AFTER UPDATE OF state, created_at ON deliveries
    WHEN old.state <> new.state OR old.created_at <> new.created_at BEGIN
    UPDATE delivery_counts SET n = n - 1
        WHERE quarter = old.created_at - (old.created_at % 900000000 + 900000000) % 900000000 AND state = old.state;
    INSERT INTO delivery_counts (quarter, state, n)
        VALUES (new.created_at - (new.created_at % 900000000 + 900000000) % 900000000, new.state, 1)
        ON CONFLICT (quarter, state) DO UPDATE SET n = n + 1;
END;
