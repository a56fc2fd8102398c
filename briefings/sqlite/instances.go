package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// A SQLite file admits one newsbot process (LockInstance), so what several
// instances on PostgreSQL share is trivial here: every due feed is this
// process's, and it has every platform's whole budget (it keeps no
// heartbeats: it is no briefings.InstanceRegistry).

var _ briefings.SourceClaimer = (*DB)(nil)

// ClaimDueSources implements briefings.SourceClaimer for the one process on
// the file: the due feeds, earliest first, at most limit. Nothing is
// recorded, since no other instance could take them.
func (db *DB) ClaimDueSources(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]briefings.Source, error) {
	if owner == "" {
		return nil, errors.New("sqlite: claim due sources: empty owner")
	}
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT url, title, etag, last_modified, last_fetched_at, last_error, failures, next_fetch_at
		FROM sources WHERE next_fetch_at <= ? ORDER BY next_fetch_at, id LIMIT ?`,
		queryMicros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim due sources: %w", err)
	}
	defer rows.Close()
	var out []briefings.Source
	for rows.Next() {
		var s briefings.Source
		var fetched, next int64
		if err := rows.Scan(&s.URL, &s.Title, &s.ETag, &s.LastModified, &fetched, &s.LastError, &s.Failures, &next); err != nil {
			return nil, fmt.Errorf("sqlite: claim due sources: %w", err)
		}
		s.LastFetchedAt, s.NextFetchAt = fromMicros(fetched), fromMicros(next)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: claim due sources: %w", err)
	}
	return out, nil
}
