-- Article pages by URL (the item's link), each fetched once however many
-- stories and chats use it: the main text and metadata it gave, or why it
-- gave none (failure), and its validators for a conditional refetch.
CREATE TABLE pages (
    url           text        PRIMARY KEY CHECK (url <> ''),
    title         text        NOT NULL,
    text          text        NOT NULL,
    published     timestamptz NOT NULL,
    language      text        NOT NULL,
    etag          text        NOT NULL,
    last_modified text        NOT NULL,
    fetched_at    timestamptz NOT NULL,
    failure       text        NOT NULL
);
