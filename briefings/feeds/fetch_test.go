package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/internal/safehttp"
)

// testFeed has no site link, so its relative item link resolves against the
// address the feed was finally read from.
const testFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Test Wire</title>
<item><title>First story</title><link>item-1</link><guid isPermaLink="false">id-1</guid>
<pubDate>Thu, 10 Jul 2025 14:05:00 +0000</pubDate><description>Body.</description></item>
</channel></rss>
`

// localFetcher fetches from the test servers on 127.0.0.1.
func localFetcher(opts Options) *Fetcher {
	opts.AllowPrivate = true
	return NewFetcher(opts)
}

// asFetchError returns err as a *briefings.FetchError or fails the test.
func asFetchError(t *testing.T, err error) *briefings.FetchError {
	t.Helper()
	var fe *briefings.FetchError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v (%T), want a *briefings.FetchError", err, err)
	}
	return fe
}

func TestFetchConditionalGET(t *testing.T) {
	const lastModified = "Wed, 09 Jul 2025 10:00:00 GMT"
	var gotHeaders atomic.Pointer[http.Header]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		gotHeaders.Store(&h)
		if r.Header.Get("If-None-Match") == `"v1"` {
			if r.URL.Query().Get("rotate") != "" {
				w.Header().Set("ETag", `"v2"`)
			}
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", lastModified)
		fmt.Fprint(w, testFeed)
	}))
	defer srv.Close()
	f := localFetcher(Options{})
	ctx := context.Background()

	t.Run("first fetch", func(t *testing.T) {
		src := briefings.Source{URL: srv.URL + "/feed"}
		got, err := f.Fetch(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		want := briefings.FetchResult{
			Title: "Test Wire",
			Items: []briefings.Item{{
				FeedURL: src.URL, GUID: "id-1", Link: srv.URL + "/item-1", Title: "First story", Text: "Body.",
				Outlet: "Test Wire", Published: date("2025-07-10T14:05:00Z"),
			}},
			ETag: `"v1"`, LastModified: lastModified,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Fetch mismatch (-want +got):\n%s", diff)
		}
		h := *gotHeaders.Load()
		if h.Get("If-None-Match") != "" || h.Get("If-Modified-Since") != "" {
			t.Errorf("sent validators %q, %q without having any", h.Get("If-None-Match"), h.Get("If-Modified-Since"))
		}
	})

	tests := []struct {
		name, query string
		want        briefings.FetchResult
	}{
		{"304 keeps the validators", "", briefings.FetchResult{NotModified: true, ETag: `"v1"`, LastModified: lastModified}},
		{"304 with a new ETag", "?rotate=1", briefings.FetchResult{NotModified: true, ETag: `"v2"`, LastModified: lastModified}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := briefings.Source{URL: srv.URL + "/feed" + tt.query, ETag: `"v1"`, LastModified: lastModified}
			got, err := f.Fetch(ctx, src)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Fetch mismatch (-want +got):\n%s", diff)
			}
			h := *gotHeaders.Load()
			if h.Get("If-None-Match") != `"v1"` || h.Get("If-Modified-Since") != lastModified {
				t.Errorf("sent If-None-Match %q, If-Modified-Since %q; want the source's validators", h.Get("If-None-Match"), h.Get("If-Modified-Since"))
			}
		})
	}
}

func TestFetchSendsUserAgent(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("User-Agent"))
		fmt.Fprint(w, testFeed)
	}))
	defer srv.Close()
	for _, tt := range []struct{ configured, want string }{
		{"", DefaultUserAgent},
		{"custom-agent/2.0", "custom-agent/2.0"},
	} {
		if _, err := localFetcher(Options{UserAgent: tt.configured}).Fetch(context.Background(), briefings.Source{URL: srv.URL}); err != nil {
			t.Fatal(err)
		}
		if got.Load() != tt.want {
			t.Errorf("User-Agent = %q, want %q", got.Load(), tt.want)
		}
	}
}

func TestFetchBodyLimit(t *testing.T) {
	const limit = 64 << 10
	// paddedFeed is a valid feed of exactly n bytes.
	paddedFeed := func(n int) string {
		return testFeed + "<!--" + strings.Repeat("x", n-len(testFeed)-8) + "-->\n"
	}
	var bombDone atomic.Bool
	handlers := map[string]http.HandlerFunc{
		"/exact": func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, paddedFeed(limit)) },
		"/chunked": func(w http.ResponseWriter, r *http.Request) {
			// Flushing first makes the answer chunked, without a Content-Length.
			w.(http.Flusher).Flush()
			fmt.Fprint(w, paddedFeed(limit+1))
		},
		"/declared": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(4*limit))
			fmt.Fprint(w, paddedFeed(4*limit))
		},
		"/gzip": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			gz := gzip.NewWriter(w)
			fmt.Fprint(gz, paddedFeed(limit))
			gz.Close()
		},
		"/bomb": func(w http.ResponseWriter, r *http.Request) {
			// A gzip stream that never ends: a client that reads the whole
			// body never returns.
			defer bombDone.Store(true)
			if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				http.Error(w, "no gzip asked for", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Encoding", "gzip")
			gz := gzip.NewWriter(w)
			fmt.Fprint(gz, testFeed+"<!--")
			spaces := bytes.Repeat([]byte(" "), 1<<20)
			for r.Context().Err() == nil {
				if _, err := gz.Write(spaces); err != nil {
					return
				}
			}
		},
	}
	mux := http.NewServeMux()
	for path, h := range handlers {
		mux.HandleFunc(path, h)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := localFetcher(Options{MaxBodyBytes: limit})

	for _, path := range []string{"/exact", "/gzip"} {
		t.Run(path, func(t *testing.T) {
			got, err := f.Fetch(context.Background(), briefings.Source{URL: srv.URL + path})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Items) != 1 {
				t.Errorf("got %d items, want 1", len(got.Items))
			}
		})
	}
	for _, tt := range []struct{ path, wantMsg string }{
		{"/chunked", "the feed is larger than 64 KiB"},
		{"/declared", "the feed is larger than 64 KiB"},
		{"/bomb", "the decompressed feed is larger than 64 KiB"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			_, err := f.Fetch(context.Background(), briefings.Source{URL: srv.URL + tt.path})
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if fe := asFetchError(t, err); fe.StatusCode != http.StatusOK {
				t.Errorf("StatusCode = %d, want 200", fe.StatusCode)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to say %q", err, tt.wantMsg)
			}
		})
	}
	f.CloseIdleConnections()
	srv.Close() // waits for the bomb handler, which ends when the client hangs up
	if !bombDone.Load() {
		t.Error("the gzip bomb handler never ran to its end")
	}
}

func TestFetchRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/final/feed.xml" {
			fmt.Fprint(w, testFeed)
			return
		}
		if r.URL.Path == "/to-file" {
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
			return
		}
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
		switch {
		case err != nil:
			http.NotFound(w, r)
		case n <= 1:
			http.Redirect(w, r, "/final/feed.xml", http.StatusMovedPermanently)
		default:
			http.Redirect(w, r, fmt.Sprintf("/r/%d", n-1), http.StatusFound)
		}
	}))
	defer srv.Close()

	t.Run("5 followed", func(t *testing.T) {
		src := briefings.Source{URL: srv.URL + "/r/5"}
		got, err := localFetcher(Options{}).Fetch(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		want := []briefings.Item{{
			FeedURL: src.URL, GUID: "id-1", Link: srv.URL + "/final/item-1", Title: "First story", Text: "Body.",
			Outlet: "Test Wire", Published: date("2025-07-10T14:05:00Z"),
		}}
		if diff := cmp.Diff(want, got.Items); diff != "" {
			t.Errorf("items mismatch (-want +got):\n%s", diff)
		}
	})

	tests := []struct {
		name         string
		maxRedirects int
		path         string
		wantErr      error
	}{
		{"6 refused", 0, "/r/6", ErrTooManyRedirects},
		{"none allowed", -1, "/r/1", ErrTooManyRedirects},
		{"to a file URL", 0, "/to-file", ErrUnsupportedScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := localFetcher(Options{MaxRedirects: tt.maxRedirects}).Fetch(context.Background(), briefings.Source{URL: srv.URL + tt.path})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if fe := asFetchError(t, err); fe.StatusCode < 300 || fe.StatusCode > 399 {
				t.Errorf("StatusCode = %d, want the redirect's", fe.StatusCode)
			}
		})
	}
}

func TestFetchHTTPErrors(t *testing.T) {
	now := time.Date(2025, 7, 10, 12, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, _ := strconv.Atoi(r.URL.Query().Get("status"))
		if v := r.URL.Query().Get("retry"); v != "" {
			w.Header().Set("Retry-After", v)
		}
		http.Error(w, "nope", status)
	}))
	defer srv.Close()
	f := localFetcher(Options{Now: func() time.Time { return now }})

	tests := []struct {
		name       string
		status     int
		retryAfter string
		want       time.Duration
	}{
		{"429 with seconds", 429, "120", 2 * time.Minute},
		{"503 with a date", 503, now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"503 with a past date", 503, now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"429 with garbage", 429, "soon", 0},
		{"429 with a huge number", 429, "99999999999999999", safehttp.MaxRetryAfter},
		{"404", 404, "", 0},
		{"500", 500, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feedURL := fmt.Sprintf("%s/feed?status=%d&retry=%s", srv.URL, tt.status, url.QueryEscape(tt.retryAfter))
			_, err := f.Fetch(context.Background(), briefings.Source{URL: feedURL})
			if !errors.Is(err, ErrHTTPStatus) {
				t.Fatalf("err = %v, want ErrHTTPStatus", err)
			}
			fe := asFetchError(t, err)
			if fe.StatusCode != tt.status || fe.RetryAfter != tt.want {
				t.Errorf("StatusCode %d, RetryAfter %v; want %d, %v", fe.StatusCode, fe.RetryAfter, tt.status, tt.want)
			}
		})
	}
}

func TestFetchTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/mid-body" {
			fmt.Fprint(w, testFeed[:100])
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done() // hang until the client gives up
	}))
	defer srv.Close()
	f := localFetcher(Options{Timeout: 200 * time.Millisecond})

	for _, path := range []string{"/before-headers", "/mid-body"} {
		t.Run(path, func(t *testing.T) {
			_, err := f.Fetch(context.Background(), briefings.Source{URL: srv.URL + path})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want context.DeadlineExceeded", err)
			}
			if fe := asFetchError(t, err); fe.StatusCode != 0 {
				t.Errorf("StatusCode = %d, want 0", fe.StatusCode)
			}
			if !strings.Contains(err.Error(), "no complete answer within 200ms") {
				t.Errorf("err = %q, want it to name the timeout", err)
			}
		})
	}

	t.Run("caller cancels", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := localFetcher(Options{}).Fetch(ctx, briefings.Source{URL: srv.URL + "/before-headers"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		asFetchError(t, err)
	})
}

func TestFetchNetworkError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now

	_, err = localFetcher(Options{}).Fetch(context.Background(), briefings.Source{URL: "http://" + addr + "/feed"})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("err = %v, want connection refused", err)
	}
	if fe := asFetchError(t, err); fe.StatusCode != 0 {
		t.Errorf("StatusCode = %d, want 0", fe.StatusCode)
	}
}

func TestFetchRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"ftp://ftp.example/feed.xml", "file:///etc/passwd", "feed.example/rss", "http:///no-host", "gopher://x"} {
		_, err := NewFetcher(Options{}).Fetch(context.Background(), briefings.Source{URL: u})
		if !errors.Is(err, ErrUnsupportedScheme) {
			t.Errorf("Fetch(%q) err = %v, want ErrUnsupportedScheme", u, err)
		}
	}
	_, err := NewFetcher(Options{}).Fetch(context.Background(), briefings.Source{URL: "http://user:s3cret@[::1"})
	if fe := asFetchError(t, err); strings.Contains(fe.Error(), "s3cret") {
		t.Errorf("err = %q shows the password", fe)
	}
}

func TestFetchParseErrorIsNotAFetchError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!DOCTYPE html><html><body>home page</body></html>")
	}))
	defer srv.Close()
	_, err := localFetcher(Options{}).Fetch(context.Background(), briefings.Source{URL: srv.URL})
	if !errors.Is(err, ErrNotAFeed) {
		t.Fatalf("err = %v, want ErrNotAFeed", err)
	}
	var fe *briefings.FetchError
	if errors.As(err, &fe) {
		t.Errorf("err = %v is a FetchError; the fetch worked, the document is wrong", err)
	}
}

func TestFetchRefusesPrivateAddresses(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, testFeed)
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name, url, wantAddr string
	}{
		{"loopback", srv.URL, "127.0.0.1"},
		{"a name that resolves to loopback", fmt.Sprintf("http://localhost:%d/", port), "localhost:"}, // 127.0.0.1 or ::1
		{"IPv6 loopback", fmt.Sprintf("http://[::1]:%d/", port), "::1"},
		{"IPv4-mapped loopback", fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", port), "127.0.0.1"},
		{"private", "http://10.1.2.3/feed", "10.1.2.3"},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/", "169.254.169.254"},
		{"CGNAT", "http://100.64.0.1/feed", "100.64.0.1"},
		{"unspecified", fmt.Sprintf("http://0.0.0.0:%d/", port), "0.0.0.0"},
	}
	f := NewFetcher(Options{}) // AllowPrivate false
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.Fetch(context.Background(), briefings.Source{URL: tt.url})
			if !errors.Is(err, ErrPrivateAddress) {
				t.Fatalf("err = %v, want ErrPrivateAddress", err)
			}
			asFetchError(t, err)
			msg := err.Error()
			if !strings.Contains(msg, tt.wantAddr) || !strings.Contains(msg, "NEWSBOT_ALLOW_PRIVATE_FEEDS=true") {
				t.Errorf("err = %q, want it to name %s and NEWSBOT_ALLOW_PRIVATE_FEEDS=true", msg, tt.wantAddr)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the private server answered %d requests, want none", n)
	}
}

// TestFetchRefusesRedirectToPrivate stands one local server in for a public
// host: the address check it gets lets that server's port through and
// applies the real check to every other address. A redirect from there to
// the other local server must be refused when connecting.
func TestFetchRefusesRedirectToPrivate(t *testing.T) {
	var privateHits, publicHits atomic.Int32
	private := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		privateHits.Add(1)
		fmt.Fprint(w, testFeed)
	}))
	defer private.Close()
	privatePort := private.Listener.Addr().(*net.TCPAddr).Port
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		publicHits.Add(1)
		target := private.URL + "/feed"
		if r.URL.Path == "/by-name" {
			target = fmt.Sprintf("http://localhost:%d/feed", privatePort)
		}
		http.Redirect(w, r, target, http.StatusFound)
	}))
	defer public.Close()
	publicPort := uint16(public.Listener.Addr().(*net.TCPAddr).Port)
	check := func(addr netip.AddrPort) error {
		if addr.Port() == publicPort {
			return nil
		}
		return safehttp.CheckPublicAddress(addr)
	}
	f := newFetcher(Options{}, check)

	for _, path := range []string{"/by-address", "/by-name"} {
		t.Run(path, func(t *testing.T) {
			_, err := f.Fetch(context.Background(), briefings.Source{URL: public.URL + path})
			if !errors.Is(err, ErrPrivateAddress) {
				t.Fatalf("err = %v, want ErrPrivateAddress", err)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(privatePort)) {
				t.Errorf("err = %q, want it to name the refused address", err)
			}
		})
	}
	if publicHits.Load() != 2 || privateHits.Load() != 0 {
		t.Errorf("public server hit %d times, private %d; want 2 and 0", publicHits.Load(), privateHits.Load())
	}
}
