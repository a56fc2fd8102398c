package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/newsbot/newsbot/bot/telegram/telegramtest"
	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/sqlite"
	"github.com/newsbot/newsbot/briefings/storetest"
)

const (
	adminToken = "e2e-ADMIN-token-4f9c2b7a1d"
	// adminScreenshotEnv names a file the feeds page's screenshot is also
	// written to (the README's docs/admin-feeds.png).
	adminScreenshotEnv = "NEWSBOT_ADMIN_SCREENSHOT"
)

const panelFeed = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Harbour Gazette</title><link>http://gazette.test/</link>
<item><title>Harbour plan approved after long debate</title><link>http://gazette.test/harbour</link>
<pubDate>Fri, 11 Jul 2025 09:00:00 +0000</pubDate>
<description>The council approved the new harbour plan on Friday after a long debate, officials said.</description></item>
<item><title>Volunteers plant four hundred trees</title><link>http://gazette.test/trees</link>
<pubDate>Fri, 11 Jul 2025 10:00:00 +0000</pubDate>
<description>Volunteers planted four hundred trees along the river on Friday morning, organisers said.</description></item>
</channel></rss>`

const addedFeed = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>River Times</title><link>http://river.test/</link>
<item><title>Ferry timetable changes on Monday</title><link>http://river.test/ferry</link>
<pubDate>Fri, 11 Jul 2025 11:00:00 +0000</pubDate>
<description>The river ferry will run every twenty minutes from Monday, the operator said on Friday.</description></item>
</channel></rss>`

// chromium finds Debian's Chromium, or skips the test saying so.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium installed: skipping the browser tests (apt-get install chromium; .ci/run installs it)")
	return ""
}

