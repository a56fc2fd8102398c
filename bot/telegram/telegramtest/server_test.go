package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"
)

func TestGetMe(t *testing.T) {
	srv := newServer(t, Options{BotUsername: "briefing_bot"})
	bot, err := tgbotapi.NewBotAPIWithAPIEndpoint(testToken, srv.Endpoint())
	must(t, err)
	if bot.Self.ID != testBotID || bot.Self.UserName != "briefing_bot" || !bot.Self.IsBot {
		t.Errorf("getMe = %+v, want bot %d @briefing_bot", bot.Self, testBotID)
	}
	if bot.Self.CanReadAllGroupMessages {
		t.Error("privacy mode is on by default, yet getMe says the bot reads all group messages")
	}
}

func TestWrongTokenIsUnauthorized(t *testing.T) {
	srv := newServer(t, Options{})
	_, err := tgbotapi.NewBotAPIWithAPIEndpoint("123456789:not-the-token", srv.Endpoint())
	e := asAPIError(t, err)
	if e.Code != http.StatusUnauthorized || e.Message != "Unauthorized" {
		t.Errorf("error = %d %q, want 401 Unauthorized", e.Code, e.Message)
	}
	if got := srv.Stats().Rejected[RejectUnauthorized]; got != 1 {
		t.Errorf("unauthorized rejections = %d, want 1", got)
	}
}

func TestMethodNames(t *testing.T) {
	srv := newServer(t, Options{})
	bot := newBot(t, srv)
	if _, err := bot.MakeRequest("GETME", nil); err != nil {
		t.Errorf("method names are case-insensitive on Telegram, GETME failed: %v", err)
	}
	_, err := bot.MakeRequest("sendTelepathy", nil)
	if e := asAPIError(t, err); e.Code != http.StatusNotFound || e.Message != "Not Found" {
		t.Errorf("unknown method = %d %q, want 404 Not Found", e.Code, e.Message)
	}
}

