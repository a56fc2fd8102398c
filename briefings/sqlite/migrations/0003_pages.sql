-- Article pages by URL (the item's link), each fetched once however many
-- stories and chats use it: the main text and metadata it gave, or why it
-- gave none (failure), and its validators for a conditional refetch.
CREATE TABLE pages (
    url           TEXT    PRIMARY KEY CHECK (url <> ''),
    title         TEXT    NOT NULL,
    text          TEXT    NOT NULL,
    published     INTEGER NOT NULL,
    language      TEXT    NOT NULL,
    etag          TEXT    NOT NULL,
    last_modified TEXT    NOT NULL,
    fetched_at    INTEGER NOT NULL,
    failure       TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
