package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

var _ briefings.DeliveryStore = (*DB)(nil)

// claimDueQuery selects the subscriptions to claim. Its WHERE starts with
// the partial index's condition as written, so SQLite walks subscriptions_due
// from the earliest next_due and stops at the limit; the unary + keeps the
// planner off the (platform, chat_id) index, which would visit every
// subscription of the platform and sort them.
const claimDueQuery = `SELECT id FROM subscriptions
	WHERE active AND next_due <= ? AND +platform = ? AND claim_until <= ?
	ORDER BY next_due
	LIMIT ?`

// ClaimDue implements briefings.DeliveryStore. SQLite admits one writer, so
// the select and the update of one statement are atomic; PostgreSQL does the
// same with FOR UPDATE SKIP LOCKED.
func (db *DB) ClaimDue(ctx context.Context, req briefings.ClaimRequest) ([]briefings.Subscription, error) {
	if req.Owner == "" {
		return nil, errors.New("sqlite: claim due: empty owner")
	}
	if req.Limit <= 0 {
		return nil, nil
	}
	if err := briefings.CheckStoreTimes(req.LeaseUntil); err != nil {
		return nil, fmt.Errorf("sqlite: claim due: lease: %w", err)
	}
	rows, err := db.write.QueryContext(ctx, `
		UPDATE subscriptions SET claim_owner = ?, claim_until = ?
		WHERE id IN (`+claimDueQuery+`)
		RETURNING `+subscriptionColumns,
		req.Owner, micros(req.LeaseUntil), queryMicros(req.Now), string(req.Platform), queryMicros(req.Now), req.Limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim due: %w", err)
	}
	defer rows.Close()
	var subs []briefings.Subscription
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: claim due: %w", err)
		}
		subs = append(subs, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: claim due: %w", err)
	}
	// RETURNING comes in no promised order.
	slices.SortStableFunc(subs, func(a, b briefings.Subscription) int {
		if c := a.NextDue.Compare(b.NextDue); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return subs, nil
}

// NextDueAfter implements briefings.DeliveryStore, with one seek in
// subscriptions_due.
func (db *DB) NextDueAfter(ctx context.Context, after time.Time) (time.Time, bool, error) {
	var next sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT min(next_due) FROM subscriptions WHERE active AND next_due > ?`, queryMicros(after)).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sqlite: next due: %w", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return fromMicros(next.Int64), true, nil
}

// RenewClaims implements briefings.DeliveryStore.
func (db *DB) RenewClaims(ctx context.Context, owner string, until time.Time) (int, error) {
	if owner == "" {
		return 0, errors.New("sqlite: renew claims: empty owner")
	}
	if err := briefings.CheckStoreTimes(until); err != nil {
		return 0, fmt.Errorf("sqlite: renew claims: %w", err)
	}
	res, err := db.write.ExecContext(ctx, `UPDATE subscriptions SET claim_until = ? WHERE claim_owner = ? AND claim_owner <> ''`,
		micros(until), owner)
	if err != nil {
		return 0, fmt.Errorf("sqlite: renew claims: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ReleaseClaims implements briefings.DeliveryStore.
func (db *DB) ReleaseClaims(ctx context.Context, owner string) error {
	if owner == "" {
		return errors.New("sqlite: release claims: empty owner")
	}
	if _, err := db.write.ExecContext(ctx, `UPDATE subscriptions SET claim_owner = '', claim_until = ? WHERE claim_owner = ? AND claim_owner <> ''`,
		micros(time.Time{}), owner); err != nil {
		return fmt.Errorf("sqlite: release claims: %w", err)
	}
	return nil
}

// DeferClaim implements briefings.DeliveryStore.
func (db *DB) DeferClaim(ctx context.Context, owner string, subscriptionID int64, until time.Time) error {
	if err := briefings.CheckStoreTimes(until); err != nil {
		return fmt.Errorf("sqlite: defer claim %d: %w", subscriptionID, err)
	}
	res, err := db.write.ExecContext(ctx, `UPDATE subscriptions SET claim_owner = '', claim_until = ? WHERE id = ? AND claim_owner = ? AND claim_owner <> ''`,
		micros(until), subscriptionID, owner)
	if err != nil {
		return fmt.Errorf("sqlite: defer claim %d: %w", subscriptionID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: defer claim %d: %w", subscriptionID, briefings.ErrClaimLost)
	}
	return nil
}

// holdsClaim fails with briefings.ErrClaimLost unless owner holds the claim
// on the subscription.
func holdsClaim(ctx context.Context, tx *sql.Tx, owner string, subscriptionID int64) error {
	var got string
	err := tx.QueryRowContext(ctx, `SELECT claim_owner FROM subscriptions WHERE id = ?`, subscriptionID).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("subscription %d: %w", subscriptionID, briefings.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if owner == "" || got != owner {
		return fmt.Errorf("subscription %d: %w", subscriptionID, briefings.ErrClaimLost)
	}
	return nil
}

const deliveryColumns = `subscription_id, local_date, due, since, composed_at, story_ids_json, briefing_json, messages_sent, state, error, created_at, finished_at`

// GetDelivery implements briefings.DeliveryStore.
func (db *DB) GetDelivery(ctx context.Context, subscriptionID int64, localDate string) (briefings.Delivery, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE subscription_id = ? AND local_date = ?`,
		subscriptionID, localDate)
	d, err := scanDelivery(row)
	if errors.Is(err, sql.ErrNoRows) {
		return briefings.Delivery{}, fmt.Errorf("sqlite: get delivery %d %s: %w", subscriptionID, localDate, briefings.ErrNotFound)
	}
	if err != nil {
		return briefings.Delivery{}, fmt.Errorf("sqlite: get delivery %d %s: %w", subscriptionID, localDate, err)
	}
	return d, nil
}

