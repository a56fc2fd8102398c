package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/newsbot/newsbot/briefings"
)

// CachedPages returns the cached pages of those urls that have one, in one
// query.
func (db *DB) CachedPages(ctx context.Context, urls []string) (map[string]briefings.ArticlePage, error) {
	pages := make(map[string]briefings.ArticlePage)
	if len(urls) == 0 {
		return pages, nil
	}
	rows, err := db.pool.Query(ctx, `
		SELECT url, title, text, published, language, etag, last_modified, fetched_at, failure
		FROM pages WHERE url = ANY($1)`, urls)
	if err != nil {
		return nil, fmt.Errorf("postgres: cached pages: %w", err)
	}
	var p briefings.ArticlePage
	_, err = pgx.ForEachRow(rows, []any{&p.URL, &p.Title, &p.Text, &p.Published, &p.Language, &p.ETag, &p.LastModified, &p.FetchedAt, &p.Failure}, func() error {
		utc(&p.Published, &p.FetchedAt)
		pages[p.URL] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: cached pages: %w", err)
	}
	return pages, nil
}

// SavePage caches page under page.URL, replacing any earlier one.
func (db *DB) SavePage(ctx context.Context, p briefings.ArticlePage) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("postgres: save page: %w", err)
	}
	if err := checkText(p.URL, p.Title, p.Text, p.Language, p.ETag, p.LastModified, p.Failure); err != nil {
		return fmt.Errorf("postgres: save page: %w", err)
	}
	_, err := db.pool.Exec(ctx, `
		INSERT INTO pages (url, title, text, published, language, etag, last_modified, fetched_at, failure)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (url) DO UPDATE SET title = excluded.title, text = excluded.text, published = excluded.published,
			language = excluded.language, etag = excluded.etag, last_modified = excluded.last_modified,
			fetched_at = excluded.fetched_at, failure = excluded.failure`,
		p.URL, p.Title, p.Text, p.Published, p.Language, p.ETag, p.LastModified, p.FetchedAt, p.Failure)
	if err != nil {
		return fmt.Errorf("postgres: save page: %w", err)
	}
	return nil
}

// Story returns one story with all its items; briefings.ErrNotFound when
// there is none with that id.
func (db *DB) Story(ctx context.Context, id int64) (briefings.Story, error) {
	var stories []briefings.Story
	err := db.inTx(ctx, snapshot, func(tx pgx.Tx) error {
		var s briefings.Story
		err := tx.QueryRow(ctx, `SELECT id, headline, summary, first_seen, updated FROM stories WHERE id = $1`, id).
			Scan(&s.ID, &s.Headline, &s.Summary, &s.FirstSeen, &s.Updated)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("story %d: %w", id, briefings.ErrNotFound)
		}
		if err != nil {
			return err
		}
		utc(&s.FirstSeen, &s.Updated)
		stories = []briefings.Story{s}
		return loadItems(ctx, tx, stories)
	})
	if err != nil {
		return briefings.Story{}, fmt.Errorf("postgres: story: %w", err)
	}
	return stories[0], nil
}
