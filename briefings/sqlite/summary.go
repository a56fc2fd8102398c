package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// CachedSummary returns the summary stored under key; ok is false when there
// is none. A summary of no sentences is a hit: the summarizer ran and found
// nothing to say.
func (db *DB) CachedSummary(ctx context.Context, key string) (summary []string, ok bool, err error) {
	var stored string
	err = db.read.QueryRowContext(ctx, `SELECT summary_json FROM summaries WHERE key = ?`, key).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: cached summary: %w", err)
	}
	if err := json.Unmarshal([]byte(stored), &summary); err != nil {
		return nil, false, fmt.Errorf("sqlite: cached summary: %w", err)
	}
	return summary, true, nil
}

// CacheSummary stores a summary under key, replacing any earlier one.
func (db *DB) CacheSummary(ctx context.Context, key string, summary []string) error {
	stored, err := summaryJSON(summary)
	if err != nil {
		return fmt.Errorf("sqlite: cache summary: %w", err)
	}
	_, err = db.write.ExecContext(ctx, `
		INSERT INTO summaries (key, summary_json, created_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET summary_json = excluded.summary_json, created_at = excluded.created_at`,
		key, stored, micros(db.now()))
	if err != nil {
		return fmt.Errorf("sqlite: cache summary: %w", err)
	}
	return nil
}