// LastDelivery implements briefings.DeliveryStore.
func (db *DB) LastDelivery(ctx context.Context, subscriptionID int64) (briefings.Delivery, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE subscription_id = ? AND state IN ('sent', 'empty')
		ORDER BY composed_at DESC, local_date DESC LIMIT 1`, subscriptionID)
	d, err := scanDelivery(row)
	if errors.Is(err, sql.ErrNoRows) {
		return briefings.Delivery{}, fmt.Errorf("sqlite: last delivery %d: %w", subscriptionID, briefings.ErrNotFound)
	}
	if err != nil {
		return briefings.Delivery{}, fmt.Errorf("sqlite: last delivery %d: %w", subscriptionID, err)
	}
	return d, nil
}

// StartDelivery implements briefings.DeliveryStore.
func (db *DB) StartDelivery(ctx context.Context, owner string, d briefings.Delivery) (briefings.Delivery, bool, error) {
	if err := d.Validate(); err != nil {
		return briefings.Delivery{}, false, fmt.Errorf("sqlite: start delivery %d %s: %w", d.SubscriptionID, d.LocalDate, err)
	}
	ids, err := json.Marshal(storyIDs(d.StoryIDs))
	if err != nil {
		return briefings.Delivery{}, false, fmt.Errorf("sqlite: start delivery %d %s: %w", d.SubscriptionID, d.LocalDate, err)
	}
	b, err := briefings.MarshalBriefing(d.Briefing)
	if err != nil {
		return briefings.Delivery{}, false, fmt.Errorf("sqlite: start delivery %d %s: %w", d.SubscriptionID, d.LocalDate, err)
	}
	var stored briefings.Delivery
	var created bool
	err = inTx(ctx, db.write, func(tx *sql.Tx) error {
		if err := holdsClaim(ctx, tx, owner, d.SubscriptionID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (`+deliveryColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'pending', '', ?, ?)
			ON CONFLICT (subscription_id, local_date) DO NOTHING`,
			d.SubscriptionID, d.LocalDate, micros(d.Due), micros(d.Since), micros(d.ComposedAt), string(ids), string(b),
			micros(d.CreatedAt), micros(time.Time{}))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		created = n == 1
		stored, err = scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE subscription_id = ? AND local_date = ?`,
			d.SubscriptionID, d.LocalDate))
		return err
	})
	if err != nil {
		return briefings.Delivery{}, false, fmt.Errorf("sqlite: start delivery %d %s: %w", d.SubscriptionID, d.LocalDate, err)
	}
	return stored, created, nil
}

