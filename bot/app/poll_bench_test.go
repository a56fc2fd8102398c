package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/feeds"
	"github.com/newsbot/newsbot/briefings/sqlite"
	"github.com/newsbot/newsbot/briefings/summarize"
)

// BenchmarkPoll1000Feeds polls 1,000 feeds on a local server, half of them
// answering 304 to the conditional GET and half sending their 20 items again
// (all already seen), and reports feeds per minute. Run it on one core:
//
//	go test -run - -bench Poll1000Feeds -cpu 1 ./bot/app
func BenchmarkPoll1000Feeds(b *testing.B) {
	nFeeds := 1000
	if s := os.Getenv("NEWSBOT_BENCH_FEEDS"); s != "" {
		fmt.Sscan(s, &nFeeds)
	}
	var notModified atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(r.URL.Path, "/feed/%d", &n)
		etag := fmt.Sprintf(`"f%d"`, n)
		if n%2 == 1 && r.Header.Get("If-None-Match") == etag {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		io.WriteString(w, benchFeed(n))
	}))
	defer srv.Close()

	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "poll.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	for i := range nFeeds {
		store.AddSource(ctx, fmt.Sprintf("%s/feed/%d", srv.URL, i))
	}
	clock := time.Date(2025, 7, 11, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	quiet := slog.New(slog.DiscardHandler)
	svc := briefings.NewService(store, briefings.Options{Summarizer: summarize.New(summarize.Options{}), Now: now, Logger: quiet})
	p := &briefings.Poller{
		Sources: store, Ingester: svc, Interval: 10 * time.Minute, Now: now, Logger: quiet,
		Fetcher: feeds.NewFetcher(feeds.Options{AllowPrivate: true, Now: now}),
	}
	if _, err := p.Poll(ctx); err != nil { // the first round ingests every item
		b.Fatal(err)
	}
	b.ResetTimer()
	var polled int
	start := time.Now()
	for b.Loop() {
		clock = clock.Add(11 * time.Minute)
		stats, err := p.Poll(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if stats.Failed > 0 || stats.Due != nFeeds {
			b.Fatalf("poll: %+v", stats)
		}
		polled += stats.Due
	}
	b.ReportMetric(float64(polled)/time.Since(start).Minutes(), "feeds/min")
	b.ReportMetric(float64(notModified.Load())/float64(polled), "304-share")
}

func benchFeed(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed %d</title><link>https://feed%d.example/</link>`, n, n)
	for i := range 20 {
		fmt.Fprintf(&b, `<item><title>Feed %d story %d on subject %d</title><link>https://feed%d.example/s/%d</link>
<pubDate>Thu, 10 Jul 2025 %02d:00:00 +0000</pubDate><description>Something happened in town %d on Thursday, officials said. More details on item %d followed later.</description></item>`,
			n, i, (n*7+i)%97, n, i, i, n%50, i)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}
