package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/newsbot/newsbot/briefings"
)

const subscriptionColumns = `id, platform, chat_id, at_minute, zone, include_topics, exclude_topics, active, next_due, last_delivered_at, last_error, created_at`

// GetSubscription returns the chat's subscription, active or not;
// briefings.ErrNotFound when the chat never subscribed.
func (db *DB) GetSubscription(ctx context.Context, chat briefings.ChatRef) (briefings.Subscription, error) {
	row := db.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE platform = $1 AND chat_id = $2`,
		string(chat.Platform), chat.ID)
	sub, err := scanSubscription(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return briefings.Subscription{}, fmt.Errorf("postgres: get subscription %s: %w", chat, briefings.ErrNotFound)
	}
	if err != nil {
		return briefings.Subscription{}, fmt.Errorf("postgres: get subscription %s: %w", chat, err)
	}
	return sub, nil
}

// SaveSubscription creates or replaces the chat's subscription, every field
// as given (sub.ID is ignored: the chat names the subscription), and returns
// it with its ID, which stays the same across replacements. A delivery claim
// on it is kept: the instance delivering it finishes the delivery.
func (db *DB) SaveSubscription(ctx context.Context, sub briefings.Subscription) (briefings.Subscription, error) {
	if err := checkSubscription(sub); err != nil {
		return briefings.Subscription{}, fmt.Errorf("postgres: save subscription %s: %w", sub.Chat, err)
	}
	err := db.pool.QueryRow(ctx, `
		INSERT INTO subscriptions (platform, chat_id, at_minute, zone, include_topics, exclude_topics, active, next_due, last_delivered_at, last_error, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (platform, chat_id) DO UPDATE SET
			at_minute = excluded.at_minute,
			zone = excluded.zone,
			include_topics = excluded.include_topics,
			exclude_topics = excluded.exclude_topics,
			active = excluded.active,
			next_due = excluded.next_due,
			last_delivered_at = excluded.last_delivered_at,
			last_error = excluded.last_error,
			created_at = excluded.created_at
		RETURNING id`,
		string(sub.Chat.Platform), sub.Chat.ID, int(sub.At), sub.Zone.String(), nonNil(sub.Topics.Include), nonNil(sub.Topics.Exclude), sub.Active,
		sub.NextDue, sub.LastDeliveredAt, diagnostic(sub.LastError), sub.CreatedAt).Scan(&sub.ID)
	if err != nil {
		return briefings.Subscription{}, fmt.Errorf("postgres: save subscription %s: %w", sub.Chat, err)
	}
	return sub, nil
}

// checkSubscription is Validate plus the text PostgreSQL cannot store.
func checkSubscription(sub briefings.Subscription) error {
	if err := sub.Validate(); err != nil {
		return err
	}
	return checkText(append(append([]string{string(sub.Chat.Platform), sub.Chat.ID, sub.Zone.String()}, sub.Topics.Include...), sub.Topics.Exclude...)...)
}

func scanSubscription(row pgx.Row) (briefings.Subscription, error) {
	var sub briefings.Subscription
	var platform, zone string
	var at int
	err := row.Scan(&sub.ID, &platform, &sub.Chat.ID, &at, &zone, &sub.Topics.Include, &sub.Topics.Exclude, &sub.Active,
		&sub.NextDue, &sub.LastDeliveredAt, &sub.LastError, &sub.CreatedAt)
	if err != nil {
		return briefings.Subscription{}, err
	}
	// The zone is resolved here, once, so that a subscription in hand always
	// has one that loads.
	if sub.Zone, err = briefings.ParseZone(zone); err != nil {
		return briefings.Subscription{}, fmt.Errorf("subscription %d: %w", sub.ID, err)
	}
	sub.Chat.Platform = briefings.Platform(platform)
	sub.At = briefings.TimeOfDay(at)
	sub.Topics.Include, sub.Topics.Exclude = orNil(sub.Topics.Include), orNil(sub.Topics.Exclude)
	utc(&sub.NextDue, &sub.LastDeliveredAt, &sub.CreatedAt)
	return sub, nil
}

// MoveSubscription gives the subscription of chat from to chat to, keeping
// its ID and everything else; a subscription already at to is replaced (and
// its ledger with it). briefings.ErrNotFound when from has none.
func (db *DB) MoveSubscription(ctx context.Context, from, to briefings.ChatRef) error {
	if to.Platform == "" || to.ID == "" {
		return fmt.Errorf("postgres: move subscription %s: target chat needs a platform and an id", from)
	}
	if err := checkText(string(to.Platform), to.ID); err != nil {
		return fmt.Errorf("postgres: move subscription %s: %w", from, err)
	}
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if from == to {
			var id int64
			return tx.QueryRow(ctx, `SELECT id FROM subscriptions WHERE platform = $1 AND chat_id = $2`,
				string(from.Platform), from.ID).Scan(&id)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM subscriptions WHERE platform = $1 AND chat_id = $2`,
			string(to.Platform), to.ID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE subscriptions SET platform = $1, chat_id = $2 WHERE platform = $3 AND chat_id = $4`,
			string(to.Platform), to.ID, string(from.Platform), from.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return pgx.ErrNoRows
		}
		return nil
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: move subscription %s: %w", from, briefings.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: move subscription %s: %w", from, err)
	}
	return nil
}

// CountSubscriptions returns, per platform, the active subscriptions, those
// due at now, and those due for longer than overdueAfter: the operator's
// gauges.
func (db *DB) CountSubscriptions(ctx context.Context, now time.Time, overdueAfter time.Duration) ([]briefings.SubscriptionCount, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT platform, count(*), count(*) FILTER (WHERE next_due <= $1), count(*) FILTER (WHERE next_due <= $2)
		FROM subscriptions WHERE active GROUP BY platform ORDER BY platform`,
		briefings.ClampStoreTime(now), briefings.ClampStoreTime(now.Add(-overdueAfter)))
	if err != nil {
		return nil, fmt.Errorf("postgres: count subscriptions: %w", err)
	}
	defer rows.Close()
	var out []briefings.SubscriptionCount
	for rows.Next() {
		var c briefings.SubscriptionCount
		var platform string
		if err := rows.Scan(&platform, &c.Active, &c.Due, &c.Overdue); err != nil {
			return nil, fmt.Errorf("postgres: count subscriptions: %w", err)
		}
		c.Platform = briefings.Platform(platform)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: count subscriptions: %w", err)
	}
	return out, nil
}
