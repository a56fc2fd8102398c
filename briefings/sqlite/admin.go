package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// The operator's panel's reads (bot/admin), and the two small writes it
// needs: a fetch's result and a feed fetched now. Every list is bounded by a
// limit and walks an index (migration 0003), so a page costs the same with
// 100,000 subscriptions as with ten.

// sendMinutesKept is how long the per-minute send counts are kept.
const sendMinutesKept = 48 * time.Hour

// FeedStatuses returns the feeds q selects, failing ones first, then in the
// order they were added, each with the items it brought in the day before
// q.Now.
func (db *DB) FeedStatuses(ctx context.Context, q briefings.FeedQuery) ([]briefings.FeedStatus, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	where := `WHERE true`
	args := []any{}
	if q.ID != 0 {
		where += ` AND id = ?`
		args = append(args, q.ID)
	}
	if q.FailingOnly {
		where += ` AND last_error <> ''`
	}
	args = append(args, q.Limit, max(q.Offset, 0), queryMicros(q.Now.Add(-24*time.Hour)))
	// The page is chosen first and materialized, so the items are counted
	// for its feeds only, not for all of them before the sort.
	rows, err := db.read.QueryContext(ctx, `
		WITH page AS MATERIALIZED (
			SELECT id, url, title, etag, last_modified, last_fetched_at, last_error, failures, next_fetch_at, last_result
			FROM sources `+where+`
			ORDER BY last_error = '', id LIMIT ? OFFSET ?)
		SELECT page.*, (SELECT count(*) FROM items WHERE items.feed_url = page.url AND items.ingested_at >= ?)
		FROM page ORDER BY last_error = '', id`, args...)
	out, err := collect(rows, err, func(rows *sql.Rows) (briefings.FeedStatus, error) {
		var f briefings.FeedStatus
		var fetched, next int64
		err := rows.Scan(&f.ID, &f.URL, &f.Title, &f.ETag, &f.LastModified, &fetched, &f.LastError, &f.Failures, &next,
			&f.LastResult, &f.ItemsLastDay)
		f.LastFetchedAt, f.NextFetchAt = fromMicros(fetched), fromMicros(next)
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: feed statuses: %w", err)
	}
	return out, nil
}

// CountFeeds counts the feeds, and those whose last fetch failed.
func (db *DB) CountFeeds(ctx context.Context) (briefings.FeedCount, error) {
	var c briefings.FeedCount
	err := db.read.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(last_error <> ''), 0) FROM sources`).Scan(&c.Total, &c.Failing)
	if err != nil {
		return briefings.FeedCount{}, fmt.Errorf("sqlite: count feeds: %w", err)
	}
	return c, nil
}

// FeedItems returns the latest items ingested from the feed, newest first, at
// most limit, each with the story it joined.
func (db *DB) FeedItems(ctx context.Context, feedURL string, limit int) ([]briefings.FeedItem, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT i.feed_url, i.guid, i.link, i.title, i.text, i.outlet, i.published, i.ingested_at,
			s.id, s.headline, (SELECT count(*) FROM items o WHERE o.story_id = s.id)
		FROM items i JOIN stories s ON s.id = i.story_id
		WHERE i.feed_url = ?
		ORDER BY i.ingested_at DESC, i.id DESC LIMIT ?`, feedURL, limit)
	out, err := collect(rows, err, func(rows *sql.Rows) (briefings.FeedItem, error) {
		var it briefings.FeedItem
		var published, ingested int64
		err := rows.Scan(&it.FeedURL, &it.GUID, &it.Link, &it.Title, &it.Text, &it.Outlet, &published, &ingested,
			&it.StoryID, &it.StoryHeadline, &it.StoryItems)
		it.Published, it.IngestedAt = fromMicros(published), fromMicros(ingested)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: feed items %s: %w", feedURL, err)
	}
	return out, nil
}

// RecordFetchResult records the result of the feed's latest fetch;
// briefings.ErrNotFound when it is not listed.
func (db *DB) RecordFetchResult(ctx context.Context, feedURL, result string) error {
	return db.updateSource(ctx, "record fetch result", feedURL, `UPDATE sources SET last_result = ? WHERE url = ?`, result, feedURL)
}

// ScheduleFetch makes the feed due at at; briefings.ErrNotFound when it is
// not listed.
func (db *DB) ScheduleFetch(ctx context.Context, feedURL string, at time.Time) error {
	return db.updateSource(ctx, "schedule fetch", feedURL, `UPDATE sources SET next_fetch_at = ? WHERE url = ?`, queryMicros(at), feedURL)
}

func (db *DB) updateSource(ctx context.Context, op, feedURL, query string, args ...any) error {
	res, err := db.write.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: %s %s: %w", op, feedURL, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %s %s: %w", op, feedURL, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: %s %s: %w", op, feedURL, briefings.ErrNotFound)
	}
	return nil
}

