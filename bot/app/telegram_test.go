package app_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/app"
	"github.com/newsbot/newsbot/bot/app/config"
	"github.com/newsbot/newsbot/bot/telegram/telegramtest"
)

// tgToken looks like a real token; its secret half must never show up in
// the logs.
const (
	tgToken       = "123456789:AAE-e2e_SECRET-half-0123456789abcd"
	tgTokenSecret = "AAE-e2e_SECRET-half-0123456789abcd"
)

// tgNow is the bot's clock: the sample feeds' news is current then.
var tgNow = time.Date(2025, 7, 11, 18, 0, 0, 0, time.UTC)

func newTelegramFake(t testing.TB, opts telegramtest.Options) *telegramtest.Server {
	t.Helper()
	opts.Token = tgToken
	srv, err := telegramtest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// tgEnv is the environment of a bot on the fake, with its own store.
func tgEnv(t testing.TB, srv *telegramtest.Server) map[string]string {
	return map[string]string{
		"DATABASE_URL":          t.TempDir() + "/newsbot.db",
		"TELEGRAM_BOT_TOKEN":    tgToken,
		"TELEGRAM_API_ENDPOINT": srv.Endpoint(),
	}
}

// startTelegramMain runs the whole bot until the test ends and returns its
// logs. The test fails if Run fails or the logs show the token.
func startTelegramMain(t testing.TB, env map[string]string) *lockedBuffer {
	t.Helper()
	cfg, err := config.Parse(env)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	m := app.NewMain(cfg, strings.NewReader(""), io.Discard, logs)
	m.Now = func() time.Time { return tgNow }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v\nlogs:\n%s", err, logs)
		}
		if err := m.Close(); err != nil {
			t.Error(err)
		}
		if strings.Contains(logs.String(), tgTokenSecret) {
			t.Errorf("the logs show the token:\n%s", logs)
		}
	})
	return logs
}

func waitCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// say makes a user write in a chat and returns the chat's messages once the
// bot has sent want of them in all.
func say(t testing.TB, srv *telegramtest.Server, chat, user int64, text string, want int) []telegramtest.SentMessage {
	t.Helper()
	if _, err := srv.SendText(chat, user, text); err != nil {
		t.Fatalf("%d says %q in %d: %v", user, text, chat, err)
	}
	got, err := srv.WaitForMessages(waitCtx(t), chat, want)
	if err != nil {
		t.Fatalf("after %q: %v; chat has %q", text, err, plainTexts(got))
	}
	return got
}

func plainTexts(msgs []telegramtest.SentMessage) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.PlainText)
	}
	return out
}

func TestTelegramPrivateChat(t *testing.T) {
	srv := newTelegramFake(t, telegramtest.Options{})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(srv.AddPrivateChat(1001, "Ann"))
	startTelegramMain(t, tgEnv(t, srv))

	got := say(t, srv, 1001, 1001, "/subscribe 07:30 Europe/Berlin", 1)
	if want := "Subscribed: a briefing every day at 07:30 Europe/Berlin. The next one is tomorrow Sat 12 Jul 07:30 CEST."; !strings.HasPrefix(got[0].PlainText, want) {
		t.Errorf("subscribe answered %q, want it to start %q", got[0].PlainText, want)
	}
	got = say(t, srv, 1001, 1001, "/status", 2)
	for _, want := range []string{"Daily briefing at 07:30 Europe/Berlin.", "Next delivery: tomorrow Sat 12 Jul 07:30 CEST."} {
		if !strings.Contains(got[1].PlainText, want) {
			t.Errorf("status does not say %q:\n%s", want, got[1].PlainText)
		}
	}
	got = say(t, srv, 1001, 1001, "/brief", 3)
	brief := got[2]
	if brief.ParseMode != "HTML" || !brief.PreviewDisabled {
		t.Errorf("briefing sent with parse mode %q, previews disabled %v", brief.ParseMode, brief.PreviewDisabled)
	}
	if !strings.HasPrefix(brief.PlainText, "News briefing — 5 stories\n\n1. ") {
		t.Errorf("briefing starts %q", brief.PlainText[:min(60, len(brief.PlainText))])
	}
	var links int
	for _, e := range brief.Entities {
		if e.Type == "text_link" && strings.HasPrefix(e.URL, "https://") {
			links++
		}
	}
	if links < 10 { // a headline and at least one source per story
		t.Errorf("briefing has %d links, want a headline link and source links for each of 5 stories", links)
	}

	// The menu was published with every command.
	var names []string
	for _, c := range srv.Commands(telegramtest.CommandScope{}, "") {
		names = append(names, c.Command)
	}
	var want []string
	for _, c := range bot.Commands() {
		want = append(want, string(c.Name))
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("published commands (-want +got):\n%s", diff)
	}
}

