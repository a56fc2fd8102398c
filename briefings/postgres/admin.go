package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/newsbot/newsbot/briefings"
)

// The operator's panel's reads (bot/admin), and the two small writes it
// needs, as briefings/sqlite has them: every list is bounded by a limit and
// walks an index (migration 0004).

// sendMinutesKept is how long the per-minute send counts are kept.
const sendMinutesKept = 48 * time.Hour

// clamp is a time bound of a query, inside the years a store keeps.
var clamp = briefings.ClampStoreTime

// args numbers query arguments as they are added.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// FeedStatuses returns the feeds q selects, failing ones first, then in the
// order they were added, each with the items it brought in the day before
// q.Now.
func (db *DB) FeedStatuses(ctx context.Context, q briefings.FeedQuery) ([]briefings.FeedStatus, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	var a args
	where := `WHERE true`
	if q.ID != 0 {
		where += ` AND id = ` + a.add(q.ID)
	}
	if q.FailingOnly {
		where += ` AND last_error <> ''`
	}
	limit, offset, since := a.add(q.Limit), a.add(max(q.Offset, 0)), a.add(clamp(q.Now.Add(-24*time.Hour)))
	rows, err := db.pool.Query(ctx, `
		WITH page AS MATERIALIZED (
			SELECT id, url, title, etag, last_modified, last_fetched_at, last_error, failures, next_fetch_at, last_result
			FROM sources `+where+`
			ORDER BY last_error = '', id LIMIT `+limit+` OFFSET `+offset+`)
		SELECT page.*, (SELECT count(*) FROM items WHERE items.feed_url = page.url AND items.ingested_at >= `+since+`)
		FROM page ORDER BY last_error = '', id`, a...)
	if err != nil {
		return nil, fmt.Errorf("postgres: feed statuses: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (briefings.FeedStatus, error) {
		var f briefings.FeedStatus
		err := row.Scan(&f.ID, &f.URL, &f.Title, &f.ETag, &f.LastModified, &f.LastFetchedAt, &f.LastError, &f.Failures, &f.NextFetchAt,
			&f.LastResult, &f.ItemsLastDay)
		utc(&f.LastFetchedAt, &f.NextFetchAt)
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: feed statuses: %w", err)
	}
	return out, nil
}

// CountFeeds counts the feeds, and those whose last fetch failed.
func (db *DB) CountFeeds(ctx context.Context) (briefings.FeedCount, error) {
	var c briefings.FeedCount
	err := db.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE last_error <> '') FROM sources`).Scan(&c.Total, &c.Failing)
	if err != nil {
		return briefings.FeedCount{}, fmt.Errorf("postgres: count feeds: %w", err)
	}
	return c, nil
}

// FeedItems returns the latest items ingested from the feed, newest first, at
// most limit, each with the story it joined.
func (db *DB) FeedItems(ctx context.Context, feedURL string, limit int) ([]briefings.FeedItem, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `
		SELECT i.feed_url, i.guid, i.link, i.title, i.text, i.outlet, i.published, i.ingested_at,
			s.id, s.headline, (SELECT count(*) FROM items o WHERE o.story_id = s.id)
		FROM items i JOIN stories s ON s.id = i.story_id
		WHERE i.feed_url = $1
		ORDER BY i.ingested_at DESC, i.id DESC LIMIT $2`, feedURL, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: feed items %s: %w", feedURL, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (briefings.FeedItem, error) {
		var it briefings.FeedItem
		err := row.Scan(&it.FeedURL, &it.GUID, &it.Link, &it.Title, &it.Text, &it.Outlet, &it.Published, &it.IngestedAt,
			&it.StoryID, &it.StoryHeadline, &it.StoryItems)
		utc(&it.Published, &it.IngestedAt)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: feed items %s: %w", feedURL, err)
	}
	return out, nil
}

// RecordFetchResult records the result of the feed's latest fetch;
// briefings.ErrNotFound when it is not listed.
func (db *DB) RecordFetchResult(ctx context.Context, feedURL, result string) error {
	return db.updateSource(ctx, "record fetch result", feedURL, `UPDATE sources SET last_result = $1 WHERE url = $2`, result, feedURL)
}

// ScheduleFetch makes the feed due at at, and frees it of any instance's
// claim; briefings.ErrNotFound when it is not listed.
func (db *DB) ScheduleFetch(ctx context.Context, feedURL string, at time.Time) error {
	return db.updateSource(ctx, "schedule fetch", feedURL,
		`UPDATE sources SET next_fetch_at = $1, claim_owner = '', claim_until = '0001-01-01 00:00:00+00' WHERE url = $2`, clamp(at), feedURL)
}

func (db *DB) updateSource(ctx context.Context, op, feedURL, query string, a ...any) error {
	tag, err := db.pool.Exec(ctx, query, a...)
	if err != nil {
		return fmt.Errorf("postgres: %s %s: %w", op, feedURL, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: %s %s: %w", op, feedURL, briefings.ErrNotFound)
	}
	return nil
}

// SubscriptionTotals counts each platform's subscriptions: active,
// deactivated, and active and due before dueBefore (counted up to
// briefings.DueSoonCountCap).
func (db *DB) SubscriptionTotals(ctx context.Context, dueBefore time.Time) ([]briefings.SubscriptionTotal, error) {
	var out []briefings.SubscriptionTotal
	err := db.inTx(ctx, snapshot, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT platform, count(*) FILTER (WHERE active), count(*) FILTER (WHERE NOT active)
			FROM subscriptions GROUP BY platform ORDER BY platform`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (briefings.SubscriptionTotal, error) {
			var t briefings.SubscriptionTotal
			var platform string
			err := row.Scan(&platform, &t.Active, &t.Deactivated)
			t.Platform = briefings.Platform(platform)
			return t, err
		})
		if err != nil {
			return err
		}
		for i := range out {
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM (
				SELECT 1 FROM subscriptions WHERE active AND platform = $1 AND next_due <= $2 LIMIT $3) due`,
				string(out[i].Platform), clamp(dueBefore), briefings.DueSoonCountCap).Scan(&out[i].DueSoon); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: subscription totals: %w", err)
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
	var a args
	where, order := `WHERE true`, `ORDER BY id`
	switch q.State {
	case briefings.SubscriptionsDueSoon:
		where, order = `WHERE active AND next_due <= `+a.add(clamp(q.DueBefore)), `ORDER BY next_due, id`
	case briefings.SubscriptionsActive:
		where = `WHERE active`
	case briefings.SubscriptionsDeactivated:
		where = `WHERE NOT active`
	}
	if q.Platform != "" {
		where += ` AND platform = ` + a.add(string(q.Platform))
	}
	if q.ChatID != "" {
		where += ` AND chat_id = ` + a.add(q.ChatID)
	}
	if q.AfterID > 0 && q.State != briefings.SubscriptionsDueSoon {
		where += ` AND id > ` + a.add(q.AfterID)
	}
	rows, err := db.pool.Query(ctx, `SELECT `+subscriptionColumns+`, `+deactivatedAt+` FROM subscriptions `+where+` `+order+` LIMIT `+a.add(q.Limit), a...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list subscriptions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (briefings.SubscriptionRow, error) { return scanSubscriptionRow(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list subscriptions: %w", err)
	}
	return out, nil
}

// SubscriptionByID returns one subscription; briefings.ErrNotFound when there
// is none with that id.
func (db *DB) SubscriptionByID(ctx context.Context, id int64) (briefings.SubscriptionRow, error) {
	row, err := scanSubscriptionRow(db.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+`, `+deactivatedAt+` FROM subscriptions WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return briefings.SubscriptionRow{}, fmt.Errorf("postgres: subscription %d: %w", id, briefings.ErrNotFound)
	}
	if err != nil {
		return briefings.SubscriptionRow{}, fmt.Errorf("postgres: subscription %d: %w", id, err)
	}
	return row, nil
}