// SubscriptionTotals counts each platform's subscriptions: active,
// deactivated (kept counted by triggers), and active and due before
// dueBefore (counted up to briefings.DueSoonCountCap).
func (db *DB) SubscriptionTotals(ctx context.Context, dueBefore time.Time) ([]briefings.SubscriptionTotal, error) {
	var out []briefings.SubscriptionTotal
	err := inTx(ctx, db.read, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT platform, active, n FROM subscription_counts WHERE n > 0 ORDER BY platform, active`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var platform string
			var active bool
			var n int
			if err := rows.Scan(&platform, &active, &n); err != nil {
				return err
			}
			p := briefings.Platform(platform)
			if len(out) == 0 || out[len(out)-1].Platform != p {
				out = append(out, briefings.SubscriptionTotal{Platform: p})
			}
			if active {
				out[len(out)-1].Active = n
			} else {
				out[len(out)-1].Deactivated = n
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (
				SELECT 1 FROM subscriptions WHERE active AND platform = ? AND next_due <= ? LIMIT ?)`,
				string(out[i].Platform), queryMicros(dueBefore), briefings.DueSoonCountCap).Scan(&out[i].DueSoon); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: subscription totals: %w", err)
	}
	return out, nil
}

// deactivatedAt is when the subscription's last delivery found the chat gone.
const deactivatedAt = `CASE WHEN active THEN NULL ELSE
	(SELECT max(finished_at) FROM deliveries d WHERE d.subscription_id = subscriptions.id AND d.state = 'gone') END`

// ListSubscriptions returns the subscriptions q selects, a page of at most
// q.Limit: in id order after q.AfterID, or, for those due soon, earliest due
// first.
func (db *DB) ListSubscriptions(ctx context.Context, q briefings.SubscriptionQuery) ([]briefings.SubscriptionRow, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	var where string
	var args []any
	order := `ORDER BY id`
	switch q.State {
	case briefings.SubscriptionsDueSoon:
		// As written in the partial index's condition, so that it is used.
		where, order = `WHERE active AND next_due <= ?`, `ORDER BY next_due, id`
		args = append(args, queryMicros(q.DueBefore))

	case briefings.SubscriptionsActive:
		where = `WHERE active = 1`
	case briefings.SubscriptionsDeactivated:
		where = `WHERE active = 0`
	default:
		where = `WHERE true`
	}
	if q.Platform != "" {
		where += ` AND platform = ?`
		args = append(args, string(q.Platform))
	}
	if q.ChatID != "" {
		where += ` AND chat_id = ?`
		args = append(args, q.ChatID)
	}
	if q.AfterID > 0 && q.State != briefings.SubscriptionsDueSoon {
		where += ` AND id > ?`
		args = append(args, q.AfterID)
	}
	args = append(args, q.Limit)
	rows, err := db.read.QueryContext(ctx, `SELECT `+subscriptionColumns+`, `+deactivatedAt+` FROM subscriptions `+where+` `+order+` LIMIT ?`, args...)
	out, err := collect(rows, err, func(rows *sql.Rows) (briefings.SubscriptionRow, error) { return scanSubscriptionRow(rows) })
	if err != nil {
		return nil, fmt.Errorf("sqlite: list subscriptions: %w", err)
	}
	return out, nil
}

