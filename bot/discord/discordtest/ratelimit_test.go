package discordtest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/newsbot/newsbot/bot/discord/discordtest"
)

func TestChannelBucketExhaustedGivesRateLimitError(t *testing.T) {
	f := newFixture(t, discordtest.Options{MessageBucket: discordtest.Bucket{Size: 2, Reset: time.Minute}})
	// Two bot instances share Discord's bucket but not discordgo's
	// client-side limiter: the second one learns about the bucket from a 429.
	first, second := f.session(t), f.session(t)
	for i := range 2 {
		if _, err := first.ChannelMessageSend(f.channelID, "briefing "+strconv.Itoa(i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	_, err := second.ChannelMessageSend(f.channelID, "one too many")
	var rl *discordgo.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("third send: %v, want *discordgo.RateLimitError", err)
	}
	if rl.RetryAfter <= 0 || rl.RetryAfter > time.Minute {
		t.Errorf("RetryAfter = %v, want within the bucket's minute", rl.RetryAfter)
	}
	if n := len(f.srv.Messages(f.channelID)); n != 2 {
		t.Errorf("stored %d messages, want 2", n)
	}
	if st := f.srv.Stats(); st.RateLimited != 1 || st.InvalidRequests != 1 {
		t.Errorf("stats = %+v, want one bucket 429 counted as invalid", st)
	}
	// Another channel has its own bucket.
	other := f.srv.NewID()
	must(t, f.srv.AddChannel(f.guildID, other, "other"))
	if _, err := second.ChannelMessageSend(other, "elsewhere"); err != nil {
		t.Errorf("other channel: %v", err)
	}
}

func TestRateLimitHeadersAndBody(t *testing.T) {
	f := newFixture(t, discordtest.Options{MessageBucket: discordtest.Bucket{Size: 1, Reset: 30 * time.Second}})
	post := func() (*http.Response, []byte) {
		return rawREST(t, f, http.MethodPost, discordgo.EndpointChannelMessages(f.channelID), `{"content":"hi"}`)
	}
	ok, _ := post()
	for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Reset-After", "X-RateLimit-Bucket"} {
		if ok.Header.Get(h) == "" {
			t.Errorf("200 answer lacks %s", h)
		}
	}
	if ok.Header.Get("X-RateLimit-Limit") != "1" || ok.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("limit/remaining = %s/%s, want 1/0", ok.Header.Get("X-RateLimit-Limit"), ok.Header.Get("X-RateLimit-Remaining"))
	}
	limited, body := post()
	if limited.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second post = %d, want 429", limited.StatusCode)
	}
	var payload struct {
		Message    string  `json:"message"`
		RetryAfter float64 `json:"retry_after"`
		Global     bool    `json:"global"`
	}
	if err := json.Unmarshal(body, &payload); err != nil {
		t.Fatalf("429 body %q: %v", body, err)
	}
	if payload.Message != "You are being rate limited." || payload.Global || payload.RetryAfter <= 0 || payload.RetryAfter > 30 {
		t.Errorf("429 body = %+v", payload)
	}
	if limited.Header.Get("X-RateLimit-Scope") != "user" || limited.Header.Get("Retry-After") == "" || limited.Header.Get("X-RateLimit-Global") != "" {
		t.Errorf("429 headers = %v", limited.Header)
	}
}

