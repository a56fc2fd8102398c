package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/newsbot/newsbot/bot/telegram/telegramtest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(body)
		}
		if ctx.Err() != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond) // the listener is starting
	}
}

// TestOperatorEndpoints runs the bot on Telegram with the HTTP listener and
// checks what an operator sees: alive, ready, metrics that count what the bot
// did — and never a token, in the metrics or the logs.
func TestOperatorEndpoints(t *testing.T) {
	srv := newTelegramFake(t, telegramtest.Options{})
	if err := srv.AddPrivateChat(1001, "Ann"); err != nil {
		t.Fatal(err)
	}
	env := tgEnv(t, srv)
	addr := freeAddr(t)
	env["NEWSBOT_HTTP_ADDR"] = addr
	logs := startTelegramMain(t, env)

	say(t, srv, 1001, 1001, "/subscribe 07:30 Europe/Berlin", 1)
	base := "http://" + addr
	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	var code int
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if code, body = get(t, base+"/readyz"); code == 200 {
			break
		}
	}
	if code != 200 {
		t.Errorf("/readyz = %d %q", code, body)
	}
	code, metrics := get(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`newsbot_subscriptions_active{platform="telegram"} 1`,
		`newsbot_store_up 1`,
		`newsbot_feed_fetches_total`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, where := range []string{metrics, logs.String()} {
		if strings.Contains(where, tgTokenSecret) {
			t.Error("a token shows in the metrics or the logs")
		}
	}

	// Telegram goes away: the bot is alive but no longer ready.
	srv.Close()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if code, body = get(t, base+"/readyz"); code == http.StatusServiceUnavailable {
			break
		}
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "telegram") {
		t.Errorf("/readyz with the Bot API gone = %d %q, want 503 naming telegram", code, body)
	}
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz with the Bot API gone = %d, want 200: the process is alive", code)
	}
}
