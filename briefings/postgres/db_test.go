package postgres

import (
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5"
	"github.com/newsbot/newsbot/briefings/postgres/pgtest"
	"net"
	"net/url"
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

// openURL opens the store at u, closed when the test ends.
func openURL(t *testing.T, u string) *DB {
	t.Helper()
	db, err := Open(t.Context(), u)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openTest opens a store in a schema of its own.
func openTest(t *testing.T) *DB {
	t.Helper()
	return openURL(t, pgtest.Schema(t))
}

func TestStoreContract(t *testing.T) {
	pgtest.URL(t)
	t.Parallel()
	storetest.Run(t, func(t *testing.T) briefings.Store { return openTest(t) })
}

func TestDeliveryStoreContract(t *testing.T) {
	pgtest.URL(t)
	t.Parallel()
	storetest.RunDelivery(t, func(t *testing.T) storetest.DeliveryStore { return openTest(t) })
}

func testItem(n int) briefings.Item {
	return briefings.Item{
		FeedURL: "https://feeds.example.org/world.xml", GUID: fmt.Sprintf("g%d", n),
		Link:  fmt.Sprintf("https://news.example.org/%d", n),
		Title: fmt.Sprintf("Title %d", n), Text: fmt.Sprintf("Text of item %d.", n),
		Outlet: "Example", Published: time.Date(2025, 3, 14, 9, 0, n, 0, time.UTC),
	}
}

func appliedVersions(t *testing.T, db *DB) []int {
	t.Helper()
	rows, err := db.pool.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func embeddedVersions(t *testing.T) []int {
	t.Helper()
	steps, err := schema.Load(migrationFiles(t))
	if err != nil {
		t.Fatalf("embedded migrations: %v", err)
	}
	var vs []int
	for _, m := range steps {
		vs = append(vs, m.Version)
	}
	return vs
}

// migrationFiles is a copy of the embedded migrations that a test may add to.
func migrationFiles(t *testing.T) fstest.MapFS {
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

// Instances started at the same moment on a fresh database all come up, and
// the schema is migrated once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	u := pgtest.Schema(t)
	t.Parallel()
	const instances = 5
	start := make(chan struct{})
	dbs := make([]*DB, instances)
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() {
			<-start
			dbs[i], errs[i] = Open(t.Context(), u)
		})
	}
	close(start)
	wg.Wait()
	for i, db := range dbs {
		if errs[i] != nil {
			t.Errorf("Open #%d: %v", i+1, errs[i])
			continue
		}
		t.Cleanup(func() { db.Close() })
	}
	if t.Failed() {
		return
	}
	if diff := cmp.Diff(embeddedVersions(t), appliedVersions(t, dbs[0])); diff != "" {
		t.Errorf("schema_migrations (-want +got):\n%s", diff)
	}
	// Every instance works on the one schema.
	if _, err := dbs[1].AddSource(t.Context(), "https://a.example.org/feed"); err != nil {
		t.Fatal(err)
	}
	if added, err := dbs[4].AddSource(t.Context(), "https://a.example.org/feed"); err != nil || added {
		t.Errorf("AddSource on another instance = %v, %v; want false, nil", added, err)
	}
}

// The restart case: whatever was stored before a restart is there after it,
// and an item ingested before it is not new after it.
func TestReopenKeepsEverything(t *testing.T) {
	u := pgtest.Schema(t)
	t.Parallel()
	ctx := t.Context()
	db, err := Open(ctx, u)
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

	db = openURL(t, u)
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
	if diff := cmp.Diff(embeddedVersions(t), appliedVersions(t, db)); diff != "" {
		t.Errorf("schema_migrations after a reopen (-want +got):\n%s", diff)
	}
}

func TestSchemaNewerThanProgram(t *testing.T) {
	u := pgtest.Schema(t)
	t.Parallel()
	db := openURL(t, u)
	if _, err := db.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', now())`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), u)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "9999") {
		t.Errorf("Open of a newer schema = %v, want ErrSchemaTooNew naming version 9999", err)
	}
}

