package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrLocked is returned by LockInstance when another process runs on the same
// database file.
var ErrLocked = errors.New("database is in use by another newsbot process")

// InstanceID is the owner id this process claims deliveries under.
func (db *DB) InstanceID() string { return db.instance }

// LockFilePath is the sidecar file LockInstance locks for a database file.
func LockFilePath(dbPath string) string { return dbPath + ".lock" }

// LockInstance makes this process the only newsbot on the database file, for
// as long as the DB is open, and takes over the delivery claims of whichever
// process ran on it before: that process is dead, or the lock would not have
// been granted. A second process gets ErrLocked, with a message saying why
// it must not run: two processes on one SQLite file would deliver every
// briefing twice.
//
// The lock is an exclusive flock(2) on LockFilePath(path), which the kernel
// drops when the process ends in any way, SIGKILL included, so a stale lock
// never needs clearing by hand. Calling it again is a no-op. An in-memory
// database is private to its process and needs no file lock.
func (db *DB) LockInstance(ctx context.Context) error {
	db.lockMu.Lock()
	defer db.lockMu.Unlock()
	if db.locked {
		return nil
	}
	if db.path != MemoryPath {
		f, err := os.OpenFile(LockFilePath(db.path), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("sqlite: lock %s: %w", db.path, err)
		}
		held, err := tryLockFile(f)
		if err != nil {
			f.Close()
			return fmt.Errorf("sqlite: lock %s: %w", db.path, err)
		}
		if !held {
			pid := "unknown"
			if b, err := os.ReadFile(LockFilePath(db.path)); err == nil && len(strings.TrimSpace(string(b))) > 0 {
				pid = strings.TrimSpace(string(b))
			}
			f.Close()
			return fmt.Errorf("sqlite: %s is in use by another newsbot process (pid %s, lock file %s); "+
				"stop it before starting this one, because two processes on one database would deliver every briefing twice: %w",
				db.path, pid, LockFilePath(db.path), ErrLocked)
		}
		if err := f.Truncate(0); err == nil {
			f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		}
		db.lockFile = f
	}
	if err := db.takeOver(ctx); err != nil {
		db.releaseLockFile()
		return fmt.Errorf("sqlite: lock %s: %w", db.path, err)
	}
	db.locked = true
	return nil
}

// takeOver records this process as the instance and frees every claim a
// process before it held, in one transaction. Deferrals (claims without an
// owner, set when a platform asked to wait) are kept.
func (db *DB) takeOver(ctx context.Context) error {
	return inTx(ctx, db.write, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET claim_owner = '', claim_until = ?
			WHERE claim_owner <> '' AND claim_owner <> ?`, micros(time.Time{}), db.instance); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO instance_lock (id, owner, pid, acquired_at) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, acquired_at = excluded.acquired_at`,
			db.instance, os.Getpid(), micros(db.now()))
		return err
	})
}

func (db *DB) releaseLockFile() error {
	if db.lockFile == nil {
		return nil
	}
	err := db.lockFile.Close() // closing the descriptor drops the flock
	db.lockFile = nil
	return err
}

func (db *DB) unlockInstance() error {
	db.lockMu.Lock()
	defer db.lockMu.Unlock()
	db.locked = false
	if err := db.releaseLockFile(); err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	return nil
}
