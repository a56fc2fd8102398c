package briefings_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

func TestIsTeaser(t *testing.T) {
	long := strings.Repeat("The council approved the harbour plan after a long debate. ", 12) // 120 words
	tests := []struct {
		text string
		want bool
	}{
		{"", true},
		{"Rubio and Lavrov met in Kuala Lumpur.", true},
		{strings.Repeat("word ", 79), true},
		{long, false},
		{long + "…", true},
		{long + " ...", true},
		{long + " Read more »", true},
		{long + " Continue reading →", true},
		{long + " [...]", true},
		{long + " The rest is in Baltimore", false},
		{long + " They wanted more", true}, // a cut "… more" link reads the same
	}
	for _, tt := range tests {
		if got := briefings.IsTeaser(tt.text); got != tt.want {
			t.Errorf("IsTeaser(…%q) = %v, want %v", tt.text[max(0, len(tt.text)-30):], got, tt.want)
		}
	}
}

// fakeArticles serves article pages from a map, counting fetches per URL.
type fakeArticles struct {
	mu      sync.Mutex
	pages   map[string]briefings.ArticlePage
	errs    map[string]error
	fetches map[string]int
	block   chan struct{} // when set, every fetch waits for it or its ctx
}

func (f *fakeArticles) FetchArticle(ctx context.Context, prev briefings.ArticlePage) (briefings.ArticlePage, error) {
	f.mu.Lock()
	if f.fetches == nil {
		f.fetches = map[string]int{}
	}
	f.fetches[prev.URL]++
	page, ok := f.pages[prev.URL]
	err := f.errs[prev.URL]
	f.mu.Unlock()
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return briefings.ArticlePage{}, ctx.Err()
		}
	}
	if err != nil {
		return briefings.ArticlePage{}, err
	}
	if !ok {
		return briefings.ArticlePage{}, &briefings.ArticleFailure{Reason: briefings.ArticleHTTPError, Err: errors.New("404")}
	}
	return page, nil
}

func (f *fakeArticles) count(url string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fetches[url]
}

// results collects what the OnArticle hook hears.
type results struct {
	mu  sync.Mutex
	got []string
}

func (r *results) observe(result string) { r.mu.Lock(); r.got = append(r.got, result); r.mu.Unlock() }
func (r *results) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

type articleWorld struct {
	store   briefings.Store
	svc     *briefings.Service
	fetcher *fakeArticles
	results *results
	logs    *bytes.Buffer
}

