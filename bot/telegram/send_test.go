package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/telegram/telegramtest"
	"github.com/newsbot/newsbot/briefings"
)

// testToken looks like a real token; its secret half must never show up in
// an error or a log.
const (
	testToken       = "123456789:AAE-test_SECRET-half-0123456789abcd"
	testTokenSecret = "AAE-test_SECRET-half-0123456789abcd"
)

// syncBuffer collects logs written from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newFake(t testing.TB, opts telegramtest.Options) *telegramtest.Server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	srv, err := telegramtest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func newAdapter(t testing.TB, srv *telegramtest.Server, opts Options) (*Adapter, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if opts.Token == "" {
		opts.Token = testToken
	}
	if opts.Endpoint == "" {
		opts.Endpoint = srv.Endpoint()
	}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(testContext(t), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a, logs
}

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func tgChat(id int64) briefings.ChatRef { return chatRef(id) }

// unlimited paces nothing, so the fake's flood control is what a test meets.
var unlimited = bot.PaceLimits{Global: bot.Rate{Count: 1_000_000, Per: time.Second, Burst: 1000}}

func TestSendSendsHTMLWithoutPreview(t *testing.T) {
	srv := newFake(t, telegramtest.Options{})
	a, _ := newAdapter(t, srv, Options{})
	must(t, srv.AddPrivateChat(42, "Ann"))
	msgs, err := a.RenderBriefing(briefings.Briefing{Entries: []briefings.Entry{{
		Headline: `<b>Breaking</b> & "more"`,
		Sources:  []briefings.SourceLink{{Outlet: "Wire", URL: "https://wire.example/a"}},
	}}})
	must(t, err)
	for _, m := range msgs {
		must(t, a.Send(testContext(t), tgChat(42), m))
	}
	got := srv.Messages(42)
	if len(got) != 1 {
		t.Fatalf("chat got %d messages, want 1", len(got))
	}
	m := got[0]
	if m.ParseMode != "HTML" || !m.PreviewDisabled || string(m.LinkPreviewOptions) != `{"is_disabled":true}` {
		t.Errorf("parse mode %q, preview disabled %v, link_preview_options %s; want HTML, true, is_disabled", m.ParseMode, m.PreviewDisabled, m.LinkPreviewOptions)
	}
	if !strings.Contains(m.PlainText, `1. <b>Breaking</b> & "more"`) {
		t.Errorf("the headline does not arrive literally:\n%s", m.PlainText)
	}
}

func TestSendClassifiesOutcomes(t *testing.T) {
	srv := newFake(t, telegramtest.Options{})
	must(t, srv.AddPrivateChat(1, "Blocked"))
	must(t, srv.Block(1))
	must(t, srv.AddPrivateChat(2, "Deleted"))
	must(t, srv.Deactivate(2))
	must(t, srv.AddGroup(-3, "Kicked", false))
	must(t, srv.Kick(-3))
	must(t, srv.AddGroup(-4, "Upgraded", false))
	must(t, srv.Migrate(-4, -1004))
	a, _ := newAdapter(t, srv, Options{})
	msg := RenderText("hello")[0]

	tests := []struct {
		name   string
		chat   int64
		class  string
		reason string // ChatGoneError.Reason, or ChatMovedError.NewID
	}{
		{"blocked", 1, "gone", "the bot was blocked by the user"},
		{"deactivated", 2, "gone", "the user's account was deleted"},
		{"kicked", -3, "gone", "the bot was removed from the group"},
		{"migrated", -4, "moved", "-1004"},
		{"unknown", 99, "gone", "the chat no longer exists, or the bot was never in it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := a.Send(testContext(t), tgChat(tt.chat), msg)
			if got := bot.Classify(err); got != tt.class {
				t.Fatalf("Send: %v classified %q, want %q", err, got, tt.class)
			}
			var gone *bot.ChatGoneError
			var moved *bot.ChatMovedError
			switch {
			case errors.As(err, &gone) && gone.Reason != tt.reason:
				t.Errorf("reason %q, want %q", gone.Reason, tt.reason)
			case errors.As(err, &moved) && moved.NewID != tt.reason:
				t.Errorf("new id %q, want %q", moved.NewID, tt.reason)
			}
		})
	}
	// The moved group takes the message at its new id.
	if err := a.Send(testContext(t), tgChat(-1004), msg); err != nil {
		t.Errorf("send to the supergroup: %v", err)
	}
}