// browser starts a headless Chromium with a fresh profile for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 640),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// seedDeactivated stores a Telegram chat whose delivery found the bot
// blocked, deactivated as the delivery queue deactivates it, before the bot
// starts on the store.
func seedDeactivated(t *testing.T, path string) {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	sub, err := db.SaveSubscription(ctx, briefings.Subscription{Chat: briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "2002"},
		At: 7*60 + 30, Zone: storetest.Zone("Europe/Berlin"), Active: true, NextDue: now.Add(-time.Minute), CreatedAt: now.Add(-72 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimDue(ctx, briefings.ClaimRequest{Owner: "seed", Platform: briefings.PlatformTelegram, Now: now, LeaseUntil: now.Add(time.Minute), Limit: 1}); err != nil {
		t.Fatal(err)
	}
	const reason = "the bot was blocked by the user"
	if err := db.FinishDelivery(ctx, "seed", briefings.DeliveryResult{SubscriptionID: sub.ID, LocalDate: briefings.LocalDate(now, time.UTC), Due: sub.NextDue,
		State: briefings.DeliveryGone, Error: reason, NextDue: now.Add(24 * time.Hour), FinishedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := briefings.NewService(db, briefings.Options{}).Deactivate(ctx, sub.Chat, reason); err != nil {
		t.Fatal(err)
	}
}

// TestAdminPanelInBrowser drives the operator's panel in Chromium against the
// whole bot: log in, see the failing feed marked with its error, add a feed
// and see it listed, reactivate a deactivated subscription; a screenshot of
// each page is kept, and no page shows a token, a secret or the webhook URL.
func TestAdminPanelInBrowser(t *testing.T) {
	ctx := browser(t)

	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream exploded", http.StatusInternalServerError)
	}))
	t.Cleanup(broken.Close)
	brokenURL := broken.URL + "/broken.xml"
	working := serveFeed(t, panelFeed)
	extra := serveFeed(t, addedFeed)

	tg := newTelegramFake(t, telegramtest.Options{})
	addr := freeAddr(t)
	// The session cookie is Secure: Chromium keeps it over plain HTTP on
	// loopback addresses only, as here.
	base := "http://" + addr
	env := tgEnv(t, tg)
	seedDeactivated(t, env["DATABASE_URL"])
	const webhookSecret = "e2e-webhook-SECRET-77"
	webhookURL := base + "/telegram/webhook-" + "e2e-path-secret"
	env["NEWSBOT_HTTP_ADDR"] = addr
	env["NEWSBOT_ADMIN_TOKEN"] = adminToken
	env["NEWSBOT_FEEDS"] = brokenURL + "," + working
	env["NEWSBOT_ALLOW_PRIVATE_FEEDS"] = "true"
	env["TELEGRAM_WEBHOOK_URL"] = webhookURL
	env["TELEGRAM_WEBHOOK_SECRET"] = webhookSecret
	logs := startTelegramMain(t, env)
	get(t, "http://"+addr+"/healthz") // the listener is up

	shots, err := os.MkdirTemp("", "newsbot-admin-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
	var pages []string // every page's HTML, checked for secrets at the end
	// shoot keeps the page's HTML, checked for secrets at the end, and a
	// screenshot of it.
	shoot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			html, err := chromedp.OuterHTML(chromedp.CSS("html"))(ctx, tg)
			if err != nil {
				return err
			}
			pages = append(pages, html)
			png, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		})
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v\nlogs:\n%s", what, err, logs)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	// Logging in: an anonymous visit lands on the form.
	do("open the panel", chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(css(`#token`)), shoot("login"))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/admin/login") {
		t.Errorf("an anonymous visit ended at %s, want the login form", loc)
	}
	do("a wrong token", chromedp.SendKeys(css(`#token`), "not-the-token"), chromedp.Submit(css(`#token`)), chromedp.WaitVisible(css(`.problem`)))
	if problem := text(`.problem`); !strings.Contains(problem, "not the admin token") {
		t.Errorf("a wrong token says %q", problem)
	}
	do("log in", chromedp.SendKeys(css(`#token`), adminToken), chromedp.Submit(css(`#token`)), chromedp.WaitVisible(css(`table.feeds`)), shoot("feeds"))
	if failing := text(`tr.failing`); !strings.Contains(failing, "error") || !strings.Contains(failing, "HTTP 500") || !strings.Contains(failing, broken.Listener.Addr().String()) {
		t.Errorf("the failing feed's row reads %q; want it marked error with its HTTP 500", failing)
	}
	if p := os.Getenv(adminScreenshotEnv); p != "" {
		png, _ := os.ReadFile(filepath.Join(shots, "feeds.png"))
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Adding a feed: it is listed, and fetched at once (its title shows).
	do("add a feed", chromedp.SendKeys(css(`#url`), extra), chromedp.Submit(css(`#url`)), chromedp.WaitVisible(css(`.flash`)))
	if flash := text(`.flash`); !strings.Contains(flash, "Feed added") {
		t.Errorf("after adding, the page says %q", flash)
	}
	var table string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		do("reload the feeds", chromedp.Navigate(base+"/admin/feeds"), chromedp.WaitVisible(css(`table.feeds`)))
		if table = text(`table.feeds`); strings.Contains(table, "River Times") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(table, strings.TrimPrefix(extra, "http://")) || !strings.Contains(table, "River Times") {
		t.Errorf("the added feed is not listed with its title:\n%s", table)
	}

	// A feed's page: its items and the stories they joined.
	do("open a feed", chromedp.Click(chromedp.Search(`//a[text()="Harbour Gazette"]`)), chromedp.WaitVisible(css(`table`)), shoot("feed"))
	if items := text(`main`); !strings.Contains(items, "Harbour plan approved after long debate") || !strings.Contains(items, "Recent items") {
		t.Errorf("the feed's page lacks its items:\n%s", items)
	}
	do("today's stories", chromedp.Navigate(base+"/admin/stories"), chromedp.WaitVisible(css(`main h1`)), shoot("stories"))

	// Reactivating the blocked chat's subscription.
	do("find the deactivated subscription",
		chromedp.Navigate(base+"/admin/subscriptions?platform=telegram&state=deactivated"),
		chromedp.WaitVisible(css(`table.subs`)),
		shoot("subscriptions"),
		chromedp.Click(css(`table.subs tbody a`)),
		chromedp.WaitVisible(css(`table.ledger`)),
		shoot("subscription"),
	)
	if state := text(`dl.facts`); !strings.Contains(state, "deactivated") || !strings.Contains(state, "the bot was blocked by the user") || !strings.Contains(state, "since") {
		t.Errorf("the subscription reads %q; want deactivated with its reason and since when", state)
	}
	do("reactivate", chromedp.Click(chromedp.Search(`//button[text()="Reactivate"]`)), chromedp.WaitVisible(css(`.flash`)))
	if flash, state := text(`.flash`), text(`dl.facts`); !strings.Contains(flash, "Deliveries are back on") || !strings.Contains(state, "active") || strings.Contains(state, "deactivated") {
		t.Errorf("after reactivating: %q / %q", flash, state)
	}
	do("deliveries", chromedp.Navigate(base+"/admin/deliveries"), chromedp.WaitVisible(css(`main h1`)), shoot("deliveries"))

	for _, html := range pages {
		for _, secret := range []string{adminToken, tgTokenSecret, webhookSecret, "e2e-path-secret"} {
			if strings.Contains(html, secret) {
				t.Errorf("a page shows a secret (%.6s…)", secret)
			}
		}
	}
	for _, secret := range []string{adminToken, webhookSecret} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the logs show a secret (%.6s…)", secret)
		}
	}
}

// TestAdminPanelOffWithoutToken: with no NEWSBOT_ADMIN_TOKEN there is no
// /admin/ at all.
func TestAdminPanelOffWithoutToken(t *testing.T) {
	tg := newTelegramFake(t, telegramtest.Options{})
	addr := freeAddr(t)
	env := tgEnv(t, tg)
	env["NEWSBOT_HTTP_ADDR"] = addr
	startTelegramMain(t, env)
	get(t, "http://"+addr+"/healthz")
	for _, path := range []string{"/admin/", "/admin/login", "/admin/feeds"} {
		if code, _ := get(t, "http://"+addr+path); code != http.StatusNotFound {
			t.Errorf("%s without a token: %d, want 404", path, code)
		}
	}
}
