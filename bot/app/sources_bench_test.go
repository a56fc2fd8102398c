package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/feeds"
	"github.com/newsbot/newsbot/briefings/sqlite"
	"github.com/newsbot/newsbot/briefings/summarize"
)

// BenchmarkChatSources measures chats' own sources at scale, beside the
// operator-only setup measured in the same run on the same feeds:
//
//   - chats: 10,000 chats follow 5 feeds each, drawn from 2,000 distinct
//     addresses, on top of 100 operator feeds;
//   - operator: the same 2,100 feeds all listed by the operator, no chat
//     choosing anything (today's setup).
//
// For each it reports how many times one poll round fetched each address
// (fetches/addr, max-fetches/addr), /brief from a cached briefing p99 over
// 5,000 chats, composing one chat's briefing (cache miss) p99, and the
// process RSS and Go heap with everything stored. Run it once:
//
//	go test -run - -bench ChatSources -benchtime 1x -timeout 30m ./bot/app
func BenchmarkChatSources(b *testing.B) {
	const (
		chatFeeds     = 2000
		operatorFeeds = 100
		chats         = 10000
		perChat       = 5
		measured      = 5000
	)
	allFeeds := chatFeeds + operatorFeeds
	hits := make([]atomic.Int64, allFeeds)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/feed/%d", &n); err != nil || n < 0 || n >= allFeeds {
			http.NotFound(w, r)
			return
		}
		hits[n].Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, smallFeed(n, 5))
	}))
	defer srv.Close()
	feedURL := func(n int) string { return fmt.Sprintf("%s/feed/%d", srv.URL, n) }
	chatRef := func(i int) briefings.ChatRef {
		return briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: fmt.Sprint(-1000000 - i)}
	}
	ctx := context.Background()

	type figures struct {
		fetchesPerAddr, maxFetches   float64
		cachedP99, composedP99, poll time.Duration
		cachedP50, composedP50       time.Duration
		rssMB, heapMB                float64
		stories, itemsPerStory       float64
	}
	run := func(b *testing.B, withChats bool) figures {
		for i := range hits {
			hits[i].Store(0)
		}
		store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "chats.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer store.Close()
		clock := time.Date(2025, 7, 10, 20, 0, 0, 0, time.UTC)
		now := func() time.Time { return clock }
		quiet := slog.New(slog.DiscardHandler)
		svc := briefings.NewService(store, briefings.Options{Summarizer: summarize.New(summarize.Options{}), Now: now, Logger: quiet})
		rng := rand.New(rand.NewPCG(1, 2))
		if withChats {
			for n := chatFeeds; n < allFeeds; n++ {
				store.AddSource(ctx, feedURL(n))
			}
			limits := briefings.SourceLimits{PerChat: perChat, Feeds: allFeeds}
			for i := range chats {
				picked := map[int]bool{}
				for len(picked) < perChat {
					// Every address followed by someone: chat i's first
					// feed is i mod 2,000, the rest at random.
					n := i % chatFeeds
					if len(picked) > 0 {
						n = rng.IntN(chatFeeds)
					}
					if picked[n] {
						continue
					}
					picked[n] = true
					if _, err := store.FollowSource(ctx, chatRef(i), briefings.Source{URL: feedURL(n)}, limits); err != nil {
						b.Fatal(err)
					}
				}
			}
		} else {
			for n := range allFeeds {
				store.AddSource(ctx, feedURL(n))
			}
		}
		p := &briefings.Poller{
			Sources: store, Ingester: svc, Interval: 10 * time.Minute, Now: now, Logger: quiet, Concurrency: 16,
			Fetcher: feeds.NewFetcher(feeds.Options{AllowPrivate: true, Now: now}),
		}
		start := time.Now()
		stats, err := p.Poll(ctx)
		if err != nil || stats.Failed > 0 || stats.Due != allFeeds {
			b.Fatalf("poll: %+v, %v", stats, err)
		}
		var f figures
		f.poll = time.Since(start)
		var total, most int64
		for i := range hits {
			total += hits[i].Load()
			most = max(most, hits[i].Load())
		}
		f.fetchesPerAddr, f.maxFetches = float64(total)/float64(allFeeds), float64(most)
		all, err := store.RecentStories(ctx, time.Time{}, 1<<20)
		if err != nil {
			b.Fatal(err)
		}
		var items int
		for _, st := range all {
			items += len(st.Items)
		}
		f.stories, f.itemsPerStory = float64(len(all)), float64(items)/float64(len(all))
		all = nil

		p99 := func(lat []time.Duration) time.Duration {
			slices.Sort(lat)
			return lat[len(lat)*99/100]
		}
		p50 := func(lat []time.Duration) time.Duration {
			slices.Sort(lat)
			return lat[len(lat)/2]
		}
		var composed, cached []time.Duration
		brief := func(chat briefings.ChatRef) time.Duration {
			t0 := time.Now()
			br, err := svc.BriefChat(ctx, chat, briefings.Topics{})
			if err != nil || len(br.Entries) == 0 {
				b.Fatalf("brief %s: %d entries, %v", chat, len(br.Entries), err)
			}
			return time.Since(t0)
		}
		if withChats {
			for i := range measured {
				composed = append(composed, brief(chatRef(i)))
			}
		} else {
			// One selection for every chat: composing it again means a
			// fresh service, as after a change of the story set.
			for range 1000 {
				svc = briefings.NewService(store, briefings.Options{Now: now, Logger: quiet})
				composed = append(composed, brief(chatRef(0)))
			}
			for i := range measured {
				brief(chatRef(i))
			}
		}
		for i := range measured {
			cached = append(cached, brief(chatRef(i)))
		}
		f.composedP99, f.cachedP99 = p99(composed), p99(cached)
		f.composedP50, f.cachedP50 = p50(composed), p50(cached)
		// What a running bot holds: the heap after a collection, the
		// memory the ingest's peak left behind returned to the system.
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		f.heapMB = float64(ms.HeapInuse) / (1 << 20)
		f.rssMB = rssMB()
		runtime.KeepAlive(svc)
		return f
	}
	for b.Loop() {
		op := run(b, false)
		debug.FreeOSMemory()
		ch := run(b, true)
		report := func(prefix string, f figures) {
			b.ReportMetric(f.fetchesPerAddr, prefix+"-fetches/addr")
			b.ReportMetric(f.maxFetches, prefix+"-max-fetches/addr")
			b.ReportMetric(float64(f.cachedP99.Microseconds())/1000, prefix+"-cached-p99-ms")
			b.ReportMetric(float64(f.composedP99.Microseconds())/1000, prefix+"-compose-p99-ms")
			b.ReportMetric(float64(f.cachedP50.Microseconds())/1000, prefix+"-cached-p50-ms")
			b.ReportMetric(float64(f.composedP50.Microseconds())/1000, prefix+"-compose-p50-ms")
			b.ReportMetric(f.poll.Seconds(), prefix+"-first-poll-s")
			b.ReportMetric(f.rssMB, prefix+"-rss-MB")
			b.ReportMetric(f.heapMB, prefix+"-heap-MB")
			b.ReportMetric(f.stories, prefix+"-stories")
			b.ReportMetric(f.itemsPerStory, prefix+"-items/story")
		}
		report("operator", op)
		report("chats", ch)
	}
}

