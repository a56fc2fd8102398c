package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsbot/newsbot/bot/app"
	"github.com/newsbot/newsbot/bot/app/config"
	"github.com/newsbot/newsbot/bot/discord/discordtest"
	"github.com/newsbot/newsbot/bot/telegram/telegramtest"
)

// runningClock is the bot's domain clock in the delivery tests: it runs at
// the pace of real time (the delivery queue waits out retry_after and
// back-offs in real time) from a chosen instant, and the test moves it past
// a due time with JumpTo.
type runningClock struct{ offset atomic.Int64 }

func newRunningClock(start time.Time) *runningClock {
	c := &runningClock{}
	c.JumpTo(start)
	return c
}

func (c *runningClock) Now() time.Time {
	return time.Now().Add(time.Duration(c.offset.Load())).UTC()
}

// JumpTo sets the clock to t; it keeps running from there.
func (c *runningClock) JumpTo(t time.Time) { c.offset.Store(int64(time.Until(t))) }

// startMainWithClock runs the whole bot on clock until the test ends; the
// test fails if Run fails.
func startMainWithClock(t *testing.T, env map[string]string, clock func() time.Time) (*app.Main, *lockedBuffer) {
	t.Helper()
	cfg, err := config.Parse(env)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	m := app.NewMain(cfg, strings.NewReader(""), io.Discard, logs)
	m.Now = clock
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v\nlogs:\n%s", err, logs)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("Run did not return after its context ended\nlogs:\n%s", logs)
		}
		if err := m.Close(); err != nil {
			t.Error(err)
		}
		if strings.Contains(logs.String(), tgTokenSecret) {
			t.Errorf("the logs show the token:\n%s", logs)
		}
	})
	return m, logs
}

// briefings returns the daily or on-demand briefings among a chat's
// messages.
func briefingsIn(msgs []telegramtest.SentMessage) []telegramtest.SentMessage {
	var out []telegramtest.SentMessage
	for _, m := range msgs {
		if strings.HasPrefix(m.PlainText, "News briefing") {
			out = append(out, m)
		}
	}
	return out
}

// checkTelegramBriefing fails unless m is a briefing as Telegram must get
// it: HTML parse mode, no link previews, within the length limit, headlines
// linked.
func checkTelegramBriefing(t *testing.T, chat int64, m telegramtest.SentMessage) {
	t.Helper()
	if m.ParseMode != "HTML" || !m.PreviewDisabled {
		t.Errorf("chat %d: briefing sent with parse mode %q, previews disabled %v", chat, m.ParseMode, m.PreviewDisabled)
	}
	if n := telegramtest.UTF16Length(m.PlainText); n > telegramtest.MaxMessageLength {
		t.Errorf("chat %d: briefing of %d characters", chat, n)
	}
	var links int
	for _, e := range m.Entities {
		if e.Type == "text_link" {
			links++
		}
	}
	if links == 0 {
		t.Errorf("chat %d: briefing without links: %q", chat, m.Text)
	}
}

// statusUntil asks /status in chat until the reply contains want, and
// returns that reply; each ask waits for its own answer.
func statusUntil(t *testing.T, srv *telegramtest.Server, chat, user int64, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := len(srv.Messages(chat))
		got := say(t, srv, chat, user, "/status", n+1)
		last := got[len(got)-1].PlainText
		if strings.Contains(last, want) {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("chat %d: /status never said %q; last:\n%s", chat, want, last)
		}
		time.Sleep(50 * time.Millisecond) // the ledger is confirmed just after the send
	}
}

