package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/newsbot/newsbot/briefings"
)

// ClaimDue implements briefings.DeliveryStore. The due rows are picked with
// FOR UPDATE SKIP LOCKED: instances claiming at the same moment each take
// rows the others have not locked, instead of waiting for them and then
// finding them claimed, so N instances split the due work between them. A
// row a concurrent claim committed first is re-checked by PostgreSQL against
// the WHERE and dropped, since its lease now holds.
func (db *DB) ClaimDue(ctx context.Context, req briefings.ClaimRequest) ([]briefings.Subscription, error) {
	if req.Owner == "" {
		return nil, errors.New("postgres: claim due: empty owner")
	}
	if req.Limit <= 0 {
		return nil, nil
	}
	if err := briefings.CheckStoreTimes(req.LeaseUntil); err != nil {
		return nil, fmt.Errorf("postgres: claim due: lease: %w", err)
	}
	if err := checkText(req.Owner); err != nil {
		return nil, fmt.Errorf("postgres: claim due: owner: %w", err)
	}
	rows, err := db.pool.Query(ctx, `
		WITH due AS (
			SELECT id FROM subscriptions
			WHERE active AND platform = $3 AND next_due <= $4 AND claim_until <= $4
			ORDER BY next_due, id
			LIMIT $5
			FOR UPDATE SKIP LOCKED
		)
		UPDATE subscriptions s SET claim_owner = $1, claim_until = $2
		FROM due WHERE s.id = due.id
		RETURNING s.`+strings.ReplaceAll(subscriptionColumns, ", ", ", s."),
		req.Owner, req.LeaseUntil, string(req.Platform), briefings.ClampStoreTime(req.Now), req.Limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim due: %w", err)
	}
	subs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (briefings.Subscription, error) { return scanSubscription(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: claim due: %w", err)
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

// RenewClaims implements briefings.DeliveryStore.
func (db *DB) RenewClaims(ctx context.Context, owner string, until time.Time) (int, error) {
	if owner == "" {
		return 0, errors.New("postgres: renew claims: empty owner")
	}
	if err := briefings.CheckStoreTimes(until); err != nil {
		return 0, fmt.Errorf("postgres: renew claims: %w", err)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE subscriptions SET claim_until = $1 WHERE claim_owner = $2 AND claim_owner <> ''`, until, owner)
	if err != nil {
		return 0, fmt.Errorf("postgres: renew claims: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// ReleaseClaims implements briefings.DeliveryStore.
func (db *DB) ReleaseClaims(ctx context.Context, owner string) error {
	if owner == "" {
		return errors.New("postgres: release claims: empty owner")
	}
	if _, err := db.pool.Exec(ctx, `UPDATE subscriptions SET claim_owner = '', claim_until = $1 WHERE claim_owner = $2 AND claim_owner <> ''`,
		time.Time{}, owner); err != nil {
		return fmt.Errorf("postgres: release claims: %w", err)
	}
	return nil
}

// DeferClaim implements briefings.DeliveryStore.
func (db *DB) DeferClaim(ctx context.Context, owner string, subscriptionID int64, until time.Time) error {
	if err := briefings.CheckStoreTimes(until); err != nil {
		return fmt.Errorf("postgres: defer claim %d: %w", subscriptionID, err)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE subscriptions SET claim_owner = '', claim_until = $1 WHERE id = $2 AND claim_owner = $3 AND claim_owner <> ''`,
		until, subscriptionID, owner)
	if err != nil {
		return fmt.Errorf("postgres: defer claim %d: %w", subscriptionID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: defer claim %d: %w", subscriptionID, briefings.ErrClaimLost)
	}
	return nil
}

// holdsClaim fails with briefings.ErrClaimLost unless owner holds the claim
// on the subscription. It locks the subscription's row until tx ends, so no
// other instance can take the claim over between this check and the writes
// that follow it (its ClaimDue skips the locked row).
func holdsClaim(ctx context.Context, tx pgx.Tx, owner string, subscriptionID int64) error {
	var got string
	err := tx.QueryRow(ctx, `SELECT claim_owner FROM subscriptions WHERE id = $1 FOR UPDATE`, subscriptionID).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
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

const deliveryColumns = `subscription_id, local_date, due, since, composed_at, story_ids, briefing, messages_sent, state, error, created_at, finished_at`

// GetDelivery implements briefings.DeliveryStore.
func (db *DB) GetDelivery(ctx context.Context, subscriptionID int64, localDate string) (briefings.Delivery, error) {
	row := db.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE subscription_id = $1 AND local_date = $2`,
		subscriptionID, localDate)
	d, err := scanDelivery(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return briefings.Delivery{}, fmt.Errorf("postgres: get delivery %d %s: %w", subscriptionID, localDate, briefings.ErrNotFound)
	}
	if err != nil {
		return briefings.Delivery{}, fmt.Errorf("postgres: get delivery %d %s: %w", subscriptionID, localDate, err)
	}
	return d, nil
}

// LastDelivery implements briefings.DeliveryStore.
func (db *DB) LastDelivery(ctx context.Context, subscriptionID int64) (briefings.Delivery, error) {
	row := db.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE subscription_id = $1 AND state IN ('sent', 'empty')
		ORDER BY composed_at DESC, local_date DESC LIMIT 1`, subscriptionID)
	d, err := scanDelivery(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return briefings.Delivery{}, fmt.Errorf("postgres: last delivery %d: %w", subscriptionID, briefings.ErrNotFound)
	}
	if err != nil {
		return briefings.Delivery{}, fmt.Errorf("postgres: last delivery %d: %w", subscriptionID, err)
	}
	return d, nil
}

// StartDelivery implements briefings.DeliveryStore.
func (db *DB) StartDelivery(ctx context.Context, owner string, d briefings.Delivery) (briefings.Delivery, bool, error) {
	if err := d.Validate(); err != nil {
		return briefings.Delivery{}, false, fmt.Errorf("postgres: start delivery %d %s: %w", d.SubscriptionID, d.LocalDate, err)
	}
	if err := checkText(append([]string{d.LocalDate}, briefingText(d.Briefing)...)...); err != nil {
		return briefings.Delivery{}, false, fmt.Errorf("postgres: start delivery %d %s: %w", d.SubscriptionID, d.LocalDate, err)
	}
	b, err := briefings.MarshalBriefing(d.Briefing)
	if err != nil {
		return briefings.Delivery{}, false, fmt.Errorf("postgres: start delivery %d %s: %w", d.SubscriptionID, d.LocalDate, err)
	}
	var stored briefings.Delivery
	var created bool
	err = db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := holdsClaim(ctx, tx, owner, d.SubscriptionID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO deliveries (`+deliveryColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 'pending', '', $8, $9)
			ON CONFLICT (subscription_id, local_date) DO NOTHING`,
			d.SubscriptionID, d.LocalDate, d.Due, d.Since, d.ComposedAt, nonNil(d.StoryIDs), string(b), d.CreatedAt, time.Time{})
		if err != nil {
			return err
		}
		created = tag.RowsAffected() == 1
		stored, err = scanDelivery(tx.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE subscription_id = $1 AND local_date = $2`,
			d.SubscriptionID, d.LocalDate))
		return err
	})
	if err != nil {
		return briefings.Delivery{}, false, fmt.Errorf("postgres: start delivery %d %s: %w", d.SubscriptionID, d.LocalDate, err)
	}
	return stored, created, nil
}

// RecordProgress implements briefings.DeliveryStore.
func (db *DB) RecordProgress(ctx context.Context, owner string, subscriptionID int64, localDate string, sent int) error {
	if sent < 0 {
		return fmt.Errorf("postgres: record progress %d %s: negative count %d", subscriptionID, localDate, sent)
	}
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := holdsClaim(ctx, tx, owner, subscriptionID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE deliveries SET messages_sent = $1 WHERE subscription_id = $2 AND local_date = $3 AND state = 'pending'`,
			sent, subscriptionID, localDate)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("no pending delivery: %w", briefings.ErrNotFound)
		}
		return recordSend(ctx, tx, subscriptionID, db.now())
	})
	if err != nil {
		return fmt.Errorf("postgres: record progress %d %s: %w", subscriptionID, localDate, err)
	}
	return nil
}

// FinishDelivery implements briefings.DeliveryStore. The error text is stored
// with any byte PostgreSQL refuses replaced: the outcome is always recorded.
func (db *DB) FinishDelivery(ctx context.Context, owner string, r briefings.DeliveryResult) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("postgres: finish delivery %d %s: %w", r.SubscriptionID, r.LocalDate, err)
	}
	if err := checkText(r.LocalDate); err != nil {
		return fmt.Errorf("postgres: finish delivery %d: %w", r.SubscriptionID, err)
	}
	msg := diagnostic(r.Error)
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := holdsClaim(ctx, tx, owner, r.SubscriptionID); err != nil {
			return err
		}
		zero := time.Time{}
		if _, err := tx.Exec(ctx, `INSERT INTO deliveries (`+deliveryColumns+`)
			VALUES ($1, $2, $3, $4, $4, '{}', NULL, 0, $5, $6, $7, $7)
			ON CONFLICT (subscription_id, local_date) DO UPDATE SET
				state = excluded.state, error = excluded.error, finished_at = excluded.finished_at, briefing = NULL`,
			r.SubscriptionID, r.LocalDate, r.Due, zero, string(r.State), msg, r.FinishedAt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE subscriptions SET
				next_due = CASE WHEN next_due = $1 THEN $2 ELSE next_due END,
				last_delivered_at = CASE WHEN $3 THEN $4 ELSE last_delivered_at END,
				last_error = $5,
				claim_owner = '', claim_until = $6
			WHERE id = $7`,
			r.Due, r.NextDue, r.State == briefings.DeliverySent, r.FinishedAt, msg, zero, r.SubscriptionID)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: finish delivery %d %s: %w", r.SubscriptionID, r.LocalDate, err)
	}
	return nil
}

// PruneDeliveries implements briefings.DeliveryStore.
func (db *DB) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM deliveries WHERE created_at < $1 AND state <> 'pending'`, briefings.ClampStoreTime(before))
	if err != nil {
		return 0, fmt.Errorf("postgres: prune deliveries: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

func scanDelivery(row pgx.Row) (briefings.Delivery, error) {
	var d briefings.Delivery
	var b []byte
	var state string
	if err := row.Scan(&d.SubscriptionID, &d.LocalDate, &d.Due, &d.Since, &d.ComposedAt, &d.StoryIDs, &b, &d.MessagesSent, &state, &d.Error, &d.CreatedAt, &d.FinishedAt); err != nil {
		return briefings.Delivery{}, err
	}
	if b != nil {
		var err error
		if d.Briefing, err = briefings.UnmarshalBriefing(b); err != nil {
			return briefings.Delivery{}, err
		}
	}
	d.StoryIDs = orNil(d.StoryIDs)
	d.State = briefings.DeliveryState(state)
	utc(&d.Due, &d.Since, &d.ComposedAt, &d.CreatedAt, &d.FinishedAt)
	return d, nil
}

// briefingText is every string of a briefing, for checkText: jsonb refuses
// an escaped NUL as text refuses a raw one.
func briefingText(b briefings.Briefing) []string {
	out := append(slices.Clone(b.Topics.Include), b.Topics.Exclude...)
	for _, e := range b.Entries {
		out = append(out, e.Headline)
		out = append(out, e.Summary...)
		for _, s := range e.Sources {
			out = append(out, s.Outlet, s.Title, s.URL)
		}
	}
	return out
}

// NextDueAfter implements briefings.DeliveryStore.
func (db *DB) NextDueAfter(ctx context.Context, after time.Time) (time.Time, bool, error) {
	var next *time.Time
	err := db.pool.QueryRow(ctx, `SELECT min(next_due) FROM subscriptions WHERE active AND next_due > $1`, briefings.ClampStoreTime(after)).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("postgres: next due: %w", err)
	}
	if next == nil {
		return time.Time{}, false, nil
	}
	t := next.UTC()
	return t, true, nil
}
