// Package pgtest gives tests a PostgreSQL schema of their own on the server
// NEWSBOT_TEST_POSTGRES names, or skips them, saying so, when it is unset.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the connection URL tests use.
const EnvVar = "NEWSBOT_TEST_POSTGRES"

// URL returns NEWSBOT_TEST_POSTGRES, or skips the test when it is unset.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		t.Skip(EnvVar + " is not set: skipping PostgreSQL tests (set it to a postgres:// URL, e.g. postgres://postgres@127.0.0.1:5432/test)")
	}
	return u
}

// Schema creates an empty schema of a random name, dropped with everything in
// it when the test ends, and returns a URL whose connections work in it.
// Every test has its own, so tests run in parallel and whatever a test or an
// earlier run left in the database cannot leak into another.
func Schema(t testing.TB) string {
	t.Helper()
	base := URL(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "newsbot_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvVar, err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// A test database need not survive a crash: commits that skip the wait
	// for the disk keep the suites fast (each test migrates a schema).
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}