// A step that fails leaves the schema at the step before it, and fixing the
// step lets the next Open finish the job.
func TestFailedMigrationRollsBack(t *testing.T) {
	u := pgtest.Schema(t)
	t.Parallel()
	ctx := t.Context()
	fsys := migrationFiles(t)
	want := embeddedVersions(t)
	next := len(want) + 1
	name := fmt.Sprintf("%04d_more.sql", next)
	fsys[name] = &fstest.MapFile{Data: []byte(`
		CREATE TABLE extra (id bigint PRIMARY KEY);
		INSERT INTO no_such_table VALUES (1);`)}
	if _, err := open(ctx, u, fsys); err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("Open with a failing migration = %v, want an error naming %s", err, name)
	}
	db := openURL(t, u) // the embedded steps were kept
	if diff := cmp.Diff(want, appliedVersions(t, db)); diff != "" {
		t.Errorf("schema_migrations after a failed step (-want +got):\n%s", diff)
	}
	var extra bool
	if err := db.pool.QueryRow(ctx, `SELECT to_regclass('extra') IS NOT NULL`).Scan(&extra); err != nil || extra {
		t.Errorf("table of the failed step exists = %v, %v; want false", extra, err)
	}

	fsys[name] = &fstest.MapFile{Data: []byte(`CREATE TABLE extra (id bigint PRIMARY KEY);`)}
	fixed, err := open(ctx, u, fsys)
	if err != nil {
		t.Fatalf("Open with the step fixed: %v", err)
	}
	defer fixed.Close()
	if diff := cmp.Diff(append(want, next), appliedVersions(t, fixed)); diff != "" {
		t.Errorf("schema_migrations after the fix (-want +got):\n%s", diff)
	}
}

// closedPort is a local TCP port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// A connection URL's password never shows in an error, whatever goes wrong:
// no server, a URL that does not parse, a setting pgx refuses. Needs no
// PostgreSQL.
func TestPasswordNeverInErrors(t *testing.T) {
	const secret = "s3cr3t-Pa55w0rd"
	addr := closedPort(t)
	cases := map[string]string{
		"no server":                "postgres://newsbot:" + secret + "@" + addr + "/newsbot?sslmode=disable&connect_timeout=5",
		"password as a parameter":  "postgres://newsbot@" + addr + "/newsbot?sslmode=disable&password=" + secret,
		"port that does not parse": "postgres://newsbot:" + secret + "@127.0.0.1:54x32/newsbot",
		"bad escape in password":   "postgres://newsbot:" + secret + "%zz@" + addr + "/newsbot",
		"setting pgx refuses":      "postgres://newsbot:" + secret + "@" + addr + "/newsbot?sslmode=sometimes",
		"not a postgres URL":       "mysql://newsbot:" + secret + "@" + addr + "/newsbot",
		"key=value string":         "host=127.0.0.1 password=" + secret,
	}
	for name, u := range cases {
		t.Run(name, func(t *testing.T) {
			db, err := Open(t.Context(), u)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if msg := err.Error(); strings.Contains(msg, secret) || strings.Contains(msg, url.QueryEscape(secret)) {
				t.Errorf("error shows the password: %s", msg)
			}
			if !strings.HasPrefix(err.Error(), "postgres: open") {
				t.Errorf("error %q does not say what failed", err)
			}
		})
	}
}

