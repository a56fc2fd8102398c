package safehttp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestWaitingForAHostRespectsTheContext: a request queued behind a host's
// busy slots gives up with its context, and leaves no slot behind.
func TestWaitingForAHostRespectsTheContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	c := New(Options{AllowPrivate: true, MaxPerHost: 1})
	busy := make(chan error, 1)
	go func() { _, err := c.Get(context.Background(), Request{URL: srv.URL + "/busy"}); busy <- err }()
	for {
		c.hosts.mu.Lock()
		s := c.hosts.hosts["127.0.0.1"]
		taken := s != nil && len(s.sem) == 1
		c.hosts.mu.Unlock()
		if taken {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Get(ctx, Request{URL: srv.URL + "/queued"}); !errors.Is(err, context.Canceled) {
		t.Errorf("queued request: err = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-busy; err != nil {
		t.Errorf("busy request: %v", err)
	}
	c.hosts.mu.Lock()
	defer c.hosts.mu.Unlock()
	if len(c.hosts.hosts) != 0 {
		t.Errorf("%d hosts' slots left after every request ended, want none", len(c.hosts.hosts))
	}
}

func TestAcceptsMediaType(t *testing.T) {
	for _, tt := range []struct {
		contentType string
		want        bool
	}{
		{"text/html", true},
		{"text/html; charset=ISO-8859-1", true},
		{"Application/XHTML+XML", true},
		{"application/pdf", false},
		{"text/htmlx", false},
		{";;garbage", false},
	} {
		if got := acceptsMediaType([]string{"text/html", "application/xhtml+xml"}, tt.contentType); got != tt.want {
			t.Errorf("acceptsMediaType(%q) = %v, want %v", tt.contentType, got, tt.want)
		}
	}
}
