package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsbot/newsbot/briefings/article"
)

// BenchmarkBotRSS1000Pages runs the bot as its own process on 50 local
// feeds of 20 one-line teasers, each linking to its own page (the shared
// set's 181 real pages under 1,000 addresses), waits until its /metrics
// count 1,000 article fetches, and reports the bot's peak RSS (VmHWM), the
// same bot's peak on the same feeds with NEWSBOT_FETCH_ARTICLES=false, and
// the time the pages took. Run it once:
//
//	go test -run '^$' -bench BotRSS1000Pages -benchtime 1x ./cmd/newsbot
func BenchmarkBotRSS1000Pages(b *testing.B) {
	const nFeeds, perFeed = 50, 20
	const set = "../../../shared/eval/extraction"
	if _, err := os.Stat(set); err != nil {
		b.Skipf("the shared extraction pages are not at %s", set)
	}
	pages, err := article.LoadBenchmark(set)
	if err != nil {
		b.Fatal(err)
	}
	var srvURL string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var feed, page int
		if _, err := fmt.Sscanf(r.URL.Path, "/feed/%d", &feed); err == nil {
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed %d</title>`, feed)
			for i := range perFeed {
				n := feed*perFeed + i
				fmt.Fprintf(w, "<item><title>Story %d: harbour plan, council vote and %d more</title><link>%s/page/%d</link><pubDate>Thu, 10 Jul 2025 14:05:00 +0000</pubDate><description>One line of teaser %d.</description></item>", n, n*7919%100003, srvURL, n, n)
			}
			io.WriteString(w, "</channel></rss>")
			return
		}
		if _, err := fmt.Sscanf(r.URL.Path, "/page/%d", &page); err == nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(pages[page%len(pages)].HTML)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	srvURL = srv.URL
	var feedURLs []string
	for i := range nFeeds {
		feedURLs = append(feedURLs, fmt.Sprintf("%s/feed/%d", srv.URL, i))
	}
	bin := buildNewsbot(b)

	for b.Loop() {
		// The baseline: the same bot on the same feeds, not fetching pages
		// (or another build of it, NEWSBOT_BENCH_BASELINE_BIN, such as one
		// from before article pages).
		baseBin := cmp.Or(os.Getenv("NEWSBOT_BENCH_BASELINE_BIN"), bin)
		base, _ := runBotUntil(b, baseBin, feedURLs, false, "newsbot_items_ingested_total", nFeeds*perFeed)
		peak, took := runBotUntil(b, bin, feedURLs, true, "newsbot_article_fetches_total{", nFeeds*perFeed)
		b.ReportMetric(peak, "peak-RSS-MiB")
		b.ReportMetric(base, "peak-RSS-without-pages-MiB")
		b.ReportMetric(took.Seconds(), "s-for-1000-pages")
	}
}

// runBotUntil runs the bot on feeds until the metric (a name, or a name and
// "{" to sum its series) reaches want, and returns its peak RSS and how
// long it took.
func runBotUntil(b *testing.B, bin string, feedURLs []string, fetch bool, metric string, want int) (float64, time.Duration) {
	{
		dir := b.TempDir()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cmd := exec.Command(bin)
		cmd.Dir = dir
		cmd.Env = []string{"HOME=" + dir, "PATH=/usr/bin:/bin",
			"NEWSBOT_FEEDS=" + strings.Join(feedURLs, ","), "NEWSBOT_ALLOW_PRIVATE_FEEDS=true",
			"NEWSBOT_HTTP_ADDR=" + addr, "NEWSBOT_LOG_LEVEL=warn", "NEWSBOT_FETCH_ARTICLES=" + strconv.FormatBool(fetch)}
		stdin, err := cmd.StdinPipe() // the console waits on it until the end
		if err != nil {
			b.Fatal(err)
		}
		var logs strings.Builder
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for n := 0; n < want; time.Sleep(100 * time.Millisecond) {
			if time.Since(start) > 10*time.Minute {
				b.Fatalf("%s at %d after 10 minutes; logs:\n%s", metric, n, logs.String())
			}
			n = metricSum("http://"+addr+"/metrics", metric)
		}
		took := time.Since(start)
		peak := vmHWM(b, cmd.Process.Pid)
		stdin.Close()
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			b.Errorf("newsbot: %v\n%s", err, logs.String())
		}
		return peak, took
	}
}

// metricSum sums the series of a metric whose lines start with prefix; 0
// while the bot is not listening yet.
func metricSum(metricsURL, prefix string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	n := 0
	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, prefix) {
			v, _ := strconv.ParseFloat(strings.TrimSpace(line[strings.LastIndexByte(line, ' '):]), 64)
			n += int(v)
		}
	}
	return n
}

// vmHWM is a process's peak resident set, in MiB.
func vmHWM(tb testing.TB, pid int) float64 {
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		tb.Skipf("no /proc status: %v", err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	tb.Skip("no VmHWM")
	return 0
}
