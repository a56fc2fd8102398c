package telegram

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/telegram/telegramtest"
	"github.com/newsbot/newsbot/briefings"
)

// serve runs the adapter's Serve until the test ends. Its handler has no
// Service: the tests here use /help, which needs none (the end-to-end tests
// in bot/app run the whole bot).
func serve(t *testing.T, a *Adapter) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, &bot.Handler{}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
}

func texts(msgs []telegramtest.SentMessage) []string {
	var out []string
	for _, m := range msgs {
		first, _, _ := strings.Cut(m.PlainText, "\n")
		out = append(out, first)
	}
	return out
}

const helpFirstLine = "newsbot sends short news briefings: a headline, two or three sentences, and the links."

func TestServePublishesCommands(t *testing.T) {
	srv := newFake(t, telegramtest.Options{})
	a, _ := newAdapter(t, srv, Options{})
	must(t, srv.AddPrivateChat(1, "Ann"))
	serve(t, a)
	_, err := srv.SendText(1, 1, "/help")
	must(t, err)
	if _, err := srv.WaitForMessages(testContext(t), 1, 1); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, c := range bot.Commands() {
		want = append(want, string(c.Name))
	}
	var got []string
	for _, c := range srv.Commands(telegramtest.CommandScope{}, "") {
		got = append(got, c.Command)
		if !strings.HasPrefix(c.Description, bot.Spec(bot.CommandName(c.Command)).Description) {
			t.Errorf("/%s is described %q", c.Command, c.Description)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("command menu (-want +got):\n%s", diff)
	}
}

func TestServeGroupCommandsForOtherBotsAreIgnored(t *testing.T) {
	// Privacy mode off: the bot sees everything said in the group.
	srv := newFake(t, telegramtest.Options{PrivacyModeDisabled: true})
	a, _ := newAdapter(t, srv, Options{})
	must(t, srv.AddGroup(-10, "Club", true))
	serve(t, a)
	for _, text := range []string{
		"/help@other_bot",
		"/frobnicate",
		"hello everyone",
		"/frobnicate@" + telegramtest.DefaultBotUsername,
		"/help@" + strings.ToUpper(telegramtest.DefaultBotUsername),
	} {
		_, err := srv.SendText(-10, 5, text)
		must(t, err)
	}
	// Updates of one chat are answered in order: once the last is
	// answered, so are the ignored ones before it.
	got, err := srv.WaitForMessages(testContext(t), -10, 2)
	must(t, err)
	want := []string{
		"I don't know the command /frobnicate. Try /help for the list, or /brief for the news now.",
		helpFirstLine,
	}
	if diff := cmp.Diff(want, texts(got)); diff != "" {
		t.Errorf("group replies (-want +got):\n%s", diff)
	}
}

type moves struct {
	mu  sync.Mutex
	got []string
}

func (m *moves) MoveChat(_ context.Context, from, to briefings.ChatRef) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, from.String()+" → "+to.String())
	return nil
}

// Deactivate and Resume record "stop telegram:ID" and "resume telegram:ID".
func (m *moves) Deactivate(_ context.Context, chat briefings.ChatRef, _ string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, "stop "+chat.String())
	return nil
}

func (m *moves) Resume(_ context.Context, chat briefings.ChatRef) (briefings.Subscription, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, "resume "+chat.String())
	return briefings.Subscription{}, true, nil
}

func (m *moves) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.got...)
}

// servingGroup serves a fake with one group (created by user 5) and records
// what the adapter tells the core about chats.
func servingGroup(t *testing.T, id int64, supergroup bool) (*telegramtest.Server, *moves) {
	t.Helper()
	srv := newFake(t, telegramtest.Options{})
	mv := &moves{}
	a, _ := newAdapter(t, srv, Options{Chats: mv})
	must(t, srv.AddGroup(id, "Club", supergroup))
	must(t, srv.SetMember(id, 5, telegramtest.StatusCreator))
	serve(t, a)
	return srv, mv
}

func TestServeFollowsMigratedGroup(t *testing.T) {
	srv, mv := servingGroup(t, -20, false)
	must(t, srv.Migrate(-20, -1020))
	waitUntil(t, "both service messages are handled", func() bool { return len(mv.list()) == 2 })
	want := []string{"telegram:-20 → telegram:-1020", "telegram:-20 → telegram:-1020"}
	if diff := cmp.Diff(want, mv.list()); diff != "" {
		t.Errorf("moves (-want +got):\n%s", diff)
	}
}

// webhookAdapter is an adapter in webhook mode whose path is served by a
// local HTTP server, as Main's listener would.
func webhookAdapter(t *testing.T, srv *telegramtest.Server) (*Adapter, string) {
	t.Helper()
	mux := http.NewServeMux()
	hs := httptest.NewUnstartedServer(mux)
	hookURL := "http://" + hs.Listener.Addr().String() + "/telegram/hook"
	a, _ := newAdapter(t, srv, Options{WebhookURL: hookURL})
	a.RegisterHTTP(mux)
	hs.Start()
	t.Cleanup(hs.Close)
	return a, hookURL
}