func TestAClientThatFollowsHeadersIsNeverLimited(t *testing.T) {
	f := newFixture(t, discordtest.Options{MessageBucket: discordtest.Bucket{Size: 2, Reset: 200 * time.Millisecond}})
	s := f.session(t)
	for i := range 5 {
		if _, err := s.ChannelMessageSend(f.channelID, "briefing "+strconv.Itoa(i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if st := f.srv.Stats(); st.RateLimited != 0 || len(f.srv.Messages(f.channelID)) != 5 {
		t.Errorf("stats = %+v: discordgo waits on X-RateLimit-Remaining and should never see a 429", st)
	}
}

func TestGlobalLimitAndInteractionExemption(t *testing.T) {
	f := newFixture(t, discordtest.Options{GlobalPerSecond: 2})
	bot := f.session(t)
	bot.AddHandler(func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: "ok"},
		})
	})
	f.open(t, bot)
	registerCommandsRaw(t, f)
	time.Sleep(time.Second) // start the next second with an empty global window

	var lastErr error
	for range 3 {
		_, lastErr = f.session(t).User("@me") // fresh limiter each time, as separate processes
	}
	var rl *discordgo.RateLimitError
	if !errors.As(lastErr, &rl) {
		t.Fatalf("third request within a second: %v, want *discordgo.RateLimitError", lastErr)
	}
	req, _ := http.NewRequest(http.MethodGet, discordgo.EndpointUser("@me"), nil)
	req.Header.Set("Authorization", "Bot "+f.srv.Token())
	resp, err := f.srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-RateLimit-Global") != "true" ||
		resp.Header.Get("X-RateLimit-Scope") != "global" || !strings.Contains(string(body), `"global":true`) {
		t.Errorf("global 429 = %d %v %s", resp.StatusCode, resp.Header, body)
	}
	for _, h := range []string{"X-RateLimit-Bucket", "X-RateLimit-Reset-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
		if v := resp.Header.Get(h); v != "" {
			t.Errorf("a global 429 carries %s: %s; production's has no bucket headers", h, v)
		}
	}
	if st := f.srv.Stats(); st.GlobalRateLimited != 2 {
		t.Errorf("stats = %+v, want two global 429s", st)
	}

	// Interaction callbacks do not count against the global limit.
	h, err := f.srv.Interact(ctxT(t), discordtest.Interaction{GuildID: f.guildID, ChannelID: f.channelID, UserID: f.userID, Name: "brief"})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := h.Await(ctxT(t)); err != nil || r.Content != "ok" {
		t.Errorf("interaction under an exhausted global limit: %+v, %v", r, err)
	}
}

// registerCommandsRaw registers through a session that waits out limits, for
// tests whose own sessions are busy being limited.
func registerCommandsRaw(t *testing.T, f *fixture) {
	t.Helper()
	s := f.session(t)
	s.ShouldRetryOnRateLimit = true
	registerCommands(t, s, f)
}

func TestInjectedFaultsAreSeededAndCanCommit(t *testing.T) {
	run := func() (statuses []int, stored int) {
		f := newFixture(t, discordtest.Options{
			MessageBucket: discordtest.Bucket{Size: 5, Reset: time.Millisecond},
			Faults:        discordtest.Faults{Seed: 42, TooManyRequests: 0.2, ServerErrors: 0.3, CommittedServerErrors: 1, RetryAfter: time.Millisecond},
		})
		for range 20 {
			req, _ := http.NewRequest(http.MethodPost, discordgo.EndpointChannelMessages(f.channelID), strings.NewReader(`{"content":"x"}`))
			req.Header.Set("Authorization", "Bot "+f.srv.Token())
			req.Header.Set("Content-Type", "application/json")
			resp, err := f.srv.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			statuses = append(statuses, resp.StatusCode)
			time.Sleep(2 * time.Millisecond) // let the 1 ms bucket refill so only injected faults show
		}
		return statuses, len(f.srv.Messages(f.channelID))
	}
	first, storedFirst := run()
	second, storedSecond := run()
	if !slices.Equal(first, second) || storedFirst != storedSecond {
		t.Fatalf("same seed, different faults:\n%v (%d stored)\n%v (%d stored)", first, storedFirst, second, storedSecond)
	}
	var ok, limited, failed int
	for _, st := range first {
		switch {
		case st == http.StatusOK:
			ok++
		case st == http.StatusTooManyRequests:
			limited++
		case st >= 500:
			failed++
		}
	}
	if limited == 0 || failed == 0 || ok == 0 {
		t.Errorf("statuses %v: want a mix of 200, 429 and 5xx", first)
	}
	// Every 5xx committed: the stored messages include the ones the client
	// saw fail, which is what makes blind retries post twice.
	if storedFirst != ok+failed {
		t.Errorf("stored %d, want %d (200s) + %d (committed 5xx)", storedFirst, ok, failed)
	}
}

