-- Chats' own sources. One feed list for everyone: a feed the operator lists
-- has operator = 1 (every feed stored before chats could add their own);
-- one that only chats follow has operator = 0. released_at is when the last
-- follower let go of an unlisted feed: it is then no longer polled, and
-- PruneSources removes it after a grace period (its items stay for dedup).
ALTER TABLE sources ADD COLUMN operator INTEGER NOT NULL DEFAULT 1 CHECK (operator IN (0, 1));
ALTER TABLE sources ADD COLUMN released_at INTEGER NOT NULL DEFAULT -62135596800000000;

-- The feeds each chat follows, in the order it added them (id).
CREATE TABLE chat_sources (
    id       INTEGER PRIMARY KEY,
    platform TEXT    NOT NULL CHECK (platform <> ''),
    chat_id  TEXT    NOT NULL CHECK (chat_id <> ''),
    url      TEXT    NOT NULL REFERENCES sources (url),
    added_at INTEGER NOT NULL,
    UNIQUE (platform, chat_id, url)
) STRICT;

-- Followers of a feed: polling (is it followed?), FeedFollowers, pruning.
CREATE INDEX chat_sources_url ON chat_sources (url);

-- A chat's choice about the operator's feeds; no row means they are included.
CREATE TABLE chat_settings (
    platform       TEXT    NOT NULL CHECK (platform <> ''),
    chat_id        TEXT    NOT NULL CHECK (chat_id <> ''),
    operator_feeds INTEGER NOT NULL CHECK (operator_feeds IN (0, 1)),
    PRIMARY KEY (platform, chat_id)
) STRICT, WITHOUT ROWID;

-- StoriesFromFeeds: feed_url IN (…) AND published >= ?.
CREATE INDEX items_feed_published ON items (feed_url, published);

-- Stories a feed retold: an item of a followed feed that dedup dropped (the
-- same article, or the same text, already came from another feed) still
-- makes its story reach the feed's readers.
CREATE TABLE feed_stories (
    feed_url  TEXT    NOT NULL,
    story_id  INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    published INTEGER NOT NULL,
    PRIMARY KEY (feed_url, story_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX feed_stories_story ON feed_stories (story_id);
