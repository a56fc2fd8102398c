-- Times are INTEGER microseconds since the Unix epoch (UTC). The zero
-- time.Time (0001-01-01T00:00:00Z) is stored as -62135596800000000, so it
-- round-trips and sorts before every real time. Microseconds are also what
-- PostgreSQL keeps, so both stores promise the same precision.

-- Feeds, in the order they were added (id), with their fetch state.
CREATE TABLE sources (
    id              INTEGER PRIMARY KEY,
    url             TEXT    NOT NULL UNIQUE,
    title           TEXT    NOT NULL,
    etag            TEXT    NOT NULL,
    last_modified   TEXT    NOT NULL,
    last_fetched_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL,
    failures        INTEGER NOT NULL,
    next_fetch_at   INTEGER NOT NULL,
    added_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE stories (
    id           INTEGER PRIMARY KEY,
    headline     TEXT    NOT NULL,
    summary_json TEXT    NOT NULL CHECK (json_valid(summary_json)), -- a JSON array of sentences
    first_seen   INTEGER NOT NULL,
    updated      INTEGER NOT NULL
) STRICT;

-- RecentStories: updated >= ? ORDER BY updated DESC.
CREATE INDEX stories_updated ON stories (updated);

-- Items are never deleted with their source: a feed removed and added again
-- must not bring back what was already ingested. An item is known by either
-- key; a missing link or a title and text without a word leaves that key NULL
-- (UNIQUE admits many NULLs), and an item needs at least one of them.
CREATE TABLE items (
    id          INTEGER PRIMARY KEY,
    story_id    INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    feed_url    TEXT    NOT NULL,
    guid        TEXT    NOT NULL,
    link        TEXT    NOT NULL,
    link_key    TEXT    UNIQUE,
    content_key TEXT    UNIQUE,
    title       TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    outlet      TEXT    NOT NULL,
    published   INTEGER NOT NULL,
    ingested_at INTEGER NOT NULL,
    CHECK (link_key IS NOT NULL OR content_key IS NOT NULL)
) STRICT;

-- A story's items, earliest published first, ties in the order they came.
CREATE INDEX items_story ON items (story_id, published, id);

CREATE TABLE subscriptions (
    id                INTEGER PRIMARY KEY,
    platform          TEXT    NOT NULL CHECK (platform <> ''),
    chat_id           TEXT    NOT NULL CHECK (chat_id <> ''),
    at_minute         INTEGER NOT NULL CHECK (at_minute BETWEEN 0 AND 1439),
    zone              TEXT    NOT NULL,
    topics_json       TEXT    NOT NULL CHECK (json_valid(topics_json)), -- {"include":[…],"exclude":[…]}
    active            INTEGER NOT NULL CHECK (active IN (0, 1)),
    next_due          INTEGER NOT NULL,
    last_delivered_at INTEGER NOT NULL,
    last_error        TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    UNIQUE (platform, chat_id)
) STRICT;

-- The scheduler's "which subscriptions are due" query. SQLite uses a partial
-- index only when the query's WHERE contains the index's condition as
-- written: ... WHERE active AND next_due <= ? ORDER BY next_due.
CREATE INDEX subscriptions_due ON subscriptions (next_due) WHERE active;

CREATE TABLE summaries (
    key          TEXT    PRIMARY KEY,
    summary_json TEXT    NOT NULL CHECK (json_valid(summary_json)), -- a JSON array of sentences
    created_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Counters the store keeps about itself.
CREATE TABLE meta (
    key   TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO meta (key, value) VALUES ('stories_version', 0);
