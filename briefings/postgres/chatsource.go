package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/newsbot/newsbot/briefings"
)

var _ briefings.ChatSourceStore = (*DB)(nil)

// followed is true for a row of sources that at least one chat follows.
const followed = `EXISTS (SELECT 1 FROM chat_sources c WHERE c.url = sources.url)`

// feedListLockKey serializes the changes that decide whether a feed is polled
// (follow, unfollow, operator removal, pruning), so the limits hold across
// instances and a feed is never pruned under a chat that just followed it.
const feedListLockKey = 0x6e62_6673 // "nbfs"

func lockFeedList(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(feedListLockKey))
	return err
}

// ChatSources returns the chat's feeds in the order it added them and whether
// it reads the operator's feeds, in one query.
func (db *DB) ChatSources(ctx context.Context, chat briefings.ChatRef) (briefings.ChatSources, error) {
	cs := briefings.ChatSources{OperatorFeeds: true}
	rows, err := db.pool.Query(ctx, `
		SELECT s.url, s.title, s.etag, s.last_modified, s.last_fetched_at, s.last_error, s.failures, s.next_fetch_at, c.added_at,
			COALESCE((SELECT operator_feeds FROM chat_settings WHERE platform = $1 AND chat_id = $2), true)
		FROM chat_sources c JOIN sources s ON s.url = c.url
		WHERE c.platform = $1 AND c.chat_id = $2 ORDER BY c.id`,
		string(chat.Platform), chat.ID)
	if err != nil {
		return briefings.ChatSources{}, fmt.Errorf("postgres: chat sources %s: %w", chat, err)
	}
	cs.Feeds, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (briefings.ChatFeed, error) {
		var f briefings.ChatFeed
		err := row.Scan(&f.URL, &f.Title, &f.ETag, &f.LastModified, &f.LastFetchedAt, &f.LastError, &f.Failures, &f.NextFetchAt, &f.AddedAt, &cs.OperatorFeeds)
		utc(&f.LastFetchedAt, &f.NextFetchAt, &f.AddedAt)
		return f, err
	})
	if err != nil {
		return briefings.ChatSources{}, fmt.Errorf("postgres: chat sources %s: %w", chat, err)
	}
	if len(cs.Feeds) == 0 {
		err := db.pool.QueryRow(ctx, `SELECT operator_feeds FROM chat_settings WHERE platform = $1 AND chat_id = $2`,
			string(chat.Platform), chat.ID).Scan(&cs.OperatorFeeds)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return briefings.ChatSources{}, fmt.Errorf("postgres: chat sources %s: %w", chat, err)
		}
	}
	return cs, nil
}

// FollowSource makes the chat follow src.URL, checking the limits under the
// feed list's lock.
func (db *DB) FollowSource(ctx context.Context, chat briefings.ChatRef, src briefings.Source, limits briefings.SourceLimits) (bool, error) {
	if strings.TrimSpace(src.URL) == "" {
		return false, errors.New("postgres: follow source: empty URL")
	}
	if chat.Platform == "" || chat.ID == "" {
		return false, fmt.Errorf("postgres: follow source: incomplete chat %q", chat)
	}
	if err := checkText(src.URL, src.Title, chat.ID); err != nil {
		return false, fmt.Errorf("postgres: follow source: %w", err)
	}
	added := false
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		added = false
		if err := lockFeedList(ctx, tx); err != nil {
			return err
		}
		var n int
		var already bool
		if err := tx.QueryRow(ctx, `
			SELECT COUNT(*), COALESCE(bool_or(url = $3), false) FROM chat_sources WHERE platform = $1 AND chat_id = $2`,
			string(chat.Platform), chat.ID, src.URL).Scan(&n, &already); err != nil || already {
			return err
		}
		var polled bool
		err := tx.QueryRow(ctx, `SELECT operator OR `+followed+` FROM sources WHERE url = $1`, src.URL).Scan(&polled)
		exists := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err := limits.Admit(n, polled, func() (feeds int, err error) {
			err = tx.QueryRow(ctx, `SELECT COUNT(*) FROM sources WHERE operator OR `+followed).Scan(&feeds)
			return feeds, err
		}); err != nil {
			return err
		}
		now := db.now()
		if !exists {
			if _, err := tx.Exec(ctx, `
				INSERT INTO sources (url, title, etag, last_modified, last_fetched_at, last_error, failures, next_fetch_at, added_at, operator)
				VALUES ($1, $2, '', '', $3, '', 0, $3, $4, false)`,
				src.URL, src.Title, time.Time{}, now); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO chat_sources (platform, chat_id, url, added_at) VALUES ($1, $2, $3, $4)`,
			string(chat.Platform), chat.ID, src.URL, now); err != nil {
			return err
		}
		added = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("postgres: follow source %s for %s: %w", src.URL, chat, err)
	}
	return added, nil
}

// UnfollowSource stops the chat following url; a feed left with no follower
// is marked released now.
func (db *DB) UnfollowSource(ctx context.Context, chat briefings.ChatRef, url string) error {
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := lockFeedList(ctx, tx); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM chat_sources WHERE platform = $1 AND chat_id = $2 AND url = $3`,
			string(chat.Platform), chat.ID, url)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return briefings.ErrNotFound
		}
		return release(ctx, tx, []string{url}, db.now())
	})
	if err != nil {
		return fmt.Errorf("postgres: unfollow source %s for %s: %w", url, chat, err)
	}
	return nil
}