func TestTelegramGroupOnlyAdminsManage(t *testing.T) {
	srv := newTelegramFake(t, telegramtest.Options{})
	const group, member, admin = -2001, 11, 12
	for _, err := range []error{
		srv.AddGroup(group, "Reading club", false),
		srv.SetMember(group, member, telegramtest.StatusMember),
		srv.SetMember(group, admin, telegramtest.StatusAdministrator),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	startTelegramMain(t, tgEnv(t, srv))
	at := "@" + telegramtest.DefaultBotUsername

	got := say(t, srv, group, member, "/subscribe"+at+" 08:00 UTC", 1)
	if want := "Only the chat's administrators can change its subscription. Anyone can use /brief."; got[0].PlainText != want {
		t.Errorf("member's /subscribe: %q, want %q", got[0].PlainText, want)
	}
	got = say(t, srv, group, member, "/brief"+at, 2)
	if !strings.HasPrefix(got[1].PlainText, "News briefing") {
		t.Errorf("member's /brief: %q", got[1].PlainText)
	}
	got = say(t, srv, group, admin, "/subscribe 08:00 UTC", 3)
	if !strings.HasPrefix(got[2].PlainText, "Subscribed: a briefing every day at 08:00 UTC.") {
		t.Errorf("admin's /subscribe: %q", got[2].PlainText)
	}
	// Three messages are as many as the group limit (20 a minute) lets
	// through without a 3-second wait each.
}

// A group that mutes the bot has its deliveries stopped, with the reason
// kept for /status, as soon as Telegram says so (my_chat_member); giving the
// bot the right back resumes them, without anyone subscribing again.
func TestTelegramMutedGroupStopsAndResumes(t *testing.T) {
	srv := newTelegramFake(t, telegramtest.Options{})
	const group, admin = -2002, 12
	for _, err := range []error{
		srv.AddGroup(group, "Quiet club", true),
		srv.SetMember(group, admin, telegramtest.StatusAdministrator),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	logs := startTelegramMain(t, tgEnv(t, srv))
	got := say(t, srv, group, admin, "/subscribe 08:00 UTC", 1)
	if !strings.HasPrefix(got[0].PlainText, "Subscribed:") {
		t.Fatalf("admin's /subscribe: %q", got[0].PlainText)
	}
	if err := srv.Mute(group, admin); err != nil {
		t.Fatal(err)
	}
	ctx := waitCtx(t)
	for !strings.Contains(logs.String(), "subscription deactivated") {
		select {
		case <-ctx.Done():
			t.Fatalf("the mute did not stop the deliveries; logs:\n%s", logs)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if !strings.Contains(logs.String(), "may not post in this chat") {
		t.Errorf("the stop has no readable reason; logs:\n%s", logs)
	}
	if err := srv.Unmute(group, admin); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(logs.String(), "deliveries resumed") {
		select {
		case <-ctx.Done():
			t.Fatalf("the unmute did not resume the deliveries; logs:\n%s", logs)
		case <-time.After(5 * time.Millisecond):
		}
	}
	got = say(t, srv, group, admin, "/status", 2)
	if status := got[1].PlainText; strings.Contains(status, "stopped") || !strings.Contains(status, "08:00 UTC") {
		t.Errorf("/status after the unmute: %q, want the subscription on again", status)
	}
}

const hostileFeed = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Hostile &amp; Co &lt;i&gt;</title><link>http://hostile.test/</link>
<item><title>&lt;b&gt;Breaking&lt;/b&gt; &amp; "more"</title><link>http://hostile.test/breaking</link>
<pubDate>Fri, 11 Jul 2025 09:00:00 +0000</pubDate>
<description>The council approved the new harbour plan on Friday after a long debate, officials said.</description></item>
<item><title>@everyone &lt;script&gt;</title><link>http://hostile.test/everyone</link>
<pubDate>Fri, 11 Jul 2025 10:00:00 +0000</pubDate>
<description>Volunteers planted four hundred trees along the river on Friday morning, organisers said.</description></item>
</channel></rss>`

func TestTelegramHostileHeadlinesArriveLiterally(t *testing.T) {
	srv := newTelegramFake(t, telegramtest.Options{})
	if err := srv.AddPrivateChat(1001, "Ann"); err != nil {
		t.Fatal(err)
	}
	env := tgEnv(t, srv)
	env["NEWSBOT_FEEDS"] = serveFeed(t, hostileFeed)
	env["NEWSBOT_ALLOW_PRIVATE_FEEDS"] = "true"
	startTelegramMain(t, env)

	got := say(t, srv, 1001, 1001, "/brief", 1)[0]
	for _, literal := range []string{`<b>Breaking</b> & "more"`, `@everyone <script>`} {
		if !strings.Contains(got.PlainText, literal) {
			t.Errorf("the reader does not see %q:\n%s", literal, got.PlainText)
		}
	}
	units := utf16.Encode([]rune(got.PlainText))
	for _, e := range got.Entities {
		if text := string(utf16.Decode(units[e.Offset : e.Offset+e.Length])); e.Type == "bold" && text == "Breaking" {
			t.Errorf("the feed's <b> became formatting: %+v", e)
		}
	}
	if srv.Stats().Rejected[telegramtest.RejectParseEntities] != 0 {
		t.Error("the fake rejected our HTML")
	}
}

// syllables spell made-up words, so that no two stories of longFeed share a
// word and none is grouped with another.
var syllables = []string{"ka", "lo", "mi", "ra", "ten", "su", "vo", "ni", "pe", "da"}

func madeUpWord(n int) string {
	var b strings.Builder
	for _, d := range fmt.Sprint(n) {
		b.WriteString(syllables[d-'0'])
	}
	return b.String()
}

// longFeed has n stories with long headlines and several long sentences.
func longFeed(n int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Long Desk</title><link>http://long.test/</link>`)
	for i := range n {
		words := func(from, count int) string {
			var ws []string
			for k := range count {
				ws = append(ws, madeUpWord(10000+i*1000+from+k))
			}
			return strings.Join(ws, " ")
		}
		fmt.Fprintf(&b, `<item><title>Story %d %s</title><link>http://long.test/%d</link><pubDate>Fri, 11 Jul 2025 %02d:00:00 +0000</pubDate><description>`,
			i+1, words(0, 25), i, i%17+1)
		for s := range 4 {
			fmt.Fprintf(&b, "The %s said on Friday. ", words(100+s*100, 40))
		}
		b.WriteString(`</description></item>`)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

func TestTelegramLongBriefingIsSplit(t *testing.T) {
	srv := newTelegramFake(t, telegramtest.Options{})
	if err := srv.AddPrivateChat(1001, "Ann"); err != nil {
		t.Fatal(err)
	}
	env := tgEnv(t, srv)
	env["NEWSBOT_FEEDS"] = serveFeed(t, longFeed(20))
	env["NEWSBOT_ALLOW_PRIVATE_FEEDS"] = "true"
	env["NEWSBOT_BRIEFING_SIZE"] = "20"
	startTelegramMain(t, env)

	// /status after /brief: the chat's updates are answered in order, so
	// its reply comes after every part of the briefing.
	if _, err := srv.SendText(1001, 1001, "/brief"); err != nil {
		t.Fatal(err)
	}
	var got []telegramtest.SentMessage
	for {
		got = say(t, srv, 1001, 1001, "/status", len(got)+1)
		if strings.HasPrefix(got[len(got)-1].PlainText, "Now:") {
			break
		}
	}
	parts := got[:len(got)-1]
	if len(parts) < 2 {
		t.Fatalf("a briefing of 20 long stories came in %d message(s)", len(parts))
	}
	next := 1
	for i, p := range parts {
		if n := telegramtest.UTF16Length(p.PlainText); n > telegramtest.MaxMessageLength {
			t.Errorf("part %d has %d characters", i+1, n)
		}
		for k, entry := range strings.Split(p.PlainText, "\n\n") {
			if i == 0 && k == 0 {
				continue // the header
			}
			if prefix := fmt.Sprintf("%d. Story ", next); !strings.HasPrefix(entry, prefix) {
				t.Errorf("part %d: entry starts %q, want %q: an entry was cut or reordered", i+1, entry[:min(len(entry), 30)], prefix)
			}
			next++
		}
	}
	if next != 21 {
		t.Errorf("the parts hold %d entries, want 20", next-1)
	}
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestTelegramWebhook(t *testing.T) {
	srv := newTelegramFake(t, telegramtest.Options{})
	if err := srv.AddPrivateChat(1001, "Ann"); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	hook := "http://" + addr + "/telegram/webhook"
	env := tgEnv(t, srv)
	env["NEWSBOT_HTTP_ADDR"] = addr
	env["TELEGRAM_WEBHOOK_URL"] = hook
	env["TELEGRAM_WEBHOOK_SECRET"] = "e2e-webhook-secret"
	startTelegramMain(t, env)
	ctx := waitCtx(t)
	for srv.Stats().Requests["setWebhook"] == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("setWebhook never called")
		case <-time.After(5 * time.Millisecond):
		}
	}

	update := `{"update_id":1,"message":{"message_id":1,"from":{"id":1001,"is_bot":false,"first_name":"Ann"},"chat":{"id":1001,"type":"private"},"date":1752256800,"text":"/help"}}`
	for _, tt := range []struct {
		name, secret string
		want         int
	}{
		{"without the secret header", "", http.StatusUnauthorized},
		{"with a wrong secret", "e2e-webhook-secreT", http.StatusForbidden},
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hook, strings.NewReader(update))
		if tt.secret != "" {
			req.Header.Set(telegramtest.SecretTokenHeader, tt.secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	// The fake delivers with the secret setWebhook gave it.
	got := say(t, srv, 1001, 1001, "/brief", 1)
	if len(got) != 1 || !strings.HasPrefix(got[0].PlainText, "News briefing") {
		t.Errorf("webhook /brief answered %q; the rejected updates must go unanswered", plainTexts(got))
	}
	// The fake counts a delivery once it has read the bot's 200, which can
	// come after the reply it triggered: wait for the count, not a time.
	st := srv.Stats()
	for deadline := time.Now().Add(10 * time.Second); st.WebhookDeliveries == 0 && time.Now().Before(deadline); st = srv.Stats() {
		time.Sleep(10 * time.Millisecond)
	}
	if st.WebhookDeliveries == 0 || st.Requests["getUpdates"] != 0 {
		t.Errorf("webhook deliveries %d, getUpdates calls %d: the bot did not use the webhook", st.WebhookDeliveries, st.Requests["getUpdates"])
	}
}

// TestTelegramFaultsLoseNothingAndRepeatNothing: 10% of sendMessage calls
// fail (429 or 500, the message not delivered) while 40 chats ask for
// /brief and /help at once. Every chat gets exactly its two replies, in
// order.
func TestTelegramFaultsLoseNothingAndRepeatNothing(t *testing.T) {
	srv := newTelegramFake(t, telegramtest.Options{Faults: telegramtest.Faults{Rate429: 0.05, Rate5xx: 0.05, Seed: 7}})
	const chats = 40
	for i := range chats {
		if err := srv.AddPrivateChat(int64(5000+i), "User"); err != nil {
			t.Fatal(err)
		}
	}
	startTelegramMain(t, tgEnv(t, srv))
	for i := range chats {
		for _, cmd := range []string{"/brief", "/help"} {
			if _, err := srv.SendText(int64(5000+i), int64(5000+i), cmd); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range chats {
		id := int64(5000 + i)
		got, err := srv.WaitForMessages(waitCtx(t), id, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || !strings.HasPrefix(got[0].PlainText, "News briefing") || !strings.HasPrefix(got[1].PlainText, "newsbot sends short news briefings") {
			t.Errorf("chat %d got %d messages starting %q, want the briefing then the help", id, len(got), firstLines(got))
		}
	}
	st := srv.Stats()
	injected := st.TooManyRequests[telegramtest.ScopeInjected] + st.Injected5xx
	if injected == 0 {
		t.Error("no fault was injected: the test proves nothing")
	}
	if floods := st.TooManyRequests[telegramtest.ScopeChat] + st.TooManyRequests[telegramtest.ScopeGroup] + st.TooManyRequests[telegramtest.ScopeGlobal]; floods != 0 {
		t.Errorf("%d flood-control 429s: the pacer let too much through", floods)
	}
	if st.Sent != 2*chats {
		t.Errorf("the fake accepted %d messages, want %d", st.Sent, 2*chats)
	}
	t.Logf("%d faults injected, %d sendMessage requests for %d messages", injected, st.Requests["sendMessage"], st.Sent)
}

func firstLines(msgs []telegramtest.SentMessage) []string {
	var out []string
	for _, m := range msgs {
		first, _, _ := strings.Cut(m.PlainText, "\n")
		out = append(out, first)
	}
	return out
}

func TestTelegramWrongTokenStopsWithAClearError(t *testing.T) {
	srv := newTelegramFake(t, telegramtest.Options{})
	env := tgEnv(t, srv)
	env["TELEGRAM_BOT_TOKEN"] = "987654321:AAE-wrong_SECRET-half-0123456789abcd"
	cfg, err := config.Parse(env)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	m := app.NewMain(cfg, strings.NewReader(""), io.Discard, logs)
	defer m.Close()
	err = m.Run(waitCtx(t))
	if err == nil || !strings.Contains(err.Error(), "TELEGRAM_BOT_TOKEN") {
		t.Fatalf("Run: %v, want an error naming TELEGRAM_BOT_TOKEN", err)
	}
	if strings.Contains(err.Error()+logs.String(), "wrong_SECRET") {
		t.Errorf("the token shows in the error or logs: %v\n%s", err, logs)
	}
}

// BenchmarkBriefReply measures the time from a user's /brief to its reply
// accepted by the fake (an upper bound of update-received-to-reply-sent: it
// adds the long poll's hand-over and the HTTP round trip), with the whole
// bot on the embedded sample feeds and the fake at its default limits.
// Requests come from distinct chats at 20 per second, inside the global
// limit of 30, so pacing does not add to the figure. Reports p50-ms and
// p99-ms; the goal is p99 ≤ 50 ms.
func BenchmarkBriefReply(b *testing.B) {
	srv := newTelegramFake(b, telegramtest.Options{})
	for i := range b.N {
		if err := srv.AddPrivateChat(int64(1+i), "User"); err != nil {
			b.Fatal(err)
		}
	}
	startTelegramMain(b, tgEnv(b, srv))
	// One warm-up command: the bot has started once it answers.
	if err := srv.AddPrivateChat(1_000_000, "Warm"); err != nil {
		b.Fatal(err)
	}
	say(b, srv, 1_000_000, 1_000_000, "/brief", 1)

	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		chat := int64(1 + i)
		start := time.Now()
		if _, err := srv.SendText(chat, chat, "/brief"); err != nil {
			b.Fatal(err)
		}
		if _, err := srv.WaitForMessages(waitCtx(b), chat, 1); err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, time.Since(start))
		time.Sleep(time.Until(start.Add(50 * time.Millisecond)))
	}
	b.StopTimer()
	slices.Sort(latencies)
	quantile := func(q float64) float64 {
		return float64(latencies[min(len(latencies)-1, int(q*float64(len(latencies))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(quantile(0.50), "p50-ms")
	b.ReportMetric(quantile(0.99), "p99-ms")
}
