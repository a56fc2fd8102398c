// Package sqlite is the briefings.Store on SQLite, through the pure-Go
// modernc.org/sqlite driver (no cgo).
//
// A file database runs in WAL mode with two connection pools: one connection
// for every write, because SQLite admits one writer at a time and queueing in
// Go is cheaper than retrying on SQLITE_BUSY, and a few read-only connections
// that WAL lets read a consistent snapshot while a write is under way. Every
// multi-statement write and read runs in a transaction, so a reader sees the
// store before or after a write, never half of it.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/internal/schema"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is a briefings.Store in one SQLite database.
type DB struct {
	write *sql.DB // exactly one connection
	read  *sql.DB // query_only connections; the write pool itself for an in-memory database
	now   func() time.Time

	path     string // the file, or MemoryPath
	instance string // this process's owner id for delivery claims

	lockMu   sync.Mutex
	lockFile *os.File // held with an exclusive lock once LockInstance succeeds
	locked   bool
}

var _ briefings.Store = (*DB)(nil)

// ErrSchemaTooNew is returned by Open for a database migrated by a newer
// version of newsbot than this one: running on it could corrupt what the
// newer version wrote.
var ErrSchemaTooNew = errors.New("database schema is newer than this program knows")

// MemoryPath opens a private in-memory database, gone when the DB is closed.
const MemoryPath = ":memory:"

const (
	// readConns bounds the concurrent readers. Reads are short (a briefing, a
	// dedupe check), so a few connections serve a bot's traffic.
	readConns = 4
	// busyTimeout is how long a connection waits for a lock another process
	// holds (a second newsbot, the sqlite3 shell) before failing.
	busyTimeout = 5 * time.Second
)

//go:embed migrations/*.sql
var embeddedMigrations embed.FS

// Open opens, creating it if needed, the database at path (a file path, or
// MemoryPath), and brings its schema up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	migrations, err := fs.Sub(embeddedMigrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	return open(ctx, path, readConns, migrations)
}

// open is Open with the knobs tests turn: readers is the size of the read
// pool (0 reads through the write connection) and migrations holds the
// NNNN_name.sql files.
func open(ctx context.Context, dbPath string, readers int, migrations fs.FS) (_ *DB, err error) {
	if strings.TrimSpace(dbPath) == "" {
		return nil, errors.New("sqlite: open: empty database path")
	}
	steps, err := schema.Load(migrations)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", dbPath, err)
	}

	memory := dbPath == MemoryPath
	if memory {
		readers = 0 // every connection to ":memory:" is a database of its own
	}
	db := &DB{now: time.Now, path: dbPath, instance: briefings.NewOwnerID()}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()

	db.write, err = openPool(ctx, dsn(dbPath, memory, false), 1)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", dbPath, err)
	}
	if err := migrate(ctx, db.write, steps, db.now); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", dbPath, err)
	}
	db.read = db.write
	if readers > 0 {
		// Opened after the migrations: the file is in WAL mode by now, which
		// a query_only connection could not switch it to.
		db.read, err = openPool(ctx, dsn(dbPath, memory, true), readers)
		if err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", dbPath, err)
		}
	}
	return db, nil
}

// Close closes the database. A WAL file is checkpointed and removed when the
// last connection closes.
func (db *DB) Close() error {
	var errs []error
	if db.read != nil && db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	// Released last: the database is no longer in use.
	errs = append(errs, db.unlockInstance())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// dsn is the driver's connection string. Settings go in _pragma parameters
// because the driver applies them to every connection it opens; a PRAGMA
// executed once would hold for one pooled connection only.
func dsn(dbPath string, memory, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)") // durable at checkpoints; WAL keeps the file consistent
		// Take the write lock at BEGIN: a deferred transaction that reads
		// first and then writes can fail with SQLITE_BUSY when another
		// process wrote in between, and busy_timeout cannot help it.
		q.Set("_txlock", "immediate")
	}
	if memory {
		return "file::memory:?" + q.Encode()
	}
	// A URI filename, so that '?' or '#' in the path are part of the name.
	return "file:" + (&url.URL{Path: dbPath}).EscapedPath() + "?" + q.Encode()
}

func openPool(ctx context.Context, dsn string, conns int) (*sql.DB, error) {
	pool, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(conns)
	pool.SetMaxIdleConns(conns)
	// Never close idle connections: an in-memory database lives exactly as
	// long as its one connection.
	pool.SetConnMaxIdleTime(0)
	pool.SetConnMaxLifetime(0)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// migrate applies the steps the database has not seen, each in a transaction
// of its own together with its schema_migrations row, so a failed step leaves
// the schema at the step before it.
func migrate(ctx context.Context, db *sql.DB, steps []schema.Step, now func() time.Time) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	latest := steps[len(steps)-1].Version
	var applied int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&applied); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if applied > latest {
		return fmt.Errorf("migrate: schema version %d, this program knows up to %d: %w", applied, latest, ErrSchemaTooNew)
	}
	for _, m := range steps {
		err := inTx(ctx, db, func(tx *sql.Tx) error {
			// Checked again inside the write transaction: another process
			// may have applied it since the look above.
			var done bool
			err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, m.Version).Scan(&done)
			if err != nil || done {
				return err
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.Version, micros(now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: %s: %w", m.Name, err)
		}
	}
	return nil
}

// inTx runs fn in a transaction on pool, committing when it returns nil.
func inTx(ctx context.Context, pool *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Times are stored as microseconds since the Unix epoch: the precision
// PostgreSQL keeps too, and a range that holds the zero time.Time.

func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is the inverse of micros, in UTC: the zero time.Time comes back
// as the zero time.Time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// queryMicros is micros for a bound in a query, clamped to the years a store
// keeps.
func queryMicros(t time.Time) int64 { return micros(briefings.ClampStoreTime(t)) }
