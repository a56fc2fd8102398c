package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/internal/schema"
	"github.com/newsbot/newsbot/briefings/storetest"
)

// openFile opens a new database file in a temporary directory, closed when
// the test ends.
func openFile(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "newsbot.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db, path
}

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) briefings.Store {
		db, _ := openFile(t)
		return db
	})
}

func TestStoreContractInMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) briefings.Store {
		db, err := Open(t.Context(), MemoryPath)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func testItem(n int) briefings.Item {
	return briefings.Item{
		FeedURL: "https://feeds.example.org/world.xml", GUID: fmt.Sprintf("g%d", n),
		Link:  fmt.Sprintf("https://news.example.org/%d", n),
		Title: fmt.Sprintf("Title %d", n), Text: fmt.Sprintf("Text of item %d.", n),
		Outlet: "Example", Published: time.Date(2025, 3, 14, 9, 0, n, 0, time.UTC),
	}
}

// The restart case: whatever was stored before a restart is there after it,
// and an item ingested before it is not new after it.
func TestReopenKeepsEverything(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "newsbot.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := db.AddSource(ctx, "https://a.example.org/feed"); err != nil {
		t.Fatal(err)
	}
	src := briefings.Source{URL: "https://a.example.org/feed", Title: "A", ETag: `"e"`, Failures: 1, NextFetchAt: time.Unix(1_800_000_000, 123_000)}
	if err := db.SaveSourceState(ctx, src); err != nil {
		t.Fatal(err)
	}
	ingested := testItem(1)
	if _, err := db.SaveStories(ctx, []briefings.StoryChange{{Headline: "H", Summary: []string{"S."}, Updated: ingested.Published, NewItems: []briefings.Item{ingested}}}); err != nil {
		t.Fatal(err)
	}
	sub, err := db.SaveSubscription(ctx, briefings.Subscription{Chat: briefings.ChatRef{Platform: briefings.PlatformDiscord, ID: "9"}, At: 480, Zone: storetest.Zone("Asia/Tokyo"), Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CacheSummary(ctx, "k", []string{"Cached."}); err != nil {
		t.Fatal(err)
	}
	stories, err := db.RecentStories(ctx, time.Time{}, 10)
	if err != nil || len(stories) != 1 {
		t.Fatalf("RecentStories = %d stories, %v; want 1", len(stories), err)
	}
	version, err := db.StoriesVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if got, err := db.UnseenItems(ctx, []briefings.Item{ingested, testItem(2)}); err != nil || len(got) != 1 || got[0].GUID != "g2" {
		t.Errorf("UnseenItems after a restart = %v, %v; want only the item never ingested", got, err)
	}
	srcs, err := db.ListSources(ctx)
	if diff := cmp.Diff([]briefings.Source{src}, srcs); err != nil || diff != "" {
		t.Errorf("ListSources after a restart: %v (-want +got):\n%s", err, diff)
	}
	gotStories, err := db.RecentStories(ctx, time.Time{}, 10)
	if diff := cmp.Diff(stories, gotStories); err != nil || diff != "" {
		t.Errorf("RecentStories after a restart: %v (-want +got):\n%s", err, diff)
	}
	if v, err := db.StoriesVersion(ctx); err != nil || v != version {
		t.Errorf("StoriesVersion after a restart = %d, %v; want %d", v, err, version)
	}
	gotSub, err := db.GetSubscription(ctx, sub.Chat)
	if diff := cmp.Diff(sub, gotSub); err != nil || diff != "" {
		t.Errorf("GetSubscription after a restart: %v (-want +got):\n%s", err, diff)
	}
	if got, ok, err := db.CachedSummary(ctx, "k"); err != nil || !ok || !cmp.Equal(got, []string{"Cached."}) {
		t.Errorf("CachedSummary after a restart = %q, %v, %v", got, ok, err)
	}
}

func appliedVersions(t *testing.T, db *DB) []int {
	t.Helper()
	rows, err := db.read.QueryContext(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

func TestMigrationsApplyOnce(t *testing.T) {
	embedded, err := schema.Load(mustSub(t))
	if err != nil {
		t.Fatalf("embedded migrations: %v", err)
	}
	var want []int
	for _, m := range embedded {
		want = append(want, m.Version)
	}
	path := filepath.Join(t.TempDir(), "newsbot.db")
	for i := range 3 {
		db, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		if diff := cmp.Diff(want, appliedVersions(t, db)); diff != "" {
			t.Errorf("schema_migrations after open #%d (-want +got):\n%s", i+1, diff)
		}
		db.Close()
	}
}

func mustSub(t *testing.T) fstest.MapFS {
	t.Helper()
	entries, err := embeddedMigrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for _, e := range entries {
		b, err := embeddedMigrations.ReadFile("migrations/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		fsys[e.Name()] = &fstest.MapFile{Data: b}
	}
	return fsys
}

// A step that fails leaves the schema at the step before it, and fixing the
// step lets the next Open finish the job.
func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "newsbot.db")
	fsys := mustSub(t)
	next := len(fsys) + 1 // the version after the embedded ones
	name := fmt.Sprintf("%04d_more.sql", next)
	fsys[name] = &fstest.MapFile{Data: []byte(`
		CREATE TABLE extra (id INTEGER PRIMARY KEY);
		INSERT INTO no_such_table VALUES (1);`)}
	if _, err := open(ctx, path, 1, fsys); err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("open with a failing migration = %v, want an error naming %s", err, name)
	}
	db, err := open(ctx, path, 1, mustSub(t))
	if err != nil {
		t.Fatalf("open without the failing migration: %v", err)
	}
	var want []int
	for v := 1; v < next; v++ {
		want = append(want, v)
	}
	if diff := cmp.Diff(want, appliedVersions(t, db)); diff != "" {
		t.Errorf("schema_migrations before the fix (-want +got):\n%s", diff)
	}
	db.Close()

	fsys[name] = &fstest.MapFile{Data: []byte(`CREATE TABLE extra (id INTEGER PRIMARY KEY);`)}
	db, err = open(ctx, path, 1, fsys)
	if err != nil {
		t.Fatalf("open after fixing the migration: %v", err)
	}
	defer db.Close()
	if diff := cmp.Diff(append(want, next), appliedVersions(t, db)); diff != "" {
		t.Errorf("schema_migrations (-want +got):\n%s", diff)
	}
}

func TestSchemaNewerThanProgram(t *testing.T) {
	ctx := t.Context()
	db, path := openFile(t)
	if _, err := db.write.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, path)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "9999") {
		t.Errorf("Open of a newer schema = %v, want ErrSchemaTooNew naming version 9999", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 500)), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"empty path":        "",
		"missing directory": filepath.Join(dir, "no", "such", "dir", "x.db"),
		"not a database":    garbage,
	} {
		t.Run(name, func(t *testing.T) {
			db, err := Open(t.Context(), path)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded", path)
			}
			if !strings.HasPrefix(err.Error(), "sqlite: open") {
				t.Errorf("Open(%q) = %v, want an error starting with \"sqlite: open\"", path, err)
			}
		})
	}
}