func scanSubscriptionRow(row pgx.Row) (briefings.SubscriptionRow, error) {
	var gone *time.Time
	var r briefings.SubscriptionRow
	var err error
	r.Subscription, err = scanSubscription(scanTail{row, &gone})
	if err != nil {
		return briefings.SubscriptionRow{}, err
	}
	if gone != nil {
		r.DeactivatedAt = gone.UTC()
	}
	return r, nil
}

// scanTail scans a row into the destinations scanSubscription gives plus a
// trailing one of its own.
type scanTail struct {
	row  pgx.Row
	tail **time.Time
}

func (s scanTail) Scan(dest ...any) error { return s.row.Scan(append(dest, s.tail)...) }

// DeliveryHistory returns the subscription's ledger, latest local date first,
// at most limit entries.
func (db *DB) DeliveryHistory(ctx context.Context, subscriptionID int64, limit int) ([]briefings.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE subscription_id = $1
		ORDER BY local_date DESC LIMIT $2`, subscriptionID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: delivery history %d: %w", subscriptionID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (briefings.Delivery, error) { return scanDelivery(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: delivery history %d: %w", subscriptionID, err)
	}
	return out, nil
}

// CountDeliveries counts the ledger entries created at or after since, by
// state, in the states' alphabetical order.
func (db *DB) CountDeliveries(ctx context.Context, since time.Time) ([]briefings.DeliveryCount, error) {
	rows, err := db.pool.Query(ctx, `SELECT state, count(*) FROM deliveries WHERE created_at >= $1 GROUP BY state ORDER BY state COLLATE "C"`,
		clamp(since))
	if err != nil {
		return nil, fmt.Errorf("postgres: count deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (briefings.DeliveryCount, error) {
		var c briefings.DeliveryCount
		var state string
		err := row.Scan(&state, &c.Count)
		c.State = briefings.DeliveryState(state)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: count deliveries: %w", err)
	}
	return out, nil
}

// recordSend counts one message sent to the subscription's chat in the
// minute of at, and forgets the minutes older than sendMinutesKept.
func recordSend(ctx context.Context, tx pgx.Tx, subscriptionID int64, at time.Time) error {
	minute := at.UTC().Truncate(time.Minute)
	if _, err := tx.Exec(ctx, `
		INSERT INTO send_minutes (minute, platform, sends)
		SELECT $1, platform, 1 FROM subscriptions WHERE id = $2
		ON CONFLICT (minute, platform) DO UPDATE SET sends = send_minutes.sends + 1`,
		clamp(minute), subscriptionID); err != nil {
		return fmt.Errorf("record send: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM send_minutes WHERE minute < $1`, clamp(minute.Add(-sendMinutesKept))); err != nil {
		return fmt.Errorf("record send: %w", err)
	}
	return nil
}

