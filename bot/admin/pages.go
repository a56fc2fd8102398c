package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
)

// Page sizes: every page reads a bounded number of rows, whatever the store
// holds.
const (
	feedsPerPage         = 50
	feedItemsShown       = 50
	storiesShown         = 100
	subscriptionsPerPage = 50
	ledgerDaysShown      = 60
	retryQueueShown      = 100
	chartHours           = 3
	dueHorizon           = time.Hour
	pollTimeout          = 2 * time.Minute
)

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if who, _, _ := h.authenticate(r); who != anonymous {
		http.Redirect(w, r, "/admin/feeds", http.StatusSeeOther)
		return
	}
	h.render(w, http.StatusOK, "login", &view{Title: "Log in", Now: h.now(), Flash: flashes[r.URL.Query().Get("msg")]})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	addr := clientAddr(r)
	now := time.Now()
	if blocked, wait := h.failures.blocked(addr, now); blocked {
		tooMany(w, wait)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if !h.keys.tokenMatches(r.PostFormValue("token")) {
		h.failures.fail(addr, now)
		h.opts.Logger.Warn("admin: wrong token on the login form", "client", addr)
		h.render(w, http.StatusUnauthorized, "login", &view{Title: "Log in", Now: h.now(), Error: "That is not the admin token."})
		return
	}
	expires := time.Now().Add(sessionLifetime)
	h.setSessionCookie(w, h.keys.newSession(expires), expires)
	h.opts.Logger.Info("admin: logged in", "client", addr)
	http.Redirect(w, r, "/admin/feeds", http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, v *view) {
	h.clearSessionCookie(w)
	http.Redirect(w, r, "/admin/login?msg=loggedout", http.StatusSeeOther)
}

// feedRow is a feed as the feeds pages show it.
type feedRow struct {
	briefings.FeedStatus
	Shown     string // the URL with any password masked
	ErrorText string // the last error, the URL in it masked too
	Result    string // "ok", "not modified", "error", "never fetched"
	Followers []string
}

func (h *Handler) feedRows(ctx context.Context, fs []briefings.FeedStatus) ([]feedRow, error) {
	rows := make([]feedRow, len(fs))
	for i, f := range fs {
		rows[i] = feedRow{FeedStatus: f, Shown: briefings.RedactURL(f.URL), ErrorText: maskIn(f.LastError, f.URL), Result: resultText(f)}
	}
	listed, err := h.opts.Store.ListSources(ctx)
	if err != nil {
		return nil, err
	}
	operator := make(map[string]bool, len(listed))
	for _, src := range listed {
		operator[src.URL] = true
	}
	// A page shows a bounded number of feeds, each an indexed look-up.
	for i := range rows {
		if operator[rows[i].URL] {
			rows[i].Followers = append(rows[i].Followers, "operator")
		}
		chats, err := h.opts.Store.FeedFollowers(ctx, rows[i].URL)
		if err != nil {
			return nil, err
		}
		for _, c := range chats {
			rows[i].Followers = append(rows[i].Followers, c.String())
		}
	}
	return rows, nil
}

func resultText(f briefings.FeedStatus) string {
	switch {
	case f.LastError != "":
		return "error"
	case f.LastFetchedAt.IsZero():
		return "never fetched"
	case f.LastResult == briefings.FetchResultNotModified:
		return "not modified"
	}
	return "ok"
}

type feedsPage struct {
	Count       briefings.FeedCount
	Feeds       []feedRow
	FailingOnly bool
	Page        int
	Prev, Next  string // links, empty when there is no such page
	AddURL      string // what the add form was given, when it was refused
}

func (h *Handler) feeds(w http.ResponseWriter, r *http.Request, v *view) {
	h.renderFeeds(w, r, v, http.StatusOK, "")
}

func (h *Handler) renderFeeds(w http.ResponseWriter, r *http.Request, v *view, status int, addURL string) {
	ctx := r.Context()
	q := r.URL.Query()
	p := feedsPage{FailingOnly: q.Get("failing") == "1", Page: max(atoi(q.Get("page")), 1), AddURL: addURL}
	var err error
	if p.Count, err = h.opts.Store.CountFeeds(ctx); err != nil {
		h.fail(w, r, "count feeds", err)
		return
	}
	fs, err := h.opts.Store.FeedStatuses(ctx, briefings.FeedQuery{Now: v.Now, FailingOnly: p.FailingOnly,
		Limit: feedsPerPage + 1, Offset: (p.Page - 1) * feedsPerPage})
	if err != nil {
		h.fail(w, r, "list feeds", err)
		return
	}
	more := len(fs) > feedsPerPage
	fs = fs[:min(len(fs), feedsPerPage)]
	if p.Feeds, err = h.feedRows(ctx, fs); err != nil {
		h.fail(w, r, "feed followers", err)
		return
	}
	link := func(page int) string {
		q := url.Values{"page": {strconv.Itoa(page)}}
		if p.FailingOnly {
			q.Set("failing", "1")
		}
		return "/admin/feeds?" + q.Encode()
	}
	if p.Page > 1 {
		p.Prev = link(p.Page - 1)
	}
	if more {
		p.Next = link(p.Page + 1)
	}
	v.Title, v.Nav, v.Data = "Feeds", "feeds", p
	h.render(w, status, "feeds", v)
}

// feedByID is the feed the {id} of the path names.
func (h *Handler) feedByID(r *http.Request, now time.Time) (briefings.FeedStatus, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return briefings.FeedStatus{}, briefings.ErrNotFound
	}
	fs, err := h.opts.Store.FeedStatuses(r.Context(), briefings.FeedQuery{Now: now, ID: id, Limit: 1})
	if err != nil {
		return briefings.FeedStatus{}, err
	}
	if len(fs) == 0 {
		return briefings.FeedStatus{}, briefings.ErrNotFound
	}
	return fs[0], nil
}