// Telegram does not say a 429's scope: the adapter pauses every send for
// retry_after (plus the margin), so nothing reaches the server inside a
// flood wait that may be global, and the queue is told the whole bot waits.
func TestSendRetryAfterPausesEverySend(t *testing.T) {
	// The fake allows one message per 5 s to a chat; our pacer is told
	// nothing of it, so the fake has to say so.
	srv := newFake(t, telegramtest.Options{Limits: telegramtest.Limits{PerChat: telegramtest.Rate{Count: 1, Per: 5 * time.Second, Burst: 1}}})
	a, logs := newAdapter(t, srv, Options{Limits: unlimited})
	must(t, srv.AddPrivateChat(7, "Ann"))
	must(t, srv.AddPrivateChat(8, "Bob"))
	msg := RenderText("hello")[0]
	must(t, a.Send(testContext(t), tgChat(7), msg))
	err := a.Send(testContext(t), tgChat(7), msg)
	var ra *bot.RetryAfterError
	if !errors.As(err, &ra) {
		t.Fatalf("second send: %v, want a RetryAfterError", err)
	}
	if ra.After != 5*time.Second || !ra.Global {
		t.Errorf("retry after %v (global %v), want the fake's 5s for the whole bot", ra.After, ra.Global)
	}
	for _, chat := range []string{"7", "8"} {
		if until := a.pacer.PausedUntil(chat); until.IsZero() {
			t.Errorf("the pacer does not hold chat %s back after the 429", chat)
		}
	}
	ctx, cancel := context.WithTimeout(testContext(t), 300*time.Millisecond)
	defer cancel()
	if err := a.Send(ctx, tgChat(8), msg); err == nil {
		t.Error("another chat was sent to inside the flood wait")
	}
	if st := srv.Stats(); st.DuringRetryAfter != 0 {
		t.Errorf("%d sends reached the fake inside a retry_after", st.DuringRetryAfter)
	}
	if !strings.Contains(logs.String(), "in_flight=0") {
		t.Errorf("the pause is not logged with the sends in flight:\n%s", logs.String())
	}
}

// A group that muted the bot is a chat the bot can't write to: the delivery
// stops with a reason for /status, not as a bad request of ours.
func TestSendCantWrite(t *testing.T) {
	srv := newFake(t, telegramtest.Options{})
	a, _ := newAdapter(t, srv, Options{})
	must(t, srv.AddGroup(-30, "Quiet", true))
	must(t, srv.SetMember(-30, 5, telegramtest.StatusCreator))
	must(t, srv.Mute(-30, 5))
	err := a.Send(testContext(t), tgChat(-30), RenderText("hello")[0])
	var gone *bot.ChatGoneError
	if !errors.As(err, &gone) || !errors.Is(err, bot.ErrCantWrite) || errors.Is(err, bot.ErrRejected) {
		t.Fatalf("muted group: %v, want a ChatGoneError for a chat the bot can't write to", err)
	}
	if bot.Classify(err) != "gone" || !strings.Contains(gone.Reason, "may not post") {
		t.Errorf("classified %q with reason %q", bot.Classify(err), gone.Reason)
	}
	for _, desc := range []string{"Bad Request: have no rights to send a message", "Forbidden: CHAT_WRITE_FORBIDDEN", "Bad Request: CHAT_RESTRICTED"} {
		code := 400
		if strings.HasPrefix(desc, "Forbidden") {
			code = 403
		}
		if !cantWrite(&tgbotapi.Error{Code: code, Message: desc}) {
			t.Errorf("%q is not taken for a chat the bot can't write to", desc)
		}
	}
}