// What the store cannot keep is refused with a reason, before anything is
// written.
func TestRejectsWhatCannotBeStored(t *testing.T) {
	db := openTest(t)
	t.Parallel()
	ctx := t.Context()
	farFuture := time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)
	chat := briefings.ChatRef{Platform: briefings.PlatformConsole, ID: "1"}
	withItem := func(change func(*briefings.Item)) func() error {
		return func() error {
			it := testItem(1)
			change(&it)
			_, err := db.SaveStories(ctx, []briefings.StoryChange{{Headline: "H", NewItems: []briefings.Item{it}}})
			return err
		}
	}
	cases := map[string]func() error{
		"empty source URL":       func() error { _, err := db.AddSource(ctx, " "); return err },
		"negative limit":         func() error { _, err := db.RecentStories(ctx, time.Time{}, -1); return err },
		"published after 9999":   withItem(func(it *briefings.Item) { it.Published = farFuture }),
		"NUL byte in an item":    withItem(func(it *briefings.Item) { it.Text = "a\x00b" }),
		"invalid UTF-8 in title": withItem(func(it *briefings.Item) { it.Title = "bad \xff byte" }),
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
		"NUL byte in a summary": func() error { return db.CacheSummary(ctx, "k", []string{"a\x00"}) },
	}
	for name, call := range cases {
		t.Run(name, func(t *testing.T) {
			if err := call(); err == nil || !strings.HasPrefix(err.Error(), "postgres: ") {
				t.Errorf("got %v, want an error starting with \"postgres: \"", err)
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

// An error message is a diagnostic: it is recorded even when it holds bytes
// PostgreSQL refuses, which are replaced.
func TestErrorTextIsAlwaysRecorded(t *testing.T) {
	db := openTest(t)
	t.Parallel()
	ctx := t.Context()
	if _, err := db.AddSource(ctx, "https://a.example.org/feed"); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveSourceState(ctx, briefings.Source{URL: "https://a.example.org/feed", LastError: "HTTP 500: \x00\xffbody"}); err != nil {
		t.Fatalf("SaveSourceState with odd bytes in LastError: %v", err)
	}
	srcs, err := db.ListSources(ctx)
	if err != nil || len(srcs) != 1 || srcs[0].LastError != "HTTP 500: \uFFFD\uFFFDbody" {
		t.Errorf("ListSources = %+v, %v", srcs, err)
	}
	sub, err := db.SaveSubscription(ctx, briefings.Subscription{Chat: briefings.ChatRef{Platform: "telegram", ID: "1"}, Zone: briefings.UTC, Active: true, NextDue: time.Unix(100, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimDue(ctx, briefings.ClaimRequest{Owner: "a", Platform: "telegram", Now: time.Unix(100, 0), LeaseUntil: time.Unix(200, 0), Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishDelivery(ctx, "a", briefings.DeliveryResult{SubscriptionID: sub.ID, LocalDate: "1970-01-01", Due: sub.NextDue,
		State: briefings.DeliveryFailed, Error: "telegram: \x00", NextDue: time.Unix(86500, 0), FinishedAt: time.Unix(150, 0)}); err != nil {
		t.Fatalf("FinishDelivery with a NUL in the error: %v", err)
	}
	if d, err := db.GetDelivery(ctx, sub.ID, "1970-01-01"); err != nil || d.State != briefings.DeliveryFailed || d.Error != "telegram: \uFFFD" {
		t.Errorf("GetDelivery = %+v, %v", d, err)
	}
}

func TestPing(t *testing.T) {
	db := openTest(t)
	t.Parallel()
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	db.Close()
	if err := db.Ping(t.Context()); err == nil {
		t.Error("Ping of a closed store succeeded")
	}
}

// An update that repeats what is stored changes nothing, so briefings
// composed before it stay valid.
func TestRepeatedUpdateKeepsVersion(t *testing.T) {
	db := openTest(t)
	t.Parallel()
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

// Instances ingesting the same items at once: each item is stored once, every
// SaveStories succeeds (a deadlock between two of them is retried), and
// StoriesVersion counts the calls that changed something.
func TestConcurrentIngestStoresEachItemOnce(t *testing.T) {
	u := pgtest.Schema(t)
	t.Parallel()
	ctx := t.Context()
	const instances, items = 4, 40
	dbs := make([]*DB, instances)
	for i := range dbs {
		dbs[i] = openURL(t, u)
	}
	var wg sync.WaitGroup
	errs := make(chan error, instances)
	for i, db := range dbs {
		wg.Go(func() {
			// Each instance sees the same items, in its own order, as one
			// story per item.
			var changes []briefings.StoryChange
			for n := range items {
				it := testItem((n*(i+1) + i) % items)
				changes = append(changes, briefings.StoryChange{Headline: it.Title, Updated: it.Published, NewItems: []briefings.Item{it}})
			}
			if _, err := db.SaveStories(ctx, changes); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("SaveStories: %v", err)
	}
	stories, err := dbs[0].RecentStories(ctx, time.Time{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, st := range stories {
		for _, it := range st.Items {
			seen[it.GUID]++
		}
	}
	for n := range items {
		if g := testItem(n).GUID; seen[g] != 1 {
			t.Errorf("item %s stored %d times, want once", g, seen[g])
		}
	}
}
