package telegramtest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"
)

// seenUpdate is what a bot reads from an update.
type seenUpdate struct {
	UpdateID      int
	ChatID        int64
	ChatType      string
	From          string
	Command       string
	CommandWithAt string
	Arguments     string
}

func see(u tgbotapi.Update) seenUpdate {
	m := u.Message
	return seenUpdate{
		UpdateID:      u.UpdateID,
		ChatID:        m.Chat.ID,
		ChatType:      m.Chat.Type,
		From:          m.From.FirstName,
		Command:       m.Command(),
		CommandWithAt: m.CommandWithAt(),
		Arguments:     m.CommandArguments(),
	}
}

func TestGetUpdatesChanReceivesCommands(t *testing.T) {
	srv := newServer(t, Options{})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1001, "Ann"))
	must(t, srv.AddGroup(-2001, "Newsroom", false))
	must(t, srv.AddGroup(-1002002, "Big newsroom", true))
	must(t, srv.AddUser(1002, "Bob"))

	var want []seenUpdate
	send := func(chatID, from int64, text string, w seenUpdate) {
		id, err := srv.SendText(chatID, from, text)
		must(t, err)
		w.UpdateID = id
		want = append(want, w)
	}
	send(1001, 1001, "/start", seenUpdate{ChatID: 1001, ChatType: "private", From: "Ann", Command: "start", CommandWithAt: "start"})
	send(1001, 1001, "/subscribe 07:30 Europe/Berlin", seenUpdate{ChatID: 1001, ChatType: "private", From: "Ann",
		Command: "subscribe", CommandWithAt: "subscribe", Arguments: "07:30 Europe/Berlin"})
	send(-2001, 1002, "/brief@newsbot_test_bot", seenUpdate{ChatID: -2001, ChatType: "group", From: "Bob",
		Command: "brief", CommandWithAt: "brief@newsbot_test_bot"})
	send(-1002002, 1002, "/topics@NewsBot_Test_Bot tech", seenUpdate{ChatID: -1002002, ChatType: "supergroup", From: "Bob",
		Command: "topics", CommandWithAt: "topics@NewsBot_Test_Bot", Arguments: "tech"})
	send(1001, 1001, "hello", seenUpdate{ChatID: 1001, ChatType: "private", From: "Ann"})

	updates := bot.GetUpdatesChan(tgbotapi.UpdateConfig{Timeout: 1})
	t.Cleanup(func() {
		// The library checks for the stop between polls: one more update
		// ends the poll in flight, so that it stops before the server does.
		bot.StopReceivingUpdates()
		_, _ = srv.SendText(1001, 1001, "bye")
	})
	ctx := testContext(t)
	var got []seenUpdate
	for len(got) < len(want) {
		select {
		case u := <-updates:
			got = append(got, see(u))
		case <-ctx.Done():
			t.Fatalf("got %d of %d updates", len(got), len(want))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("updates (-want +got):\n%s", diff)
	}
}

func TestPrivacyMode(t *testing.T) {
	tests := []struct {
		text          string
		privacyOff    bool
		wantDelivered bool
	}{
		{"/brief", false, true},
		{"/brief@newsbot_test_bot", false, true},
		{"/brief@other_bot", false, false},
		{"good morning", false, false},
		{"hey @newsbot_test_bot", false, true},
		{"good morning", true, true},
	}
	for _, tt := range tests {
		srv := newServer(t, Options{PrivacyModeDisabled: tt.privacyOff})
		must(t, srv.AddGroup(-1, "Group", false))
		_, err := srv.SendText(-1, 5, tt.text)
		if delivered := err == nil; delivered != tt.wantDelivered {
			t.Errorf("privacy off=%v, %q: delivered=%v (%v), want %v", tt.privacyOff, tt.text, delivered, err, tt.wantDelivered)
		}
		if err != nil && !errors.Is(err, ErrNotDelivered) {
			t.Errorf("%q: error %v is not ErrNotDelivered", tt.text, err)
		}
	}
}

func updateIDs(updates []tgbotapi.Update) []int {
	ids := []int{}
	for _, u := range updates {
		ids = append(ids, u.UpdateID)
	}
	return ids
}