// A briefing of many entries with long tracking links is split so that no
// message has more than 100 entities or 8,000 bytes of links; the strict
// fake takes every message, and would refuse them joined.
func TestSendEntityCap(t *testing.T) {
	srv := newFake(t, telegramtest.Options{DisableRateLimits: true})
	a, _ := newAdapter(t, srv, Options{Limits: unlimited})
	must(t, srv.AddPrivateChat(9, "Ann"))
	var b briefings.Briefing
	for i := range 20 {
		e := briefings.Entry{Headline: fmt.Sprintf("Story %d", i), Summary: []string{"A short summary."}}
		for k := range 5 {
			e.Sources = append(e.Sources, briefings.SourceLink{Outlet: fmt.Sprintf("Outlet %d", k),
				URL: fmt.Sprintf("https://news.example/%d/%d?utm_source=feed&amp;ref=%s", i, k, strings.Repeat("x", 300))})
		}
		b.Entries = append(b.Entries, e)
	}
	msgs := RenderBriefing(b)
	var joined []string
	for i, m := range msgs {
		must(t, a.Send(testContext(t), tgChat(9), m))
		joined = append(joined, m.HTML)
		got := srv.Messages(9)[i]
		links := 0
		for _, e := range got.Entities {
			links += len(e.URL)
		}
		if len(got.Entities) > maxEntitiesPerMessage || links > maxLinkBytesPerMessage {
			t.Errorf("message %d: %d entities, %d bytes of links", i+1, len(got.Entities), links)
		}
	}
	if len(msgs) < 2 {
		t.Fatalf("%d message(s) for 20 entries of 5 long links each", len(msgs))
	}
	err := a.Send(testContext(t), tgChat(9), Message{HTML: strings.Join(joined[:2], "\n\n"), Plain: "x"})
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "entities too long") {
		t.Errorf("two messages joined: %v, want the fake's 400 entities too long (else the cap would not matter)", err)
	}
}

func TestSendTransientFailures(t *testing.T) {
	srv := newFake(t, telegramtest.Options{Faults: telegramtest.Faults{Rate5xx: 1}})
	a, _ := newAdapter(t, srv, Options{})
	must(t, srv.AddPrivateChat(7, "Ann"))
	err := a.Send(testContext(t), tgChat(7), RenderText("hello")[0])
	if got := bot.Classify(err); got != "transient" || err == nil {
		t.Errorf("500: %v classified %q, want transient", err, got)
	}

	slow := newFake(t, telegramtest.Options{Faults: telegramtest.Faults{RateSlow: 1, SlowDelay: 5 * time.Second}})
	must(t, slow.AddPrivateChat(7, "Ann"))
	b, _ := newAdapter(t, slow, Options{RequestTimeout: 200 * time.Millisecond})
	err = b.Send(testContext(t), tgChat(7), RenderText("hello")[0])
	var timeout interface{ Timeout() bool }
	if got := bot.Classify(err); got != "transient" || !errors.As(err, &timeout) {
		t.Errorf("timeout: %v classified %q, want a transient timeout", err, got)
	}
	if n := len(slow.Messages(7)); n != 0 {
		t.Errorf("a request we gave up on was delivered %d times", n)
	}
}

func TestSendFallsBackToPlainTextOnce(t *testing.T) {
	srv := newFake(t, telegramtest.Options{})
	a, logs := newAdapter(t, srv, Options{})
	must(t, srv.AddPrivateChat(7, "Ann"))
	bad := Message{HTML: "<b>unclosed & bare", Plain: "unclosed & bare"}
	must(t, a.Send(testContext(t), tgChat(7), bad))
	got := srv.Messages(7)
	if len(got) != 1 || got[0].ParseMode != "" || got[0].Text != "unclosed & bare" {
		t.Fatalf("got %+v, want one plain-text message", got)
	}
	if n := srv.Stats().Requests["sendMessage"]; n != 2 {
		t.Errorf("%d sendMessage requests, want 2 (the HTML, then plain text once)", n)
	}
	if !strings.Contains(logs.String(), "could not parse the HTML") {
		t.Errorf("the parse failure is not logged:\n%s", logs)
	}

	// Plain text that fails too is not retried again.
	must(t, srv.Block(7))
	err := a.Send(testContext(t), tgChat(7), bad)
	if bot.Classify(err) != "gone" {
		t.Errorf("blocked after the fallback: %v", err)
	}
}