type feedPage struct {
	Feed  feedRow
	Items []briefings.FeedItem
}

func (h *Handler) feed(w http.ResponseWriter, r *http.Request, v *view) {
	f, err := h.feedByID(r, v.Now)
	if err != nil {
		h.fail(w, r, "feed", err)
		return
	}
	rows, err := h.feedRows(r.Context(), []briefings.FeedStatus{f})
	if err != nil {
		h.fail(w, r, "feed followers", err)
		return
	}
	items, err := h.opts.Store.FeedItems(r.Context(), f.URL, feedItemsShown)
	if err != nil {
		h.fail(w, r, "feed items", err)
		return
	}
	v.Title, v.Nav, v.Data = rows[0].Shown, "feeds", feedPage{Feed: rows[0], Items: items}
	h.render(w, http.StatusOK, "feed", v)
}

func (h *Handler) addFeed(w http.ResponseWriter, r *http.Request, v *view) {
	raw := strings.TrimSpace(r.PostFormValue("url"))
	u, err := briefings.CheckFeedURL(raw)
	if err != nil {
		var refused *briefings.FeedRefusedError
		reason := "not a feed's address"
		if errors.As(err, &refused) {
			reason = refused.Reason
		}
		v.Error = "“" + bot.Clip(raw) + "”: " + reason + ". Give the feed's address, like https://example.com/feed.xml."
		if !v.Browser {
			http.Error(w, v.Error, http.StatusBadRequest)
			return
		}
		h.renderFeeds(w, r, v, http.StatusBadRequest, raw)
		return
	}
	raw = u.String()
	added, err := h.opts.Store.AddSource(r.Context(), raw)
	if err != nil {
		h.fail(w, r, "add feed", err)
		return
	}
	if !added {
		done(w, r, v, http.StatusOK, "/admin/feeds", "known")
		return
	}
	h.opts.Logger.Info("admin: feed added", "feed", briefings.RedactURL(raw), "client", clientAddr(r))
	h.pollNow() // a new feed is due at once
	done(w, r, v, http.StatusCreated, "/admin/feeds", "added")
}

func (h *Handler) removeFeed(w http.ResponseWriter, r *http.Request, v *view) {
	f, err := h.feedByID(r, v.Now)
	if err != nil {
		h.fail(w, r, "remove feed", err)
		return
	}
	if err := h.opts.Store.RemoveSource(r.Context(), f.URL); err != nil {
		h.fail(w, r, "remove feed", err)
		return
	}
	h.opts.Logger.Info("admin: feed removed", "feed", briefings.RedactURL(f.URL), "client", clientAddr(r))
	done(w, r, v, http.StatusOK, "/admin/feeds", "removed")
}

