package article

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/newsbot/newsbot/briefings/feeds"
)

// sharedSet is the shared set of 181 real article pages, from this package.
const sharedSet = "../../../shared/eval/extraction"

// teaserFeed is a feed as most outlets publish one: 20 items, each a
// headline, a link and a one-line description.
func teaserFeed() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link>`)
	for i := range 20 {
		fmt.Fprintf(&b, "<item><title>Harbour plan %d approved after a long debate</title><link>https://wire.example/world/%d</link><guid>https://wire.example/world/%d</guid><pubDate>Thu, 10 Jul 2025 14:05:00 +0000</pubDate><description>The council approved the plan on Thursday, officials said. Read more…</description></item>", i, i, i)
	}
	b.WriteString("</channel></rss>")
	return []byte(b.String())
}

// BenchmarkExtractVsFeedParse extracts every page of the shared set and
// parses as many 20-item teaser feeds, and reports both rates from the same
// run. Run it once, on one core:
//
//	go test -run '^$' -bench ExtractVsFeedParse -benchtime 1x -cpu 1 ./briefings/article
func BenchmarkExtractVsFeedParse(b *testing.B) {
	if _, err := os.Stat(sharedSet); err != nil {
		b.Skipf("the shared extraction pages are not at %s", sharedSet)
	}
	pages, err := LoadBenchmark(sharedSet)
	if err != nil {
		b.Fatal(err)
	}
	feed := teaserFeed()
	var extracting, parsing time.Duration
	var bytesIn int64
	for b.Loop() {
		start := time.Now()
		for _, p := range pages {
			ExtractBytes(p.URL, "text/html; charset=utf-8", p.HTML)
			bytesIn += int64(len(p.HTML))
		}
		extracting += time.Since(start)
		start = time.Now()
		for range pages {
			if _, err := feeds.ParseFeed("https://wire.example/feed", bytes.NewReader(feed)); err != nil {
				b.Fatal(err)
			}
		}
		parsing += time.Since(start)
	}
	n := float64(len(pages) * b.N)
	b.ReportMetric(n/extracting.Seconds(), "pages/s")
	b.ReportMetric(float64(bytesIn)/extracting.Seconds()/(1<<20), "MiB-html/s")
	b.ReportMetric(n/parsing.Seconds(), "feeds/s")
	b.ReportMetric(extracting.Seconds()/parsing.Seconds(), "page/feed-cost")
}