func newArticleWorld(t *testing.T, store briefings.Store, fetcher *fakeArticles, queue int) *articleWorld {
	w := &articleWorld{store: store, fetcher: fetcher, results: &results{}, logs: &bytes.Buffer{}}
	w.svc = briefings.NewService(store, briefings.Options{
		Summarizer:   &firstSentences{},
		Now:          func() time.Time { return july10 },
		Logger:       slog.New(slog.NewTextHandler(&syncWriter{w: w.logs}, nil)),
		Articles:     fetcher,
		ArticleQueue: queue,
		OnArticle:    w.results.observe,
	})
	return w
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (w *articleWorld) summaryOf(t *testing.T, headline string) briefings.Entry {
	t.Helper()
	b, err := w.svc.Brief(t.Context(), briefings.Topics{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range b.Entries {
		if e.Headline == headline {
			return e
		}
	}
	t.Fatalf("no entry %q in %+v", headline, b.Entries)
	return briefings.Entry{}
}

const articleText = "The harbour authority approved a 40 million euro plan on Thursday to deepen the main channel. " +
	"Work starts in March and should take two years, the authority said.\n\n"

func pageFor(link, title string) briefings.ArticlePage {
	return briefings.ArticlePage{URL: link, Title: title, Text: articleText + strings.Repeat("Further paragraphs tell the rest of the story in detail. ", 20),
		Published: time.Date(2025, 7, 9, 6, 30, 0, 0, time.UTC), Language: "en"}
}

func teaser(link, title string) briefings.Item {
	return briefings.Item{FeedURL: "https://port.example/feed", GUID: link, Link: link, Outlet: "Port News", Title: title,
		Text: "Harbour plan approved. Read more…", Published: time.Date(2025, 7, 10, 9, 0, 0, 0, time.UTC)}
}

func TestArticleTextReplacesTeaser(t *testing.T) {
	link := "https://port.example/harbour"
	fetcher := &fakeArticles{pages: map[string]briefings.ArticlePage{link: pageFor(link, "Harbour plan approved")}}
	w := newArticleWorld(t, openStore(t, filepath.Join(t.TempDir(), "db")), fetcher, 0)
	if _, err := w.svc.Ingest(t.Context(), []briefings.Item{teaser(link, "Harbour plan approved")}); err != nil {
		t.Fatal(err)
	}
	// Briefed at once, from the feed text.
	if got := w.summaryOf(t, "Harbour plan approved").Summary; len(got) != 1 || got[0] != "Harbour plan approved." {
		t.Errorf("summary before the page = %q, want the teaser's", got)
	}
	w.svc.DrainArticles(t.Context())
	want := "The harbour authority approved a 40 million euro plan on Thursday to deepen the main channel."
	if got := w.summaryOf(t, "Harbour plan approved").Summary; len(got) != 1 || got[0] != want {
		t.Errorf("summary after the page = %q, want %q", got, want)
	}
	if got := w.results.list(); len(got) != 1 || got[0] != briefings.ArticleEnriched {
		t.Errorf("results = %q, want [enriched]", got)
	}

	// Restarted, the same store: another outlet's telling joins the story,
	// the page is not fetched again, and the story keeps its best telling.
	again := newArticleWorld(t, w.store, fetcher, 0)
	joined := teaser("https://wire.example/harbour", "Harbour plan approved")
	joined.Outlet, joined.FeedURL = "Wire", "https://wire.example/feed"
	joined.Text = strings.Repeat("The harbour plan was approved after a debate that lasted all night. ", 7) // 84 words: no teaser
	if _, err := again.svc.Ingest(t.Context(), []briefings.Item{joined}); err != nil {
		t.Fatal(err)
	}
	again.svc.DrainArticles(t.Context())
	entry := again.summaryOf(t, "Harbour plan approved")
	if len(entry.Sources) != 2 {
		t.Fatalf("sources = %+v, want both outlets in one story", entry.Sources)
	}
	if len(entry.Summary) != 1 || entry.Summary[0] != want {
		t.Errorf("summary = %q, want the most complete telling's %q", entry.Summary, want)
	}
	if n := fetcher.count(link); n != 1 {
		t.Errorf("the page was fetched %d times, want once", n)
	}
}

func TestArticleFailureKeepsFeedText(t *testing.T) {
	paywalled, short, missing := "https://port.example/paid", "https://port.example/short", "https://port.example/missing"
	fetcher := &fakeArticles{
		pages: map[string]briefings.ArticlePage{short: {URL: short, Text: "Harbour plan approved."}}, // fewer words than the feed
		errs:  map[string]error{paywalled: &briefings.ArticleFailure{Reason: briefings.ArticlePaywalled, Err: errors.New("isAccessibleForFree: false")}},
	}
	w := newArticleWorld(t, openStore(t, filepath.Join(t.TempDir(), "db")), fetcher, 0)
	items := []briefings.Item{teaser(paywalled, "Budget vote delayed"), teaser(short, "Harbour plan approved"), teaser(missing, "Snow closes alpine pass")}
	items[0].Text = "Councillors postponed the budget vote. A new date is due."
	items[1].Text = "The harbour authority backed the plan. Work starts soon."
	items[2].Text = "Heavy snow shut the Gotthard road. Drivers were turned back."
	if _, err := w.svc.Ingest(t.Context(), items); err != nil {
		t.Fatal(err)
	}
	w.svc.DrainArticles(t.Context())
	for _, it := range items {
		first, _, _ := strings.Cut(it.Text, ". ")
		first += "."
		if got := w.summaryOf(t, it.Title).Summary; len(got) != 1 || got[0] != first {
			t.Errorf("%s: summary = %q, want the feed text's %q", it.Title, got, first)
		}
	}
	got := strings.Join(w.results.list(), " ")
	for _, want := range []string{briefings.ArticlePaywalled, briefings.ArticleShorter, briefings.ArticleHTTPError} {
		if !strings.Contains(got, want) {
			t.Errorf("results %q lack %q", got, want)
		}
		if !strings.Contains(w.logs.String(), "reason="+want) {
			t.Errorf("no log line with reason=%s:\n%s", want, w.logs)
		}
	}
}

func TestArticleFillsUndatedAndUntitledItems(t *testing.T) {
	link := "https://port.example/undated"
	page := pageFor(link, "Harbour plan approved, says authority")
	fetcher := &fakeArticles{pages: map[string]briefings.ArticlePage{link: page}}
	w := newArticleWorld(t, openStore(t, filepath.Join(t.TempDir(), "db")), fetcher, 0)
	it := teaser(link, "")
	it.Published = time.Time{}
	it.Text = "The harbour plan passed."
	if _, err := w.svc.Ingest(t.Context(), []briefings.Item{it}); err != nil {
		t.Fatal(err)
	}
	w.svc.DrainArticles(t.Context())
	entry := w.summaryOf(t, page.Title)
	if !entry.Published.Equal(page.Published) {
		t.Errorf("an undated item's story is dated %v, want the page's %v (not the ingest time %v)", entry.Published, page.Published, july10)
	}
}

func TestSlowPagesNeverHoldTheIngest(t *testing.T) {
	fetcher := &fakeArticles{block: make(chan struct{})} // every page hangs until shutdown
	w := newArticleWorld(t, openStore(t, filepath.Join(t.TempDir(), "db")), fetcher, 0)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { w.svc.RunArticles(ctx); close(done) }()
	var items []briefings.Item
	for i := range 20 {
		items = append(items, teaser(fmt.Sprintf("https://slow%d.example/a", i), fmt.Sprintf("Story %d of a slow site", i)))
	}
	stats, err := w.svc.Ingest(t.Context(), items)
	if err != nil || stats.New != 20 {
		t.Fatalf("Ingest = %+v, %v; want 20 new items while every page hangs", stats, err)
	}
	if b, err := w.svc.Brief(t.Context(), briefings.Topics{}); err != nil || len(b.Entries) == 0 {
		t.Fatalf("Brief = %d entries, %v; want the stories from their feed text", len(b.Entries), err)
	}
	cancel()
	<-done // the workers stop with their context, hung fetches and all
}

func TestArticleQueueFullDropsNoItem(t *testing.T) {
	fetcher := &fakeArticles{}
	w := newArticleWorld(t, openStore(t, filepath.Join(t.TempDir(), "db")), fetcher, 2)
	var items []briefings.Item
	for i := range 5 {
		items = append(items, teaser(fmt.Sprintf("https://port%d.example/a", i), fmt.Sprintf("Harbour story %d", i)))
	}
	stats, err := w.svc.Ingest(t.Context(), items)
	if err != nil || stats.New != 5 {
		t.Fatalf("Ingest = %+v, %v; want all 5 items", stats, err)
	}
	dropped := 0
	for _, r := range w.results.list() {
		if r == briefings.ArticleDropped {
			dropped++
		}
	}
	if dropped != 3 {
		t.Errorf("%d pages dropped with a queue of 2 and 5 teasers, want 3", dropped)
	}
}