// SendsPerMinute returns the messages sent per platform and minute, for the
// minutes starting at or after since (kept for two days), in time order.
func (db *DB) SendsPerMinute(ctx context.Context, since time.Time) ([]briefings.SendCount, error) {
	rows, err := db.pool.Query(ctx, `SELECT minute, platform, sends FROM send_minutes WHERE minute >= $1 ORDER BY minute, platform COLLATE "C"`,
		clamp(since))
	if err != nil {
		return nil, fmt.Errorf("postgres: sends per minute: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (briefings.SendCount, error) {
		var c briefings.SendCount
		var platform string
		err := row.Scan(&c.Minute, &platform, &c.Sends)
		c.Platform = briefings.Platform(platform)
		utc(&c.Minute)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: sends per minute: %w", err)
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
	rows, err := db.pool.Query(ctx, `
		(SELECT s.id, s.platform, s.chat_id, d.local_date, d.messages_sent, d.created_at, s.claim_owner, s.claim_until, s.last_error
			FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
			WHERE d.state = 'pending'
			ORDER BY d.created_at LIMIT $1)
		UNION ALL
		(SELECT s.id, s.platform, s.chat_id, '', 0, '0001-01-01 00:00:00+00'::timestamptz, '', s.claim_until, s.last_error
			FROM subscriptions s
			WHERE s.claim_owner = '' AND s.claim_until > $2
				AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.subscription_id = s.id AND d.state = 'pending')
			ORDER BY s.claim_until LIMIT $1)`,
		limit, clamp(now))
	if err != nil {
		return nil, fmt.Errorf("postgres: retry queue: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (briefings.RetryEntry, error) {
		var e briefings.RetryEntry
		var platform string
		err := row.Scan(&e.SubscriptionID, &platform, &e.Chat.ID, &e.LocalDate, &e.MessagesSent, &e.StartedAt, &e.Owner, &e.Until, &e.LastError)
		e.Chat.Platform = briefings.Platform(platform)
		utc(&e.StartedAt, &e.Until)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: retry queue: %w", err)
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
