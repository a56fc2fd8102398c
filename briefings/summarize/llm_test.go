package summarize

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/briefings"
)

const testAPIKey = "sk-test-0123456789abcdef-secret"

// memCache is an in-memory briefings.SummaryCache.
type memCache struct {
	mu   sync.Mutex
	m    map[string][]string
	gets int
}

func (c *memCache) CachedSummary(_ context.Context, key string) ([]string, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	s, ok := c.m[key]
	return s, ok, nil
}

func (c *memCache) CacheSummary(_ context.Context, key string, summary []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]string{}
	}
	c.m[key] = summary
	return nil
}

func (c *memCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// fixedSummarizer is the fallback in tests: its summary is recognizable.
type fixedSummarizer []string

func (f fixedSummarizer) Summarize(context.Context, briefings.Article) ([]string, error) {
	return f, nil
}

var extractiveStandIn = fixedSummarizer{"The extractive summary."}

// fakeOpenAI is an OpenAI-compatible chat completions endpoint whose answer
// each test scripts.
type fakeOpenAI struct {
	t       *testing.T
	mu      sync.Mutex
	answer  func(w http.ResponseWriter, r *http.Request)
	calls   int
	lastReq map[string]any
	auth    string
}

func newFakeOpenAI(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) (*fakeOpenAI, *httptest.Server) {
	f := &fakeOpenAI{t: t, answer: answer}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
			return
		}
		var req map[string]any
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.calls++
		f.lastReq = req
		f.auth = r.Header.Get("Authorization")
		f.mu.Unlock()
		f.answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeOpenAI) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// completion answers with one choice.
func completion(content, refusal, finish string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		msg := map[string]any{"role": "assistant", "content": content, "refusal": nil}
		if refusal != "" {
			msg["refusal"] = refusal
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
		})
	}
}

func status(code int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

const groundedAnswer = "US Secretary of State Marco Rubio met his Russian counterpart Sergey Lavrov in Kuala Lumpur on July 10th.\n" +
	"They talked for about 50 minutes at the ASEAN meeting about Ukraine, Iran and Syria."

type llmHarness struct {
	llm       *LLM
	cache     *memCache
	logs      *bytes.Buffer
	fallbacks []FallbackReason
	mu        sync.Mutex
}

func newLLMHarness(t *testing.T, baseURL string, timeout time.Duration, concurrent int) *llmHarness {
	t.Helper()
	h := &llmHarness{cache: &memCache{}, logs: &bytes.Buffer{}}
	var logMu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&logMu, h.logs}, nil))
	llm, err := NewLLM(LLMOptions{
		BaseURL: baseURL, Model: "test-model", APIKey: testAPIKey,
		Timeout: timeout, MaxConcurrent: concurrent,
		Fallback: extractiveStandIn, Cache: h.cache, Logger: logger,
		OnFallback: func(r FallbackReason) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.fallbacks = append(h.fallbacks, r)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.llm = llm
	return h
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestLLMGoodAnswerIsUsedAndCached(t *testing.T) {
	fake, srv := newFakeOpenAI(t, completion(groundedAnswer, "", "stop"))
	h := newLLMHarness(t, srv.URL+"/v1", 5*time.Second, 2)
	story := referenceStory(t)

	sum, err := h.llm.Summarize(context.Background(), story)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"US Secretary of State Marco Rubio met his Russian counterpart Sergey Lavrov in Kuala Lumpur on July 10th.",
		"They talked for about 50 minutes at the ASEAN meeting about Ukraine, Iran and Syria.",
	}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if fake.auth != "Bearer "+testAPIKey {
		t.Errorf("Authorization header %q: want the API key as a bearer token", fake.auth)
	}
	if fake.lastReq["model"] != "test-model" || !strings.Contains(mustJSONString(t, fake.lastReq["messages"]), "Kuala Lumpur") {
		t.Errorf("request %v: want the model and the article", fake.lastReq)
	}

	again, err := h.llm.Summarize(context.Background(), story)
	if err != nil || !cmp.Equal(sum, again) {
		t.Errorf("second Summarize = %q, %v; want the cached summary", again, err)
	}
	if n := fake.callCount(); n != 1 {
		t.Errorf("the model was asked %d times for one article, want once (cached)", n)
	}
	if len(h.fallbacks) != 0 {
		t.Errorf("fallbacks %v, want none", h.fallbacks)
	}
}

func mustJSONString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLLMFallsBack(t *testing.T) {
	slow := func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // answers only once the client has given up
	}
	tests := []struct {
		name   string
		answer func(http.ResponseWriter, *http.Request)
		reason FallbackReason
		cached bool // a content failure is cached; a transient one is asked again
	}{
		{"invented number", completion(strings.Replace(groundedAnswer, "50 minutes", "90 minutes", 1), "", "stop"), ReasonUngrounded, true},
		{"invented name", completion(groundedAnswer+"\nVladimir Putin was not there.", "", "stop"), ReasonUngrounded, true},
		{"invented date", completion(strings.Replace(groundedAnswer, "July 10th", "August 3rd", 1), "", "stop"), ReasonUngrounded, true},
		{"rate limited", status(http.StatusTooManyRequests, `{"error":{"message":"Rate limit reached","type":"requests"}}`), ReasonRateLimited, false},
		{"server error", status(http.StatusInternalServerError, `{"error":{"message":"boom"}}`), ReasonServerError, false},
		{"unauthorized", status(http.StatusUnauthorized, `{"error":{"message":"Incorrect API key provided: `+testAPIKey+`"}}`), ReasonAPIError, false},
		{"slow past the timeout", slow, ReasonTimeout, false},
		{"malformed JSON", status(http.StatusOK, `{"id": "chatcmpl-1", "choices": [{"message": {"content": "Rubio met`), ReasonTransport, false},
		{"refusal", completion("", "I can't help with that.", "stop"), ReasonRefusal, true},
		{"empty", completion("  \n ", "", "stop"), ReasonEmpty, true},
		{"cut off", completion("US Secretary of State Marco Rubio met", "", "length"), ReasonTooLong, true},
		{"too many sentences", completion(strings.Repeat("Rubio met Lavrov in Kuala Lumpur.\n", 5), "", "stop"), ReasonTooLong, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newFakeOpenAI(t, tt.answer)
			h := newLLMHarness(t, srv.URL+"/v1", 300*time.Millisecond, 2)
			sum, err := h.llm.Summarize(context.Background(), referenceStory(t))
			if err != nil {
				t.Fatal(err)
			}
			if !cmp.Equal([]string(extractiveStandIn), sum) {
				t.Errorf("summary %q, want the fallback's", sum)
			}
			if diff := cmp.Diff([]FallbackReason{tt.reason}, h.fallbacks); diff != "" {
				t.Errorf("fallbacks counted (-want +got):\n%s", diff)
			}
			logs := h.logs.String()
			if !strings.Contains(logs, `"reason":"`+string(tt.reason)+`"`) {
				t.Errorf("log does not give the reason %q:\n%s", tt.reason, logs)
			}
			if strings.Contains(logs, testAPIKey) {
				t.Errorf("log contains the API key:\n%s", logs)
			}
			if got := h.cache.len() == 1; got != tt.cached {
				t.Errorf("cached: %v, want %v", got, tt.cached)
			}
		})
	}
}

