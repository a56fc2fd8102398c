package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

func nullable(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// UnseenItems returns the items, in their order, whose LinkKey and ContentKey
// were both never stored, dropping the later of two items in the batch that
// share either key. An item with neither a link nor a word of title or text
// is dropped too.
func (db *DB) UnseenItems(ctx context.Context, items []briefings.Item) ([]briefings.Item, error) {
	if len(items) == 0 {
		return nil, nil
	}
	keys, linkKeys, contentKeys := briefings.BatchKeys(items)
	linkJSON, err := json.Marshal(linkKeys)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unseen items: %w", err)
	}
	contentJSON, err := json.Marshal(contentKeys)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unseen items: %w", err)
	}

	// One statement for the whole batch, whatever its size: the keys travel
	// as two JSON arrays, each probed against its unique index.
	rows, err := db.read.QueryContext(ctx, `
		SELECT 'link', link_key FROM items WHERE link_key IN (SELECT value FROM json_each(?))
		UNION ALL
		SELECT 'content', content_key FROM items WHERE content_key IN (SELECT value FROM json_each(?))`,
		string(linkJSON), string(contentJSON))
	if err != nil {
		return nil, fmt.Errorf("sqlite: unseen items: %w", err)
	}
	defer rows.Close()
	seenLink := make(map[string]bool)
	seenContent := make(map[string]bool)
	for rows.Next() {
		var kind, key string
		if err := rows.Scan(&kind, &key); err != nil {
			return nil, fmt.Errorf("sqlite: unseen items: %w", err)
		}
		if kind == "link" {
			seenLink[key] = true
		} else {
			seenContent[key] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: unseen items: %w", err)
	}

	return briefings.FilterUnseen(items, keys, seenLink, seenContent), nil
}

// RecentStories returns the stories updated at or after since, newest Updated
// first (ties: the later created first), at most limit, each with all its
// items, earliest Published first (ties: in the order they were stored).
func (db *DB) RecentStories(ctx context.Context, since time.Time, limit int) ([]briefings.Story, error) {
	if limit < 0 {
		return nil, fmt.Errorf("sqlite: recent stories: negative limit %d", limit)
	}
	if limit == 0 {
		return nil, nil
	}
	var stories []briefings.Story
	// One read transaction: the stories and their items from one snapshot,
	// even while SaveStories commits in between the two queries.
	err := inTx(ctx, db.read, func(tx *sql.Tx) error {
		var err error
		stories, err = recentStories(ctx, tx, since, limit)
		if err != nil || len(stories) == 0 {
			return err
		}
		return loadItems(ctx, tx, stories)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: recent stories: %w", err)
	}
	return stories, nil
}

func recentStories(ctx context.Context, tx *sql.Tx, since time.Time, limit int) ([]briefings.Story, error) {
	return queryStories(ctx, tx, `WHERE updated >= ? ORDER BY updated DESC, id DESC LIMIT ?`, queryMicros(since), limit)
}

// queryStories reads the stories (without their items) that a WHERE/ORDER
// BY/LIMIT tail selects.
func queryStories(ctx context.Context, tx *sql.Tx, tail string, args ...any) ([]briefings.Story, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, headline, summary_json, first_seen, updated FROM stories `+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var stories []briefings.Story
	for rows.Next() {
		var s briefings.Story
		var summary string
		var firstSeen, updated int64
		if err := rows.Scan(&s.ID, &s.Headline, &summary, &firstSeen, &updated); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(summary), &s.Summary); err != nil {
			return nil, fmt.Errorf("story %d: summary: %w", s.ID, err)
		}
		s.FirstSeen, s.Updated = fromMicros(firstSeen), fromMicros(updated)
		stories = append(stories, s)
	}
	return stories, rows.Err()
}

// loadItems fills in the items of stories in one query.
func loadItems(ctx context.Context, tx *sql.Tx, stories []briefings.Story) error {
	ids := make([]int64, len(stories))
	byID := make(map[int64]*briefings.Story, len(stories))
	for i := range stories {
		ids[i] = stories[i].ID
		byID[stories[i].ID] = &stories[i]
	}
	idJSON, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT story_id, feed_url, guid, link, title, text, outlet, published
		FROM items WHERE story_id IN (SELECT value FROM json_each(?))
		ORDER BY story_id, published, id`,
		string(idJSON))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var storyID, published int64
		var it briefings.Item
		if err := rows.Scan(&storyID, &it.FeedURL, &it.GUID, &it.Link, &it.Title, &it.Text, &it.Outlet, &published); err != nil {
			return err
		}
		it.Published = fromMicros(published)
		s := byID[storyID]
		s.Items = append(s.Items, it)
	}
	return rows.Err()
}