func TestGetUpdatesOffsetConfirms(t *testing.T) {
	srv := newServer(t, Options{})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	var ids []int
	for _, text := range []string{"/a", "/b", "/c", "/d", "/e"} {
		id, err := srv.SendText(1, 1, text)
		must(t, err)
		ids = append(ids, id)
	}
	steps := []struct {
		name   string
		config tgbotapi.UpdateConfig
		want   []int
	}{
		{"unconfirmed updates come back", tgbotapi.UpdateConfig{}, ids},
		{"again, since nothing was confirmed", tgbotapi.UpdateConfig{}, ids},
		{"limit", tgbotapi.UpdateConfig{Limit: 2}, ids[:2]},
		{"offset confirms what is before it", tgbotapi.UpdateConfig{Offset: ids[2]}, ids[2:]},
		{"confirmed updates are gone", tgbotapi.UpdateConfig{}, ids[2:]},
		{"negative offset keeps the last ones", tgbotapi.UpdateConfig{Offset: -1}, ids[4:]},
		{"offset past the last empties the queue", tgbotapi.UpdateConfig{Offset: ids[4] + 1}, []int{}},
	}
	for _, step := range steps {
		got, err := bot.GetUpdates(step.config)
		must(t, err)
		if diff := cmp.Diff(step.want, updateIDs(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", step.name, diff)
		}
	}
	if n := srv.PendingUpdates(); n != 0 {
		t.Errorf("%d updates pending after confirming all", n)
	}
}

func TestAllowedUpdatesFilters(t *testing.T) {
	srv := newServer(t, Options{})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	_, err := srv.SendText(1, 1, "/a")
	must(t, err)
	got, err := bot.GetUpdates(tgbotapi.UpdateConfig{AllowedUpdates: []string{"callback_query"}})
	must(t, err)
	if len(got) != 0 {
		t.Errorf("asked for callback queries only, got %d message updates", len(got))
	}
	// A nil AllowedUpdates is sent as null and keeps the previous setting.
	_, err = srv.SendText(1, 1, "/b")
	must(t, err)
	got, err = bot.GetUpdates(tgbotapi.UpdateConfig{})
	must(t, err)
	if len(got) != 0 {
		t.Errorf("allowed_updates null reset the filter: got %d updates", len(got))
	}
	_, err = srv.SendText(1, 1, "/c")
	must(t, err)
	got, err = bot.GetUpdates(tgbotapi.UpdateConfig{AllowedUpdates: []string{}})
	must(t, err)
	if len(got) != 1 || got[0].Message.Command() != "c" {
		t.Errorf("an empty allowed_updates restores the default, got %v", updateIDs(got))
	}
}

func TestLongPollReturnsWhenAnUpdateArrives(t *testing.T) {
	srv := newServer(t, Options{})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	type result struct {
		updates []tgbotapi.Update
		err     error
	}
	done := make(chan result, 1)
	go func() {
		u, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 30})
		done <- result{u, err}
	}()
	waitForPoller(t, srv)
	id, err := srv.SendText(1, 1, "/brief")
	must(t, err)
	select {
	case r := <-done:
		must(t, r.err)
		if diff := cmp.Diff([]int{id}, updateIDs(r.updates)); diff != "" {
			t.Errorf("long poll (-want +got):\n%s", diff)
		}
	case <-testContext(t).Done():
		t.Fatal("the long poll did not return when the update arrived")
	}
}

func TestSecondPollerTerminatesTheFirst(t *testing.T) {
	srv := newServer(t, Options{})
	first, second := newBot(t, srv), newBot(t, srv)
	done := make(chan error, 1)
	go func() {
		_, err := first.GetUpdates(tgbotapi.UpdateConfig{Timeout: 30})
		done <- err
	}()
	waitForPoller(t, srv)
	if _, err := second.GetUpdates(tgbotapi.UpdateConfig{}); err != nil {
		t.Fatalf("the newer poller failed: %v", err)
	}
	select {
	case err := <-done:
		e := asAPIError(t, err)
		want := "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
		if e.Code != http.StatusConflict || e.Message != want {
			t.Errorf("older poller got %d %q, want 409 %q", e.Code, e.Message, want)
		}
	case <-testContext(t).Done():
		t.Fatal("the older poller was not terminated")
	}
}

const webhookConflict = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"

func TestGetUpdatesConflictsWithWebhook(t *testing.T) {
	srv := newServer(t, Options{})
	bot := newBot(t, srv)

	// A poll already waiting is ended by setWebhook.
	done := make(chan error, 1)
	go func() {
		_, err := bot.GetUpdates(tgbotapi.UpdateConfig{Timeout: 30})
		done <- err
	}()
	waitForPoller(t, srv)
	wh, err := tgbotapi.NewWebhook("http://127.0.0.1:1/hook")
	must(t, err)
	_, err = bot.Request(wh)
	must(t, err)
	select {
	case err := <-done:
		if e := asAPIError(t, err); e.Code != http.StatusConflict || e.Message != webhookConflict {
			t.Errorf("waiting poll got %d %q, want 409 %q", e.Code, e.Message, webhookConflict)
		}
	case <-testContext(t).Done():
		t.Fatal("setWebhook did not end the waiting poll")
	}

	_, err = bot.GetUpdates(tgbotapi.UpdateConfig{})
	if e := asAPIError(t, err); e.Code != http.StatusConflict || e.Message != webhookConflict {
		t.Errorf("getUpdates with a webhook = %d %q, want 409 %q", e.Code, e.Message, webhookConflict)
	}
	info, err := bot.GetWebhookInfo()
	must(t, err)
	if info.URL != "http://127.0.0.1:1/hook" {
		t.Errorf("getWebhookInfo url = %q", info.URL)
	}

	_, err = bot.Request(tgbotapi.DeleteWebhookConfig{})
	must(t, err)
	if _, err := bot.GetUpdates(tgbotapi.UpdateConfig{}); err != nil {
		t.Errorf("getUpdates after deleteWebhook: %v", err)
	}
}