// The whole bot on the Telegram fake: private chats in three zones and a
// group are due at the same instant and each gets exactly one briefing; a
// chat that blocked the bot is deactivated, /status says why and /start
// brings it back; a group upgraded to a supergroup gets its briefing at the
// new id.
func TestTelegramDailyBriefingsEndToEnd(t *testing.T) {
	srv := newTelegramFake(t, telegramtest.Options{})
	const (
		group, migrating, supergroup = -2001, -2002, -1002002
		admin, member                = 12, 13
		blocked                      = 1004
	)
	private := map[int64]string{ // chat → its subscription, all due at 18:30 UTC
		1001:    "/subscribe 20:30 Europe/Berlin",
		1002:    "/subscribe 18:30 UTC",
		1003:    "/subscribe 14:30 America/New_York",
		blocked: "/subscribe 18:30",
	}
	for id := range private {
		if err := srv.AddPrivateChat(id, "User"); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []int64{group, migrating} {
		for _, err := range []error{srv.AddGroup(g, "Readers", false), srv.SetMember(g, admin, telegramtest.StatusAdministrator),
			srv.SetMember(g, member, telegramtest.StatusMember)} {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	clock := newRunningClock(tgNow) // 18:00 UTC
	startMainWithClock(t, tgEnv(t, srv), clock.Now)

	for id, cmd := range private {
		if got := say(t, srv, id, id, cmd, 1); !strings.HasPrefix(got[0].PlainText, "Subscribed:") {
			t.Fatalf("chat %d: %q answered %q", id, cmd, got[0].PlainText)
		}
	}
	for _, g := range []int64{group, migrating} {
		if got := say(t, srv, g, admin, "/subscribe 18:30 UTC", 1); !strings.HasPrefix(got[0].PlainText, "Subscribed:") {
			t.Fatalf("group %d: /subscribe answered %q", g, got[0].PlainText)
		}
	}
	if err := srv.Block(blocked); err != nil {
		t.Fatal(err)
	}
	if err := srv.Migrate(migrating, supergroup); err != nil {
		t.Fatal(err)
	}

	receivers := []int64{1001, 1002, 1003, group, supergroup}
	before := map[int64]int{}
	for _, id := range receivers {
		before[id] = len(srv.Messages(id))
	}
	clock.JumpTo(time.Date(2025, 7, 11, 18, 30, 2, 0, time.UTC))
	for _, id := range receivers {
		got, err := srv.WaitForMessages(waitCtx(t), id, before[id]+1)
		if err != nil {
			t.Fatalf("chat %d got no briefing: %v; has %q", id, err, firstLines(got))
		}
	}
	// /status comes after the ledger confirmed the delivery: from then on
	// nothing more can be sent today, so the counts below are final.
	for _, id := range receivers {
		user := id
		if id < 0 {
			user = member
		}
		statusUntil(t, srv, id, user, "Last delivery: today")
	}
	for _, id := range receivers {
		got := briefingsIn(srv.Messages(id))
		if len(got) != 1 {
			t.Errorf("chat %d got %d briefings, want exactly 1: %q", id, len(got), firstLines(srv.Messages(id)))
			continue
		}
		checkTelegramBriefing(t, id, got[0])
	}

	// The old group id gets nothing after the upgrade: the subscription
	// moved with the group.
	if got := briefingsIn(srv.Messages(migrating)); len(got) != 0 {
		t.Errorf("the upgraded group's old id got %d briefings", len(got))
	}
	if st := statusUntil(t, srv, supergroup, member, "Daily briefing at"); !strings.Contains(st, "18:30 UTC") {
		t.Errorf("/status in the supergroup:\n%s", st)
	}

	// The blocked chat: deactivated on the 403, which /status explains once
	// the user unblocks the bot and asks.
	if err := srv.Unblock(blocked); err != nil {
		t.Fatal(err)
	}
	st := statusUntil(t, srv, blocked, blocked, "Deliveries stopped because")
	if !strings.Contains(st, "No daily briefing here") || !strings.Contains(strings.ToLower(st), "blocked") {
		t.Errorf("/status in the chat that blocked the bot:\n%s", st)
	}
	if got := briefingsIn(srv.Messages(blocked)); len(got) != 0 {
		t.Errorf("the blocked chat got %d briefings", len(got))
	}
	got := say(t, srv, blocked, blocked, "/start", len(srv.Messages(blocked))+1)
	if welcome := got[len(got)-1].PlainText; !strings.HasPrefix(welcome, "Welcome back: your daily briefing at 18:30 UTC is on again; the next one is tomorrow Sat 12 Jul 18:30 UTC.") {
		t.Errorf("/start after unblocking answered %q", welcome)
	}
	st = statusUntil(t, srv, blocked, blocked, "Now:")
	if !strings.Contains(st, "Daily briefing at 18:30 UTC.") || !strings.Contains(st, "Next delivery: tomorrow Sat 12 Jul 18:30 UTC.") {
		t.Errorf("/status after /start:\n%s", st)
	}
}

// metricValue scrapes one sample of the bot's /metrics; -1 when absent.
func metricValue(t *testing.T, addr, sample string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", sample, err)
			}
			return f
		}
	}
	return -1
}