func TestSendRejectsForeignInput(t *testing.T) {
	srv := newFake(t, telegramtest.Options{})
	a, _ := newAdapter(t, srv, Options{})
	for _, tt := range []struct {
		chat briefings.ChatRef
		msg  bot.OutMessage
	}{
		{briefings.ChatRef{Platform: briefings.PlatformDiscord, ID: "1"}, RenderText("x")[0]},
		{briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "abc"}, RenderText("x")[0]},
		{tgChat(1), otherMessage{}},
	} {
		if err := a.Send(testContext(t), tt.chat, tt.msg); err == nil {
			t.Errorf("Send(%v, %T) succeeded", tt.chat, tt.msg)
		}
	}
}

type otherMessage struct{}

func (otherMessage) Summary() string { return "other" }

// TestPacingStaysWithinLimits sends 3 messages to each of 60 chats and 5 to a
// group, all at once, through the pacer: the fake (same limits, both sped up
// 4 times) must never have to answer 429. The speed-up is kept small because
// it shrinks the slack the pacer leaves for scheduling delays by the same
// factor (at scale 1: 25 messages, 833 ms), and -race on a busy machine
// delays a lot.
func TestPacingStaysWithinLimits(t *testing.T) {
	const scale = 4
	srv := newFake(t, telegramtest.Options{RateScale: scale})
	a, _ := newAdapter(t, srv, Options{RateScale: scale})
	sent := sendBurst(t, srv, a, 60, 3)
	if st := srv.Stats(); st.Sent != sent || len(st.TooManyRequests) != 0 {
		t.Errorf("sent %d of %d, 429s %v; want all and none", st.Sent, sent, st.TooManyRequests)
	}
}

