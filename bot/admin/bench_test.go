package admin

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/sqlite"
)

// The benchmark's store: 100,000 subscriptions on two platforms (2% of them
// deactivated, a tenth due in the next hour), each with today's ledger
// entry; 5,000 feeds (one in twenty failing) with four items each in 10,000
// stories; sends counted for the last three hours.
const (
	benchSubscriptions = 100_000
	benchFeeds         = 5_000
)

var (
	benchOnce sync.Once
	benchDB   *sqlite.DB
	benchGone briefings.Subscription
	benchErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDB != nil {
		benchDB.Close()
		if os.Getenv("NEWSBOT_ADMIN_BENCH_KEEP") == "" {
			os.RemoveAll(filepath.Dir(benchPath))
		} else {
			fmt.Println("benchmark store kept at", benchPath)
		}
	}
	os.Exit(code)
}

var benchPath string

func benchStore(b *testing.B) *sqlite.DB {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "newsbot-admin-bench-")
		if err != nil {
			benchErr = err
			return
		}
		benchPath = filepath.Join(dir, "newsbot.db")
		start := time.Now()
		benchDB, benchGone, benchErr = seedBench(context.Background(), benchPath)
		b.Logf("seeded %d subscriptions and %d feeds in %v", benchSubscriptions, benchFeeds, time.Since(start).Round(time.Second))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDB
}

func seedBench(ctx context.Context, path string) (*sqlite.DB, briefings.Subscription, error) {
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, briefings.Subscription{}, err
	}
	now := time.Now()
	for i := range benchFeeds {
		u := fmt.Sprintf("https://feeds%d.example.org/rss.xml", i)
		if _, err := db.AddSource(ctx, u); err != nil {
			return nil, briefings.Subscription{}, err
		}
		src := briefings.Source{URL: u, Title: fmt.Sprintf("Outlet %d", i), LastFetchedAt: now.Add(-time.Minute), NextFetchAt: now.Add(9 * time.Minute)}
		if i%20 == 0 {
			src.LastError, src.Failures = "fetch "+u+": HTTP 503: unavailable", 1+i%7
		}
		if err := db.SaveSourceState(ctx, src); err != nil {
			return nil, briefings.Subscription{}, err
		}
	}
	var changes []briefings.StoryChange
	for i := range benchFeeds * 2 {
		var its []briefings.Item
		for k := range 2 {
			feed := (i*2 + k) % benchFeeds
			its = append(its, briefings.Item{FeedURL: fmt.Sprintf("https://feeds%d.example.org/rss.xml", feed), GUID: fmt.Sprint(i, k),
				Link: fmt.Sprintf("https://news.example.org/%d/%d", i, k), Title: fmt.Sprintf("Event %d told by outlet %d", i, feed),
				Text: fmt.Sprintf("Lead of event %d as outlet %d told it.", i, feed), Outlet: fmt.Sprintf("Outlet %d", feed),
				Published: now.Add(-time.Duration(i) * 5 * time.Second)})
		}
		changes = append(changes, briefings.StoryChange{Headline: its[0].Title, Summary: []string{its[0].Text},
			FirstSeen: its[1].Published, Updated: its[0].Published, NewItems: its})
		if len(changes) == 500 {
			if _, err := db.SaveStories(ctx, changes); err != nil {
				return nil, briefings.Subscription{}, err
			}
			changes = changes[:0]
		}
	}
	// The subscriptions and their ledger go in with two statements: through
	// the Store, 100,000 claims and deliveries take the better part of an
	// hour on this machine. The columns are migration 0001's and 0002's.
	if err := db.Close(); err != nil {
		return nil, briefings.Subscription{}, err
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, briefings.Subscription{}, err
	}
	us := func(t time.Time) int64 { return t.UnixMicro() }
	zero := us(time.Time{})
	_, err = raw.ExecContext(ctx, `
		INSERT INTO subscriptions (platform, chat_id, at_minute, zone, topics_json, active, next_due, last_delivered_at, last_error, created_at)
		WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
		SELECT CASE i % 2 WHEN 0 THEN 'telegram' ELSE 'discord' END, CAST(100000 + i AS TEXT), i % 1440, 'Europe/Berlin', '{}',
			i % 50 <> 1, ? + (i % 240) * 360000000, ?, CASE WHEN i % 50 = 1 THEN 'the bot was blocked by the user' ELSE '' END, ?
		FROM n`, benchSubscriptions, us(now), us(now.Add(-24*time.Hour)), us(now.Add(-72*time.Hour)))
	if err == nil {
		_, err = raw.ExecContext(ctx, `
			INSERT INTO deliveries (subscription_id, local_date, due, since, composed_at, story_ids_json, briefing_json, messages_sent, state, error, created_at, finished_at)
			SELECT id, ?, ?, ?, ?, '[1,2,3]', '', CASE WHEN active THEN 2 ELSE 0 END, CASE WHEN active THEN 'sent' ELSE 'gone' END, last_error, ?, ?
			FROM subscriptions`, briefings.LocalDate(now, time.UTC), us(now.Add(-time.Hour)), zero, us(now.Add(-time.Hour)), us(now.Add(-time.Hour)), us(now.Add(-50*time.Minute)))
	}
	if err == nil {
		_, err = raw.ExecContext(ctx, `
			INSERT INTO send_minutes (minute, platform, sends)
			WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 179)
			SELECT ? - i * 60000000, p.name, 200 + (i * 37) % 1500 FROM n, (SELECT 'telegram' AS name UNION ALL SELECT 'discord') p`,
			us(now.Truncate(time.Minute)))
	}
	if cerr := raw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, briefings.Subscription{}, err
	}
	if db, err = sqlite.Open(ctx, path); err != nil {
		return nil, briefings.Subscription{}, err
	}
	rows, err := db.ListSubscriptions(ctx, briefings.SubscriptionQuery{Platform: briefings.PlatformDiscord, State: briefings.SubscriptionsDeactivated, Limit: 1})
	if err != nil || len(rows) == 0 {
		return nil, briefings.Subscription{}, fmt.Errorf("no deactivated subscription seeded: %v", err)
	}
	return db, rows[0].Subscription, nil
}

