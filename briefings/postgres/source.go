package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/newsbot/newsbot/briefings"
)

// ListSources returns every feed, in the order they were added.
func (db *DB) ListSources(ctx context.Context) ([]briefings.Source, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT url, title, etag, last_modified, last_fetched_at, last_error, failures, next_fetch_at
		FROM sources WHERE operator ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list sources: %w", err)
	}
	out, err := collectSources(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: list sources: %w", err)
	}
	return out, nil
}

// collectSources reads rows of url, title, etag, last_modified,
// last_fetched_at, last_error, failures, next_fetch_at.
func collectSources(rows pgx.Rows) ([]briefings.Source, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (briefings.Source, error) {
		var s briefings.Source
		err := row.Scan(&s.URL, &s.Title, &s.ETag, &s.LastModified, &s.LastFetchedAt, &s.LastError, &s.Failures, &s.NextFetchAt)
		utc(&s.LastFetchedAt, &s.NextFetchAt)
		return s, err
	})
}

// AddSource adds a feed by URL with an empty fetch state; added is false when
// it was already listed.
func (db *DB) AddSource(ctx context.Context, url string) (added bool, err error) {
	if strings.TrimSpace(url) == "" {
		return false, errors.New("postgres: add source: empty URL")
	}
	if err := checkText(url); err != nil {
		return false, fmt.Errorf("postgres: add source: %w", err)
	}
	tag, err := db.pool.Exec(ctx, `
		INSERT INTO sources (url, title, etag, last_modified, last_fetched_at, last_error, failures, next_fetch_at, added_at)
		VALUES ($1, '', '', '', $2, '', 0, $2, $3)
		ON CONFLICT (url) DO UPDATE SET operator = true WHERE NOT sources.operator`,
		url, time.Time{}, db.now())
	if err != nil {
		return false, fmt.Errorf("postgres: add source %s: %w", url, err)
	}
	return tag.RowsAffected() == 1, nil
}

// RemoveSource removes a feed; briefings.ErrNotFound when it is not listed.
// The items read from it stay, so adding it again brings back nothing old.
func (db *DB) RemoveSource(ctx context.Context, url string) error {
	// A feed chats follow stays theirs: only the operator's listing goes.
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := lockFeedList(ctx, tx); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM sources WHERE url = $1 AND operator AND NOT `+followed, url)
		if err != nil || tag.RowsAffected() == 1 {
			return err
		}
		tag, err = tx.Exec(ctx, `UPDATE sources SET operator = false WHERE url = $1 AND operator`, url)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return briefings.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: remove source %s: %w", url, err)
	}
	return nil
}

// SaveSourceState overwrites the fetch state of a listed feed;
// briefings.ErrNotFound when it is not listed. LastError is stored with any
// byte PostgreSQL refuses replaced, so a failure is always recorded.
func (db *DB) SaveSourceState(ctx context.Context, src briefings.Source) error {
	if err := briefings.CheckStoreTimes(src.LastFetchedAt, src.NextFetchAt); err != nil {
		return fmt.Errorf("postgres: save source state %s: %w", src.URL, err)
	}
	if err := checkText(src.Title, src.ETag, src.LastModified); err != nil {
		return fmt.Errorf("postgres: save source state %s: %w", src.URL, err)
	}
	// PostgreSQL counts every row the WHERE matched, changed or not, so 0
	// means exactly "no such feed".
	tag, err := db.pool.Exec(ctx, `
		UPDATE sources
		SET title = $1, etag = $2, last_modified = $3, last_fetched_at = $4, last_error = $5, failures = $6, next_fetch_at = $7
		WHERE url = $8`,
		src.Title, src.ETag, src.LastModified, src.LastFetchedAt, diagnostic(src.LastError), src.Failures, src.NextFetchAt,
		src.URL)
	if err != nil {
		return fmt.Errorf("postgres: save source state %s: %w", src.URL, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: save source state %s: %w", src.URL, briefings.ErrNotFound)
	}
	return nil
}