// delivery is one POST the webhook received.
type delivery struct {
	secret string
	update tgbotapi.Update
}

func TestWebhookDeliveryWithSecretAndRetry(t *testing.T) {
	deliveries := make(chan delivery, 10)
	var calls atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		var u tgbotapi.Update
		if err := json.Unmarshal(body, &u); err != nil {
			t.Errorf("webhook body %q: %v", body, err)
		}
		deliveries <- delivery{secret: r.Header.Get("X-Telegram-Bot-Api-Secret-Token"), update: u}
		if call == 1 {
			http.Error(w, "not yet", http.StatusInternalServerError)
		}
	}))
	defer hook.Close()

	srv := newServer(t, Options{WebhookRetryDelay: 1})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	// v5.5.1 has no secret_token field: it goes through Params.
	_, err := bot.MakeRequest("setWebhook", tgbotapi.Params{"url": hook.URL + "/tg", "secret_token": "s3cr3t-Token_1"})
	must(t, err)
	id, err := srv.SendText(1, 1, "/brief")
	must(t, err)

	ctx := testContext(t)
	for attempt := 1; attempt <= 2; attempt++ {
		select {
		case d := <-deliveries:
			if d.secret != "s3cr3t-Token_1" {
				t.Errorf("attempt %d: secret header %q", attempt, d.secret)
			}
			if d.update.UpdateID != id || d.update.Message.Command() != "brief" {
				t.Errorf("attempt %d: delivered update %d %q, want %d /brief", attempt, d.update.UpdateID, d.update.Message.Text, id)
			}
		case <-ctx.Done():
			t.Fatalf("attempt %d never arrived", attempt)
		}
	}
	waitUntil(t, "the webhook accepted the update", func() bool { return srv.Stats().WebhookDeliveries == 1 })
	info, err := bot.GetWebhookInfo()
	must(t, err)
	if info.LastErrorMessage != "Wrong response from the webhook: 500 Internal Server Error" || info.PendingUpdateCount != 0 {
		t.Errorf("getWebhookInfo = %+v, want the 500 recorded and nothing pending", info)
	}
}

func TestWebhookGivesUpAfterAttempts(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer hook.Close()
	srv := newServer(t, Options{WebhookAttempts: 3, WebhookRetryDelay: 1})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	_, err := bot.MakeRequest("setWebhook", tgbotapi.Params{"url": hook.URL})
	must(t, err)
	_, err = srv.SendText(1, 1, "/brief")
	must(t, err)
	waitUntil(t, "the update was given up", func() bool { return srv.PendingUpdates() == 0 })
	if st := srv.Stats(); st.WebhookFailures != 3 || st.WebhookDeliveries != 0 {
		t.Errorf("failures=%d deliveries=%d, want 3 attempts and no delivery", st.WebhookFailures, st.WebhookDeliveries)
	}
}

func TestSetWebhookValidatesSecretToken(t *testing.T) {
	srv := newServer(t, Options{})
	bot := newBot(t, srv)
	tests := []struct {
		secret string
		want   string
	}{
		{"", ""},
		{"abc_XYZ-019", ""},
		{strings.Repeat("a", 256), ""},
		{strings.Repeat("a", 257), "Bad Request: secret token is too long"},
		{"with space", "Bad Request: secret token contains unallowed characters"},
		{"base64+/=", "Bad Request: secret token contains unallowed characters"},
		{"tøken", "Bad Request: secret token contains unallowed characters"},
	}
	for _, tt := range tests {
		_, err := bot.MakeRequest("setWebhook", tgbotapi.Params{"url": "https://example.org/hook", "secret_token": tt.secret})
		got := ""
		if err != nil {
			e := asAPIError(t, err)
			got = e.Message
			if e.Code != http.StatusBadRequest {
				t.Errorf("secret %q: code %d, want 400", tt.secret, e.Code)
			}
		}
		if got != tt.want {
			t.Errorf("secret %q: error %q, want %q", tt.secret, got, tt.want)
		}
	}
}