// SubscriptionByID returns one subscription; briefings.ErrNotFound when there
// is none with that id.
func (db *DB) SubscriptionByID(ctx context.Context, id int64) (briefings.SubscriptionRow, error) {
	row, err := scanSubscriptionRow(db.read.QueryRowContext(ctx, `SELECT `+subscriptionColumns+`, `+deactivatedAt+` FROM subscriptions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return briefings.SubscriptionRow{}, fmt.Errorf("sqlite: subscription %d: %w", id, briefings.ErrNotFound)
	}
	if err != nil {
		return briefings.SubscriptionRow{}, fmt.Errorf("sqlite: subscription %d: %w", id, err)
	}
	return row, nil
}

func scanSubscriptionRow(row interface{ Scan(...any) error }) (briefings.SubscriptionRow, error) {
	var gone sql.NullInt64
	var r briefings.SubscriptionRow
	var err error
	r.Subscription, err = scanSubscription(scanTail{row, &gone})
	if err != nil {
		return briefings.SubscriptionRow{}, err
	}
	if gone.Valid {
		r.DeactivatedAt = fromMicros(gone.Int64)
	}
	return r, nil
}

// scanTail scans a row into the destinations scanSubscription gives plus
// trailing ones of its own.
type scanTail struct {
	row  interface{ Scan(...any) error }
	tail *sql.NullInt64
}

func (s scanTail) Scan(dest ...any) error { return s.row.Scan(append(dest, s.tail)...) }

// DeliveryHistory returns the subscription's ledger, latest local date first,
// at most limit entries.
func (db *DB) DeliveryHistory(ctx context.Context, subscriptionID int64, limit int) ([]briefings.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE subscription_id = ?
		ORDER BY local_date DESC LIMIT ?`, subscriptionID, limit)
	out, err := collect(rows, err, func(rows *sql.Rows) (briefings.Delivery, error) { return scanDelivery(rows) })
	if err != nil {
		return nil, fmt.Errorf("sqlite: delivery history %d: %w", subscriptionID, err)
	}
	return out, nil
}

// quarter is the span delivery_counts counts ledger entries by, in
// microseconds (migration 0003).
const quarter = int64(15 * time.Minute / time.Microsecond)

// CountDeliveries counts the ledger entries created at or after since, by
// state, in the states' alphabetical order: the whole quarters of an hour
// from delivery_counts, the part of a quarter before the first whole one
// from the ledger itself.
func (db *DB) CountDeliveries(ctx context.Context, since time.Time) ([]briefings.DeliveryCount, error) {
	from := queryMicros(since)
	whole := from - ((from%quarter)+quarter)%quarter
	if whole < from {
		whole += quarter
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT state, sum(n) FROM (
			SELECT state, n FROM delivery_counts WHERE quarter >= ?
			UNION ALL
			SELECT state, count(*) FROM deliveries WHERE created_at >= ? AND created_at < ? GROUP BY state)
		GROUP BY state HAVING sum(n) > 0 ORDER BY state`, whole, from, whole)
	out, err := collect(rows, err, func(rows *sql.Rows) (briefings.DeliveryCount, error) {
		var c briefings.DeliveryCount
		var state string
		err := rows.Scan(&state, &c.Count)
		c.State = briefings.DeliveryState(state)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: count deliveries: %w", err)
	}
	return out, nil
}

// recordSend counts one message sent to the subscription's chat in the
// minute of at, and forgets the minutes older than sendMinutesKept.
func recordSend(ctx context.Context, tx *sql.Tx, subscriptionID int64, at time.Time) error {
	minute := at.UTC().Truncate(time.Minute)
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO send_minutes (minute, platform, sends)
		SELECT ?, platform, 1 FROM subscriptions WHERE id = ?
		ON CONFLICT (minute, platform) DO UPDATE SET sends = sends + 1`,
		queryMicros(minute), subscriptionID); err != nil {
		return fmt.Errorf("record send: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM send_minutes WHERE minute < ?`, queryMicros(minute.Add(-sendMinutesKept))); err != nil {
		return fmt.Errorf("record send: %w", err)
	}
	return nil
}

// SendsPerMinute returns the messages sent per platform and minute, for the
// minutes starting at or after since (kept for two days), in time order.
func (db *DB) SendsPerMinute(ctx context.Context, since time.Time) ([]briefings.SendCount, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT minute, platform, sends FROM send_minutes WHERE minute >= ? ORDER BY minute, platform`,
		queryMicros(since))
	out, err := collect(rows, err, func(rows *sql.Rows) (briefings.SendCount, error) {
		var c briefings.SendCount
		var minute int64
		var platform string
		err := rows.Scan(&minute, &platform, &c.Sends)
		c.Minute, c.Platform = fromMicros(minute), briefings.Platform(platform)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: sends per minute: %w", err)
	}
	return out, nil
}

// RetryQueue returns the deliveries waiting at now, at most limit: those
// started and not finished (oldest first), then the subscriptions held back
// by a deferral that have none (soonest resumed first).
func (db *DB) RetryQueue(ctx context.Context, now time.Time, limit int) ([]briefings.RetryEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.read.QueryContext(ctx, `
		SELECT * FROM (
			SELECT s.id, s.platform, s.chat_id, d.local_date, d.messages_sent, d.created_at, s.claim_owner, s.claim_until, s.last_error
			FROM deliveries d INDEXED BY deliveries_pending JOIN subscriptions s ON s.id = d.subscription_id
			WHERE d.state = 'pending'
			ORDER BY d.created_at LIMIT ?)
		UNION ALL
		SELECT * FROM (
			SELECT s.id, s.platform, s.chat_id, '', 0, ?, '', s.claim_until, s.last_error
			FROM subscriptions s
			WHERE s.claim_owner = '' AND s.claim_until > ?
				AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.subscription_id = s.id AND d.state = 'pending')
			ORDER BY s.claim_until LIMIT ?)`,
		limit, micros(time.Time{}), queryMicros(now), limit)
	out, err := collect(rows, err, func(rows *sql.Rows) (briefings.RetryEntry, error) {
		var e briefings.RetryEntry
		var platform string
		var started, until int64
		err := rows.Scan(&e.SubscriptionID, &platform, &e.Chat.ID, &e.LocalDate, &e.MessagesSent, &started, &e.Owner, &until, &e.LastError)
		e.Chat.Platform = briefings.Platform(platform)
		e.StartedAt, e.Until = fromMicros(started), fromMicros(until)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: retry queue: %w", err)
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// collect reads every row of a query with scan, and closes them; err is
// the query's own error.
func collect[T any](rows *sql.Rows, err error, scan func(*sql.Rows) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
