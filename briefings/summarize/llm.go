package summarize

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/newsbot/newsbot/briefings"
)

// LLMOptions configure an LLM summarizer. BaseURL and Model are required.
type LLMOptions struct {
	// BaseURL is an OpenAI-compatible API: "https://api.openai.com/v1", or a
	// local llama.cpp, Ollama or vLLM server ("http://127.0.0.1:8080/v1").
	BaseURL string
	Model   string
	APIKey  string // optional: local servers need none; never logged

	// Timeout bounds one article's request, retries included (30s when 0).
	Timeout time.Duration
	// MaxConcurrent caps requests in flight (4 when 0).
	MaxConcurrent int
	// MaxRetries is how often the client retries a failed request (429,
	// 5xx, connection errors) within Timeout before falling back; 0 by
	// default, so a failing service costs one request per article.
	MaxRetries int

	// Fallback summarizes when the model cannot (an extractive summarizer,
	// New(Options{}), when nil).
	Fallback briefings.Summarizer
	// Cache remembers summaries by article content and model, so a story is
	// summarized once; nil for none.
	Cache briefings.SummaryCache
	// Logger receives one warning per fallback, with its reason; nil
	// discards.
	Logger *slog.Logger
	// OnFallback, when set, is called once per fallback with its reason: a
	// hook for a metrics counter.
	OnFallback func(reason FallbackReason)
	// HTTPClient sends the requests (a client with a 60s overall timeout
	// when nil).
	HTTPClient *http.Client
}

// FallbackReason says why an LLM summary was not used.
type FallbackReason string

// The reasons for a fallback.
const (
	ReasonTimeout     FallbackReason = "timeout"      // no answer within Timeout
	ReasonRateLimited FallbackReason = "rate_limited" // HTTP 429
	ReasonServerError FallbackReason = "server_error" // HTTP 5xx
	ReasonAPIError    FallbackReason = "api_error"    // another HTTP error (401, 404, ...)
	ReasonTransport   FallbackReason = "transport"    // no HTTP answer, or one that is not a completion
	ReasonRefusal     FallbackReason = "refusal"      // the model declined
	ReasonEmpty       FallbackReason = "empty"        // no text
	ReasonTooLong     FallbackReason = "too_long"     // cut off, or longer than a summary
	ReasonUngrounded  FallbackReason = "ungrounded"   // a number, date or name not in the article
)

// FallbackReasons is every reason, for metrics whose series start at zero.
func FallbackReasons() []FallbackReason {
	return []FallbackReason{ReasonTimeout, ReasonRateLimited, ReasonServerError, ReasonAPIError, ReasonTransport,
		ReasonRefusal, ReasonEmpty, ReasonTooLong, ReasonUngrounded}
}

// transient reasons are worth asking again next time; a summary that fell
// back for another reason is cached like a good one, so the same article
// does not cost a request again.
func (r FallbackReason) transient() bool {
	switch r {
	case ReasonTimeout, ReasonRateLimited, ReasonServerError, ReasonAPIError, ReasonTransport:
		return true
	}
	return false
}

// LLM summarizes with a language model behind an OpenAI-compatible API, and
// falls back to another summarizer whenever the model's answer cannot be
// trusted: an error, a timeout, a refusal, an empty or over-long answer, or
// one that states a number, date or name the article does not have. It is safe
// for concurrent use.
type LLM struct {
	chat       openai.ChatCompletionService
	model      string
	apiKey     string
	timeout    time.Duration
	slots      chan struct{}
	fallback   briefings.Summarizer
	cache      briefings.SummaryCache
	log        *slog.Logger
	onFallback func(FallbackReason)
}

var _ briefings.Summarizer = (*LLM)(nil)

// ErrLLMConfig is wrapped by NewLLM's errors.
var ErrLLMConfig = errors.New("llm summarizer: bad configuration")

// NewLLM returns an LLM summarizer. The client reads nothing from the
// environment: all its configuration is in opts.
func NewLLM(opts LLMOptions) (*LLM, error) {
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: base URL %q: want an http or https URL", ErrLLMConfig, briefings.RedactURL(opts.BaseURL))
	}
	if strings.TrimSpace(opts.Model) == "" {
		return nil, fmt.Errorf("%w: no model", ErrLLMConfig)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 4
	}
	if opts.Fallback == nil {
		opts.Fallback = New(Options{})
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	reqOpts := []option.RequestOption{
		option.WithBaseURL(strings.TrimSuffix(opts.BaseURL, "/") + "/"),
		option.WithHTTPClient(opts.HTTPClient),
		option.WithMaxRetries(max(opts.MaxRetries, 0)),
	}
	if opts.APIKey != "" {
		reqOpts = append(reqOpts, option.WithAPIKey(opts.APIKey))
	}
	return &LLM{
		// Not openai.NewClient: it would read OPENAI_* variables.
		chat:       openai.NewChatCompletionService(reqOpts...),
		model:      opts.Model,
		apiKey:     opts.APIKey,
		timeout:    opts.Timeout,
		slots:      make(chan struct{}, opts.MaxConcurrent),
		fallback:   opts.Fallback,
		cache:      opts.Cache,
		log:        opts.Logger,
		onFallback: opts.OnFallback,
	}, nil
}

