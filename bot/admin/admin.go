// Package admin is the operator's panel: server-rendered pages under /admin/
// on the bot's HTTP listener that show the feeds, today's stories, the
// subscriptions and the deliveries, with the few actions an operator takes
// (add, remove or fetch a feed; reactivate a subscription). Templates and the
// stylesheet are embedded; the pages need no script, and the security policy
// allows none.
package admin

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// The store queries the pages make, one interface each.
type (
	FeedLister interface {
		FeedStatuses(ctx context.Context, q briefings.FeedQuery) ([]briefings.FeedStatus, error)
	}
	FeedCounter interface {
		CountFeeds(ctx context.Context) (briefings.FeedCount, error)
	}
	FeedItemLister interface {
		FeedItems(ctx context.Context, feedURL string, limit int) ([]briefings.FeedItem, error)
	}
	FetchScheduler interface {
		ScheduleFetch(ctx context.Context, feedURL string, at time.Time) error
	}
	SubscriptionTotaler interface {
		SubscriptionTotals(ctx context.Context, dueBefore time.Time) ([]briefings.SubscriptionTotal, error)
	}
	SubscriptionLister interface {
		ListSubscriptions(ctx context.Context, q briefings.SubscriptionQuery) ([]briefings.SubscriptionRow, error)
	}
	SubscriptionGetter interface {
		SubscriptionByID(ctx context.Context, id int64) (briefings.SubscriptionRow, error)
	}
	LedgerReader interface {
		DeliveryHistory(ctx context.Context, subscriptionID int64, limit int) ([]briefings.Delivery, error)
	}
	DeliveryCounter interface {
		CountDeliveries(ctx context.Context, since time.Time) ([]briefings.DeliveryCount, error)
	}
	SendCounter interface {
		SendsPerMinute(ctx context.Context, since time.Time) ([]briefings.SendCount, error)
	}
	RetryQueueReader interface {
		RetryQueue(ctx context.Context, now time.Time, limit int) ([]briefings.RetryEntry, error)
	}
	StoryReader interface {
		RecentStories(ctx context.Context, since time.Time, limit int) ([]briefings.Story, error)
	}
	FeedEditor interface {
		AddSource(ctx context.Context, url string) (added bool, err error)
		RemoveSource(ctx context.Context, url string) error
	}
)

// Store is everything the panel reads and writes; both stores are one.
type Store interface {
	FeedLister
	FeedCounter
	FeedItemLister
	FetchScheduler
	SubscriptionTotaler
	SubscriptionLister
	SubscriptionGetter
	LedgerReader
	DeliveryCounter
	SendCounter
	RetryQueueReader
	StoryReader
	FeedFollowers
	FeedEditor
}

// FeedFollowers tells who reads a feed: the operator's list, and the chats
// that added it themselves.
type FeedFollowers interface {
	FeedFollowers(ctx context.Context, feedURL string) ([]briefings.ChatRef, error)
	// ListSources is the operator's own list.
	ListSources(ctx context.Context) ([]briefings.Source, error)
}

// Resumer turns a deactivated subscription's deliveries back on
// (briefings.Service.Resume): only one a platform stopped, never one its chat
// unsubscribed.
type Resumer interface {
	Resume(ctx context.Context, chat briefings.ChatRef) (briefings.Subscription, bool, error)
}

// Options configure the panel.
type Options struct {
	// Token is NEWSBOT_ADMIN_TOKEN; New refuses an empty one.
	Token   string
	Store   Store
	Resumer Resumer
	// Poll runs a round of the poller now, fetching every due feed; nil
	// leaves a feed made due to the poller's next round.
	Poll func(ctx context.Context) error
	// SendLimits is each platform's bot-wide budget in messages per minute,
	// drawn on the deliveries chart.
	SendLimits map[briefings.Platform]float64
	// Location is the operator's zone: what "today" means. UTC when nil.
	Location *time.Location
	Now      func() time.Time // time.Now when nil
	Logger   *slog.Logger     // slog.Default() when nil
}

// Handler serves the panel under /admin/.
type Handler struct {
	opts     Options
	keys     keys
	failures *failures
	pages    map[string]*template.Template
	mux      *http.ServeMux
	csrf     *http.CrossOriginProtection
	polling  atomic.Bool
}

//go:embed templates/*.html static/*
var assets embed.FS

// New returns the panel.
func New(opts Options) (*Handler, error) {
	if opts.Token == "" {
		return nil, errors.New("admin: no token: the panel stays off unless NEWSBOT_ADMIN_TOKEN is set")
	}
	if opts.Store == nil || opts.Resumer == nil {
		return nil, errors.New("admin: a store and a resumer are needed")
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &Handler{opts: opts, keys: deriveKeys(opts.Token), failures: newFailures(), csrf: http.NewCrossOriginProtection()}
	if err := h.parseTemplates(); err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	h.routes()
	return h, nil
}

// Register mounts the panel on mux under /admin/.
func (h *Handler) Register(mux *http.ServeMux) { mux.Handle("/admin/", h) }

func (h *Handler) now() time.Time { return h.opts.Now() }

func (h *Handler) parseTemplates() error {
	layout, err := template.New("layout.html").Funcs(h.funcs()).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return err
	}
	h.pages = map[string]*template.Template{}
	for _, page := range []string{"login", "feeds", "feed", "stories", "subscriptions", "subscription", "deliveries"} {
		t, err := layout.Clone()
		if err == nil {
			_, err = t.ParseFS(assets, "templates/"+page+".html")
		}
		if err != nil {
			return fmt.Errorf("template %s: %w", page, err)
		}
		h.pages[page] = t
	}
	return nil
}