// A path with characters that mean something in a URI is still a file name.
func TestOpenOddPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "news?bot#1 %20.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	if _, err := db.AddSource(t.Context(), "https://a.example.org/feed"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not at %q: %v", path, err)
	}
}

type connSettings struct {
	JournalMode string
	ForeignKeys int
	BusyTimeout int
	Synchronous int // 1 is NORMAL, 2 FULL
	QueryOnly   int
}

func settingsOf(t *testing.T, c *sql.Conn) connSettings {
	t.Helper()
	var s connSettings
	for _, p := range []struct {
		pragma string
		dst    any
	}{
		{"journal_mode", &s.JournalMode}, {"foreign_keys", &s.ForeignKeys}, {"busy_timeout", &s.BusyTimeout},
		{"synchronous", &s.Synchronous}, {"query_only", &s.QueryOnly},
	} {
		if err := c.QueryRowContext(t.Context(), "PRAGMA "+p.pragma).Scan(p.dst); err != nil {
			t.Fatalf("PRAGMA %s: %v", p.pragma, err)
		}
	}
	return s
}

// Every pooled connection carries the settings, not only the first.
func TestConnectionSettings(t *testing.T) {
	db, _ := openFile(t)
	ctx := t.Context()
	w, err := db.write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	want := connSettings{JournalMode: "wal", ForeignKeys: 1, BusyTimeout: 5000, Synchronous: 1}
	if diff := cmp.Diff(want, settingsOf(t, w)); diff != "" {
		t.Errorf("write connection (-want +got):\n%s", diff)
	}
	// Hold every reader at once, so each is a connection of its own.
	want.QueryOnly = 1
	want.Synchronous = 2 // the default: readers never write
	readers := make([]*sql.Conn, readConns)
	for i := range readers {
		if readers[i], err = db.read.Conn(ctx); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, settingsOf(t, readers[i])); diff != "" {
			t.Errorf("read connection %d (-want +got):\n%s", i, diff)
		}
	}
	for _, r := range readers {
		r.Close()
	}
	// A reader cannot write, even by mistake.
	if _, err := db.read.ExecContext(ctx, `DELETE FROM sources`); err == nil {
		t.Errorf("a write through the read pool succeeded")
	}
}

