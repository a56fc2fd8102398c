package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// ListSources returns every feed, in the order they were added.
func (db *DB) ListSources(ctx context.Context) ([]briefings.Source, error) {
	srcs, err := db.querySources(ctx, `WHERE operator ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list sources: %w", err)
	}
	return srcs, nil
}

// querySources reads the feeds that a WHERE/ORDER BY/LIMIT tail selects.
func (db *DB) querySources(ctx context.Context, tail string, args ...any) ([]briefings.Source, error) {
	rows, err := db.read.QueryContext(ctx, `
		SELECT url, title, etag, last_modified, last_fetched_at, last_error, failures, next_fetch_at
		FROM sources `+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []briefings.Source
	for rows.Next() {
		var s briefings.Source
		var fetched, next int64
		if err := rows.Scan(&s.URL, &s.Title, &s.ETag, &s.LastModified, &fetched, &s.LastError, &s.Failures, &next); err != nil {
			return nil, err
		}
		s.LastFetchedAt, s.NextFetchAt = fromMicros(fetched), fromMicros(next)
		out = append(out, s)
	}
	return out, rows.Err()
}

// AddSource adds a feed by URL with an empty fetch state; added is false when
// it was already listed.
func (db *DB) AddSource(ctx context.Context, url string) (added bool, err error) {
	if strings.TrimSpace(url) == "" {
		return false, errors.New("sqlite: add source: empty URL")
	}
	never := micros(time.Time{})
	res, err := db.write.ExecContext(ctx, `
		INSERT INTO sources (url, title, etag, last_modified, last_fetched_at, last_error, failures, next_fetch_at, added_at)
		VALUES (?, '', '', '', ?, '', 0, ?, ?)
		ON CONFLICT (url) DO UPDATE SET operator = 1 WHERE NOT operator`,
		url, never, never, micros(db.now()))
	if err != nil {
		return false, fmt.Errorf("sqlite: add source %s: %w", url, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: add source %s: %w", url, err)
	}
	return n == 1, nil
}

// RemoveSource removes a feed; briefings.ErrNotFound when it is not listed.
// The items read from it stay, so adding it again brings back nothing old.
func (db *DB) RemoveSource(ctx context.Context, url string) error {
	// A feed chats follow stays theirs: only the operator's listing goes.
	err := inTx(ctx, db.write, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE url = ? AND operator AND NOT `+followed, url)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		res, err = tx.ExecContext(ctx, `UPDATE sources SET operator = 0 WHERE url = ? AND operator`, url)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return briefings.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: remove source %s: %w", url, err)
	}
	return nil
}

// SaveSourceState overwrites the fetch state of a listed feed;
// briefings.ErrNotFound when it is not listed.
func (db *DB) SaveSourceState(ctx context.Context, src briefings.Source) error {
	if err := briefings.CheckStoreTimes(src.LastFetchedAt, src.NextFetchAt); err != nil {
		return fmt.Errorf("sqlite: save source state %s: %w", src.URL, err)
	}
	res, err := db.write.ExecContext(ctx, `
		UPDATE sources
		SET title = ?, etag = ?, last_modified = ?, last_fetched_at = ?, last_error = ?, failures = ?, next_fetch_at = ?
		WHERE url = ?`,
		src.Title, src.ETag, src.LastModified, micros(src.LastFetchedAt), src.LastError, src.Failures, micros(src.NextFetchAt),
		src.URL)
	if err != nil {
		return fmt.Errorf("sqlite: save source state %s: %w", src.URL, err)
	}
	// SQLite counts a row whose values did not change as affected, so 0
	// means exactly "no such feed".
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: save source state %s: %w", src.URL, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: save source state %s: %w", src.URL, briefings.ErrNotFound)
	}
	return nil
}
