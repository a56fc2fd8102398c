package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/newsbot/newsbot/briefings"
)

// Several instances on one database: they split the feeds to fetch
// (ClaimDueSources), divide the platforms' bot-wide rate limits among
// themselves (Heartbeat), and elect the one that does what only one may do,
// such as long-polling Telegram (TryLead).

var (
	_ briefings.SourceClaimer    = (*DB)(nil)
	_ briefings.InstanceRegistry = (*DB)(nil)
)

// ClaimDueSources implements briefings.SourceClaimer. As ClaimDue does for
// subscriptions, it picks the due rows with FOR UPDATE SKIP LOCKED, so
// instances claiming at once take different feeds instead of queueing
// behind each other's locks.
func (db *DB) ClaimDueSources(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]briefings.Source, error) {
	if owner == "" {
		return nil, errors.New("postgres: claim due sources: empty owner")
	}
	if limit <= 0 {
		return nil, nil
	}
	if err := briefings.CheckStoreTimes(leaseUntil); err != nil {
		return nil, fmt.Errorf("postgres: claim due sources: lease: %w", err)
	}
	if err := checkText(owner); err != nil {
		return nil, fmt.Errorf("postgres: claim due sources: owner: %w", err)
	}
	rows, err := db.pool.Query(ctx, `
		WITH due AS (
			SELECT id FROM sources
			WHERE next_fetch_at <= $3 AND claim_until <= $3 AND (operator OR `+followed+`)
			ORDER BY next_fetch_at, id
			LIMIT $4
			FOR UPDATE SKIP LOCKED
		)
		UPDATE sources s SET claim_owner = $1, claim_until = $2
		FROM due WHERE s.id = due.id
		RETURNING s.url, s.title, s.etag, s.last_modified, s.last_fetched_at, s.last_error, s.failures, s.next_fetch_at, s.id`,
		owner, leaseUntil, briefings.ClampStoreTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim due sources: %w", err)
	}
	type claimed struct {
		src briefings.Source
		id  int64
	}
	got, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (claimed, error) {
		var c claimed
		s := &c.src
		err := row.Scan(&s.URL, &s.Title, &s.ETag, &s.LastModified, &s.LastFetchedAt, &s.LastError, &s.Failures, &s.NextFetchAt, &c.id)
		utc(&s.LastFetchedAt, &s.NextFetchAt)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim due sources: %w", err)
	}
	// RETURNING comes in no promised order.
	slices.SortFunc(got, func(a, b claimed) int {
		if c := a.src.NextFetchAt.Compare(b.src.NextFetchAt); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	out := make([]briefings.Source, len(got))
	for i, c := range got {
		out[i] = c.src
	}
	return out, nil
}

// Heartbeat implements briefings.InstanceRegistry. In one transaction it
// records this instance, forgets the instances silent for longer than dead
// and releases their delivery and feed claims (they are dead: their work is
// taken over at once rather than when their leases end), and counts the live
// ones by platform.
func (db *DB) Heartbeat(ctx context.Context, id string, platforms []briefings.Platform, live, dead time.Duration) (map[briefings.Platform]int, error) {
	if id == "" {
		return nil, errors.New("postgres: heartbeat: empty instance id")
	}
	if live <= 0 || dead < live {
		return nil, fmt.Errorf("postgres: heartbeat: want 0 < live (%s) <= dead (%s)", live, dead)
	}
	names := make([]string, len(platforms))
	for i, p := range platforms {
		names[i] = string(p)
	}
	if err := checkText(append([]string{id}, names...)...); err != nil {
		return nil, fmt.Errorf("postgres: heartbeat: %w", err)
	}
	counts := map[briefings.Platform]int{}
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		clear(counts)
		if _, err := tx.Exec(ctx, `
			INSERT INTO instances (id, platforms, started_at, last_seen)
			VALUES ($1, $2, clock_timestamp(), clock_timestamp())
			ON CONFLICT (id) DO UPDATE SET platforms = EXCLUDED.platforms, last_seen = EXCLUDED.last_seen`,
			id, nonNil(names)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			DELETE FROM instances WHERE last_seen < clock_timestamp() - $1::interval RETURNING id`, dead)
		if err != nil {
			return err
		}
		gone, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(gone) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE subscriptions SET claim_owner = '', claim_until = $2
				WHERE claim_owner = ANY($1) AND claim_owner <> ''`, gone, time.Time{}); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE sources SET claim_owner = '', claim_until = $2
				WHERE claim_owner = ANY($1) AND claim_owner <> ''`, gone, time.Time{}); err != nil {
				return err
			}
		}
		rows, err = tx.Query(ctx, `
			SELECT p, count(*) FROM instances, unnest(platforms) AS p
			WHERE last_seen >= clock_timestamp() - $1::interval
			GROUP BY p`, live)
		if err != nil {
			return err
		}
		var p string
		var n int
		_, err = pgx.ForEachRow(rows, []any{&p, &n}, func() error {
			counts[briefings.Platform(p)] = n
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: heartbeat: %w", err)
	}
	// This instance counts itself even when its own row is older than live
	// by the database's clock (a slow transaction): a share is never 1/0.
	for _, p := range platforms {
		counts[p] = max(counts[p], 1)
	}
	return counts, nil
}

// Leave implements briefings.InstanceRegistry.
func (db *DB) Leave(ctx context.Context, id string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM instances WHERE id = $1`, id); err != nil {
		return fmt.Errorf("postgres: leave: %w", err)
	}
	return nil
}

// leadCheckInterval is how often a leader checks that the connection holding
// its lock is alive.
const leadCheckInterval = 2 * time.Second

// TryLead makes this process the holder of the lead named name among the
// instances on this database (and schema) if no one holds it; ok is false
// when another does. The lead is a one-key session advisory lock held on a
// connection of its own, outside the pool: when the holder dies its
// connection closes and PostgreSQL releases the lock, so another instance's
// next try gets it. (The migration lock takes two keys; PostgreSQL keeps
// one-key and two-key locks apart, so they never collide.)
//
// The returned context ends when ctx does or when the lead is lost: the
// connection failed a check, made every two seconds. release gives the lead
// up and closes the connection; call it in every case once ok.
func (db *DB) TryLead(ctx context.Context, name string) (lead context.Context, release func(), ok bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, nil, false, fmt.Errorf("postgres: lead %s: connect %s: %w", name, db.target, err)
	}
	closeConn := func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}
	var got bool
	// The key is per schema, like the migration lock's, so bots on
	// separate schemas of one database never share a lead.
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended(coalesce(current_schema(), '') || ':' || $1, 0))`,
		name).Scan(&got); err != nil {
		closeConn()
		return nil, nil, false, fmt.Errorf("postgres: lead %s: %w", name, err)
	}
	if !got {
		closeConn()
		return nil, nil, false, nil
	}
	lead, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(leadCheckInterval)
		defer t.Stop()
		for {
			select {
			case <-lead.Done():
				return
			case <-t.C:
			}
			pingCtx, stop := context.WithTimeout(lead, leadCheckInterval)
			err := conn.Ping(pingCtx)
			stop()
			if err != nil {
				cancel() // the lock may be gone with the connection
				return
			}
		}
	}()
	var once sync.Once
	release = func() {
		once.Do(func() {
			cancel()
			<-done
			// Closing the session releases its advisory locks.
			closeConn()
		})
	}
	return lead, release, true, nil
}