func (h *Handler) fetchFeed(w http.ResponseWriter, r *http.Request, v *view) {
	f, err := h.feedByID(r, v.Now)
	if err != nil {
		h.fail(w, r, "fetch feed", err)
		return
	}
	if err := h.opts.Store.ScheduleFetch(r.Context(), f.URL, v.Now); err != nil {
		h.fail(w, r, "fetch feed", err)
		return
	}
	h.opts.Logger.Info("admin: feed fetched now", "feed", briefings.RedactURL(f.URL), "client", clientAddr(r))
	h.pollNow()
	done(w, r, v, http.StatusAccepted, "/admin/feeds/"+strconv.FormatInt(f.ID, 10), "fetching")
}

// pollNow runs a poller round in the background, one at a time: feeds made
// due while one runs are fetched by the poller's next round.
func (h *Handler) pollNow() {
	if h.opts.Poll == nil || !h.polling.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer h.polling.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), pollTimeout)
		defer cancel()
		if err := h.opts.Poll(ctx); err != nil {
			h.opts.Logger.Error("admin: poll now", "err", err)
		}
	}()
}

type storiesPage struct {
	Since   time.Time
	Stories []storyRow
	Capped  bool
}

type storyRow struct {
	briefings.Story
	Outlets int
	Spread  time.Duration // between the first and the last item's publication
}

func (h *Handler) stories(w http.ResponseWriter, r *http.Request, v *view) {
	since := startOfDay(v.Now, h.opts.Location)
	stories, err := h.opts.Store.RecentStories(r.Context(), since, storiesShown+1)
	if err != nil {
		h.fail(w, r, "today's stories", err)
		return
	}
	p := storiesPage{Since: since, Capped: len(stories) > storiesShown}
	for _, st := range stories[:min(len(stories), storiesShown)] {
		row := storyRow{Story: st, Outlets: st.Outlets()}
		if n := len(st.Items); n > 1 {
			row.Spread = st.Items[n-1].Published.Sub(st.Items[0].Published)
		}
		p.Stories = append(p.Stories, row)
	}
	v.Title, v.Nav, v.Data = "Today's stories", "stories", p
	h.render(w, http.StatusOK, "stories", v)
}

type subscriptionsPage struct {
	Totals    []briefings.SubscriptionTotal
	Platform  briefings.Platform
	State     briefings.SubscriptionState
	States    []briefings.SubscriptionState
	ChatID    string
	Rows      []briefings.SubscriptionRow
	Next      string
	DueBefore time.Time
	DueCap    int
}

func (h *Handler) subscriptions(w http.ResponseWriter, r *http.Request, v *view) {
	ctx := r.Context()
	q := r.URL.Query()
	p := subscriptionsPage{
		Platform: briefings.Platform(q.Get("platform")), State: briefings.SubscriptionState(q.Get("state")),
		ChatID: strings.TrimSpace(q.Get("chat")), DueBefore: v.Now.Add(dueHorizon), DueCap: briefings.DueSoonCountCap,
		States: []briefings.SubscriptionState{briefings.SubscriptionsActive, briefings.SubscriptionsDeactivated, briefings.SubscriptionsDueSoon},
	}
	if !slices.Contains(p.States, p.State) {
		p.State = briefings.SubscriptionsActive
	}
	var err error
	if p.Totals, err = h.opts.Store.SubscriptionTotals(ctx, p.DueBefore); err != nil {
		h.fail(w, r, "count subscriptions", err)
		return
	}
	if p.Platform == "" && len(p.Totals) > 0 {
		p.Platform = p.Totals[0].Platform
	}
	query := briefings.SubscriptionQuery{Platform: p.Platform, State: p.State, DueBefore: p.DueBefore,
		AfterID: int64(atoi(q.Get("after"))), Limit: subscriptionsPerPage + 1}
	if p.ChatID != "" {
		// A search looks at every platform and state.
		query = briefings.SubscriptionQuery{ChatID: p.ChatID, Limit: subscriptionsPerPage + 1}
	}
	rows, err := h.opts.Store.ListSubscriptions(ctx, query)
	if err != nil {
		h.fail(w, r, "list subscriptions", err)
		return
	}
	if len(rows) > subscriptionsPerPage {
		rows = rows[:subscriptionsPerPage]
		if p.State != briefings.SubscriptionsDueSoon && p.ChatID == "" {
			p.Next = "/admin/subscriptions?" + url.Values{"platform": {string(p.Platform)}, "state": {string(p.State)},
				"after": {strconv.FormatInt(rows[len(rows)-1].ID, 10)}}.Encode()
		}
	}
	p.Rows = rows
	v.Title, v.Nav, v.Data = "Subscriptions", "subscriptions", p
	h.render(w, http.StatusOK, "subscriptions", v)
}

