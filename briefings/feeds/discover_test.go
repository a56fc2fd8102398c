package feeds

import (
	"github.com/newsbot/newsbot/briefings/internal/safehttp"

	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// siteServer serves a small site: a feed at /feed.xml, pages that link it
// (or not), and the failures a chat's address may run into.
func siteServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	mux := http.NewServeMux()
	page := func(head string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!doctype html><html><head><title>Site</title>" + head + "</head><body><p>Hello</p></body></html>"))
		}
	}
	mux.HandleFunc("/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(testFeed))
	})
	mux.HandleFunc("/linked", page(`<link rel="stylesheet" href="/s.css"><link rel="alternate" type="application/rss+xml" title="RSS" href="feed.xml">`))
	mux.HandleFunc("/based/page", page(`<base href="/"><link rel="Alternate" type="application/rss+xml; charset=utf-8" href="feed.xml">`))
	mux.HandleFunc("/bare", page(``))
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><head>"))
		w.Write([]byte(strings.Repeat("<!-- padding -->", (5<<20)/16+1)))
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop2", http.StatusFound) })
	mux.HandleFunc("/loop2", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusGone) })
	mux.HandleFunc("/image.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestFindFeed(t *testing.T) {
	srv, _ := siteServer(t)
	feedURL := srv.URL + "/feed.xml"
	for _, tc := range []struct {
		name, path, want string
	}{
		{"a feed", "/feed.xml", feedURL},
		{"a page's alternate link", "/linked", feedURL},
		{"a link against <base href>", "/based/page", feedURL},
		{"a bare page, by the common paths", "/bare", feedURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			found, err := localFetcher(Options{}).FindFeed(t.Context(), srv.URL+tc.path)
			if err != nil {
				t.Fatalf("FindFeed(%s): %v", tc.path, err)
			}
			if found.URL != tc.want || found.Title != "Test Wire" || len(found.Items) != 1 || found.Items[0].FeedURL != tc.want {
				t.Errorf("FindFeed(%s) = %s %q, %d items; want %s, Test Wire, 1 item of it", tc.path, found.URL, found.Title, len(found.Items), tc.want)
			}
		})
	}
}

func TestFindFeedRefusals(t *testing.T) {
	srv, _ := siteServer(t)
	// A server that finds no feed anywhere: every path is a bare page.
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><head><title>No feed</title></head><body>Nothing</body></html>"))
	}))
	t.Cleanup(bare.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	for _, tc := range []struct {
		name, url, reason string
		opts              Options
		public            bool // the real address check: 127.0.0.1 is private
	}{
		{name: "malformed", url: "http://exa mple.com/feed", reason: "not a web address"},
		{name: "not http", url: "ftp://example.com/feed", reason: "only http and https"},
		{name: "private address", url: srv.URL + "/feed.xml", reason: "private or local network", public: true},
		{name: "unreachable", url: closedURL + "/feed.xml", reason: "cannot be reached"},
		{name: "HTML without a feed link", url: bare.URL + "/", reason: "links no feed"},
		{name: "a 5 MB page", url: srv.URL + "/huge", reason: "larger than the 5 MiB"},
		{name: "a redirect loop", url: srv.URL + "/loop", reason: "redirects more than 5 times"},
		{name: "HTTP error", url: srv.URL + "/gone", reason: "HTTP 410 Gone"},
		{name: "not a feed nor a page", url: srv.URL + "/image.png", reason: "neither a feed"},
		{name: "too slow", url: srv.URL + "/slow", reason: "did not answer within", opts: Options{Timeout: 300 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := localFetcher(tc.opts)
			if tc.public {
				f = NewFetcher(tc.opts)
			}
			_, err := f.FindFeed(t.Context(), tc.url)
			var refused *briefings.FeedRefusedError
			if !errors.As(err, &refused) {
				t.Fatalf("FindFeed(%s) = %v (%T), want a *briefings.FeedRefusedError", tc.url, err, err)
			}
			if !strings.Contains(refused.Reason, tc.reason) {
				t.Errorf("FindFeed(%s) reason %q, want it to say %q", tc.url, refused.Reason, tc.reason)
			}
		})
	}
}

func TestFeedLinks(t *testing.T) {
	page := []byte(`<html><head>
		<link rel="alternate" type="application/atom+xml" href="https://other.example/atom">
		<link rel="alternate" type="text/html" href="/fr/">
		<link rel="alternate feed" type="application/feed+json" href="/feed.json#top">
		<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
		<link rel="alternate" type="application/rss+xml">
		</head></html>`)
	pageURL, _ := url.Parse("https://site.example/blog/post")
	got := feedLinks(page, pageURL)
	want := []string{"https://other.example/atom", "https://site.example/feed.json"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("feedLinks = %v, want %v", got, want)
	}
}

func FuzzFeedLinks(f *testing.F) {
	for _, s := range []string{
		`<link rel="alternate" type="application/rss+xml" href="/feed.xml">`,
		`<base href="https://x.example/a/"><link rel=alternate type="application/atom+xml" href="../atom">`,
		`<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">`,
		`<link rel="alternate" type="application/feed+json" href="http://[::1]:80/f">`,
		`<link`, `<base href="mailto:x">`,
	} {
		f.Add(s)
	}
	pageURL, _ := url.Parse("https://site.example/blog/post")
	f.Fuzz(func(t *testing.T, page string) {
		links := feedLinks([]byte(page), pageURL)
		if len(links) > maxFeedLinks {
			t.Fatalf("%d links, want at most %d", len(links), maxFeedLinks)
		}
		for _, l := range links {
			u, err := url.Parse(l)
			if err != nil || !safehttp.IsHTTP(u) {
				t.Fatalf("feed link %q is not an absolute http(s) address", l)
			}
		}
	})
}