// SaveStories applies the changes in one transaction. New stories are
// created, existing ones get their headline, summary and Updated replaced
// (FirstSeen stays), and NewItems are added to them. An item whose LinkKey or
// ContentKey is already stored, or came earlier in the same call, is skipped;
// so is an item with neither key. A new story none of whose items went in is
// not created: its id is 0. Updating a story that does not exist is
// briefings.ErrNotFound, and then nothing of the call is applied.
// StoriesVersion advances when anything changed.
func (db *DB) SaveStories(ctx context.Context, changes []briefings.StoryChange) ([]int64, error) {
	summaries := make([]string, len(changes))
	for i, ch := range changes {
		if err := briefings.CheckStoreTimes(ch.FirstSeen, ch.Updated); err != nil {
			return nil, fmt.Errorf("sqlite: save stories: change %d: %w", i, err)
		}
		for j, it := range slices.Concat(ch.NewItems, ch.Refreshed) {
			if err := briefings.CheckStoreTimes(it.Published); err != nil {
				return nil, fmt.Errorf("sqlite: save stories: change %d: item %d: %w", i, j, err)
			}
		}
		var err error
		if summaries[i], err = summaryJSON(ch.Summary); err != nil {
			return nil, fmt.Errorf("sqlite: save stories: change %d: %w", i, err)
		}
	}
	if len(changes) == 0 {
		return nil, nil
	}

	ids := make([]int64, len(changes))
	err := inTx(ctx, db.write, func(tx *sql.Tx) error {
		insertItem, err := tx.PrepareContext(ctx, `
			INSERT INTO items (story_id, feed_url, guid, link, link_key, content_key, title, text, outlet, published, ingested_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer insertItem.Close()
		s := storySaver{tx: tx, insertItem: insertItem, now: micros(db.now())}
		for i, ch := range changes {
			if ch.StoryID == 0 {
				ids[i], err = s.create(ctx, ch, summaries[i])
			} else {
				ids[i], err = ch.StoryID, s.update(ctx, ch, summaries[i])
			}
			if err != nil {
				return fmt.Errorf("change %d: %w", i, err)
			}
		}
		if !s.changed {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE meta SET value = value + 1 WHERE key = 'stories_version'`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: save stories: %w", err)
	}
	return ids, nil
}

// storySaver is one SaveStories transaction under way.
type storySaver struct {
	tx         *sql.Tx
	insertItem *sql.Stmt
	now        int64
	changed    bool // whether anything was written that a reader would see
}

func (s *storySaver) create(ctx context.Context, ch briefings.StoryChange, summary string) (int64, error) {
	res, err := s.tx.ExecContext(ctx, `
		INSERT INTO stories (headline, summary_json, first_seen, updated) VALUES (?, ?, ?, ?)`,
		ch.Headline, summary, micros(ch.FirstSeen), micros(ch.Updated))
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	added, err := s.addItems(ctx, id, ch.NewItems)
	if err != nil {
		return 0, err
	}
	if added == 0 {
		// Every item was stored already: the story would tell nothing new.
		_, err := s.tx.ExecContext(ctx, `DELETE FROM stories WHERE id = ?`, id)
		return 0, err
	}
	s.changed = true
	return id, nil
}

// absorb moves the items of the absorbed stories, and the feeds that
// retold them, to story id, and deletes them.
func (s *storySaver) absorb(ctx context.Context, id int64, absorbed []int64) error {
	for _, from := range absorbed {
		if from == id {
			continue
		}
		if _, err := s.tx.ExecContext(ctx, `UPDATE items SET story_id = ?1 WHERE story_id = ?2`, id, from); err != nil {
			return fmt.Errorf("absorb story %d: %w", from, err)
		}
		if _, err := s.tx.ExecContext(ctx, `
			INSERT OR IGNORE INTO feed_stories (feed_url, story_id, published)
			SELECT feed_url, ?1, published FROM feed_stories WHERE story_id = ?2`, id, from); err != nil {
			return fmt.Errorf("absorb story %d: %w", from, err)
		}
		res, err := s.tx.ExecContext(ctx, `DELETE FROM stories WHERE id = ?`, from)
		if err != nil {
			return fmt.Errorf("absorb story %d: %w", from, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n > 0 {
			s.changed = true
		}
	}
	return nil
}

func (s *storySaver) update(ctx context.Context, ch briefings.StoryChange, summary string) error {
	// Only a row whose values differ is written, so an update that repeats
	// what is stored does not move StoriesVersion.
	res, err := s.tx.ExecContext(ctx, `
		UPDATE stories SET headline = ?1, summary_json = ?2, updated = ?3
		WHERE id = ?4 AND (headline <> ?1 OR summary_json <> ?2 OR updated <> ?3)`,
		ch.Headline, summary, micros(ch.Updated), ch.StoryID)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		var exists bool
		if err := s.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM stories WHERE id = ?)`, ch.StoryID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("story %d: %w", ch.StoryID, briefings.ErrNotFound)
		}
	} else {
		s.changed = true
	}
	if err := s.absorb(ctx, ch.StoryID, ch.Absorbs); err != nil {
		return err
	}
	for _, it := range ch.Refreshed {
		res, err := s.tx.ExecContext(ctx, `
			UPDATE items SET title = ?1, published = ?2
			WHERE story_id = ?3 AND link_key = ?4 AND (title <> ?1 OR published <> ?2)`,
			it.Title, micros(it.Published), ch.StoryID, it.LinkKey())
		if err != nil {
			return fmt.Errorf("item %s: %w", it.Link, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n > 0 {
			s.changed = true
		}
	}
	added, err := s.addItems(ctx, ch.StoryID, ch.NewItems)
	if added > 0 {
		s.changed = true
	}
	return err
}

// addItems inserts the items that are not stored yet and returns how many.
func (s *storySaver) addItems(ctx context.Context, storyID int64, items []briefings.Item) (int, error) {
	added := 0
	for _, it := range items {
		k := it.Keys()
		if !k.Known() {
			continue
		}
		res, err := s.insertItem.ExecContext(ctx, storyID, it.FeedURL, it.GUID, it.Link, nullable(k.Link), nullable(k.Content),
			it.Title, it.Text, it.Outlet, micros(it.Published), s.now)
		if err != nil {
			return added, fmt.Errorf("item %s: %w", it.Link, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return added, err
		}
		added += int(n)
	}
	return added, nil
}

// StoriesVersion changes whenever the set of stories changes.
func (db *DB) StoriesVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.read.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'stories_version'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errors.New("sqlite: stories version: missing from meta")
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: stories version: %w", err)
	}
	return v, nil
}

// summaryJSON encodes sentences as a JSON array; no sentences is [], not null.
func summaryJSON(summary []string) (string, error) {
	if summary == nil {
		summary = []string{}
	}
	b, err := json.Marshal(summary)
	if err != nil {
		return "", fmt.Errorf("summary: %w", err)
	}
	return string(b), nil
}
