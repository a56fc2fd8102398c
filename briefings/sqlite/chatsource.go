package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

var _ briefings.ChatSourceStore = (*DB)(nil)

// followed is true for a row of sources that at least one chat follows.
const followed = `EXISTS (SELECT 1 FROM chat_sources c WHERE c.url = sources.url)`

// ChatSources returns the chat's feeds in the order it added them and whether
// it reads the operator's feeds, from one snapshot.
func (db *DB) ChatSources(ctx context.Context, chat briefings.ChatRef) (briefings.ChatSources, error) {
	cs := briefings.ChatSources{OperatorFeeds: true}
	err := inTx(ctx, db.read, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT s.url, s.title, s.etag, s.last_modified, s.last_fetched_at, s.last_error, s.failures, s.next_fetch_at, c.added_at
			FROM chat_sources c JOIN sources s ON s.url = c.url
			WHERE c.platform = ? AND c.chat_id = ? ORDER BY c.id`,
			string(chat.Platform), chat.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var f briefings.ChatFeed
			var fetched, next, added int64
			if err := rows.Scan(&f.URL, &f.Title, &f.ETag, &f.LastModified, &fetched, &f.LastError, &f.Failures, &next, &added); err != nil {
				return err
			}
			f.LastFetchedAt, f.NextFetchAt, f.AddedAt = fromMicros(fetched), fromMicros(next), fromMicros(added)
			cs.Feeds = append(cs.Feeds, f)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT operator_feeds FROM chat_settings WHERE platform = ? AND chat_id = ?`,
			string(chat.Platform), chat.ID).Scan(&cs.OperatorFeeds)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return briefings.ChatSources{}, fmt.Errorf("sqlite: chat sources %s: %w", chat, err)
	}
	return cs, nil
}

// FollowSource makes the chat follow src.URL, checking the limits in the same
// transaction (the one write connection serializes them).
func (db *DB) FollowSource(ctx context.Context, chat briefings.ChatRef, src briefings.Source, limits briefings.SourceLimits) (bool, error) {
	if strings.TrimSpace(src.URL) == "" {
		return false, errors.New("sqlite: follow source: empty URL")
	}
	if chat.Platform == "" || chat.ID == "" {
		return false, fmt.Errorf("sqlite: follow source: incomplete chat %q", chat)
	}
	added := false
	err := inTx(ctx, db.write, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM chat_sources WHERE platform = ? AND chat_id = ?`,
			string(chat.Platform), chat.ID).Scan(&n); err != nil {
			return err
		}
		var already bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM chat_sources WHERE platform = ? AND chat_id = ? AND url = ?)`,
			string(chat.Platform), chat.ID, src.URL).Scan(&already); err != nil || already {
			return err
		}
		var polled bool
		err := tx.QueryRowContext(ctx, `SELECT operator OR `+followed+` FROM sources WHERE url = ?`, src.URL).Scan(&polled)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := limits.Admit(n, polled, func() (feeds int, err error) {
			err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sources WHERE operator OR `+followed).Scan(&feeds)
			return feeds, err
		}); err != nil {
			return err
		}
		now := micros(db.now())
		if !exists {
			never := micros(time.Time{})
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO sources (url, title, etag, last_modified, last_fetched_at, last_error, failures, next_fetch_at, added_at, operator)
				VALUES (?, ?, '', '', ?, '', 0, ?, ?, 0)`,
				src.URL, src.Title, never, never, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO chat_sources (platform, chat_id, url, added_at) VALUES (?, ?, ?, ?)`,
			string(chat.Platform), chat.ID, src.URL, now); err != nil {
			return err
		}
		added = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: follow source %s for %s: %w", src.URL, chat, err)
	}
	return added, nil
}

// UnfollowSource stops the chat following url; a feed left with no follower
// and no operator listing is marked released now.
func (db *DB) UnfollowSource(ctx context.Context, chat briefings.ChatRef, url string) error {
	err := inTx(ctx, db.write, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM chat_sources WHERE platform = ? AND chat_id = ? AND url = ?`,
			string(chat.Platform), chat.ID, url)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return briefings.ErrNotFound
		}
		return release(ctx, tx, []string{url}, db.now())
	})
	if err != nil {
		return fmt.Errorf("sqlite: unfollow source %s for %s: %w", url, chat, err)
	}
	return nil
}