// llmPromptVersion is part of the cache key: a new prompt summarizes anew.
const llmPromptVersion = "1"

const llmSystemPrompt = `You summarize news articles for a news briefing.
Write at most three short sentences that say who did what, where and when, in the order of importance.
Use only facts, names, numbers and dates that are in the article; do not add any.
Write plain text, one sentence per line, with no title, list marks or preamble.`

// maxPromptArticleBytes bounds the article text sent: the news is in its
// first part, and tokens cost.
const maxPromptArticleBytes = 12000

// maxLLMWords is the longest summary accepted from the model.
const maxLLMWords = 90

// CacheKey is the key under which the LLM summary of a is cached: the model,
// the prompt version and a SHA-256 of the article's title and text.
func (l *LLM) CacheKey(a briefings.Article) string {
	h := sha256.New()
	io.WriteString(h, a.Title)
	h.Write([]byte{0})
	io.WriteString(h, a.Text)
	return "llm/" + llmPromptVersion + "/" + l.model + "/" + hex.EncodeToString(h.Sum(nil))
}

// Summarize returns the model's summary of a, or the fallback's when the
// model's cannot be used. It fails only when ctx ends or the fallback fails.
func (l *LLM) Summarize(ctx context.Context, a briefings.Article) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("llm summarizer: %w", err)
	}
	key := l.CacheKey(a)
	if l.cache != nil {
		sum, ok, err := l.cache.CachedSummary(ctx, key)
		if err != nil {
			l.log.WarnContext(ctx, "llm summary cache read failed", "err", l.redact(err))
		} else if ok {
			return sum, nil
		}
	}
	sum, reason, err := l.ask(ctx, a)
	if reason != "" {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("llm summarizer: %w", ctx.Err())
		}
		attrs := []any{"reason", string(reason), "model", l.model}
		if err != nil {
			attrs = append(attrs, "err", l.redact(err))
		}
		l.log.WarnContext(ctx, "llm summary not used; falling back", attrs...)
		if l.onFallback != nil {
			l.onFallback(reason)
		}
		sum, err = l.fallback.Summarize(ctx, a)
		if err != nil {
			return nil, fmt.Errorf("llm summarizer: fallback: %w", err)
		}
		if reason.transient() {
			return sum, nil
		}
	}
	if l.cache != nil {
		if err := l.cache.CacheSummary(ctx, key, sum); err != nil {
			l.log.WarnContext(ctx, "llm summary cache write failed", "err", l.redact(err))
		}
	}
	return sum, nil
}

// ask gets the model's summary; a non-empty reason says why it is not
// usable, with the error behind it if any.
func (l *LLM) ask(ctx context.Context, a briefings.Article) ([]string, FallbackReason, error) {
	select {
	case l.slots <- struct{}{}:
		defer func() { <-l.slots }()
	case <-ctx.Done():
		return nil, ReasonTimeout, ctx.Err()
	}
	reqCtx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()

	text := a.Text
	if len(text) > maxPromptArticleBytes {
		cut := maxPromptArticleBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	user := text
	if a.Title != "" {
		user = "Title: " + a.Title + "\n\n" + text
	}
	resp, err := l.chat.New(reqCtx, openai.ChatCompletionNewParams{
		Model: l.model,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage(llmSystemPrompt),
			openai.UserMessage(user),
		},
		Temperature: openai.Float(0),
		MaxTokens:   openai.Int(300),
	})
	if err != nil {
		return nil, classify(reqCtx, err), err
	}
	if len(resp.Choices) == 0 {
		return nil, ReasonEmpty, errors.New("no choices in the answer")
	}
	choice := resp.Choices[0]
	if strings.TrimSpace(choice.Message.Refusal) != "" || choice.FinishReason == "content_filter" {
		return nil, ReasonRefusal, nil
	}
	if choice.FinishReason == "length" {
		return nil, ReasonTooLong, errors.New("the answer was cut off at the token limit")
	}
	sum := answerSentences(choice.Message.Content)
	if len(sum) == 0 {
		return nil, ReasonEmpty, nil
	}
	if len(sum) > MaxSentences || words(sum) > maxLLMWords {
		return nil, ReasonTooLong, fmt.Errorf("%d sentences, %d words", len(sum), words(sum))
	}
	if missing := ungrounded(strings.Join(sum, " "), a.Title+"\n"+a.Text); len(missing) > 0 {
		return nil, ReasonUngrounded, fmt.Errorf("not in the article: %s", strings.Join(missing, ", "))
	}
	return sum, "", nil
}

