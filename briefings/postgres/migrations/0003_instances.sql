-- Feed polling shared by several instances: a due feed is claimed by one
-- instance (claim_owner) until claim_until, so each feed is fetched once per
-- interval whatever the number of instances.
ALTER TABLE sources
    ADD COLUMN claim_owner text        NOT NULL DEFAULT '',
    ADD COLUMN claim_until timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00';

-- ClaimDueSources: next_fetch_at <= $now ORDER BY next_fetch_at.
CREATE INDEX sources_next_fetch ON sources (next_fetch_at, id);

-- Heartbeats of the instances sharing this database: each divides the
-- platforms' bot-wide rate limits by the number of live instances sending on
-- the same platform. last_seen is the database's clock, so hosts whose clocks
-- differ still agree on who is alive.
CREATE TABLE instances (
    id         text        PRIMARY KEY CHECK (id <> ''),
    platforms  text[]      NOT NULL,
    started_at timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL
);
