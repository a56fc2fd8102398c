package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/newsbot/newsbot/briefings"
)

// CachedPages returns the cached pages of those urls that have one, in one
// query.
func (db *DB) CachedPages(ctx context.Context, urls []string) (map[string]briefings.ArticlePage, error) {
	pages := make(map[string]briefings.ArticlePage)
	if len(urls) == 0 {
		return pages, nil
	}
	urlJSON, err := json.Marshal(urls)
	if err != nil {
		return nil, fmt.Errorf("sqlite: cached pages: %w", err)
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT url, title, text, published, language, etag, last_modified, fetched_at, failure
		FROM pages WHERE url IN (SELECT value FROM json_each(?))`, string(urlJSON))
	if err != nil {
		return nil, fmt.Errorf("sqlite: cached pages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p briefings.ArticlePage
		var published, fetchedAt int64
		if err := rows.Scan(&p.URL, &p.Title, &p.Text, &published, &p.Language, &p.ETag, &p.LastModified, &fetchedAt, &p.Failure); err != nil {
			return nil, fmt.Errorf("sqlite: cached pages: %w", err)
		}
		p.Published, p.FetchedAt = fromMicros(published), fromMicros(fetchedAt)
		pages[p.URL] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: cached pages: %w", err)
	}
	return pages, nil
}

// SavePage caches page under page.URL, replacing any earlier one.
func (db *DB) SavePage(ctx context.Context, p briefings.ArticlePage) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("sqlite: save page: %w", err)
	}
	_, err := db.write.ExecContext(ctx, `
		INSERT INTO pages (url, title, text, published, language, etag, last_modified, fetched_at, failure)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (url) DO UPDATE SET title = excluded.title, text = excluded.text, published = excluded.published,
			language = excluded.language, etag = excluded.etag, last_modified = excluded.last_modified,
			fetched_at = excluded.fetched_at, failure = excluded.failure`,
		p.URL, p.Title, p.Text, micros(p.Published), p.Language, p.ETag, p.LastModified, micros(p.FetchedAt), p.Failure)
	if err != nil {
		return fmt.Errorf("sqlite: save page: %w", err)
	}
	return nil
}

// Story returns one story with all its items; briefings.ErrNotFound when
// there is none with that id.
func (db *DB) Story(ctx context.Context, id int64) (briefings.Story, error) {
	var stories []briefings.Story
	err := inTx(ctx, db.read, func(tx *sql.Tx) error {
		var s briefings.Story
		var summary string
		var firstSeen, updated int64
		err := tx.QueryRowContext(ctx, `SELECT id, headline, summary_json, first_seen, updated FROM stories WHERE id = ?`, id).
			Scan(&s.ID, &s.Headline, &summary, &firstSeen, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("story %d: %w", id, briefings.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(summary), &s.Summary); err != nil {
			return fmt.Errorf("story %d: summary: %w", s.ID, err)
		}
		s.FirstSeen, s.Updated = fromMicros(firstSeen), fromMicros(updated)
		stories = []briefings.Story{s}
		return loadItems(ctx, tx, stories)
	})
	if err != nil {
		return briefings.Story{}, fmt.Errorf("sqlite: story: %w", err)
	}
	return stories[0], nil
}
