package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

const subscriptionColumns = `id, platform, chat_id, at_minute, zone, topics_json, active, next_due, last_delivered_at, last_error, created_at`

// GetSubscription returns the chat's subscription, active or not;
// briefings.ErrNotFound when the chat never subscribed.
func (db *DB) GetSubscription(ctx context.Context, chat briefings.ChatRef) (briefings.Subscription, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE platform = ? AND chat_id = ?`,
		string(chat.Platform), chat.ID)
	sub, err := scanSubscription(row)
	if errors.Is(err, sql.ErrNoRows) {
		return briefings.Subscription{}, fmt.Errorf("sqlite: get subscription %s: %w", chat, briefings.ErrNotFound)
	}
	if err != nil {
		return briefings.Subscription{}, fmt.Errorf("sqlite: get subscription %s: %w", chat, err)
	}
	return sub, nil
}

// SaveSubscription creates or replaces the chat's subscription, every field
// as given (sub.ID is ignored: the chat names the subscription), and returns
// it with its ID, which stays the same across replacements.
func (db *DB) SaveSubscription(ctx context.Context, sub briefings.Subscription) (briefings.Subscription, error) {
	if err := sub.Validate(); err != nil {
		return briefings.Subscription{}, fmt.Errorf("sqlite: save subscription %s: %w", sub.Chat, err)
	}
	topics, err := json.Marshal(topicsJSON(sub.Topics))
	if err != nil {
		return briefings.Subscription{}, fmt.Errorf("sqlite: save subscription %s: %w", sub.Chat, err)
	}
	row := db.write.QueryRowContext(ctx, `
		INSERT INTO subscriptions (platform, chat_id, at_minute, zone, topics_json, active, next_due, last_delivered_at, last_error, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform, chat_id) DO UPDATE SET
			at_minute = excluded.at_minute,
			zone = excluded.zone,
			topics_json = excluded.topics_json,
			active = excluded.active,
			next_due = excluded.next_due,
			last_delivered_at = excluded.last_delivered_at,
			last_error = excluded.last_error,
			created_at = excluded.created_at
		RETURNING id`,
		string(sub.Chat.Platform), sub.Chat.ID, int(sub.At), sub.Zone.String(), string(topics), sub.Active,
		micros(sub.NextDue), micros(sub.LastDeliveredAt), sub.LastError, micros(sub.CreatedAt))
	if err := row.Scan(&sub.ID); err != nil {
		return briefings.Subscription{}, fmt.Errorf("sqlite: save subscription %s: %w", sub.Chat, err)
	}
	return sub, nil
}

func scanSubscription(row interface{ Scan(...any) error }) (briefings.Subscription, error) {
	var sub briefings.Subscription
	var platform, zone, topics string
	var at int
	var nextDue, lastDelivered, created int64
	err := row.Scan(&sub.ID, &platform, &sub.Chat.ID, &at, &zone, &topics, &sub.Active,
		&nextDue, &lastDelivered, &sub.LastError, &created)
	if err != nil {
		return briefings.Subscription{}, err
	}
	var t storedTopics
	if err := json.Unmarshal([]byte(topics), &t); err != nil {
		return briefings.Subscription{}, fmt.Errorf("topics: %w", err)
	}
	// The zone is resolved here, once, so that a subscription in hand always
	// has one that loads.
	if sub.Zone, err = briefings.ParseZone(zone); err != nil {
		return briefings.Subscription{}, fmt.Errorf("subscription %d: %w", sub.ID, err)
	}
	sub.Chat.Platform = briefings.Platform(platform)
	sub.At = briefings.TimeOfDay(at)
	sub.Topics = briefings.Topics{Include: t.Include, Exclude: t.Exclude}
	sub.NextDue, sub.LastDeliveredAt, sub.CreatedAt = fromMicros(nextDue), fromMicros(lastDelivered), fromMicros(created)
	return sub, nil
}

// storedTopics is the JSON shape of topics_json, named here so a renamed Go
// field cannot change what is on disk.
type storedTopics struct {
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
}

func topicsJSON(t briefings.Topics) storedTopics {
	return storedTopics{Include: t.Include, Exclude: t.Exclude}
}

// MoveSubscription implements briefings.SubscriptionStore.
func (db *DB) MoveSubscription(ctx context.Context, from, to briefings.ChatRef) error {
	if to.Platform == "" || to.ID == "" {
		return fmt.Errorf("sqlite: move subscription %s: target chat needs a platform and an id", from)
	}
	return inTx(ctx, db.write, func(tx *sql.Tx) error {
		if from == to {
			var id int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM subscriptions WHERE platform = ? AND chat_id = ?`,
				string(from.Platform), from.ID).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sqlite: move subscription %s: %w", from, briefings.ErrNotFound)
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE platform = ? AND chat_id = ?`,
			string(to.Platform), to.ID); err != nil {
			return fmt.Errorf("sqlite: move subscription %s: %w", from, err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET platform = ?, chat_id = ? WHERE platform = ? AND chat_id = ?`,
			string(to.Platform), to.ID, string(from.Platform), from.ID)
		if err != nil {
			return fmt.Errorf("sqlite: move subscription %s: %w", from, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("sqlite: move subscription %s: %w", from, briefings.ErrNotFound)
		}
		return nil
	})
}

// CountSubscriptions returns, per platform, the active subscriptions, those
// due at now, and those due for longer than overdueAfter: the operator's
// gauges. It reads the partial index on next_due.
func (db *DB) CountSubscriptions(ctx context.Context, now time.Time, overdueAfter time.Duration) ([]briefings.SubscriptionCount, error) {
	rows, err := db.read.QueryContext(ctx, `
		SELECT platform, count(*),
			coalesce(sum(next_due <= ?), 0),
			coalesce(sum(next_due <= ?), 0)
		FROM subscriptions WHERE active GROUP BY platform ORDER BY platform`,
		queryMicros(now), queryMicros(now.Add(-overdueAfter)))
	if err != nil {
		return nil, fmt.Errorf("sqlite: count subscriptions: %w", err)
	}
	defer rows.Close()
	var out []briefings.SubscriptionCount
	for rows.Next() {
		var c briefings.SubscriptionCount
		var platform string
		if err := rows.Scan(&platform, &c.Active, &c.Due, &c.Overdue); err != nil {
			return nil, fmt.Errorf("sqlite: count subscriptions: %w", err)
		}
		c.Platform = briefings.Platform(platform)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: count subscriptions: %w", err)
	}
	return out, nil
}

// Ping checks the database answers, for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}
