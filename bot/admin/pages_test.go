package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/sqlite"
	"github.com/newsbot/newsbot/briefings/storetest"
)

const (
	okFeed     = "https://feeds.example.org/world.xml"
	secretFeed = "https://reader:hunter2-feed-password@private.example.org/feed.xml"
)

// seed stores a working feed with an item, a failing one whose address holds
// a password, a story, an active and a deactivated subscription, a pending
// delivery and a few sends.
func seed(t testing.TB, db *sqlite.DB) (active, gone briefings.Subscription) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	for _, u := range []string{okFeed, secretFeed} {
		if _, err := db.AddSource(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	must(t, db.SaveSourceState(ctx, briefings.Source{URL: okFeed, Title: "World News", LastFetchedAt: now.Add(-time.Minute), NextFetchAt: now.Add(9 * time.Minute)}))
	must(t, db.RecordFetchResult(ctx, okFeed, briefings.FetchResultNotModified))
	must(t, db.SaveSourceState(ctx, briefings.Source{URL: secretFeed, LastFetchedAt: now.Add(-time.Minute), Failures: 4,
		LastError: "fetch " + secretFeed + ": HTTP 503: service unavailable", NextFetchAt: now.Add(80 * time.Minute)}))
	must(t, db.RecordFetchResult(ctx, secretFeed, briefings.FetchResultError))
	item := func(outlet, title string) briefings.Item {
		return briefings.Item{FeedURL: okFeed, GUID: title, Link: "https://www." + strings.ToLower(strings.ReplaceAll(outlet, " ", "")) + ".example/" + url.PathEscape(title), Title: title,
			Text: title + " happened today in the capital.", Outlet: outlet, Published: now.Add(-time.Hour)}
	}
	if _, err := db.SaveStories(ctx, []briefings.StoryChange{{Headline: "Ministers agree on <budget> & more", Summary: []string{"The ministers agreed on the budget."},
		FirstSeen: now.Add(-time.Hour), Updated: now.Add(-time.Hour),
		NewItems: []briefings.Item{item("Example Times", "Ministers agree on budget"), item("Daily Example", "Budget deal reached by ministers")}}}); err != nil {
		t.Fatal(err)
	}
	save := func(id string) briefings.Subscription {
		sub, err := db.SaveSubscription(ctx, briefings.Subscription{Chat: briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: id},
			At: 7 * 60, Zone: storetest.Zone("Europe/Berlin"), Active: true, NextDue: now.Add(-time.Minute), CreatedAt: now.Add(-72 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return sub
	}
	active, gone = save("1001"), save("-1002")
	if _, err := db.ClaimDue(ctx, briefings.ClaimRequest{Owner: "me", Platform: briefings.PlatformTelegram, Now: now, LeaseUntil: now.Add(time.Hour), Limit: 10}); err != nil {
		t.Fatal(err)
	}
	today := briefings.LocalDate(now, time.UTC)
	if _, _, err := db.StartDelivery(ctx, "me", briefings.Delivery{SubscriptionID: active.ID, LocalDate: today, Due: active.NextDue,
		ComposedAt: now, State: briefings.DeliveryPending, CreatedAt: now, Briefing: briefings.Briefing{Entries: []briefings.Entry{{StoryID: 1, Headline: "x"}}}}); err != nil {
		t.Fatal(err)
	}
	must(t, db.RecordProgress(ctx, "me", active.ID, today, 1))
	const reason = "the bot was blocked by the user"
	must(t, db.FinishDelivery(ctx, "me", briefings.DeliveryResult{SubscriptionID: gone.ID, LocalDate: today, Due: gone.NextDue,
		State: briefings.DeliveryGone, Error: reason, NextDue: now.Add(24 * time.Hour), FinishedAt: now}))
	if err := briefings.NewService(db, briefings.Options{}).Deactivate(ctx, gone.Chat, reason); err != nil {
		t.Fatal(err)
	}
	return active, gone
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestPagesShowWhatTheStoreKnows(t *testing.T) {
	db := openStore(t)
	active, gone := seed(t, db)
	p := newPanel(t, db)
	c := p.client(t)
	c.login()

	pages := map[string]string{}
	for _, path := range []string{"/admin/feeds", "/admin/feeds?failing=1", "/admin/stories", "/admin/subscriptions",
		"/admin/subscriptions?platform=telegram&state=deactivated", "/admin/subscriptions?chat=-1002",
		"/admin/subscriptions/" + itoa(gone.ID), "/admin/deliveries"} {
		resp, body := c.get(path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s\n%s", path, resp.Status, body)
		}
		pages[path] = body
	}
	feeds := pages["/admin/feeds"]
	for _, want := range []string{"2 feeds", "1 failing", "World News", "not modified", "HTTP 503: service unavailable", "operator"} {
		if !strings.Contains(feeds, want) {
			t.Errorf("feeds page lacks %q", want)
		}
	}
	if i, j := strings.Index(feeds, "private.example.org"), strings.Index(feeds, "World News"); i < 0 || i > j {
		t.Error("the failing feed is not listed first")
	}
	if !regexp.MustCompile(`(?s)<tr class="failing">.*HTTP 503`).MatchString(feeds) {
		t.Error("the failing feed's row is not marked failing with its error")
	}
	if strings.Contains(pages["/admin/feeds?failing=1"], "World News") {
		t.Error("the failing-only list shows a working feed")
	}
	stories := pages["/admin/stories"]
	for _, want := range []string{"Ministers agree on &lt;budget&gt; &amp; more", "2 outlets", "Example Times", "Daily Example", "The ministers agreed on the budget."} {
		if !strings.Contains(stories, want) {
			t.Errorf("stories page lacks %q", want)
		}
	}
	subs := pages["/admin/subscriptions"]
	if !strings.Contains(subs, "telegram") || !strings.Contains(subs, "telegram:1001") {
		t.Errorf("subscriptions page lacks the platform's active subscription")
	}
	deact := pages["/admin/subscriptions?platform=telegram&state=deactivated"]
	if !strings.Contains(deact, "telegram:-1002") || !strings.Contains(deact, "the bot was blocked by the user") || !strings.Contains(deact, "since") {
		t.Errorf("deactivated list lacks the chat, its reason or since when:\n%s", deact)
	}
	if !strings.Contains(pages["/admin/subscriptions?chat=-1002"], "telegram:-1002") {
		t.Error("search by chat id did not find it")
	}
	sub := pages["/admin/subscriptions/"+itoa(gone.ID)]
	for _, want := range []string{"Reactivate", "gone", "the bot was blocked by the user", "07:00 Europe/Berlin"} {
		if !strings.Contains(sub, want) {
			t.Errorf("subscription page lacks %q", want)
		}
	}
	deliveries := pages["/admin/deliveries"]
	for _, want := range []string{"<svg", `class="bar"`, `class="limit"`, "budget 1800/min", "telegram:1001", "pending", "gone"} {
		if !strings.Contains(deliveries, want) {
			t.Errorf("deliveries page lacks %q", want)
		}
	}

	// Nothing secret on any page, nor in the log: not the token, not a
	// feed's password.
	for path, body := range pages {
		for _, secret := range []string{testToken, "hunter2-feed-password"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s shows a secret", path)
			}
		}
	}
	if !strings.Contains(feeds, "reader:xxxxx@private.example.org") {
		t.Error("the feed with a password is not shown masked")
	}

	// Reactivate brings the deactivated subscription back, and says so.
	resp, _ := c.post("/admin/subscriptions/"+itoa(gone.ID)+"/reactivate", url.Values{"csrf": {c.csrf()}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reactivate: %s", resp.Status)
	}
	back, err := db.SubscriptionByID(t.Context(), gone.ID)
	if err != nil || !back.Active || back.LastError != "" || !back.NextDue.After(time.Now()) {
		t.Errorf("after reactivate: %+v, %v; want active, no error, due later", back, err)
	}
	if _, body := c.get(resp.Header.Get("Location")); !strings.Contains(body, "Deliveries are back on") || strings.Contains(body, "Reactivate</button>") ||
		!strings.Contains(body, back.NextDue.In(berlin(t)).Format("2006-01-02 15:04 MST")+" for the chat") {
		t.Error("the subscription page does not say it was reactivated")
	}
	// An active subscription has nothing to reactivate.
	if resp, _ := c.post("/admin/subscriptions/"+itoa(active.ID)+"/reactivate", url.Values{"csrf": {c.csrf()}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("reactivating an active subscription: %s; want 409", resp.Status)
	}

	// Fetch now makes the feed due and polls.
	fs, _ := db.FeedStatuses(t.Context(), briefings.FeedQuery{Now: time.Now(), FailingOnly: true, Limit: 1})
	resp, _ = c.post("/admin/feeds/"+itoa(fs[0].ID)+"/fetch", url.Values{"csrf": {c.csrf()}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("fetch now: %s", resp.Status)
	}
	if again, _ := db.FeedStatuses(t.Context(), briefings.FeedQuery{Now: time.Now(), ID: fs[0].ID, Limit: 1}); again[0].NextFetchAt.After(time.Now()) {
		t.Errorf("after fetch now the feed is due at %v", again[0].NextFetchAt)
	}
	select {
	case <-p.polled:
	case <-time.After(5 * time.Second):
		t.Error("fetch now did not poll")
	}
	// Remove takes it off the list.
	resp, _ = c.post("/admin/feeds/"+itoa(fs[0].ID)+"/remove", url.Values{"csrf": {c.csrf()}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %s", resp.Status)
	}
	if srcs, _ := db.ListSources(t.Context()); len(srcs) != 1 || srcs[0].URL != okFeed {
		t.Errorf("after remove: %v", srcs)
	}
	if resp, _ := c.get("/admin/feeds/" + itoa(fs[0].ID)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a removed feed's page: %s; want 404", resp.Status)
	}
	if logs := p.logs.String(); strings.Contains(logs, testToken) || strings.Contains(logs, "hunter2-feed-password") {
		t.Errorf("the log shows a secret:\n%s", logs)
	}
}

func TestFetchResultsAreRecorded(t *testing.T) {
	db := openStore(t)
	ctx := t.Context()
	for _, u := range []string{"https://a.example/feed", "https://b.example/feed", "https://c.example/feed"} {
		db.AddSource(ctx, u)
	}
	f := RecordFetches(fakeFetcher{}, db, nil)
	for _, u := range []string{"https://a.example/feed", "https://b.example/feed", "https://c.example/feed"} {
		f.Fetch(ctx, briefings.Source{URL: u})
	}
	fs, err := db.FeedStatuses(ctx, briefings.FeedQuery{Now: time.Now(), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range fs {
		got[s.URL] = s.LastResult
	}
	want := map[string]string{"https://a.example/feed": "ok", "https://b.example/feed": "not_modified", "https://c.example/feed": "error"}
	for u, w := range want {
		if got[u] != w {
			t.Errorf("%s: result %q, want %q", u, got[u], w)
		}
	}
}

type fakeFetcher struct{}

func (fakeFetcher) Fetch(ctx context.Context, src briefings.Source) (briefings.FetchResult, error) {
	switch {
	case strings.Contains(src.URL, "b."):
		return briefings.FetchResult{NotModified: true}, nil
	case strings.Contains(src.URL, "c."):
		return briefings.FetchResult{}, errors.New("connection refused")
	}
	return briefings.FetchResult{}, nil
}

func TestChartDrawsSendsAgainstTheBudget(t *testing.T) {
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	end := start.Add(3 * time.Hour)
	sends := []briefings.SendCount{
		{Platform: briefings.PlatformTelegram, Minute: start, Sends: 900},
		{Platform: briefings.PlatformTelegram, Minute: start.Add(90 * time.Minute), Sends: 1800},
		{Platform: briefings.PlatformTelegram, Minute: start.Add(-time.Minute), Sends: 5}, // outside the window
		{Platform: briefings.PlatformDiscord, Minute: start.Add(time.Minute), Sends: 10},
	}
	charts := sendCharts(sends, map[briefings.Platform]float64{briefings.PlatformTelegram: 1800}, start, end, time.UTC)
	if len(charts) != 2 || charts[0].Platform != briefings.PlatformDiscord || charts[1].Platform != briefings.PlatformTelegram {
		t.Fatalf("charts for %v", charts)
	}
	tg := charts[1]
	if len(tg.Bars) != 2 || tg.Total != 2700 || tg.Peak != 1800 || !tg.PeakAt.Equal(start.Add(90*time.Minute)) {
		t.Errorf("telegram chart: %d bars, total %d, peak %d at %v", len(tg.Bars), tg.Total, tg.Peak, tg.PeakAt)
	}
	// The peak at the budget reaches the budget's line; half of it, half as high.
	if tg.Bars[1].Y != tg.LimitY || tg.Bars[0].H*2 != tg.Bars[1].H {
		t.Errorf("bars %+v against the budget line at %v", tg.Bars, tg.LimitY)
	}
	if tg.Bars[1].X <= tg.Bars[0].X || tg.Bars[1].X+tg.Bars[1].W > chartWidth-chartRight {
		t.Errorf("bars out of place: %+v", tg.Bars)
	}
	if len(tg.XTicks) != 7 || tg.XTicks[0].Label != "09:00" || tg.XTicks[1].Label != "09:30" {
		t.Errorf("x ticks %+v; want every half hour from 09:00", tg.XTicks)
	}
	if charts[0].Limit != 0 || charts[0].LimitY != 0 {
		t.Error("a platform with no known budget drew one")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func berlin(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// A feed a chat added itself is listed with the chats that follow it; the
// operator's own feed says so.
func TestFeedsShowWhoFollowsThem(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	const operatorFeed, chatFeed = "https://operator.example.org/feed.xml", "https://club.example.org/rss"
	if _, err := db.AddSource(ctx, operatorFeed); err != nil {
		t.Fatal(err)
	}
	chat := briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "-100777"}
	if _, err := db.FollowSource(ctx, chat, briefings.Source{URL: chatFeed, Title: "Club news"}, briefings.SourceLimits{PerChat: 5, Feeds: 10}); err != nil {
		t.Fatal(err)
	}
	c := newPanel(t, db).client(t)
	c.login()
	_, body := c.get("/admin/feeds")
	row := func(url string) string {
		i := strings.Index(body, url)
		if i < 0 {
			t.Fatalf("feeds page does not list %s", url)
		}
		j := strings.Index(body[i:], "</tr>")
		return body[i : i+j]
	}
	if r := row(chatFeed); !strings.Contains(r, chat.String()) || strings.Contains(r, "operator") {
		t.Errorf("the chat's feed row does not name its follower alone: %s", r)
	}
	if r := row(operatorFeed); !strings.Contains(r, "operator") {
		t.Errorf("the operator's feed row does not say operator: %s", r)
	}
}
