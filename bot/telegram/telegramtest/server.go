package telegramtest

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultToken is the token the fake accepts when Options.Token is empty: the
// example token of the Bot API documentation, so it is no one's secret.
const DefaultToken = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// DefaultBotUsername is getMe's username when Options.BotUsername is empty.
const DefaultBotUsername = "newsbot_test_bot"

// Options configure a Server. The zero value is a working fake with the
// documented limits and no faults.
type Options struct {
	// Token is the only token accepted; any other gets 401 Unauthorized.
	// Its numeric prefix (before ':') is the bot's user id. Default
	// DefaultToken.
	Token string
	// BotUsername is the bot's username, without '@'. Default
	// DefaultBotUsername.
	BotUsername string
	// BotName is the bot's first name. Default "Newsbot Test".
	BotName string
	// PrivacyModeDisabled makes the bot receive every group message. By
	// default, as on Telegram, a group message reaches the bot only if it
	// is a command (to this bot when it names one with '@') or mentions it.
	PrivacyModeDisabled bool

	// Limits are the flood limits; zero Rates take DefaultLimits.
	Limits Limits
	// RateScale multiplies every limit's rate (not its burst): 100 makes
	// the fake accept 100 times as many messages per second, which is the
	// same as running the documented limits on a clock 100 times as fast.
	// Zero means 1.
	RateScale float64
	// DisableRateLimits turns flood control off entirely.
	DisableRateLimits bool
	// FloodModel reads the limits strictly (FloodStrict, the default) or
	// as the older token buckets (FloodBuckets).
	FloodModel FloodModel

	// Faults are injected into sendMessage.
	Faults Faults

	// WebhookAttempts is how many times one update is POSTed to a webhook
	// that answers non-2xx or not at all before it is dropped. Default 3.
	WebhookAttempts int
	// WebhookRetryDelay is the pause before the first retry; it doubles
	// with every further one. Default 100ms.
	WebhookRetryDelay time.Duration
	// WebhookClient delivers webhook updates. Default: a client with a
	// 10 s timeout.
	WebhookClient *http.Client

	// Now is the fake's clock for flood control and message dates.
	// Default time.Now. Long polls and webhook retries use real time.
	Now func() time.Time
}

// Faults make sendMessage fail or stall on purpose. Each sendMessage draws
// from a generator seeded with Seed, so one sequence of calls always meets
// the same faults.
type Faults struct {
	// Rate429 is the fraction answered 429 "Too Many Requests: retry after
	// N" (counted as ScopeInjected) without delivering the message. N is
	// drawn from RetryAfterMin…RetryAfterMax seconds (default 1…1), and
	// under FloodStrict the 429 starts a flood wait of N seconds for
	// InjectedScope: ScopeGlobal (every chat, the default) or ScopeChat.
	Rate429       float64
	RetryAfterMin int
	RetryAfterMax int
	InjectedScope Scope
	// Rate5xx is the fraction answered 500 "Internal Server Error" without
	// delivering the message.
	Rate5xx float64
	// RateSlow is the fraction answered only after SlowDelay; these are
	// delivered if the client is still waiting then.
	RateSlow float64
	// SlowDelay defaults to 2s.
	SlowDelay time.Duration
	Seed      int64
}