// A broadcast to 200 chats while 10% of sendMessage calls fail (injected
// 429s and 500s, the message not delivered): every chat ends with exactly
// one briefing, and the pacer never runs into flood control. The fake's and
// the adapter's limits are scaled by the same factor to keep it short.
func TestTelegramBroadcastWithFaultsLosesNothingAndRepeatsNothing(t *testing.T) {
	const chats, scale = 200, 10
	srv := newTelegramFake(t, telegramtest.Options{RateScale: scale, Faults: telegramtest.Faults{Rate429: 0.05, Rate5xx: 0.05, Seed: 11}})
	for i := range chats {
		if err := srv.AddPrivateChat(int64(7000+i), "User"); err != nil {
			t.Fatal(err)
		}
	}
	env := tgEnv(t, srv)
	env["TELEGRAM_RATE_SCALE"] = strconv.Itoa(scale)
	env["NEWSBOT_HTTP_ADDR"] = "127.0.0.1:0"
	clock := newRunningClock(tgNow)
	m, logs := startMainWithClock(t, env, clock.Now)

	for i := range chats {
		if _, err := srv.SendText(int64(7000+i), int64(7000+i), "/subscribe 18:30 UTC"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range chats {
		got, err := srv.WaitForMessages(waitCtx(t), int64(7000+i), 1)
		if err != nil || !strings.HasPrefix(got[0].PlainText, "Subscribed:") {
			t.Fatalf("chat %d: /subscribe answered %q, %v", 7000+i, firstLines(got), err)
		}
	}
	before := srv.Stats()

	clock.JumpTo(time.Date(2025, 7, 11, 18, 30, 2, 0, time.UTC))
	for i := range chats {
		if got, err := srv.WaitForMessages(waitCtx(t), int64(7000+i), 2); err != nil {
			t.Fatalf("chat %d got no briefing: %v; has %q", 7000+i, err, firstLines(got))
		}
	}
	// No delivery is due any more once every one is recorded as finished:
	// then nothing else can be sent today.
	due := `newsbot_deliveries_due{platform="telegram"}`
	deadline := time.Now().Add(30 * time.Second)
	for metricValue(t, m.HTTPAddr(), due) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s stays %v\nlogs:\n%s", due, metricValue(t, m.HTTPAddr(), due), logs)
		}
		time.Sleep(50 * time.Millisecond)
	}

	for i := range chats {
		id := int64(7000 + i)
		got := briefingsIn(srv.Messages(id))
		if len(got) != 1 {
			t.Errorf("chat %d got %d briefings, want exactly 1", id, len(got))
			continue
		}
		checkTelegramBriefing(t, id, got[0])
	}
	st := srv.Stats()
	injected := st.TooManyRequests[telegramtest.ScopeInjected] + st.Injected5xx -
		before.TooManyRequests[telegramtest.ScopeInjected] - before.Injected5xx
	if injected == 0 {
		t.Error("no fault was injected during the broadcast: the test proves nothing")
	}
	if floods := st.TooManyRequests[telegramtest.ScopeChat] + st.TooManyRequests[telegramtest.ScopeGroup] + st.TooManyRequests[telegramtest.ScopeGlobal]; floods != 0 {
		t.Errorf("%d flood-control 429s: the pacer let too much through", floods)
	}
	t.Logf("broadcast: %d faults injected, %d sendMessage requests for %d briefings",
		injected, st.Requests["sendMessage"]-before.Requests["sendMessage"], st.Sent-before.Sent)
}