// release marks the feeds of urls that nobody follows any more as let go of
// at now, for PruneSources.
func release(ctx context.Context, tx *sql.Tx, urls []string, now time.Time) error {
	list, err := json.Marshal(urls)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE sources SET released_at = ? WHERE url IN (SELECT value FROM json_each(?)) AND NOT `+followed,
		micros(now), string(list))
	return err
}

// SetOperatorFeeds records the chat's choice about the operator's feeds.
func (db *DB) SetOperatorFeeds(ctx context.Context, chat briefings.ChatRef, on bool) error {
	if chat.Platform == "" || chat.ID == "" {
		return fmt.Errorf("sqlite: operator feeds: incomplete chat %q", chat)
	}
	_, err := db.write.ExecContext(ctx, `
		INSERT INTO chat_settings (platform, chat_id, operator_feeds) VALUES (?, ?, ?)
		ON CONFLICT (platform, chat_id) DO UPDATE SET operator_feeds = excluded.operator_feeds`,
		string(chat.Platform), chat.ID, on)
	if err != nil {
		return fmt.Errorf("sqlite: operator feeds for %s: %w", chat, err)
	}
	return nil
}

// MoveChatSources gives from's feeds and settings to to, replacing to's.
func (db *DB) MoveChatSources(ctx context.Context, from, to briefings.ChatRef) error {
	if from == to {
		return nil
	}
	err := inTx(ctx, db.write, func(tx *sql.Tx) error {
		var dropped []string
		rows, err := tx.QueryContext(ctx, `DELETE FROM chat_sources WHERE platform = ? AND chat_id = ? RETURNING url`, string(to.Platform), to.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				rows.Close()
				return err
			}
			dropped = append(dropped, u)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM chat_settings WHERE platform = ? AND chat_id = ?`, string(to.Platform), to.ID); err != nil {
			return err
		}
		for _, table := range []string{"chat_sources", "chat_settings"} {
			if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET platform = ?, chat_id = ? WHERE platform = ? AND chat_id = ?`,
				string(to.Platform), to.ID, string(from.Platform), from.ID); err != nil {
				return err
			}
		}
		return release(ctx, tx, dropped, db.now())
	})
	if err != nil {
		return fmt.Errorf("sqlite: move chat sources %s to %s: %w", from, to, err)
	}
	return nil
}

// FeedFollowers lists the chats that follow url, earliest first.
func (db *DB) FeedFollowers(ctx context.Context, url string) ([]briefings.ChatRef, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT platform, chat_id FROM chat_sources WHERE url = ? ORDER BY id`, url)
	if err != nil {
		return nil, fmt.Errorf("sqlite: feed followers %s: %w", url, err)
	}
	defer rows.Close()
	var out []briefings.ChatRef
	for rows.Next() {
		var c briefings.ChatRef
		if err := rows.Scan(&c.Platform, &c.ID); err != nil {
			return nil, fmt.Errorf("sqlite: feed followers %s: %w", url, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: feed followers %s: %w", url, err)
	}
	return out, nil
}

// PollSources returns the feeds the operator lists or a chat follows.
func (db *DB) PollSources(ctx context.Context) ([]briefings.Source, error) {
	srcs, err := db.querySources(ctx, `WHERE operator OR `+followed+` ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: poll sources: %w", err)
	}
	return srcs, nil
}

// PruneSources removes the unlisted, unfollowed feeds released before before.
func (db *DB) PruneSources(ctx context.Context, before time.Time) (int, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM sources WHERE NOT operator AND NOT `+followed+` AND released_at < ?`,
		queryMicros(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune sources: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune sources: %w", err)
	}
	return int(n), nil
}

// StoriesFromFeeds returns the stories with an item from feeds published at
// or after since, through the items' (feed_url, published) index.
func (db *DB) StoriesFromFeeds(ctx context.Context, feeds []string, since time.Time, limit int) ([]briefings.Story, error) {
	if limit < 0 {
		return nil, fmt.Errorf("sqlite: stories from feeds: negative limit %d", limit)
	}
	if limit == 0 || len(feeds) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(feeds)
	if err != nil {
		return nil, fmt.Errorf("sqlite: stories from feeds: %w", err)
	}
	return db.storiesWhere(ctx, "stories from feeds", `
		WHERE id IN (SELECT story_id FROM items WHERE feed_url IN (SELECT value FROM json_each(?1)) AND published >= ?2
			UNION SELECT story_id FROM feed_stories WHERE feed_url IN (SELECT value FROM json_each(?1)) AND published >= ?2)
		ORDER BY updated DESC, id DESC LIMIT ?3`,
		string(list), queryMicros(since), limit)
}

// OperatorStories returns the newest stories with an item from a feed that
// is not chats' alone, scanning stories newest first.
func (db *DB) OperatorStories(ctx context.Context, limit int) ([]briefings.Story, error) {
	if limit < 0 {
		return nil, fmt.Errorf("sqlite: operator stories: negative limit %d", limit)
	}
	if limit == 0 {
		return nil, nil
	}
	return db.storiesWhere(ctx, "operator stories", `
		WHERE EXISTS (SELECT 1 FROM items i WHERE i.story_id = stories.id
			AND NOT EXISTS (SELECT 1 FROM sources f WHERE f.url = i.feed_url AND NOT f.operator))
		ORDER BY updated DESC, id DESC LIMIT ?`,
		limit)
}

// storiesWhere reads the stories a tail selects and their items from one
// snapshot.
func (db *DB) storiesWhere(ctx context.Context, what, tail string, args ...any) ([]briefings.Story, error) {
	var stories []briefings.Story
	err := inTx(ctx, db.read, func(tx *sql.Tx) error {
		var err error
		stories, err = queryStories(ctx, tx, tail, args...)
		if err != nil || len(stories) == 0 {
			return err
		}
		return loadItems(ctx, tx, stories)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return stories, nil
}

// RecordRetold remembers the stories that followed feeds retold, in one
// transaction; a batch of feeds nobody follows costs one read.
func (db *DB) RecordRetold(ctx context.Context, items []briefings.Item) error {
	retold, err := db.followedItems(ctx, items)
	if err != nil || len(retold) == 0 {
		return err
	}
	err = inTx(ctx, db.write, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `
			INSERT OR IGNORE INTO feed_stories (feed_url, story_id, published)
			SELECT ?, story_id, ? FROM items WHERE (link_key = ? OR content_key = ?) AND feed_url <> ? LIMIT 1`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, it := range retold {
			k := it.Keys()
			if _, err := stmt.ExecContext(ctx, it.FeedURL, queryMicros(it.Published), nullable(k.Link), nullable(k.Content), it.FeedURL); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: record retold stories: %w", err)
	}
	return nil
}

// followedItems keeps the items whose feed a chat follows.
func (db *DB) followedItems(ctx context.Context, items []briefings.Item) ([]briefings.Item, error) {
	if len(items) == 0 {
		return nil, nil
	}
	var urls []string
	for _, it := range items {
		urls = append(urls, it.FeedURL)
	}
	list, err := json.Marshal(urls)
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT DISTINCT url FROM chat_sources WHERE url IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlite: record retold stories: %w", err)
	}
	defer rows.Close()
	followedFeed := map[string]bool{}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("sqlite: record retold stories: %w", err)
		}
		followedFeed[u] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: record retold stories: %w", err)
	}
	var out []briefings.Item
	for _, it := range items {
		if followedFeed[it.FeedURL] && it.Keys().Known() {
			out = append(out, it)
		}
	}
	return out, nil
}