// TestLLMCapsConcurrentRequests holds one request at the server with a cap
// of one: a second article waits for the slot instead of reaching the server,
// and gives up when its context ends; once the first is answered, the next
// one goes through.
func TestLLMCapsConcurrentRequests(t *testing.T) {
	arrived := make(chan struct{}, 3)
	release := make(chan struct{})
	fake, srv := newFakeOpenAI(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		completion(groundedAnswer, "", "stop")(w, r)
	})
	h := newLLMHarness(t, srv.URL+"/v1", 10*time.Second, 1)
	story := referenceStory(t)
	other := story
	other.Title += " (update)"

	first := make(chan error, 1)
	go func() {
		_, err := h.llm.Summarize(context.Background(), story)
		first <- err
	}()
	<-arrived

	// The deadline bounds the wait; a request that got past the cap would
	// reach the server long before it.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := h.llm.Summarize(ctx, other); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second article while the slot is taken: err %v, want the context's deadline", err)
	}
	if n := fake.callCount(); n != 1 {
		t.Errorf("the server saw %d requests with a cap of one, want 1", n)
	}

	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if sum, err := h.llm.Summarize(context.Background(), other); err != nil || len(sum) == 0 || sum[0] == extractiveStandIn[0] {
		t.Errorf("after the slot is free: %q, %v; want the model's summary", sum, err)
	}
}

func TestNewLLMValidates(t *testing.T) {
	for _, opts := range []LLMOptions{
		{Model: "m"},
		{BaseURL: "ftp://example.com", Model: "m"},
		{BaseURL: "http://user:hunter2@/v1", Model: "m"},
		{BaseURL: "https://api.example.com/v1"},
	} {
		_, err := NewLLM(opts)
		if !errors.Is(err, ErrLLMConfig) {
			t.Errorf("NewLLM(%+v) error %v, want ErrLLMConfig", opts, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error %q shows the URL's password", err)
		}
	}
}

func TestLLMCacheKey(t *testing.T) {
	a, _ := NewLLM(LLMOptions{BaseURL: "http://127.0.0.1:1/v1", Model: "model-a"})
	b, _ := NewLLM(LLMOptions{BaseURL: "http://127.0.0.1:1/v1", Model: "model-b"})
	story := briefings.Article{Title: "T", Text: "Some text."}
	changed := briefings.Article{Title: "T", Text: "Some other text."}
	if a.CacheKey(story) != a.CacheKey(story) {
		t.Error("the same article has two keys")
	}
	if a.CacheKey(story) == b.CacheKey(story) {
		t.Error("two models share a key")
	}
	if a.CacheKey(story) == a.CacheKey(changed) {
		t.Error("two texts share a key")
	}
}

func TestUngrounded(t *testing.T) {
	article := "Marco Rubio met Sergey Lavrov on July 10th in Kuala Lumpur for 50 minutes. " +
		"Russia launched a record 1,000 drones. Russia’s ministry said talks may resume in May."
	tests := []struct {
		summary string
		want    []string
	}{
		{"Rubio and Lavrov met in Kuala Lumpur on July 10 for a 50-minute meeting.", nil},
		{"Russia launched 1000 drones; Russia's ministry spoke.", nil},
		{"They met for 90 minutes.", []string{"90"}},
		{"Rubio met Vladimir Putin.", []string{"Vladimir", "Putin"}},
		{"They met on Tuesday in June.", []string{"Tuesday", "June"}},
		{"Talks may resume, Rubio said.", nil}, // "may" the verb is no date
		{"I think Rubio met Lavrov.", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, ungrounded(tt.summary, article)); diff != "" {
			t.Errorf("ungrounded(%q) (-want +got):\n%s", tt.summary, diff)
		}
	}
}
