package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/newsbot/newsbot/briefings"
)

// nullable is a key as a query argument: NULL when there is none.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// UnseenItems returns the items, in their order, whose LinkKey and ContentKey
// were both never stored, dropping the later of two items in the batch that
// share either key. An item with neither a link nor a word of title or text
// is dropped too.
func (db *DB) UnseenItems(ctx context.Context, items []briefings.Item) ([]briefings.Item, error) {
	if len(items) == 0 {
		return nil, nil
	}
	keys, linkKeys, contentKeys := briefings.BatchKeys(items)

	// One statement for the whole batch, whatever its size: the keys travel
	// as two arrays, each probed against its unique index.
	rows, err := db.pool.Query(ctx, `
		SELECT true, link_key FROM items WHERE link_key = ANY($1)
		UNION ALL
		SELECT false, content_key FROM items WHERE content_key = ANY($2)`,
		linkKeys, contentKeys)
	if err != nil {
		return nil, fmt.Errorf("postgres: unseen items: %w", err)
	}
	seenLink := make(map[string]bool)
	seenContent := make(map[string]bool)
	var isLink bool
	var key string
	_, err = pgx.ForEachRow(rows, []any{&isLink, &key}, func() error {
		if isLink {
			seenLink[key] = true
		} else {
			seenContent[key] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: unseen items: %w", err)
	}

	return briefings.FilterUnseen(items, keys, seenLink, seenContent), nil
}

// RecentStories returns the stories updated at or after since, newest Updated
// first (ties: the later created first), at most limit, each with all its
// items, earliest Published first (ties: in the order they were stored).
func (db *DB) RecentStories(ctx context.Context, since time.Time, limit int) ([]briefings.Story, error) {
	if limit < 0 {
		return nil, fmt.Errorf("postgres: recent stories: negative limit %d", limit)
	}
	if limit == 0 {
		return nil, nil
	}
	var stories []briefings.Story
	// One snapshot: the stories and their items as of one moment, even while
	// SaveStories commits in between the two queries.
	err := db.inTx(ctx, snapshot, func(tx pgx.Tx) error {
		var err error
		stories, err = recentStories(ctx, tx, since, limit)
		if err != nil || len(stories) == 0 {
			return err
		}
		return loadItems(ctx, tx, stories)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: recent stories: %w", err)
	}
	return stories, nil
}

func recentStories(ctx context.Context, tx pgx.Tx, since time.Time, limit int) ([]briefings.Story, error) {
	return queryStories(ctx, tx, `WHERE updated >= $1 ORDER BY updated DESC, id DESC LIMIT $2`, briefings.ClampStoreTime(since), limit)
}

// queryStories reads the stories (without their items) that a WHERE/ORDER
// BY/LIMIT tail selects.
func queryStories(ctx context.Context, tx pgx.Tx, tail string, args ...any) ([]briefings.Story, error) {
	rows, err := tx.Query(ctx, `SELECT id, headline, summary, first_seen, updated FROM stories `+tail, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (briefings.Story, error) {
		var s briefings.Story
		err := row.Scan(&s.ID, &s.Headline, &s.Summary, &s.FirstSeen, &s.Updated)
		utc(&s.FirstSeen, &s.Updated)
		return s, err
	})
}

// loadItems fills in the items of stories in one query.
func loadItems(ctx context.Context, tx pgx.Tx, stories []briefings.Story) error {
	ids := make([]int64, len(stories))
	byID := make(map[int64]*briefings.Story, len(stories))
	for i := range stories {
		ids[i] = stories[i].ID
		byID[stories[i].ID] = &stories[i]
	}
	rows, err := tx.Query(ctx, `
		SELECT story_id, feed_url, guid, link, title, text, outlet, published
		FROM items WHERE story_id = ANY($1)
		ORDER BY story_id, published, id`,
		ids)
	if err != nil {
		return err
	}
	var storyID int64
	var it briefings.Item
	_, err = pgx.ForEachRow(rows, []any{&storyID, &it.FeedURL, &it.GUID, &it.Link, &it.Title, &it.Text, &it.Outlet, &it.Published}, func() error {
		it.Published = it.Published.UTC()
		s := byID[storyID]
		s.Items = append(s.Items, it)
		return nil
	})
	return err
}

// SaveStories applies the changes in one transaction. New stories are
// created, existing ones get their headline, summary and Updated replaced
// (FirstSeen stays), and NewItems are added to them. An item whose LinkKey or
// ContentKey is already stored, or came earlier in the same call, is skipped;
// so is an item with neither key. A new story none of whose items went in is
// not created: its id is 0. Updating a story that does not exist is
// briefings.ErrNotFound, and then nothing of the call is applied.
// StoriesVersion advances when anything changed.
//
// Two instances saving the same item at once are settled by the unique keys:
// the one that commits second skips it. Should they deadlock over two items
// taken in opposite orders, PostgreSQL aborts one and it is run again.
func (db *DB) SaveStories(ctx context.Context, changes []briefings.StoryChange) ([]int64, error) {
	for i, ch := range changes {
		if err := briefings.CheckStoreTimes(ch.FirstSeen, ch.Updated); err != nil {
			return nil, fmt.Errorf("postgres: save stories: change %d: %w", i, err)
		}
		if err := checkText(append([]string{ch.Headline}, ch.Summary...)...); err != nil {
			return nil, fmt.Errorf("postgres: save stories: change %d: %w", i, err)
		}
		for j, it := range slices.Concat(ch.NewItems, ch.Refreshed) {
			if err := briefings.CheckStoreTimes(it.Published); err != nil {
				return nil, fmt.Errorf("postgres: save stories: change %d: item %d: %w", i, j, err)
			}
			if err := checkText(it.FeedURL, it.GUID, it.Link, it.Title, it.Text, it.Outlet); err != nil {
				return nil, fmt.Errorf("postgres: save stories: change %d: item %d: %w", i, j, err)
			}
		}
	}
	if len(changes) == 0 {
		return nil, nil
	}

	var ids []int64
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		ids = make([]int64, len(changes)) // afresh on every attempt
		s := storySaver{tx: tx, now: db.now()}
		var err error
		for i, ch := range changes {
			if ch.StoryID == 0 {
				ids[i], err = s.create(ctx, ch)
			} else {
				ids[i], err = ch.StoryID, s.update(ctx, ch)
			}
			if err != nil {
				return fmt.Errorf("change %d: %w", i, err)
			}
		}
		if !s.changed {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE meta SET value = value + 1 WHERE key = 'stories_version'`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: save stories: %w", err)
	}
	return ids, nil
}

// storySaver is one SaveStories transaction under way.
type storySaver struct {
	tx      pgx.Tx
	now     time.Time
	changed bool // whether anything was written that a reader would see
}

func (s *storySaver) create(ctx context.Context, ch briefings.StoryChange) (int64, error) {
	var id int64
	err := s.tx.QueryRow(ctx, `
		INSERT INTO stories (headline, summary, first_seen, updated) VALUES ($1, $2, $3, $4) RETURNING id`,
		ch.Headline, nonNil(ch.Summary), ch.FirstSeen, ch.Updated).Scan(&id)
	if err != nil {
		return 0, err
	}
	added, err := s.addItems(ctx, id, ch.NewItems)
	if err != nil {
		return 0, err
	}
	if added == 0 {
		// Every item was stored already: the story would tell nothing new.
		_, err := s.tx.Exec(ctx, `DELETE FROM stories WHERE id = $1`, id)
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
		if _, err := s.tx.Exec(ctx, `UPDATE items SET story_id = $1 WHERE story_id = $2`, id, from); err != nil {
			return fmt.Errorf("absorb story %d: %w", from, err)
		}
		if _, err := s.tx.Exec(ctx, `
			INSERT INTO feed_stories (feed_url, story_id, published)
			SELECT feed_url, $1, published FROM feed_stories WHERE story_id = $2
			ON CONFLICT DO NOTHING`, id, from); err != nil {
			return fmt.Errorf("absorb story %d: %w", from, err)
		}
		tag, err := s.tx.Exec(ctx, `DELETE FROM stories WHERE id = $1`, from)
		if err != nil {
			return fmt.Errorf("absorb story %d: %w", from, err)
		}
		if tag.RowsAffected() > 0 {
			s.changed = true
		}
	}
	return nil
}

func (s *storySaver) update(ctx context.Context, ch briefings.StoryChange) error {
	// Only a row whose values differ is written, so an update that repeats
	// what is stored does not move StoriesVersion.
	tag, err := s.tx.Exec(ctx, `
		UPDATE stories SET headline = $1, summary = $2, updated = $3
		WHERE id = $4 AND (headline, summary, updated) IS DISTINCT FROM ($1, $2, $3)`,
		ch.Headline, nonNil(ch.Summary), ch.Updated, ch.StoryID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		var exists bool
		if err := s.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM stories WHERE id = $1)`, ch.StoryID).Scan(&exists); err != nil {
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
		tag, err := s.tx.Exec(ctx, `
			UPDATE items SET title = $1, published = $2
			WHERE story_id = $3 AND link_key = $4 AND (title, published) IS DISTINCT FROM ($1, $2)`,
			it.Title, it.Published, ch.StoryID, it.LinkKey())
		if err != nil {
			return fmt.Errorf("item %s: %w", it.Link, err)
		}
		if tag.RowsAffected() > 0 {
			s.changed = true
		}
	}
	added, err := s.addItems(ctx, ch.StoryID, ch.NewItems)
	if added > 0 {
		s.changed = true
	}
	return err
}

// addItems inserts the items that are not stored yet, in their order, in one
// round trip, and returns how many went in.
func (s *storySaver) addItems(ctx context.Context, storyID int64, items []briefings.Item) (int, error) {
	batch := &pgx.Batch{}
	var queued []briefings.Item
	for _, it := range items {
		k := it.Keys()
		if !k.Known() {
			continue
		}
		batch.Queue(`
			INSERT INTO items (story_id, feed_url, guid, link, link_key, content_key, title, text, outlet, published, ingested_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT DO NOTHING`,
			storyID, it.FeedURL, it.GUID, it.Link, nullable(k.Link), nullable(k.Content), it.Title, it.Text, it.Outlet, it.Published, s.now)
		queued = append(queued, it)
	}
	if len(queued) == 0 {
		return 0, nil
	}
	results := s.tx.SendBatch(ctx, batch)
	added := 0
	for _, it := range queued {
		tag, err := results.Exec()
		if err != nil {
			results.Close()
			return added, fmt.Errorf("item %s: %w", it.Link, err)
		}
		added += int(tag.RowsAffected())
	}
	return added, results.Close()
}

// StoriesVersion changes whenever the set of stories changes.
func (db *DB) StoriesVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'stories_version'`).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, errors.New("postgres: stories version: missing from meta")
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: stories version: %w", err)
	}
	return v, nil
}