// TestRequestEncodings sends sendMessage the four ways the Bot API accepts.
func TestRequestEncodings(t *testing.T) {
	srv := newServer(t, Options{DisableRateLimits: true})
	must(t, srv.AddPrivateChat(42, "Ann"))
	endpoint := fmt.Sprintf(srv.Endpoint(), testToken, "sendMessage")

	var multipartBody bytes.Buffer
	mw := multipart.NewWriter(&multipartBody)
	must(t, mw.WriteField("chat_id", "42"))
	must(t, mw.WriteField("text", "<b>multipart</b>"))
	must(t, mw.WriteField("parse_mode", "HTML"))
	must(t, mw.Close())

	requests := []struct {
		name        string
		method      string
		url         string
		contentType string
		body        string
	}{
		{"form", http.MethodPost, endpoint, "application/x-www-form-urlencoded",
			url.Values{"chat_id": {"42"}, "text": {"<b>form</b>"}, "parse_mode": {"HTML"}}.Encode()},
		{"json", http.MethodPost, endpoint, "application/json",
			`{"chat_id":42,"text":"<b>json</b>","parse_mode":"HTML","link_preview_options":{"is_disabled":true}}`},
		{"multipart", http.MethodPost, endpoint, mw.FormDataContentType(), multipartBody.String()},
		{"query", http.MethodGet, endpoint + "?" + url.Values{"chat_id": {"42"}, "text": {"query"}}.Encode(), "", ""},
	}
	for _, r := range requests {
		req, err := http.NewRequest(r.method, r.url, strings.NewReader(r.body))
		must(t, err)
		if r.contentType != "" {
			req.Header.Set("Content-Type", r.contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		var envelope struct {
			OK     bool `json:"ok"`
			Result struct {
				Text string `json:"text"`
			} `json:"result"`
		}
		err = json.NewDecoder(resp.Body).Decode(&envelope)
		resp.Body.Close()
		must(t, err)
		if !envelope.OK || envelope.Result.Text != r.name {
			t.Errorf("%s: answer ok=%v text=%q, want ok with text %q", r.name, envelope.OK, envelope.Result.Text, r.name)
		}
	}
	var texts []string
	for _, m := range srv.Messages(42) {
		texts = append(texts, m.PlainText)
	}
	if diff := cmp.Diff([]string{"form", "json", "multipart", "query"}, texts); diff != "" {
		t.Errorf("recorded messages (-want +got):\n%s", diff)
	}
	if !srv.Messages(42)[1].PreviewDisabled {
		t.Error("link_preview_options inside a JSON body was not honoured")
	}
}

// TestErrorEnvelope checks the raw answers: JSON always, the HTTP status
// equal to error_code, parameters only when there are some.
func TestErrorEnvelope(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, Options{Now: clock.Now, Limits: Limits{PerChat: Rate{Count: 1, Per: time.Second, Burst: 1}}})
	must(t, srv.AddPrivateChat(1, "Ann"))
	must(t, srv.AddGroup(-5, "Old", false))
	must(t, srv.Migrate(-5, -1005))
	send := func(token, chatID string) (int, map[string]any) {
		t.Helper()
		resp, err := http.PostForm(fmt.Sprintf(srv.Endpoint(), token, "sendMessage"), url.Values{"chat_id": {chatID}, "text": {"hi"}})
		must(t, err)
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		var body map[string]any
		must(t, json.NewDecoder(resp.Body).Decode(&body))
		return resp.StatusCode, body
	}
	tests := []struct {
		name, token, chatID string
		wantStatus          int
		want                map[string]any
	}{
		{"wrong token", "1:x", "1", 401, map[string]any{"ok": false, "error_code": 401.0, "description": "Unauthorized"}},
		{"chat not found", testToken, "2", 400, map[string]any{"ok": false, "error_code": 400.0, "description": "Bad Request: chat not found"}},
		{"migrated", testToken, "-5", 400, map[string]any{"ok": false, "error_code": 400.0,
			"description": "Bad Request: group chat was upgraded to a supergroup chat",
			"parameters":  map[string]any{"migrate_to_chat_id": -1005.0}}},
		{"accepted", testToken, "1", 200, nil},
		{"flood", testToken, "1", 429, map[string]any{"ok": false, "error_code": 429.0,
			"description": "Too Many Requests: retry after 1", "parameters": map[string]any{"retry_after": 1.0}}},
	}
	for _, tt := range tests {
		status, body := send(tt.token, tt.chatID)
		if status != tt.wantStatus {
			t.Errorf("%s: HTTP %d, want %d", tt.name, status, tt.wantStatus)
		}
		if tt.want == nil {
			if body["ok"] != true || body["result"] == nil {
				t.Errorf("%s: %v", tt.name, body)
			}
			continue
		}
		if diff := cmp.Diff(tt.want, body); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// recordingTransport keeps every response body the client saw.
type recordingTransport struct {
	mu     sync.Mutex
	bodies []string
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	rt.mu.Lock()
	rt.bodies = append(rt.bodies, string(body))
	rt.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func TestTokenIsNeverEchoed(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer hook.Close()
	srv := newServer(t, Options{WebhookAttempts: 1, WebhookRetryDelay: 1})
	must(t, srv.AddPrivateChat(42, "Ann"))
	must(t, srv.Block(42))
	rt := &recordingTransport{}
	client := &http.Client{Transport: rt}
	bot, err := tgbotapi.NewBotAPIWithClient(testToken, srv.Endpoint(), client)
	must(t, err)
	wrongToken, err := tgbotapi.NewBotAPIWithClient(testToken+"x", srv.Endpoint(), client)
	if err == nil {
		t.Fatalf("a wrong token was accepted: %+v", wrongToken.Self)
	}

	// Every kind of answer, good and bad.
	_, _ = bot.Send(tgbotapi.NewMessage(42, "blocked"))
	_, _ = bot.Send(tgbotapi.NewMessage(7, "no such chat"))
	_, _ = bot.Send(tgbotapi.MessageConfig{BaseChat: tgbotapi.BaseChat{ChatID: 42}, Text: "<x>", ParseMode: "HTML"})
	_, _ = bot.Request(tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "Bad", Description: "x"}))
	_, _ = bot.MakeRequest("noSuchMethod", nil)
	_, _ = bot.MakeRequest("setWebhook", tgbotapi.Params{"url": hook.URL, "secret_token": "bad token!"})
	_, _ = bot.MakeRequest("setWebhook", tgbotapi.Params{"url": hook.URL, "secret_token": "hook_secret"})
	_, _ = bot.GetUpdates(tgbotapi.UpdateConfig{})
	_, err = srv.SendText(42, 42, "/start")
	must(t, err)
	waitUntil(t, "the webhook failed", func() bool { return srv.Stats().WebhookFailures > 0 })
	_, _ = bot.GetWebhookInfo()

	rt.mu.Lock()
	defer rt.mu.Unlock()
	if len(rt.bodies) < 10 {
		t.Fatalf("only %d answers recorded", len(rt.bodies))
	}
	for _, body := range rt.bodies {
		if strings.Contains(body, testTokenSecret) {
			t.Errorf("an answer holds the token: %s", body)
		}
	}
}