const discordScheduledFeed = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>@everyone Wire</title><link>http://wire.test/</link>
<item><title>@everyone @here &lt;@&amp;123&gt; Harbour plan approved</title><link>http://wire.test/harbour</link>
<pubDate>Fri, 11 Jul 2025 09:00:00 +0000</pubDate>
<description>&lt;@456&gt; The council approved the new harbour plan on Friday after a long debate, officials said.</description></item>
<item><title>Volunteers plant four hundred trees</title><link>http://wire.test/trees</link>
<pubDate>Fri, 11 Jul 2025 10:00:00 +0000</pubDate>
<description>Volunteers planted four hundred trees along the river on Friday morning, organisers said.</description></item>
</channel></rss>`

// scheduledDiscord is the bot on a fake Discord with #news subscribed at
// 20:30 Berlin, its clock before the due time.
type scheduledDiscord struct {
	w     *discordWorld
	clock *runningClock
	logs  *lockedBuffer
}

func startScheduledDiscord(t *testing.T) *scheduledDiscord {
	t.Helper()
	feedURL := serveFeed(t, discordScheduledFeed)
	w := newDiscordWorld(t)
	env := dbEnv(t)
	env["NEWSBOT_FEEDS"] = feedURL
	env["NEWSBOT_ALLOW_PRIVATE_FEEDS"] = "true"
	env["DISCORD_BOT_TOKEN"] = w.srv.Token()
	env["DISCORD_API_BASE"] = w.srv.URL()
	env["DISCORD_GUILD_ID"] = w.guildID
	clock := newRunningClock(tgNow)
	_, logs := startMainWithClock(t, env, clock.Now)
	for deadline := time.Now().Add(30 * time.Second); len(w.srv.Commands(w.guildID)) == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("slash commands not registered\nlogs:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}

	r := w.interact(t, discordtest.Interaction{UserID: w.managerID, Name: "subscribe",
		Options: []discordtest.Option{{Name: "channel", Value: w.newsID}, {Name: "time", Value: "20:30"}, {Name: "timezone", Value: "Europe/Berlin"}}})
	if !strings.HasPrefix(r.Content, "Subscribed: a briefing every day at 20:30 Europe/Berlin") {
		t.Fatalf("/subscribe #news: %q", r.Content)
	}
	if got := (&scheduledDiscord{w: w}).scheduled(); len(got) != 0 {
		t.Fatalf("%d messages posted before the due time", len(got))
	}
	return &scheduledDiscord{w: w, clock: clock, logs: logs}
}

// scheduled is what the bot posted in #news on its own (not replies).
func (d *scheduledDiscord) scheduled() []discordtest.Message {
	var out []discordtest.Message
	for _, m := range d.w.srv.Messages(d.w.newsID) {
		if m.InteractionID == "" {
			out = append(out, m)
		}
	}
	return out
}

// passDueTime moves the clock past the due time and asks /status until it
// says want.
func (d *scheduledDiscord) passDueTime(t *testing.T, want string) {
	t.Helper()
	d.clock.JumpTo(time.Date(2025, 7, 11, 18, 30, 2, 0, time.UTC))
	for deadline := time.Now().Add(30 * time.Second); ; {
		r := d.w.interact(t, discordtest.Interaction{UserID: d.w.memberID, Name: "status"})
		if strings.Contains(r.Content, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/status never said %q: %q\nlogs:\n%s", want, r.Content, d.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A scheduled briefing on Discord is posted into the subscribed channel as
// embeds, once, and its @everyone pings nobody.
func TestDiscordScheduledBriefingPostedAsEmbeds(t *testing.T) {
	d := startScheduledDiscord(t)
	scheduled := d.scheduled
	// Once /status has the ledger's confirmation of the delivery, nothing
	// more is sent today.
	d.passDueTime(t, "Last delivery: today")

	got := scheduled()
	if len(got) != 1 {
		t.Fatalf("%d scheduled messages in #news, want one briefing", len(got))
	}
	msg := got[0]
	if len(msg.Embeds) == 0 || msg.EmbedsHidden {
		t.Fatalf("the briefing is not shown as embeds: %+v", msg)
	}
	var text strings.Builder
	for _, e := range msg.Embeds {
		fmt.Fprintf(&text, "%s\n%s\n", e.Title, e.Description)
	}
	for _, want := range []string{"@everyone", "Harbour plan approved", "four hundred trees"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the embeds lack %q:\n%s", want, text.String())
		}
	}
	if msg.AllowedMentions == nil || msg.AllowedMentions.Parse == nil || len(msg.AllowedMentions.Parse) != 0 || !msg.Pings.Nobody() {
		t.Errorf("allowed_mentions %+v, pings %+v; want parse [] and nobody pinged", msg.AllowedMentions, msg.Pings)
	}
}
