package telegramtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// testToken looks like a real token; its secret half must never show up in
// anything the fake answers.
const (
	testToken       = "123456789:AAE-test_SECRET-half-0123456789abcd"
	testTokenSecret = "AAE-test_SECRET-half-0123456789abcd"
	testBotID       = 123456789
)

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	srv, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func newBot(t *testing.T, srv *Server) *tgbotapi.BotAPI {
	t.Helper()
	bot, err := tgbotapi.NewBotAPIWithClient(testToken, srv.Endpoint(), redactingClient{})
	if err != nil {
		t.Fatalf("NewBotAPIWithClient: %v", err)
	}
	return bot
}

// redactingClient keeps the token out of transport errors: *url.Error
// prints the whole URL, /bot<token>/method included, and the library logs
// such errors as they are.
type redactingClient struct{}

func (redactingClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(req)
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return nil, fmt.Errorf("%s bot API: %w", uerr.Op, uerr.Err)
	}
	return resp, err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// asAPIError is how a sender classifies the library's errors.
func asAPIError(t *testing.T, err error) *tgbotapi.Error {
	t.Helper()
	var e *tgbotapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *tgbotapi.Error", err, err)
	}
	return e
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeClock is a clock the test moves by hand, so flood control is exact.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 25, 7, 30, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// waitUntil polls cond until it holds; it synchronises with work the fake
// does in the background and asserts nothing about time.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx := testContext(t)
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting until %s", what)
		case <-time.After(time.Millisecond):
		}
	}
}

// waitForPoller blocks until a getUpdates call is parked in its long poll,
// so that what the test does next happens during the poll.
func waitForPoller(t *testing.T, srv *Server) {
	t.Helper()
	waitUntil(t, "a getUpdates call waits", func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.poller != nil
	})
}