func (h *Handler) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(assets, "static")
	m.Handle("GET /admin/static/", http.StripPrefix("/admin/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /admin/login", h.loginForm)
	m.HandleFunc("POST /admin/login", h.login)
	m.HandleFunc("POST /admin/logout", h.authed(h.logout))
	m.HandleFunc("GET /admin/{$}", h.authed(func(w http.ResponseWriter, r *http.Request, v *view) {
		http.Redirect(w, r, "/admin/feeds", http.StatusSeeOther)
	}))
	m.HandleFunc("GET /admin/feeds", h.authed(h.feeds))
	m.HandleFunc("POST /admin/feeds", h.authed(h.addFeed))
	m.HandleFunc("GET /admin/feeds/{id}", h.authed(h.feed))
	m.HandleFunc("POST /admin/feeds/{id}/remove", h.authed(h.removeFeed))
	m.HandleFunc("POST /admin/feeds/{id}/fetch", h.authed(h.fetchFeed))
	m.HandleFunc("GET /admin/stories", h.authed(h.stories))
	m.HandleFunc("GET /admin/subscriptions", h.authed(h.subscriptions))
	m.HandleFunc("GET /admin/subscriptions/{id}", h.authed(h.subscription))
	m.HandleFunc("POST /admin/subscriptions/{id}/reactivate", h.authed(h.reactivate))
	m.HandleFunc("GET /admin/deliveries", h.authed(h.deliveries))
	h.mux = m
}

// ServeHTTP answers every request under /admin/ with the security headers,
// and refuses any cross-origin POST before it reaches a handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	if err := h.csrf.Check(r); err != nil {
		h.opts.Logger.Warn("admin: cross-origin request refused", "client", clientAddr(r), "path", r.URL.Path)
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// view is what every page template gets besides its own data.
type view struct {
	Title   string
	Nav     string // the section, for the navigation bar
	CSRF    string // empty for a script caller, which needs none
	Flash   string
	Error   string
	Now     time.Time
	Browser bool
	Data    any
}

// authed wraps a page or an action: anonymous browsers go to the login form,
// a wrong bearer token gets 401, and a POST with the session cookie must
// carry the session's CSRF token.
func (h *Handler) authed(fn func(http.ResponseWriter, *http.Request, *view)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddr(r)
		now := time.Now() // the failure budget runs on the real clock
		who, session, bad := h.authenticate(r)
		if bad {
			if blocked, wait := h.failures.blocked(addr, now); blocked {
				tooMany(w, wait)
				return
			}
			h.failures.fail(addr, now)
			h.opts.Logger.Warn("admin: wrong bearer token", "client", addr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="newsbot admin"`)
			http.Error(w, "wrong token", http.StatusUnauthorized)
			return
		}
		switch who {
		case anonymous:
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "log in first", http.StatusUnauthorized)
			return
		case browserSession:
			if r.Method == http.MethodPost && !h.keys.validCSRF(session, r.PostFormValue("csrf")) {
				h.opts.Logger.Warn("admin: form without this session's CSRF token refused", "client", addr, "path", r.URL.Path)
				http.Error(w, "this form has expired: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		v := &view{Now: h.now(), Browser: who == browserSession, Flash: flashes[r.URL.Query().Get("msg")]}
		if who == browserSession {
			v.CSRF = h.keys.csrfToken(session)
		}
		fn(w, r, v)
	}
}

func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
	http.Error(w, "too many wrong tokens from your address: wait a little", http.StatusTooManyRequests)
}

// flashes are the messages an action's redirect may show, by key, so a link
// cannot make the panel say anything else.
var flashes = map[string]string{
	"added":       "Feed added; it is being fetched now.",
	"known":       "That feed was already listed.",
	"removed":     "Feed removed. Its items stay, so adding it again brings back nothing old.",
	"fetching":    "The feed is due now and is being fetched.",
	"reactivated": "Deliveries are back on; the next one is at the subscription's time.",
	"loggedout":   "Logged out.",
}

// render writes a page, or an error page when it fails to execute.
func (h *Handler) render(w http.ResponseWriter, status int, page string, v *view) {
	var buf bytes.Buffer
	if err := h.pages[page].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		h.opts.Logger.Error("admin: render", "page", page, "err", err)
		http.Error(w, "the page could not be shown; the log says why", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail answers a request whose store read failed: the operator sees that it
// failed, the log says why.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, briefings.ErrNotFound) {
		http.Error(w, what+": not found", http.StatusNotFound)
		return
	}
	if r.Context().Err() != nil {
		return // the client went away
	}
	h.opts.Logger.Error("admin: "+what, "err", err)
	http.Error(w, what+" failed; the log says why", http.StatusInternalServerError)
}

// done ends an action: a browser is sent back to the page with a message;
// a script gets the status alone.
func done(w http.ResponseWriter, r *http.Request, v *view, status int, to, msg string) {
	if !v.Browser {
		w.WriteHeader(status)
		fmt.Fprintln(w, flashes[msg])
		return
	}
	http.Redirect(w, r, to+"?msg="+msg, http.StatusSeeOther)
}