// Readers running while SaveStories commits see each call whole or not at
// all: every call creates storiesPerSave stories and adds an item to each
// earlier story, whose headline counts its items.
func TestConcurrentReadersSeeWholeWrites(t *testing.T) {
	db, _ := openFile(t)
	ctx := t.Context()
	const (
		writes         = 12
		storiesPerSave = 4
	)
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, 8)
	wg.Go(func() {
		defer close(done)
		itemCount := make(map[int64]int)
		n := 0
		nextItem := func() []briefings.Item {
			n++
			return []briefings.Item{testItem(n)}
		}
		for range writes {
			var changes []briefings.StoryChange
			for id, count := range itemCount {
				changes = append(changes, briefings.StoryChange{StoryID: id, Headline: strconv.Itoa(count + 1), NewItems: nextItem()})
			}
			for range storiesPerSave {
				changes = append(changes, briefings.StoryChange{Headline: "1", NewItems: nextItem()})
			}
			ids, err := db.SaveStories(ctx, changes)
			if err != nil {
				errs <- err
				return
			}
			for _, id := range ids {
				itemCount[id]++
			}
		}
	})
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				stories, err := db.RecentStories(ctx, time.Time{}, 1000)
				if err != nil {
					errs <- err
					return
				}
				if len(stories)%storiesPerSave != 0 {
					errs <- fmt.Errorf("read %d stories: part of a SaveStories of %d new ones", len(stories), storiesPerSave)
					return
				}
				for _, s := range stories {
					if s.Headline != strconv.Itoa(len(s.Items)) {
						errs <- fmt.Errorf("story %d read with headline %q and %d items", s.ID, s.Headline, len(s.Items))
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	stories, err := db.RecentStories(ctx, time.Time{}, 1000)
	if err != nil || len(stories) != writes*storiesPerSave {
		t.Errorf("after the writes: %d stories, %v; want %d", len(stories), err, writes*storiesPerSave)
	}
}

func TestRejectsWhatCannotBeStored(t *testing.T) {
	db, _ := openFile(t)
	ctx := t.Context()
	farFuture := time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)
	chat := briefings.ChatRef{Platform: briefings.PlatformConsole, ID: "1"}
	cases := map[string]func() error{
		"empty source URL": func() error { _, err := db.AddSource(ctx, " "); return err },
		"negative limit":   func() error { _, err := db.RecentStories(ctx, time.Time{}, -1); return err },
		"published after 9999": func() error {
			it := testItem(1)
			it.Published = farFuture
			_, err := db.SaveStories(ctx, []briefings.StoryChange{{Headline: "H", NewItems: []briefings.Item{it}}})
			return err
		},
		"time of day past midnight": func() error {
			_, err := db.SaveSubscription(ctx, briefings.Subscription{Chat: chat, At: 24 * 60, Zone: briefings.UTC})
			return err
		},
		"no chat id": func() error {
			_, err := db.SaveSubscription(ctx, briefings.Subscription{Chat: briefings.ChatRef{Platform: "console"}, Zone: briefings.UTC})
			return err
		},
		"next due before year 1": func() error {
			_, err := db.SaveSubscription(ctx, briefings.Subscription{Chat: chat, Zone: briefings.UTC, NextDue: time.Time{}.Add(-time.Hour)})
			return err
		},
	}
	for name, call := range cases {
		t.Run(name, func(t *testing.T) {
			if err := call(); err == nil || !strings.HasPrefix(err.Error(), "sqlite: ") {
				t.Errorf("got %v, want an error starting with \"sqlite: \"", err)
			}
		})
	}
	if got, _ := db.UnseenItems(ctx, []briefings.Item{testItem(1)}); len(got) != 1 {
		t.Errorf("an item of a rejected SaveStories was stored")
	}
	// Bounds of a query may lie outside the years a store keeps.
	for _, since := range []time.Time{time.Time{}.Add(-time.Hour), farFuture} {
		if _, err := db.RecentStories(ctx, since, 10); err != nil {
			t.Errorf("RecentStories(%v): %v", since, err)
		}
	}
}

// An update that repeats what is stored changes nothing, so briefings
// composed before it stay valid.
func TestRepeatedUpdateKeepsVersion(t *testing.T) {
	db, _ := openFile(t)
	ctx := t.Context()
	ch := briefings.StoryChange{Headline: "H", Summary: []string{"S."}, Updated: testItem(1).Published, NewItems: []briefings.Item{testItem(1)}}
	ids, err := db.SaveStories(ctx, []briefings.StoryChange{ch})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := db.StoriesVersion(ctx)
	ch.StoryID = ids[0]
	if _, err := db.SaveStories(ctx, []briefings.StoryChange{ch}); err != nil {
		t.Fatal(err)
	}
	if after, _ := db.StoriesVersion(ctx); after != before {
		t.Errorf("StoriesVersion moved from %d to %d on an update that changed nothing", before, after)
	}
}

func TestDeliveryStoreContract(t *testing.T) {
	storetest.RunDelivery(t, func(t *testing.T) storetest.DeliveryStore {
		db, _ := openFile(t)
		return db
	})
}

func TestDeliveryStoreContractInMemory(t *testing.T) {
	storetest.RunDelivery(t, func(t *testing.T) storetest.DeliveryStore {
		db, err := Open(t.Context(), MemoryPath)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