func (f Faults) validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"Rate429", f.Rate429}, {"Rate5xx", f.Rate5xx}, {"RateSlow", f.RateSlow}} {
		if r.v < 0 || r.v > 1 {
			return fmt.Errorf("telegramtest: Faults.%s must be within [0, 1], got %v", r.name, r.v)
		}
	}
	if f.Rate429+f.Rate5xx > 1 {
		return fmt.Errorf("telegramtest: Faults.Rate429 + Faults.Rate5xx must not exceed 1, got %v", f.Rate429+f.Rate5xx)
	}
	if f.SlowDelay < 0 {
		return fmt.Errorf("telegramtest: Faults.SlowDelay must not be negative, got %s", f.SlowDelay)
	}
	if f.RetryAfterMin < 0 || f.RetryAfterMax < f.RetryAfterMin {
		return fmt.Errorf("telegramtest: Faults.RetryAfterMin…Max must be a range of seconds, got %d…%d", f.RetryAfterMin, f.RetryAfterMax)
	}
	if f.InjectedScope != "" && f.InjectedScope != ScopeGlobal && f.InjectedScope != ScopeChat {
		return fmt.Errorf("telegramtest: Faults.InjectedScope must be %q or %q, got %q", ScopeGlobal, ScopeChat, f.InjectedScope)
	}
	return nil
}

// Server is a fake Telegram Bot API server on 127.0.0.1. All its methods are
// safe for concurrent use.
type Server struct {
	opts     Options
	botID    int64
	endpoint string
	base     string
	now      func() time.Time
	http     *http.Server
	done     chan struct{} // closed by Close
	wg       sync.WaitGroup
	close    sync.Once
	methods  map[string]method // by lower-case name

	mu           sync.Mutex
	chats        map[int64]*chat
	users        map[int64]*user
	updates      []storedUpdate
	nextUpdateID int
	allowed      []string // allowed_updates; empty means the default set
	changed      chan struct{}
	poller       *poll
	webhook      webhook
	commands     map[commandKey][]BotCommand
	sent         []SentMessage
	sentByChat   map[int64][]int
	sentChanged  chan struct{}
	chatBuckets  map[int64]*bucket
	groupBuckets map[int64]*bucket
	globalBucket bucket
	// FloodStrict's sliding windows (kept under FloodBuckets too, for the
	// busiest-window figures) and flood waits.
	globalLog  slidingWindow
	chatLogs   map[int64]*slidingWindow
	groupLogs  map[int64]*slidingWindow
	floodAll   time.Time           // a flood wait for every chat
	floodChats map[int64]time.Time // for one chat (its chat or group limit)
	rng        *rand.Rand
	stats      Stats
	files      fileState
}

// method is one Bot API method.
type method struct {
	name   string
	handle func(s *Server, ctx context.Context, p params) (any, *apiError)
}

var methodTable = []method{
	{"getMe", (*Server).getMe},
	{"getUpdates", (*Server).getUpdates},
	{"setWebhook", (*Server).setWebhook},
	{"deleteWebhook", (*Server).deleteWebhook},
	{"getWebhookInfo", (*Server).getWebhookInfo},
	{"setMyCommands", (*Server).setMyCommands},
	{"getMyCommands", (*Server).getMyCommands},
	{"deleteMyCommands", (*Server).deleteMyCommands},
	{"sendMessage", (*Server).sendMessage},
	{"getChat", (*Server).getChat},
	{"getChatMember", (*Server).getChatMember},
	{"getFile", (*Server).getFile},
	{"sendDocument", (*Server).sendDocument},
}

// NewServer starts a fake listening on 127.0.0.1 at a free port. Like
// httptest.NewServer it panics if it cannot listen, or if opts are invalid;
// use Start to get an error instead.
func NewServer(opts Options) *Server {
	s, err := Start(opts)
	if err != nil {
		panic(err)
	}
	return s
}