// release marks the feeds of urls that nobody follows any more as let go of
// at now, for PruneSources.
func release(ctx context.Context, tx pgx.Tx, urls []string, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE sources SET released_at = $1 WHERE url = ANY($2) AND NOT `+followed, now, urls)
	return err
}

// SetOperatorFeeds records the chat's choice about the operator's feeds.
func (db *DB) SetOperatorFeeds(ctx context.Context, chat briefings.ChatRef, on bool) error {
	if chat.Platform == "" || chat.ID == "" {
		return fmt.Errorf("postgres: operator feeds: incomplete chat %q", chat)
	}
	if err := checkText(chat.ID); err != nil {
		return fmt.Errorf("postgres: operator feeds: %w", err)
	}
	_, err := db.pool.Exec(ctx, `
		INSERT INTO chat_settings (platform, chat_id, operator_feeds) VALUES ($1, $2, $3)
		ON CONFLICT (platform, chat_id) DO UPDATE SET operator_feeds = excluded.operator_feeds`,
		string(chat.Platform), chat.ID, on)
	if err != nil {
		return fmt.Errorf("postgres: operator feeds for %s: %w", chat, err)
	}
	return nil
}

// MoveChatSources gives from's feeds and settings to to, replacing to's.
func (db *DB) MoveChatSources(ctx context.Context, from, to briefings.ChatRef) error {
	if from == to {
		return nil
	}
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := lockFeedList(ctx, tx); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `DELETE FROM chat_sources WHERE platform = $1 AND chat_id = $2 RETURNING url`, string(to.Platform), to.ID)
		if err != nil {
			return err
		}
		dropped, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM chat_settings WHERE platform = $1 AND chat_id = $2`, string(to.Platform), to.ID); err != nil {
			return err
		}
		for _, table := range []string{"chat_sources", "chat_settings"} {
			if _, err := tx.Exec(ctx, `UPDATE `+table+` SET platform = $1, chat_id = $2 WHERE platform = $3 AND chat_id = $4`,
				string(to.Platform), to.ID, string(from.Platform), from.ID); err != nil {
				return err
			}
		}
		return release(ctx, tx, dropped, db.now())
	})
	if err != nil {
		return fmt.Errorf("postgres: move chat sources %s to %s: %w", from, to, err)
	}
	return nil
}

