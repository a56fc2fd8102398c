package sqlite

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// benchDB opens a file database with the given read pool size and stores
// stories×perStory items in it, the first item numbered from 0.
func benchDB(b *testing.B, readers, stories, perStory int) *DB {
	b.Helper()
	migrations, err := fs.Sub(embeddedMigrations, "migrations")
	if err != nil {
		b.Fatal(err)
	}
	db, err := open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), readers, migrations)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	fill(b, db, 0, stories, perStory)
	return db
}

// fill saves stories×perStory items numbered from first, 500 stories a call.
func fill(b *testing.B, db *DB, first, stories, perStory int) {
	b.Helper()
	n := first
	for done := 0; done < stories; {
		var changes []briefings.StoryChange
		for ; done < stories && len(changes) < 500; done++ {
			var its []briefings.Item
			for range perStory {
				its = append(its, benchItem(n))
				n++
			}
			changes = append(changes, briefings.StoryChange{Headline: "H", Summary: []string{"S."}, Updated: its[0].Published, NewItems: its})
		}
		if _, err := db.SaveStories(b.Context(), changes); err != nil {
			b.Fatal(err)
		}
	}
}

func benchItem(n int) briefings.Item {
	return briefings.Item{
		FeedURL: "https://feeds.example.org/world.xml", GUID: fmt.Sprintf("g%d", n),
		Link:  fmt.Sprintf("https://news.example.org/world/%d?utm_source=rss", n),
		Title: fmt.Sprintf("Title of item %d", n), Text: fmt.Sprintf("Text of item %d, long enough to be a lead paragraph of a news story.", n),
		Outlet: "Example", Published: time.Unix(1_700_000_000+int64(n), 0),
	}
}

// A poll's dedupe check: 300 items, half of them stored, against 20 000
// stored items.
func BenchmarkUnseenItems300(b *testing.B) {
	db := benchDB(b, readConns, 10_000, 2)
	var batch []briefings.Item
	for i := range 300 {
		batch = append(batch, benchItem(19_850+i)) // items 19 850…20 149: 150 stored
	}
	b.ResetTimer()
	for b.Loop() {
		got, err := db.UnseenItems(b.Context(), batch)
		if err != nil || len(got) != 150 {
			b.Fatalf("UnseenItems = %d items, %v; want 150", len(got), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/300, "µs/item")
}

// A poll's write: 100 new stories of 3 items each.
func BenchmarkSaveStories100x3(b *testing.B) {
	db := benchDB(b, readConns, 0, 0)
	next := 0
	b.ResetTimer()
	for b.Loop() {
		fill(b, db, next, 100, 3)
		next += 300
	}
}

// What /brief reads: 300 stories of 3 items.
func BenchmarkRecentStories300(b *testing.B) {
	db := benchDB(b, readConns, 1_000, 3)
	b.ResetTimer()
	for b.Loop() {
		got, err := db.RecentStories(b.Context(), time.Time{}, 300)
		if err != nil || len(got) != 300 {
			b.Fatalf("RecentStories = %d, %v", len(got), err)
		}
	}
}

// Reads while a writer saves continuously: the WAL read pool against reading
// through the single write connection.
func BenchmarkRecentStoriesDuringWrites(b *testing.B) {
	for _, readers := range []int{0, readConns} {
		name := "through-writer"
		if readers > 0 {
			name = fmt.Sprintf("read-pool-%d", readers)
		}
		b.Run(name, func(b *testing.B) {
			db := benchDB(b, readers, 300, 3)
			ctx, cancel := context.WithCancel(b.Context())
			var wg sync.WaitGroup
			wg.Go(func() {
				for next := 1_000_000; ctx.Err() == nil; next += 300 {
					var changes []briefings.StoryChange
					for i := range 100 {
						its := []briefings.Item{benchItem(next + 3*i), benchItem(next + 3*i + 1), benchItem(next + 3*i + 2)}
						changes = append(changes, briefings.StoryChange{Headline: "H", Updated: time.Unix(1, 0), NewItems: its})
					}
					db.SaveStories(ctx, changes)
				}
			})
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := db.RecentStories(ctx, time.Unix(1_000_000_000, 0), 100); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			cancel()
			wg.Wait()
		})
	}
}