// Start is NewServer returning an error instead of panicking.
func Start(opts Options) (*Server, error) {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if strings.ContainsAny(opts.Token, "/?#% ") {
		return nil, errors.New("telegramtest: Options.Token must not contain '/', '?', '#', '%' or spaces")
	}
	if opts.BotUsername == "" {
		opts.BotUsername = DefaultBotUsername
	}
	if opts.BotName == "" {
		opts.BotName = "Newsbot Test"
	}
	if opts.RateScale == 0 {
		opts.RateScale = 1
	}
	if opts.RateScale < 0 {
		return nil, fmt.Errorf("telegramtest: Options.RateScale must be positive, got %v", opts.RateScale)
	}
	opts.Limits = opts.Limits.withDefaults()
	if err := opts.Limits.validate(); err != nil {
		return nil, err
	}
	if err := opts.Faults.validate(); err != nil {
		return nil, err
	}
	if opts.Faults.SlowDelay == 0 {
		opts.Faults.SlowDelay = 2 * time.Second
	}
	if opts.Faults.RetryAfterMin == 0 {
		opts.Faults.RetryAfterMin = 1
		opts.Faults.RetryAfterMax = max(opts.Faults.RetryAfterMax, 1)
	}
	if opts.Faults.InjectedScope == "" {
		opts.Faults.InjectedScope = ScopeGlobal
	}
	if opts.WebhookAttempts <= 0 {
		opts.WebhookAttempts = 3
	}
	if opts.WebhookRetryDelay <= 0 {
		opts.WebhookRetryDelay = 100 * time.Millisecond
	}
	if opts.WebhookClient == nil {
		opts.WebhookClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("telegramtest: listen on 127.0.0.1: %w", err)
	}
	s := &Server{
		opts:         opts,
		botID:        botIDFromToken(opts.Token),
		base:         "http://" + ln.Addr().String(),
		now:          opts.Now,
		done:         make(chan struct{}),
		methods:      make(map[string]method, len(methodTable)),
		chats:        map[int64]*chat{},
		users:        map[int64]*user{},
		nextUpdateID: 100000001,
		changed:      make(chan struct{}),
		commands:     map[commandKey][]BotCommand{},
		sentByChat:   map[int64][]int{},
		sentChanged:  make(chan struct{}),
		chatBuckets:  map[int64]*bucket{},
		groupBuckets: map[int64]*bucket{},
		chatLogs:     map[int64]*slidingWindow{},
		groupLogs:    map[int64]*slidingWindow{},
		floodChats:   map[int64]time.Time{},
		rng:          rand.New(rand.NewPCG(uint64(opts.Faults.Seed), 0x7e1e6a4d)),
		stats:        newStats(),
	}
	s.endpoint = s.base + "/bot%s/%s"
	for _, m := range methodTable {
		s.methods[strings.ToLower(m.name)] = m
	}
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		_ = s.http.Serve(ln) // returns when Close shuts the server down
	}()
	go func() {
		defer s.wg.Done()
		s.deliverWebhooks()
	}()
	return s, nil
}

// botIDFromToken reads the bot id Telegram puts before the ':' of a token.
func botIDFromToken(token string) int64 {
	prefix, _, _ := strings.Cut(token, ":")
	id, err := strconv.ParseInt(prefix, 10, 64)
	if err != nil || id <= 0 {
		return 1
	}
	return id
}

// Endpoint is the API endpoint in the library's format: format it with the
// token and the method name ("http://127.0.0.1:PORT/bot%s/%s").
func (s *Server) Endpoint() string { return s.endpoint }

// URL is the server's base URL, "http://127.0.0.1:PORT".
func (s *Server) URL() string { return s.base }

// Limits are the flood limits in force (Options.Limits with the defaults
// filled in) and the factor their rates are multiplied by, so that a harness
// can compare what it achieved with what it was allowed: the global limit
// allows limits.Global.Count / limits.Global.Per.Seconds() * rateScale
// messages per second.
func (s *Server) Limits() (limits Limits, rateScale float64) {
	return s.opts.Limits, s.opts.RateScale
}

// BotID is the bot's user id, as getMe reports it.
func (s *Server) BotID() int64 { return s.botID }

// Close ends pending long polls, stops webhook delivery and shuts the server
// down. It is safe to call more than once.
func (s *Server) Close() {
	s.close.Do(func() {
		close(s.done)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.http.Shutdown(ctx)
		_ = s.http.Close()
		s.wg.Wait()
	})
}