// FeedFollowers lists the chats that follow url, earliest first.
func (db *DB) FeedFollowers(ctx context.Context, url string) ([]briefings.ChatRef, error) {
	rows, err := db.pool.Query(ctx, `SELECT platform, chat_id FROM chat_sources WHERE url = $1 ORDER BY id`, url)
	if err != nil {
		return nil, fmt.Errorf("postgres: feed followers %s: %w", url, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (briefings.ChatRef, error) {
		var c briefings.ChatRef
		err := row.Scan(&c.Platform, &c.ID)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: feed followers %s: %w", url, err)
	}
	return out, nil
}

// PollSources returns the feeds the operator lists or a chat follows.
func (db *DB) PollSources(ctx context.Context) ([]briefings.Source, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT url, title, etag, last_modified, last_fetched_at, last_error, failures, next_fetch_at
		FROM sources WHERE operator OR `+followed+` ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: poll sources: %w", err)
	}
	out, err := collectSources(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: poll sources: %w", err)
	}
	return out, nil
}

// PruneSources removes the unlisted, unfollowed feeds released before before.
func (db *DB) PruneSources(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := lockFeedList(ctx, tx); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM sources WHERE NOT operator AND NOT `+followed+` AND released_at < $1`,
			briefings.ClampStoreTime(before))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: prune sources: %w", err)
	}
	return int(n), nil
}

// StoriesFromFeeds returns the stories with an item from feeds published at
// or after since, through the items' (feed_url, published) index.
func (db *DB) StoriesFromFeeds(ctx context.Context, feeds []string, since time.Time, limit int) ([]briefings.Story, error) {
	if limit < 0 {
		return nil, fmt.Errorf("postgres: stories from feeds: negative limit %d", limit)
	}
	if limit == 0 || len(feeds) == 0 {
		return nil, nil
	}
	return db.storiesWhere(ctx, "stories from feeds", `
		WHERE id IN (SELECT story_id FROM items WHERE feed_url = ANY($1) AND published >= $2
			UNION SELECT story_id FROM feed_stories WHERE feed_url = ANY($1) AND published >= $2)
		ORDER BY updated DESC, id DESC LIMIT $3`,
		feeds, briefings.ClampStoreTime(since), limit)
}

// OperatorStories returns the newest stories with an item from a feed that
// is not chats' alone, scanning stories newest first.
func (db *DB) OperatorStories(ctx context.Context, limit int) ([]briefings.Story, error) {
	if limit < 0 {
		return nil, fmt.Errorf("postgres: operator stories: negative limit %d", limit)
	}
	if limit == 0 {
		return nil, nil
	}
	return db.storiesWhere(ctx, "operator stories", `
		WHERE EXISTS (SELECT 1 FROM items i WHERE i.story_id = stories.id
			AND NOT EXISTS (SELECT 1 FROM sources f WHERE f.url = i.feed_url AND NOT f.operator))
		ORDER BY updated DESC, id DESC LIMIT $1`,
		limit)
}

// storiesWhere reads the stories a tail selects and their items from one
// snapshot.
func (db *DB) storiesWhere(ctx context.Context, what, tail string, args ...any) ([]briefings.Story, error) {
	var stories []briefings.Story
	err := db.inTx(ctx, snapshot, func(tx pgx.Tx) error {
		var err error
		stories, err = queryStories(ctx, tx, tail, args...)
		if err != nil || len(stories) == 0 {
			return err
		}
		return loadItems(ctx, tx, stories)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return stories, nil
}

// RecordRetold remembers the stories that followed feeds retold, in one
// transaction; a batch of feeds nobody follows costs one read.
func (db *DB) RecordRetold(ctx context.Context, items []briefings.Item) error {
	if len(items) == 0 {
		return nil
	}
	urls := make([]string, len(items))
	for i, it := range items {
		urls[i] = it.FeedURL
	}
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT url FROM chat_sources WHERE url = ANY($1)`, urls)
	if err != nil {
		return fmt.Errorf("postgres: record retold stories: %w", err)
	}
	followedFeeds, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("postgres: record retold stories: %w", err)
	}
	if len(followedFeeds) == 0 {
		return nil
	}
	var retold []briefings.Item
	for _, it := range items {
		if slices.Contains(followedFeeds, it.FeedURL) && it.Keys().Known() {
			retold = append(retold, it)
		}
	}
	err = db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		for _, it := range retold {
			k := it.Keys()
			if _, err := tx.Exec(ctx, `
				INSERT INTO feed_stories (feed_url, story_id, published)
				SELECT $1, story_id, $2 FROM items WHERE (link_key = $3 OR content_key = $4) AND feed_url <> $1 LIMIT 1
				ON CONFLICT DO NOTHING`,
				it.FeedURL, briefings.ClampStoreTime(it.Published), nullable(k.Link), nullable(k.Content)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: record retold stories: %w", err)
	}
	return nil
}
