package admin

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/sqlite"
)

const testToken = "s3cret-admin-token-for-tests-0123"

// syncBuffer is a log sink tests read while the panel writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type panel struct {
	db     *sqlite.DB
	h      *Handler
	srv    *httptest.Server
	logs   *syncBuffer
	polled chan struct{}
}

func openStore(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "newsbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newPanel(t testing.TB, db *sqlite.DB) *panel {
	t.Helper()
	p := &panel{db: db, logs: &syncBuffer{}, polled: make(chan struct{}, 10)}
	h, err := New(Options{
		Token:   testToken,
		Store:   db,
		Resumer: briefings.NewService(db, briefings.Options{}),
		Poll: func(ctx context.Context) error {
			p.polled <- struct{}{}
			return nil
		},
		SendLimits: map[briefings.Platform]float64{briefings.PlatformTelegram: 1800},
		Logger:     slog.New(slog.NewTextHandler(p.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	p.h = h
	mux := http.NewServeMux()
	h.Register(mux)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// client is a browser-like client: it keeps cookies (Secure ones too: the
// jar treats 127.0.0.1 as http, so they are copied by hand) and does not
// follow redirects, so tests see them.
type client struct {
	t       *testing.T
	p       *panel
	session *http.Cookie
}

func (p *panel) client(t *testing.T) *client { return &client{t: t, p: p} }

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	if c.session != nil {
		req.AddCookie(c.session)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.p.srv.URL+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values, header ...string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.p.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

func (c *client) login() {
	c.t.Helper()
	resp, _ := c.post("/admin/login", url.Values{"token": {testToken}})
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login: %s", resp.Status)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == cookieName {
			c.session = ck
		}
	}
	if c.session == nil {
		c.t.Fatal("login set no session cookie")
	}
}

// csrf is the session's CSRF token, read from a page's form as a browser
// would have it.
func (c *client) csrf() string {
	c.t.Helper()
	_, body := c.get("/admin/feeds")
	const marker = `name="csrf" value="`
	i := strings.Index(body, marker)
	if i < 0 {
		c.t.Fatalf("no CSRF token in the feeds page:\n%s", body)
	}
	rest := body[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestOffWithoutToken(t *testing.T) {
	if _, err := New(Options{Store: openStore(t)}); err == nil {
		t.Error("New with no token made a panel; it must stay off")
	}
}

func TestLogin(t *testing.T) {
	p := newPanel(t, openStore(t))
	c := p.client(t)
	if resp, _ := c.get("/admin/feeds"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/login" {
		t.Fatalf("anonymous GET: %s to %q; want 303 to the login form", resp.Status, resp.Header.Get("Location"))
	}
	if resp, body := c.post("/admin/login", url.Values{"token": {"not-the-token-at-all"}}); resp.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(body, "not the admin token") || len(resp.Cookies()) != 0 {
		t.Fatalf("wrong token: %s, cookies %v; want 401, the form again and no cookie", resp.Status, resp.Cookies())
	}
	c.login()
	ck := c.session
	if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/admin/" {
		t.Errorf("session cookie %+v; want Secure, HttpOnly, SameSite=Strict, Path=/admin/", ck)
	}
	if strings.Contains(ck.Value, testToken) || strings.Contains(ck.String(), testToken) {
		t.Error("the session cookie carries the token")
	}
	if resp, body := c.get("/admin/feeds"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>Feeds</h1>") {
		t.Fatalf("with the session: %s", resp.Status)
	}
	// Logging out clears the cookie, from the panel's own form only.
	if resp, _ := c.post("/admin/logout", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout without the CSRF token: %s; want 403", resp.Status)
	}
	resp, _ := c.post("/admin/logout", url.Values{"csrf": {c.csrf()}})
	cleared := false
	for _, out := range resp.Cookies() {
		cleared = cleared || out.Name == cookieName && out.MaxAge < 0 && out.Value == ""
	}
	if resp.StatusCode != http.StatusSeeOther || !cleared {
		t.Errorf("logout: %s, cookies %v; want 303 and the session cookie cleared", resp.Status, resp.Cookies())
	}
	// A forged or tampered cookie is no session.
	forged := *ck
	forged.Value = ck.Value[:len(ck.Value)-2] + "xx"
	c.session = &forged
	if resp, _ := c.get("/admin/feeds"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("tampered cookie: %s; want the login form", resp.Status)
	}
	// Another token's sessions are not this one's.
	other := deriveKeys("a-different-token-entirely-000")
	c.session = &http.Cookie{Name: cookieName, Value: other.newSession(time.Now().Add(time.Hour))}
	if resp, _ := c.get("/admin/feeds"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("cookie signed for another token: %s; want the login form", resp.Status)
	}
	// An expired one neither.
	c.session = &http.Cookie{Name: cookieName, Value: p.h.keys.newSession(time.Now().Add(-time.Second))}
	if resp, _ := c.get("/admin/feeds"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("expired session: %s; want the login form", resp.Status)
	}
}

func TestBearerToken(t *testing.T) {
	p := newPanel(t, openStore(t))
	c := p.client(t)
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/admin/deliveries", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if resp, body := c.do(req); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Retry queue") {
		t.Fatalf("right bearer token: %s", resp.Status)
	}
	// A script adds a feed with no CSRF token: it holds no ambient credential.
	resp, _ := c.post("/admin/feeds", url.Values{"url": {"https://feeds.example.org/a.xml"}}, "Authorization", "Bearer "+testToken)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("script adds a feed: %s; want 201", resp.Status)
	}
	req, _ = http.NewRequest(http.MethodGet, p.srv.URL+"/admin/feeds", nil)
	req.Header.Set("Authorization", "Bearer "+testToken+"x")
	if resp, _ := c.do(req); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("wrong bearer token: %s; want 401 with WWW-Authenticate", resp.Status)
	}
}

func TestWrongTokensAreRateLimited(t *testing.T) {
	p := newPanel(t, openStore(t))
	c := p.client(t)
	for i := range failureBurst {
		if resp, _ := c.post("/admin/login", url.Values{"token": {"guess"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: %s; want 401", i+1, resp.Status)
		}
	}
	resp, _ := c.post("/admin/login", url.Values{"token": {testToken}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after %d wrong tokens, even the right one: %s; want 429 with Retry-After", failureBurst, resp.Status)
	}
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/admin/feeds", nil)
	req.Header.Set("Authorization", "Bearer guess")
	if resp, _ := c.do(req); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("bearer guesses share the budget: %s; want 429", resp.Status)
	}
	// Another address keeps its own budget.
	if blocked, _ := p.h.failures.blocked("192.0.2.7", time.Now()); blocked {
		t.Error("another address is blocked too")
	}
	// And the budget refills.
	if blocked, _ := p.h.failures.blocked("127.0.0.1", time.Now().Add(failureEvery+time.Second)); blocked {
		t.Errorf("still blocked after %v", failureEvery)
	}
	if strings.Contains(p.logs.String(), "guess") {
		t.Error("the log shows a presented token")
	}
}

func TestEveryActionNeedsTheSessionsCSRFToken(t *testing.T) {
	p := newPanel(t, openStore(t))
	c := p.client(t)
	c.login()
	token := c.csrf()
	add := func(form url.Values, header ...string) int {
		resp, _ := c.post("/admin/feeds", form, header...)
		return resp.StatusCode
	}
	u := "https://feeds.example.org/world.xml"
	if got := add(url.Values{"url": {u}}); got != http.StatusForbidden {
		t.Errorf("no CSRF token: %d; want 403", got)
	}
	if got := add(url.Values{"url": {u}, "csrf": {token + "x"}}); got != http.StatusForbidden {
		t.Errorf("wrong CSRF token: %d; want 403", got)
	}
	other := p.client(t)
	other.login()
	if got := add(url.Values{"url": {u}, "csrf": {other.csrf()}}); got != http.StatusForbidden {
		t.Errorf("another session's CSRF token: %d; want 403", got)
	}
	if got := add(url.Values{"url": {u}, "csrf": {token}}, "Sec-Fetch-Site", "cross-site"); got != http.StatusForbidden {
		t.Errorf("cross-site POST: %d; want 403", got)
	}
	if got := add(url.Values{"url": {u}, "csrf": {token}}, "Origin", "https://evil.example"); got != http.StatusForbidden {
		t.Errorf("POST from another origin: %d; want 403", got)
	}
	if srcs, _ := p.db.ListSources(t.Context()); len(srcs) != 0 {
		t.Fatalf("a refused POST added %v", srcs)
	}
	if got := add(url.Values{"url": {u}, "csrf": {token}}, "Origin", p.srv.URL); got != http.StatusSeeOther {
		t.Errorf("same-origin POST with the token: %d; want 303", got)
	}
	if srcs, _ := p.db.ListSources(t.Context()); len(srcs) != 1 || srcs[0].URL != u {
		t.Errorf("feeds = %v; want the one added", srcs)
	}
	select {
	case <-p.polled:
	case <-time.After(5 * time.Second):
		t.Error("adding a feed did not poll it")
	}
	// Logging out is an action too.
	if resp, _ := c.post("/admin/logout", nil, "Sec-Fetch-Site", "cross-site"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site logout: %s", resp.Status)
	}
}

func TestSecurityHeadersOnEveryPage(t *testing.T) {
	p := newPanel(t, openStore(t))
	c := p.client(t)
	c.login()
	for _, path := range []string{"/admin/login", "/admin/feeds", "/admin/stories", "/admin/subscriptions", "/admin/deliveries", "/admin/static/admin.css", "/admin/feeds/999"} {
		resp, _ := c.get(path)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", path, h)
		}
	}
}

func TestBadFeedURLIsExplained(t *testing.T) {
	p := newPanel(t, openStore(t))
	c := p.client(t)
	c.login()
	resp, body := c.post("/admin/feeds", url.Values{"url": {"ftp://example.org/feed"}, "csrf": {c.csrf()}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "only http and https addresses can be feeds") || !strings.Contains(body, `value="ftp://example.org/feed"`) {
		t.Errorf("bad URL: %s\n%s", resp.Status, body)
	}
}