// ServeHTTP answers /bot<token>/<method> like the Bot API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/file/bot") {
		s.serveFile(w, r)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, name, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || strings.Contains(name, "/") {
		s.reply(w, nil, &apiError{code: http.StatusNotFound, description: "Not Found", kind: RejectNotFound})
		return
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.Token)) != 1 {
		s.reply(w, nil, &apiError{code: http.StatusUnauthorized, description: "Unauthorized", kind: RejectUnauthorized})
		return
	}
	m, found := s.methods[strings.ToLower(name)]
	if !found {
		s.reply(w, nil, &apiError{code: http.StatusNotFound, description: "Not Found", kind: RejectNotFound})
		return
	}
	s.mu.Lock()
	s.stats.Requests[m.name]++
	s.mu.Unlock()
	p, perr := readParams(r)
	if perr != nil {
		s.reply(w, nil, perr)
		return
	}
	result, aerr := m.handle(s, r.Context(), p)
	if aerr == errClientGone {
		return // nobody is listening any more
	}
	s.reply(w, result, aerr)
}

// okWithDescription is a success that also carries a description, as
// setWebhook's "Webhook was set".
type okWithDescription struct {
	result      any
	description string
}

// reply writes the Bot API's envelope; the HTTP status is the error_code.
func (s *Server) reply(w http.ResponseWriter, result any, e *apiError) {
	body := map[string]any{"ok": e == nil}
	status := http.StatusOK
	if e != nil {
		status = e.code
		body["error_code"] = e.code
		body["description"] = e.describe()
		if e.retryAfter > 0 || e.migrateTo != 0 {
			parameters := map[string]any{}
			if e.retryAfter > 0 {
				parameters["retry_after"] = e.retryAfter
			}
			if e.migrateTo != 0 {
				parameters["migrate_to_chat_id"] = e.migrateTo
			}
			body["parameters"] = parameters
		}
		s.countRejection(e)
	} else if d, ok := result.(okWithDescription); ok {
		body["result"] = d.result
		body["description"] = d.description
	} else {
		body["result"] = result
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body) // the client is gone if this fails
}

// apiError is a Bot API error answer.
type apiError struct {
	code        int
	description string // without the "Bad Request: " style prefix
	retryAfter  int
	migrateTo   int64
	kind        Rejection
	scope       Scope // for 429s
}

// errClientGone marks a request whose client left before it was answered.
var errClientGone = &apiError{}

func (e *apiError) describe() string {
	switch e.code {
	case http.StatusBadRequest:
		return "Bad Request: " + e.description
	case http.StatusForbidden:
		return "Forbidden: " + e.description
	case http.StatusConflict:
		return "Conflict: " + e.description
	case http.StatusTooManyRequests:
		return "Too Many Requests: " + e.description
	default:
		return e.description
	}
}

func badRequest(kind Rejection, description string) *apiError {
	return &apiError{code: http.StatusBadRequest, description: description, kind: kind}
}

func forbidden(kind Rejection, description string) *apiError {
	return &apiError{code: http.StatusForbidden, description: description, kind: kind}
}

func tooManyRequests(scope Scope, retryAfter int) *apiError {
	return &apiError{
		code:        http.StatusTooManyRequests,
		description: fmt.Sprintf("retry after %d", retryAfter),
		retryAfter:  retryAfter,
		kind:        RejectRateLimited,
		scope:       scope,
	}
}

// broadcastLocked wakes everyone waiting on s.changed. Callers hold s.mu.
func (s *Server) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// getMe answers with the bot's own user.
func (s *Server) getMe(context.Context, params) (any, *apiError) {
	return map[string]any{
		"id":                          s.botID,
		"is_bot":                      true,
		"first_name":                  s.opts.BotName,
		"username":                    s.opts.BotUsername,
		"can_join_groups":             true,
		"can_read_all_group_messages": s.opts.PrivacyModeDisabled,
		"supports_inline_queries":     false,
	}, nil
}