// RecordProgress implements briefings.DeliveryStore.
func (db *DB) RecordProgress(ctx context.Context, owner string, subscriptionID int64, localDate string, sent int) error {
	if sent < 0 {
		return fmt.Errorf("sqlite: record progress %d %s: negative count %d", subscriptionID, localDate, sent)
	}
	err := inTx(ctx, db.write, func(tx *sql.Tx) error {
		if err := holdsClaim(ctx, tx, owner, subscriptionID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET messages_sent = ? WHERE subscription_id = ? AND local_date = ? AND state = 'pending'`,
			sent, subscriptionID, localDate)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("no pending delivery: %w", briefings.ErrNotFound)
		}
		return recordSend(ctx, tx, subscriptionID, db.now())
	})
	if err != nil {
		return fmt.Errorf("sqlite: record progress %d %s: %w", subscriptionID, localDate, err)
	}
	return nil
}

// FinishDelivery implements briefings.DeliveryStore.
func (db *DB) FinishDelivery(ctx context.Context, owner string, r briefings.DeliveryResult) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("sqlite: finish delivery %d %s: %w", r.SubscriptionID, r.LocalDate, err)
	}
	err := inTx(ctx, db.write, func(tx *sql.Tx) error {
		if err := holdsClaim(ctx, tx, owner, r.SubscriptionID); err != nil {
			return err
		}
		zero := micros(time.Time{})
		if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (`+deliveryColumns+`)
			VALUES (?, ?, ?, ?, ?, '[]', '', 0, ?, ?, ?, ?)
			ON CONFLICT (subscription_id, local_date) DO UPDATE SET
				state = excluded.state, error = excluded.error, finished_at = excluded.finished_at, briefing_json = ''`,
			r.SubscriptionID, r.LocalDate, micros(r.Due), zero, zero, string(r.State), r.Error, micros(r.FinishedAt), micros(r.FinishedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE subscriptions SET
				next_due = CASE WHEN next_due = ? THEN ? ELSE next_due END,
				last_delivered_at = CASE WHEN ? THEN ? ELSE last_delivered_at END,
				last_error = ?,
				claim_owner = '', claim_until = ?
			WHERE id = ?`,
			micros(r.Due), micros(r.NextDue), r.State == briefings.DeliverySent, micros(r.FinishedAt), r.Error, zero, r.SubscriptionID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: finish delivery %d %s: %w", r.SubscriptionID, r.LocalDate, err)
	}
	return nil
}

// PruneDeliveries implements briefings.DeliveryStore.
func (db *DB) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM deliveries WHERE created_at < ? AND state <> 'pending'`, queryMicros(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func scanDelivery(row interface{ Scan(...any) error }) (briefings.Delivery, error) {
	var d briefings.Delivery
	var due, since, composed, created, finished int64
	var ids, b, state string
	if err := row.Scan(&d.SubscriptionID, &d.LocalDate, &due, &since, &composed, &ids, &b, &d.MessagesSent, &state, &d.Error, &created, &finished); err != nil {
		return briefings.Delivery{}, err
	}
	var sids storyIDs
	if err := json.Unmarshal([]byte(ids), &sids); err != nil {
		return briefings.Delivery{}, fmt.Errorf("story ids: %w", err)
	}
	if b != "" {
		var err error
		if d.Briefing, err = briefings.UnmarshalBriefing([]byte(b)); err != nil {
			return briefings.Delivery{}, err
		}
	}
	d.StoryIDs = sids
	d.State = briefings.DeliveryState(state)
	d.Due, d.Since, d.ComposedAt = fromMicros(due), fromMicros(since), fromMicros(composed)
	d.CreatedAt, d.FinishedAt = fromMicros(created), fromMicros(finished)
	return d, nil
}

// storyIDs is the JSON shape of story_ids_json: never null.
type storyIDs []int64

func (s storyIDs) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]int64(s))
}