func postUpdate(t *testing.T, url, secret, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(testContext(t), http.MethodPost, url, strings.NewReader(body))
	must(t, err)
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(SecretTokenHeader, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func helpUpdate(id int) string {
	return fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"from":{"id":1,"is_bot":false,"first_name":"Ann"},`+
		`"chat":{"id":1,"type":"private","first_name":"Ann"},"date":1752224400,"text":"/help",`+
		`"entities":[{"type":"bot_command","offset":0,"length":5}]}}`, id, id)
}

func TestWebhook(t *testing.T) {
	srv := newFake(t, telegramtest.Options{})
	must(t, srv.AddPrivateChat(1, "Ann"))
	a, hookURL := webhookAdapter(t, srv)
	secret := DeriveWebhookSecret(testToken)

	if got := postUpdate(t, hookURL, secret, helpUpdate(1)); got != http.StatusServiceUnavailable {
		t.Errorf("before Serve: %d, want 503 so that Telegram retries", got)
	}
	serve(t, a)
	waitUntil(t, "the webhook is set", func() bool { return srv.Stats().Requests["setWebhook"] > 0 })

	for _, tt := range []struct {
		name, secret string
		want         int
	}{
		{"no secret", "", http.StatusUnauthorized},
		{"wrong secret", "x" + secret[1:], http.StatusForbidden},
	} {
		if got := postUpdate(t, hookURL, tt.secret, helpUpdate(2)); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	// Telegram's own delivery carries the secret set with setWebhook.
	_, err := srv.SendText(1, 1, "/help")
	must(t, err)
	if _, err := srv.WaitForMessages(testContext(t), 1, 1); err != nil {
		t.Fatal(err)
	}
	// A redelivered update is answered once.
	for _, id := range []int{7, 7, 8} {
		if got := postUpdate(t, hookURL, secret, helpUpdate(id)); got != http.StatusOK {
			t.Errorf("update %d: %d, want 200", id, got)
		}
	}
	got, err := srv.WaitForMessages(testContext(t), 1, 3)
	must(t, err)
	if len(got) != 3 {
		t.Errorf("%d replies, want 3: the rejected updates and the repeated one go unanswered:\n%q", len(got), texts(got))
	}
	if st := srv.Stats(); st.WebhookFailures != 0 {
		t.Errorf("%d webhook deliveries failed", st.WebhookFailures)
	}
}

func TestWebhookPathMustBeSafe(t *testing.T) {
	srv := newFake(t, telegramtest.Options{})
	for _, bad := range []string{"ftp://x/hook", "https://", "mailto:x@y"} {
		if _, err := New(testContext(t), Options{Token: testToken, Endpoint: srv.Endpoint(), WebhookURL: bad}); err == nil {
			t.Errorf("webhook URL %q accepted", bad)
		}
	}
	// Characters that mean something to ServeMux arrive escaped and are
	// served as the literal path (registering must not panic).
	for _, odd := range []string{"https://x/{hook}", "https://x/a b/", "https://x"} {
		a, err := New(testContext(t), Options{Token: testToken, Endpoint: srv.Endpoint(), WebhookURL: odd})
		if err != nil {
			t.Errorf("webhook URL %q: %v", odd, err)
			continue
		}
		a.RegisterHTTP(http.NewServeMux())
	}
}

func TestDeriveWebhookSecret(t *testing.T) {
	s := DeriveWebhookSecret(testToken)
	if len(s) != 64 || strings.Trim(s, "0123456789abcdef") != "" {
		t.Errorf("secret %q is not 64 hex digits", s)
	}
	if s != DeriveWebhookSecret(testToken) || s == DeriveWebhookSecret(testToken+"x") {
		t.Error("the secret is not a stable function of the token")
	}
	if strings.Contains(s, testTokenSecret) {
		t.Error("the secret shows the token")
	}
}

// Muted in a group, the bot stops its deliveries there at once (with the
// reason /status shows); given the right back, it resumes them.
func TestServeFollowsMuteAndUnmute(t *testing.T) {
	srv, mv := servingGroup(t, -40, true)
	must(t, srv.Mute(-40, 5))
	waitUntil(t, "the mute is followed", func() bool { return len(mv.list()) == 1 })
	must(t, srv.Unmute(-40, 5))
	waitUntil(t, "the unmute is followed", func() bool { return len(mv.list()) == 2 })
	if diff := cmp.Diff([]string{"stop telegram:-40", "resume telegram:-40"}, mv.list()); diff != "" {
		t.Errorf("chat changes (-want +got):\n%s", diff)
	}
}