// classify names the reason a request failed.
func classify(reqCtx context.Context, err error) FallbackReason {
	var apiErr *openai.Error
	var netErr net.Error
	switch {
	case errors.As(err, &apiErr):
		switch {
		case apiErr.StatusCode == http.StatusTooManyRequests:
			return ReasonRateLimited
		case apiErr.StatusCode >= 500:
			return ReasonServerError
		}
		return ReasonAPIError
	case errors.Is(err, context.DeadlineExceeded) || reqCtx.Err() != nil || errors.As(err, &netErr) && netErr.Timeout():
		return ReasonTimeout
	}
	return ReasonTransport
}

// answerSentences splits the model's answer into sentences, without list
// marks or headings.
func answerSentences(answer string) []string {
	var lines []string
	for _, line := range strings.Split(answer, "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimLeft(line, "-*•–— ")
		if i := strings.IndexAny(line, ".)"); i > 0 && i <= 2 && allDigits(line[:i]) {
			line = strings.TrimSpace(line[i+1:]) // "1. " or "2) "
		}
		if line != "" {
			lines = append(lines, line)
		}
	}
	var out []string
	for _, line := range lines {
		out = splitParagraph(cleanSpaces(line), out)
	}
	return out
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// ungrounded lists the facts of summary that the article does not state:
// numbers (digits, thousands separators ignored), day and month names, and
// capitalized words after a sentence's first (names), each looked for as a
// word of the article, case-blind.
func ungrounded(summary, article string) []string {
	have := map[string]bool{}
	for _, w := range factWords(article) {
		have[w] = true
	}
	var missing []string
	seen := map[string]bool{}
	for _, s := range SplitSentences(summary) {
		for i, word := range splitWords(s.Text) {
			for _, w := range strings.Split(word, "-") {
				norm := normalizeFact(w)
				if norm == "" || seen[norm] {
					continue
				}
				r, _ := utf8.DecodeRuneInString(w)
				isNumber := unicode.IsDigit(r)
				isDate := dateNames[norm] && unicode.IsUpper(r)
				isName := unicode.IsUpper(r) && i > 0 && !commonCapitalized[norm]
				if (isNumber || isDate || isName) && !have[norm] {
					seen[norm] = true
					missing = append(missing, w)
				}
			}
		}
	}
	return missing
}

// factWords are the article's words, normalized as facts are.
func factWords(text string) []string {
	var out []string
	for _, w := range splitWords(text) {
		if n := normalizeFact(w); n != "" {
			out = append(out, n)
			// "Russia's" states "Russia"; "50-minute" states "50".
			for _, part := range strings.FieldsFunc(n, func(r rune) bool { return r == '-' || r == '\'' }) {
				out = append(out, part)
			}
		}
	}
	return out
}

// splitWords splits text into words: runs of letters, digits, and the
// apostrophes, hyphens, commas and points inside them ("1,000", "3.7",
// "Russia's", "50-minute").
func splitWords(text string) []string {
	inner := func(r rune) bool { return r == '\'' || r == '’' || r == '-' || r == ',' || r == '.' }
	var out []string
	runes := []rune(text)
	start := -1
	for i := 0; i <= len(runes); i++ {
		word := i < len(runes) && (unicode.IsLetter(runes[i]) || unicode.IsDigit(runes[i]) ||
			inner(runes[i]) && start >= 0 && i+1 < len(runes) && (unicode.IsLetter(runes[i+1]) || unicode.IsDigit(runes[i+1])))
		if word && start < 0 {
			start = i
		}
		if !word && start >= 0 {
			out = append(out, string(runes[start:i]))
			start = -1
		}
	}
	return out
}

// normalizeFact lower-cases a word, drops thousands separators and a
// possessive, and turns curly apostrophes straight: "1,000" → "1000",
// "Lavrov’s" → "lavrov".
func normalizeFact(w string) string {
	w = strings.ToLower(strings.ReplaceAll(w, "’", "'"))
	w = strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "'")
	if w != "" && unicode.IsDigit(rune(w[0])) {
		w = strings.ReplaceAll(w, ",", "")
		// Ordinals and units glued to a number state the number: "10th".
		w = strings.TrimRightFunc(w, unicode.IsLetter)
	}
	return w
}

var dateNames = map[string]bool{
	"monday": true, "tuesday": true, "wednesday": true, "thursday": true, "friday": true,
	"saturday": true, "sunday": true, "january": true, "february": true, "march": true,
	"april": true, "may": true, "june": true, "july": true, "august": true, "september": true,
	"october": true, "november": true, "december": true,
}

// commonCapitalized are words a summary may capitalize that name nothing.
var commonCapitalized = map[string]bool{"i": true, "i'm": true, "i've": true, "i'd": true, "i'll": true}

// redact removes the API key from an error's text, in case a server or
// library echoed it.
func (l *LLM) redact(err error) string {
	s := err.Error()
	if l.apiKey != "" {
		s = strings.ReplaceAll(s, l.apiKey, "[redacted]")
	}
	return s
}
