package article

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// localFetcher fetches from the test servers on 127.0.0.1.
func localFetcher(opts Options) *Fetcher {
	opts.AllowPrivate = true
	return NewFetcher(opts)
}

func reasonOf(err error) string {
	var af *briefings.ArticleFailure
	if errors.As(err, &af) {
		return af.Reason
	}
	return ""
}

const shortLimit = 256 << 10

func badInputServer(t *testing.T, article []byte) *httptest.Server {
	t.Helper()
	html := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/article", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		html(w, string(article))
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.(http.Flusher).Flush() // chunked: no Content-Length to refuse it by
		chunk := bytes.Repeat([]byte("<p>filler words "), 4096)
		for i := 0; i < 1000 && r.Context().Err() == nil; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body><p>The first words of a page that never ends")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	mux.HandleFunc("/bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		fmt.Fprint(gz, "<html><body><p>")
		spaces := bytes.Repeat([]byte(" "), 1<<20)
		for i := 0; i < 2048 && r.Context().Err() == nil; i++ { // 2 GiB decompressed
			if _, err := gz.Write(spaces); err != nil {
				return
			}
		}
		gz.Close()
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/members-only", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/account/login?next=/members-only", http.StatusFound)
	})
	mux.HandleFunc("/account/login", func(w http.ResponseWriter, r *http.Request) {
		html(w, `<html><body><h1>Sign in</h1><p>`+strings.Repeat("Sign in to keep reading our journalism. ", 20)+`</p><form><input name="u"><input type="password" name="p"></form></body></html>`)
	})
	mux.HandleFunc("/login-wall", func(w http.ResponseWriter, r *http.Request) {
		html(w, `<html><body><article><h1>Budget vote delayed</h1><p>The vote on the city budget was delayed on Monday after a dispute between councillors over spending on transport.</p><p>Log in to read the rest of this story.</p><form><input type="email"><input type="password"></form></article></body></html>`)
	})
	mux.HandleFunc("/paywalled", func(w http.ResponseWriter, r *http.Request) {
		html(w, strings.Replace(string(article), `"headline"`, `"isAccessibleForFree": false, "headline"`, 1))
	})
	mux.HandleFunc("/report.pdf", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		fmt.Fprint(w, "%PDF-1.7\n")
	})
	mux.HandleFunc("/untyped", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil // no sniffing by the server either
		fmt.Fprint(w, "%PDF-1.7\n1 0 obj\n")
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusGone) })
	mux.HandleFunc("/pay", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "pay", http.StatusPaymentRequired) })
	mux.HandleFunc("/malformed", func(w http.ResponseWriter, r *http.Request) {
		html(w, "<html><body><div><p>"+strings.Repeat("Councillors argued <b>late <i>into the night about the</b> budget</i> and its transport lines. ", 20)+"<table><tr><td><p>unclosed")
	})
	mux.HandleFunc("/martian", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=x-martian-7")
		fmt.Fprint(w, "<html><body><article><p>"+strings.Repeat("Plain words in an encoding nobody has heard of. ", 20)+"</p></article></body></html>")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestFetchBadInput: each bad page costs one bounded fetch and a reason,
// never a panic or a hang.
func TestFetchBadInput(t *testing.T) {
	srv := badInputServer(t, readTestdata(t, "article.html"))
	f := localFetcher(Options{MaxBodyBytes: shortLimit})
	t.Cleanup(f.CloseIdleConnections)
	// Only the slow page meets the timeout: a loaded machine may take
	// longer than a short one to stream the others.
	impatient := localFetcher(Options{MaxBodyBytes: shortLimit, Timeout: 300 * time.Millisecond})
	tests := []struct{ path, reason string }{
		{"/huge", briefings.ArticleTooLarge},
		{"/slow", briefings.ArticleTimeout},
		{"/bomb", briefings.ArticleTooLarge},
		{"/loop", briefings.ArticleRefused},
		{"/members-only", briefings.ArticlePaywalled},
		{"/login-wall", briefings.ArticlePaywalled},
		{"/paywalled", briefings.ArticlePaywalled},
		{"/report.pdf", briefings.ArticleNotHTML},
		{"/untyped", briefings.ArticleNotHTML},
		{"/gone", briefings.ArticleHTTPError},
		{"/pay", briefings.ArticlePaywalled},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			fetcher := f
			if tt.path == "/slow" {
				fetcher = impatient
			}
			_, err := fetcher.FetchArticle(t.Context(), briefings.ArticlePage{URL: srv.URL + tt.path})
			if got := reasonOf(err); got != tt.reason {
				t.Errorf("reason = %q (err %v), want %q", got, err, tt.reason)
			}
		})
	}
	for _, path := range []string{"/malformed", "/martian"} {
		t.Run(path, func(t *testing.T) {
			page, err := f.FetchArticle(t.Context(), briefings.ArticlePage{URL: srv.URL + path})
			if err != nil {
				t.Fatalf("err = %v, want the page's text", err)
			}
			if len(strings.Fields(page.Text)) < 100 {
				t.Errorf("Text = %q, want the page's words", page.Text)
			}
		})
	}
}

func TestFetchArticleConditional(t *testing.T) {
	srv := badInputServer(t, readTestdata(t, "article.html"))
	f := localFetcher(Options{})
	page, err := f.FetchArticle(t.Context(), briefings.ArticlePage{URL: srv.URL + "/article"})
	if err != nil {
		t.Fatal(err)
	}
	if page.Title != "Rubio and Lavrov meet in Kuala Lumpur" || page.ETag != `"v1"` || !strings.Contains(page.Text, "728 drones") {
		t.Fatalf("page = %+v", page)
	}
	again, err := f.FetchArticle(t.Context(), page)
	if err != nil {
		t.Fatal(err)
	}
	if again != page {
		t.Errorf("a 304 gave %+v, want the cached page back", again)
	}
}

func TestFetchArticleRefusesPrivateAndReserved(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for _, link := range []string{srv.URL + "/article", "http://wire.test/harbour", "https://news.example/a", "ftp://files.example.org/a"} {
		_, err := NewFetcher(Options{}).FetchArticle(context.Background(), briefings.ArticlePage{URL: link})
		if reasonOf(err) != briefings.ArticleRefused {
			t.Errorf("FetchArticle(%s): err = %v, want refused", link, err)
		}
	}
	if _, err := NewFetcher(Options{}).FetchArticle(context.Background(), briefings.ArticlePage{URL: srv.URL}); !strings.Contains(err.Error(), "NEWSBOT_ALLOW_PRIVATE_FEEDS=true") {
		t.Errorf("err = %v, want it to say how to allow private addresses", err)
	}
	if hits.Load() != 0 {
		t.Errorf("the private server answered %d requests, want none", hits.Load())
	}
}

// TestFetchArticleTwoPerHost: a feed's worth of links to one site reaches it
// at most two at a time.
func TestFetchArticleTwoPerHost(t *testing.T) {
	var inflight, peak atomic.Int32
	gate := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-gate
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body><p>"+strings.Repeat("Words of the article. ", 30)+"</p></body></html>")
	}))
	defer srv.Close()
	f := localFetcher(Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := range 6 {
		wg.Go(func() {
			_, err := f.FetchArticle(t.Context(), briefings.ArticlePage{URL: fmt.Sprintf("%s/a/%d", srv.URL, i)})
			errs <- err
		})
	}
	for inflight.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // room for a third request to arrive, were it allowed
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("at most %d requests at once reached the host, want 2", p)
	}
}
