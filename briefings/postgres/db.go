// Package postgres is the briefings.Store on PostgreSQL, through
// github.com/jackc/pgx/v5 and its connection pool.
//
// Several newsbot instances may share one database: the schema is migrated
// under an advisory lock, so instances starting at once apply each migration
// once; writes that two instances may race on (ingesting the same item,
// claiming the same due subscription) are settled by unique indexes with
// ON CONFLICT and by SELECT ... FOR UPDATE SKIP LOCKED; and a transaction
// that loses a deadlock or a serialization conflict is retried.
//
// The store mirrors briefings/sqlite: same behaviour, same documented
// decisions (times kept to the microsecond, the zero time.Time round-trips,
// items known by either key, SaveStories in one transaction, StoriesVersion
// moved only by a change), so that one contract suite passes on both.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/internal/schema"
)

// DB is a briefings.Store in one PostgreSQL database (in the schema the
// connection's search_path names first).
type DB struct {
	pool     *pgxpool.Pool
	now      func() time.Time
	target   string // where it is connected, without credentials, for errors
	instance string // this process's owner id for delivery claims
}

var (
	_ briefings.Store         = (*DB)(nil)
	_ briefings.DeliveryStore = (*DB)(nil)
)

// ErrSchemaTooNew is returned by Open for a database migrated by a newer
// version of newsbot than this one: running on it could corrupt what the
// newer version wrote.
var ErrSchemaTooNew = errors.New("database schema is newer than this program knows")

// ErrInvalidURL is returned by Open for a connection URL it cannot use. The
// URL itself is never part of the message: it may hold a password.
var ErrInvalidURL = errors.New("invalid PostgreSQL connection URL")

// migrationLockClass is the first key of the two-key advisory lock held while
// migrating; the second is a hash of the schema being migrated, so instances
// on one schema queue while tests on their own schemas do not. (PostgreSQL
// keeps two-key and one-key advisory locks apart, so a one-key lock taken
// elsewhere never collides with it.)
const migrationLockClass = 0x6e62_6d67 // "nbmg"

// maxTxAttempts is how often a transaction is tried when PostgreSQL aborts it
// for a deadlock or a serialization failure: both mean "another instance
// wrote the same rows at the same moment; try again".
const maxTxAttempts = 4

//go:embed migrations/*.sql
var embeddedMigrations embed.FS

// Open connects to the database at rawURL (postgres://user:password@host:port/db?…;
// any libpq parameter pgx knows may follow, search_path included) and brings
// its schema up to date. Errors never contain the password.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	migrations, err := fs.Sub(embeddedMigrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return open(ctx, rawURL, migrations)
}

// open is Open with the migrations as a parameter, for tests.
func open(ctx context.Context, rawURL string, migrations fs.FS) (_ *DB, err error) {
	cfg, err := parseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	target := describe(cfg.ConnConfig)
	steps, err := schema.Load(migrations)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", target, err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", target, err)
	}
	db := &DB{pool: pool, now: time.Now, target: target, instance: briefings.NewOwnerID()}
	if err := db.migrate(ctx, steps); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", target, err)
	}
	return db, nil
}

// parseURL parses a postgres:// URL into a pool configuration. pgx's own
// errors redact the password reliably only for a URL that parses, so for one
// that does not only url.Parse's reason is kept.
func parseURL(rawURL string) (*pgxpool.Config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // without the URL
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("%w: want a postgres:// URL", ErrInvalidURL)
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		// pgconn.ParseConfigError masks the password of a URL that parses.
		return nil, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	return cfg, nil
}

// describe names a connection target for messages: user, host, port and
// database; never the password.
func describe(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s/%s", c.User, net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port))), c.Database)
}

// Close closes every connection of the pool, waiting for those in use to be
// returned.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping checks that the database answers, for a readiness probe.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping %s: %w", db.target, err)
	}
	return nil
}

// InstanceID is an owner id for delivery claims that is unique to this DB:
// readable in the database (host and pid) and unique across restarts and
// across instances (random suffix).
func (db *DB) InstanceID() string { return db.instance }

// migrate applies the steps the database has not seen, each in a transaction
// of its own together with its schema_migrations row, so a failed step leaves
// the schema at the step before it. The whole run holds a session advisory
// lock on one connection: an instance starting while another migrates waits
// for it, then finds the steps applied. Should the connection die, PostgreSQL
// drops the lock with it.
func (db *DB) migrate(ctx context.Context, steps []schema.Step) (err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	locked := false
	defer func() {
		if locked {
			// A fresh context: the lock must go even when ctx is done.
			unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if _, uerr := conn.Exec(unlockCtx, `SELECT pg_advisory_unlock($1, hashtext(coalesce(current_schema(), '')))`, migrationLockClass); uerr != nil {
				// Closing the connection is the other way to drop the lock.
				conn.Conn().Close(unlockCtx)
			}
		}
		conn.Release()
	}()

	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext(coalesce(current_schema(), '')))`, migrationLockClass); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	locked = true
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	latest := steps[len(steps)-1].Version
	var applied int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&applied); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if applied > latest {
		return fmt.Errorf("migrate: schema version %d, this program knows up to %d: %w", applied, latest, ErrSchemaTooNew)
	}
	for _, m := range steps[applied:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// Without arguments pgx sends the file as one simple-protocol
			// query, which may hold many statements.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, db.now())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: %s: %w", m.Name, err)
		}
	}
	return nil
}

// inTx runs fn in a transaction, committing when it returns nil, and runs it
// again (fn must start afresh each time) when PostgreSQL aborted it for a
// deadlock or a serialization failure.
func (db *DB) inTx(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginTxFunc(ctx, db.pool, opts, fn)
		if err == nil || attempt == maxTxAttempts || !retryable(err) {
			return err
		}
	}
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Code == "40001" || pgErr.Code == "40P01" // serialization_failure, deadlock_detected
}

// snapshot is a read-only transaction that sees one state of the database
// throughout, for reads that take more than one query.
var snapshot = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// utc returns times as read from the database in UTC, as the SQLite store
// does; pgx gives them in the local zone. The zero time comes back as the
// zero time.Time.
func utc(ts ...*time.Time) {
	for _, t := range ts {
		*t = t.UTC()
	}
}

// checkText rejects text PostgreSQL cannot store (a NUL byte, invalid UTF-8)
// with a reason a person can act on, rather than the server's encoding error.
func checkText(ss ...string) error {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return fmt.Errorf("text %.40q is not valid UTF-8", s)
		}
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("text %.40q holds a NUL byte, which PostgreSQL cannot store", s)
		}
	}
	return nil
}

// diagnostic makes an error message storable as it is: a failure must be
// recorded even when the message that explains it holds bytes PostgreSQL
// refuses.
func diagnostic(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// nonNil is a list for a NOT NULL array column: none is '{}', not NULL.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// orNil is a list read from an array column: none is nil, as the SQLite
// store returns it.
func orNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