// rawREST makes one REST call without discordgo's limiter in the way.
func rawREST(t *testing.T, f *fixture, method, url, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bot "+f.srv.Token())
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func TestGlobal429PersistsOnEveryRoute(t *testing.T) {
	f := newFixture(t, discordtest.Options{GlobalPerSecond: 1})
	// Fill the global window, then go over it once.
	var first *http.Response
	var body []byte
	for range 2 {
		first, body = rawREST(t, f, http.MethodGet, discordgo.EndpointUser("@me"), "")
	}
	if first.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second request within a second under a budget of one: %d", first.StatusCode)
	}
	var payload struct {
		Message    *string  `json:"message"`
		RetryAfter *float64 `json:"retry_after"`
		Global     *bool    `json:"global"`
	}
	if err := json.Unmarshal(body, &payload); err != nil || payload.Message == nil || payload.RetryAfter == nil ||
		payload.Global == nil || !*payload.Global {
		t.Fatalf("global 429 body %s: want message, retry_after and global:true", body)
	}
	until := time.Now().Add(time.Duration(*payload.RetryAfter * float64(time.Second)))

	// While it runs every route is refused the same way, even one never
	// used before (its own bucket is full) and a request that would not have
	// gone over the budget on its own.
	other := f.srv.NewID()
	must(t, f.srv.AddChannel(f.guildID, other, "other"))
	for _, call := range []struct{ method, url, body string }{
		{http.MethodPost, discordgo.EndpointChannelMessages(other), `{"content":"hi"}`},
		{http.MethodGet, discordgo.EndpointChannel(f.channelID), ""},
		{http.MethodPut, discordgo.EndpointApplicationGuildCommands(f.srv.ApplicationID(), f.guildID), `[]`},
	} {
		resp, data := rawREST(t, f, call.method, call.url, call.body)
		if time.Now().After(until) {
			t.Skip("the machine is too slow to observe the global 429 while it runs")
		}
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-RateLimit-Scope") != "global" ||
			resp.Header.Get("X-RateLimit-Global") != "true" || resp.Header.Get("Retry-After") == "" ||
			resp.Header.Get("X-RateLimit-Bucket") != "" || !strings.Contains(string(data), `"global":true`) {
			t.Errorf("%s %s during a global 429 = %d %v %s", call.method, call.url, resp.StatusCode, resp.Header, data)
		}
	}
	if n := len(f.srv.Messages(other)); n != 0 {
		t.Errorf("%d messages posted during a global 429", n)
	}

	// Once retry_after has passed, requests go through again.
	time.Sleep(time.Until(until) + 10*time.Millisecond)
	if resp, data := rawREST(t, f, http.MethodPost, discordgo.EndpointChannelMessages(other), `{"content":"hi"}`); resp.StatusCode != http.StatusOK {
		t.Errorf("after retry_after: %d %s", resp.StatusCode, data)
	}
}

func TestInjectedGlobal429RefusesEveryRoute(t *testing.T) {
	f := newFixture(t, discordtest.Options{Faults: discordtest.Faults{Seed: 1, GlobalTooManyRequests: 1, RetryAfter: 2 * time.Second}})
	resp, body := rawREST(t, f, http.MethodPost, discordgo.EndpointChannelMessages(f.channelID), `{"content":"hi"}`)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-RateLimit-Scope") != "global" ||
		resp.Header.Get("X-RateLimit-Bucket") != "" || resp.Header.Get("X-RateLimit-Reset-After") != "" || !strings.Contains(string(body), `"global":true`) {
		t.Fatalf("injected global 429 = %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if resp, _ := rawREST(t, f, http.MethodGet, discordgo.EndpointChannel(f.channelID), ""); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("another route during the injected global 429: %d", resp.StatusCode)
	}
	if st := f.srv.Stats(); st.DuringGlobalLimit != 1 || st.GlobalRateLimited != 2 || st.InjectedFaults != 1 || len(f.srv.Messages(f.channelID)) != 0 {
		t.Errorf("stats = %+v, want one injected global 429 and one request refused inside it", st)
	}
}
