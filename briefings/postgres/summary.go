package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CachedSummary returns the summary stored under key; ok is false when there
// is none. A summary of no sentences is a hit: the summarizer ran and found
// nothing to say.
func (db *DB) CachedSummary(ctx context.Context, key string) (summary []string, ok bool, err error) {
	err = db.pool.QueryRow(ctx, `SELECT summary FROM summaries WHERE key = $1`, key).Scan(&summary)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("postgres: cached summary: %w", err)
	}
	return summary, true, nil
}

// CacheSummary stores a summary under key, replacing any earlier one.
func (db *DB) CacheSummary(ctx context.Context, key string, summary []string) error {
	if err := checkText(append([]string{key}, summary...)...); err != nil {
		return fmt.Errorf("postgres: cache summary: %w", err)
	}
	_, err := db.pool.Exec(ctx, `
		INSERT INTO summaries (key, summary, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET summary = excluded.summary, created_at = excluded.created_at`,
		key, nonNil(summary), db.now())
	if err != nil {
		return fmt.Errorf("postgres: cache summary: %w", err)
	}
	return nil
}