type subscriptionPage struct {
	Sub         briefings.SubscriptionRow
	Resumable   bool
	Ledger      []briefings.Delivery
	NextDueHere time.Time // in the subscription's own zone
}

func (h *Handler) subscriptionByID(r *http.Request) (briefings.SubscriptionRow, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return briefings.SubscriptionRow{}, briefings.ErrNotFound
	}
	return h.opts.Store.SubscriptionByID(r.Context(), id)
}

func (h *Handler) subscription(w http.ResponseWriter, r *http.Request, v *view) {
	h.renderSubscription(w, r, v, http.StatusOK)
}

func (h *Handler) renderSubscription(w http.ResponseWriter, r *http.Request, v *view, status int) {
	sub, err := h.subscriptionByID(r)
	if err != nil {
		h.fail(w, r, "subscription", err)
		return
	}
	ledger, err := h.opts.Store.DeliveryHistory(r.Context(), sub.ID, ledgerDaysShown)
	if err != nil {
		h.fail(w, r, "delivery ledger", err)
		return
	}
	p := subscriptionPage{Sub: sub, Resumable: !sub.Active && sub.LastError != "", Ledger: ledger}
	p.NextDueHere = sub.NextDue.In(sub.Zone.Location())
	v.Title, v.Nav, v.Data = sub.Chat.String(), "subscriptions", p
	h.render(w, status, "subscription", v)
}

func (h *Handler) reactivate(w http.ResponseWriter, r *http.Request, v *view) {
	sub, err := h.subscriptionByID(r)
	if err != nil {
		h.fail(w, r, "reactivate", err)
		return
	}
	to := "/admin/subscriptions/" + strconv.FormatInt(sub.ID, 10)
	_, resumed, err := h.opts.Resumer.Resume(r.Context(), sub.Chat)
	if err != nil {
		h.fail(w, r, "reactivate", err)
		return
	}
	if !resumed {
		v.Error = "Nothing to reactivate: the subscription is active, or its chat unsubscribed itself, and only the chat can subscribe again."
		if !v.Browser {
			http.Error(w, v.Error, http.StatusConflict)
			return
		}
		h.renderSubscription(w, r, v, http.StatusConflict)
		return
	}
	h.opts.Logger.Info("admin: subscription reactivated", "chat", sub.Chat.String(), "client", clientAddr(r))
	done(w, r, v, http.StatusOK, to, "reactivated")
}

type deliveriesPage struct {
	Since  time.Time
	Counts []briefings.DeliveryCount
	Total  int
	Charts []chart
	Queue  []briefings.RetryEntry
}

func (h *Handler) deliveries(w http.ResponseWriter, r *http.Request, v *view) {
	ctx := r.Context()
	p := deliveriesPage{Since: startOfDay(v.Now, h.opts.Location)}
	var err error
	if p.Counts, err = h.opts.Store.CountDeliveries(ctx, p.Since); err != nil {
		h.fail(w, r, "count deliveries", err)
		return
	}
	for _, c := range p.Counts {
		p.Total += c.Count
	}
	end := v.Now.UTC().Truncate(time.Minute).Add(time.Minute)
	start := end.Add(-chartHours * time.Hour)
	sends, err := h.opts.Store.SendsPerMinute(ctx, start)
	if err != nil {
		h.fail(w, r, "sends per minute", err)
		return
	}
	p.Charts = sendCharts(sends, h.opts.SendLimits, start, end, h.opts.Location)
	if p.Queue, err = h.opts.Store.RetryQueue(ctx, v.Now, retryQueueShown); err != nil {
		h.fail(w, r, "retry queue", err)
		return
	}
	v.Title, v.Nav, v.Data = "Deliveries", "deliveries", p
	h.render(w, http.StatusOK, "deliveries", v)
}

// startOfDay is the first instant of now's date in loc.
func startOfDay(now time.Time, loc *time.Location) time.Time {
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// maskIn masks the password of raw wherever text quotes it.
func maskIn(text, raw string) string {
	if masked := briefings.RedactURL(raw); masked != raw && raw != "" {
		text = strings.ReplaceAll(text, raw, masked)
	}
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			text = strings.ReplaceAll(text, pw, "xxxxx")
		}
	}
	return text
}