// BenchmarkPages renders every page of the panel against the store above and
// reports each one's p99 latency, the whole request through the handler.
//
//	go test -run '^$' -bench Pages -benchtime 200x ./bot/admin
func BenchmarkPages(b *testing.B) {
	db := benchStore(b)
	h, err := New(Options{Token: testToken, Store: db, Resumer: briefings.NewService(db, briefings.Options{}),
		SendLimits: map[briefings.Platform]float64{briefings.PlatformTelegram: 1800, briefings.PlatformDiscord: 2700}})
	if err != nil {
		b.Fatal(err)
	}
	fs, _ := db.FeedStatuses(context.Background(), briefings.FeedQuery{Now: time.Now(), Offset: 3000, Limit: 1})
	pages := []struct{ name, path string }{
		{"feeds", "/admin/feeds"},
		{"feeds-page-30", "/admin/feeds?page=30"},
		{"feeds-failing", "/admin/feeds?failing=1"},
		{"feed", fmt.Sprintf("/admin/feeds/%d", fs[0].ID)},
		{"stories", "/admin/stories"},
		{"subscriptions", "/admin/subscriptions"},
		{"subscriptions-deactivated", "/admin/subscriptions?platform=discord&state=deactivated"},
		{"subscriptions-due", "/admin/subscriptions?platform=telegram&state=due"},
		{"subscriptions-far-page", "/admin/subscriptions?platform=telegram&state=active&after=99000"},
		{"subscriptions-search", "/admin/subscriptions?chat=150007"},
		{"subscription", fmt.Sprintf("/admin/subscriptions/%d", benchGone.ID)},
		{"deliveries", "/admin/deliveries"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			// On one OS thread, so that the thread's CPU time around a
			// request is the request's: the wall clock also counts the
			// time other processes on a shared machine held the CPU.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			wall := make([]time.Duration, 0, b.N)
			cpu := make([]time.Duration, 0, b.N)
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, p.path, nil)
				req.Header.Set("Authorization", "Bearer "+testToken)
				w := httptest.NewRecorder()
				start, startCPU := time.Now(), threadCPU()
				h.ServeHTTP(w, req)
				wall = append(wall, time.Since(start))
				cpu = append(cpu, threadCPU()-startCPU)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", p.path, w.Code, w.Body)
				}
			}
			ms := func(ds []time.Duration, q int) float64 {
				slices.Sort(ds)
				return float64(ds[len(ds)*q/100].Microseconds()) / 1000
			}
			b.ReportMetric(ms(wall, 50), "p50-ms")
			b.ReportMetric(ms(wall, 99), "p99-ms")
			b.ReportMetric(ms(cpu, 99), "p99-cpu-ms")
		})
	}
}