// smallFeed is feed n with items stories. Each tells its own event in words
// no other event uses, as news does, except that feeds n and n+1,000 (and
// operator feed 2,000+k with feed k) tell the same events: stories of two or
// three outlets, across chats' and the operator's feeds.
func smallFeed(n, items int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed %d</title><link>https://feed%d.example/</link>`, n, n)
	// Each outlet tells a shared event in words of its own as well, so
	// that its telling is not a copy (which dedup drops) but joins the
	// story.
	base, teller := n%1000, n/1000
	if n >= 2000 {
		base = n - 2000
	}
	own := []string{"reports", "says", "confirms"}[min(teller, 2)]
	for i := range items {
		e := base*items + i
		w := func(k int) string { return madeUpWord(e*8 + k) }
		fmt.Fprintf(&b, `<item><title>%s %s %s %s</title><link>https://feed%d.example/s/%d</link>
<pubDate>Thu, 10 Jul 2025 %02d:%02d:00 +0000</pubDate><description>%s %s %s %s %s %s %s. %s %s %s.</description></item>`,
			w(0), w(1), w(2), own, n, i, 10+i, (n+e)%60, w(0), own, w(1), w(2), w(3), w(4), w(5), w(6), w(7), w(4))
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// rssMB is the process's resident set size, from /proc (0 elsewhere).
func rssMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb float64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb / 1024
		}
	}
	return 0
}
