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
	srcs, err := db.querySources(ctx, `WHERE next_fetch_at <= ? AND (operator OR `+followed+`) ORDER BY next_fetch_at, id LIMIT ?`, queryMicros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim due sources: %w", err)
	}
	return srcs, nil
}