// sendBurst sends perChat messages to each of chats private chats and to one
// group, concurrently, and returns how many were sent.
func sendBurst(t testing.TB, srv *telegramtest.Server, a *Adapter, chats, perChat int) int {
	must(t, srv.AddGroup(-500, "Group", true))
	ids := []int64{-500}
	for i := range chats {
		id := int64(1000 + i)
		must(t, srv.AddPrivateChat(id, "User"))
		ids = append(ids, id)
	}
	msg := RenderText("hello")[0]
	var wg sync.WaitGroup
	errs := make(chan error, len(ids)*perChat)
	for _, id := range ids {
		wg.Go(func() {
			for range perChat {
				if err := a.Send(context.Background(), tgChat(id), msg); err != nil {
					errs <- fmt.Errorf("chat %d: %w", id, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	return len(ids) * perChat
}

// BenchmarkSendRate measures the send rate through Send and the pacer
// against the fake at its default limits, both sped up by the same factor
// (10) to keep the run short, and reports it as a fraction of the global
// limit: 60 private chats × 3 messages plus 3 to a group, all queued at once.
// BenchmarkSendRate sends 60 private chats × 3 messages plus 3 to a group
// through Send and its pacer, and reports the achieved rate as a fraction of
// the fake's global limit, and the 429s: at the fake's default limits, and
// with fake and adapter both sped up 10×.
//
//	go test -run - -bench SendRate ./bot/telegram
func BenchmarkSendRate(b *testing.B) {
	for _, scale := range []float64{1, 10} {
		b.Run(fmt.Sprintf("scale=%g", scale), func(b *testing.B) {
			for range b.N {
				srv := newFake(b, telegramtest.Options{RateScale: scale})
				a, _ := newAdapter(b, srv, Options{RateScale: scale})
				limits, rateScale := srv.Limits()
				allowed := float64(limits.Global.Count) / limits.Global.Per.Seconds() * rateScale
				start := time.Now()
				n := sendBurst(b, srv, a, 60, 3)
				elapsed := time.Since(start)
				st := srv.Stats()
				b.ReportMetric(float64(n)/elapsed.Seconds()/allowed, "rate/limit")
				b.ReportMetric(float64(st.TooManyRequests[telegramtest.ScopeGlobal]+st.TooManyRequests[telegramtest.ScopeChat]+st.TooManyRequests[telegramtest.ScopeGroup]), "429s")
				srv.Close()
			}
		})
	}
}

func TestTokenNeverLeaks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	closed := "http://" + ln.Addr().String() + "/bot%s/%s"
	ln.Close()

	// Nothing listens: the constructor's getMe fails with a transport error.
	_, err = New(testContext(t), Options{Token: testToken, Endpoint: closed})
	if err == nil {
		t.Fatal("New succeeded against a closed port")
	}
	checkNoToken(t, "New's error", err)

	// An adapter whose server goes away: Send's and Serve's errors and logs.
	srv := newFake(t, telegramtest.Options{})
	must(t, srv.AddPrivateChat(7, "Ann"))
	a, logs := newAdapter(t, srv, Options{})
	srv.Close()
	err = a.Send(testContext(t), tgChat(7), RenderText("hello")[0])
	if bot.Classify(err) != "transient" {
		t.Errorf("send to a closed server: %v, want transient", err)
	}
	checkNoToken(t, "Send's error", err)

	ctx, cancel := context.WithCancel(testContext(t))
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, &bot.Handler{}) }()
	waitUntil(t, "getUpdates fails and is logged", func() bool { return strings.Contains(logs.String(), "getUpdates failed") })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	checkNoToken(t, "the logs", errors.New(logs.String()))

	// Printing the options or the adapter shows no token either.
	for _, v := range []any{Options{Token: testToken, Endpoint: "http://x/bot" + testToken + "/%s%s"}, a} {
		for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
			checkNoToken(t, format, fmt.Errorf(format, v))
		}
	}
}

func checkNoToken(t *testing.T, what string, err error) {
	t.Helper()
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(s, testTokenSecret) {
			t.Errorf("%s holds the token: %s", what, s)
		}
	}
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), testTokenSecret) {
			t.Errorf("%s wraps an error that holds the token: %s", what, e)
		}
	}
}

// waitUntil polls cond: it synchronises with background work and asserts
// nothing about time.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	ctx := testContext(t)
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting until %s", what)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// TestPermanentErrorsAreRejections: the delivery queue sees a 400 that will
// never pass, and a revoked token, as rejections, not as failures to retry.
func TestPermanentErrorsAreRejections(t *testing.T) {
	for _, err := range []error{ErrRejected, ErrUnauthorized} {
		if got := bot.Classify(fmt.Errorf("send: %w", err)); got != "rejected" {
			t.Errorf("%v classified %q, want rejected", err, got)
		}
	}
}

// TestReadyFollowsTheBotAPI: the adapter is ready while the Bot API answers
// (even with errors), and not after several requests in a row got no answer;
// the reason never shows the token.
func TestReadyFollowsTheBotAPI(t *testing.T) {
	srv := newFake(t, telegramtest.Options{})
	must(t, srv.AddPrivateChat(7, "Ann"))
	a, _ := newAdapter(t, srv, Options{})
	if err := a.Ready(); err != nil {
		t.Fatalf("Ready after New: %v", err)
	}
	// An error answer is still an answer.
	if err := a.Send(testContext(t), tgChat(404), RenderText("hello")[0]); err == nil {
		t.Fatal("send to an unknown chat succeeded")
	}
	if err := a.Ready(); err != nil {
		t.Errorf("Ready after a 400: %v", err)
	}
	srv.Close()
	for range unreachableAfter {
		a.Send(testContext(t), tgChat(7), RenderText("hello")[0])
	}
	err := a.Ready()
	if err == nil {
		t.Fatal("Ready with the Bot API gone")
	}
	checkNoToken(t, "Ready's error", err)
}
