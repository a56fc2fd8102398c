package discordtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mathrand "math/rand/v2"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Options configures a Server. Zero values mean Discord's documented
// behaviour; durations and budgets may only be made stricter or shorter
// than Discord's (larger values are clamped), so a test cannot accidentally
// accept what production would refuse.
type Options struct {
	// Token is the bot token; REST calls must carry "Authorization: Bot <Token>".
	// Empty means a random one, available from Server.Token.
	Token string
	// ApplicationID and BotUserID default to one fresh snowflake (modern bots'
	// user id equals their application id).
	ApplicationID string
	BotUserID     string
	BotUsername   string // default "newsbot"
	// BotPermissions is the bot's managed role in every guild added; zero
	// means DefaultBotPermissions.
	BotPermissions int64
	// PrivateKey signs interactions POSTed to HTTP interaction endpoints;
	// nil means a generated key (see Server.PublicKey).
	PrivateKey ed25519.PrivateKey
	// PrivilegedIntents are the privileged intents the application has been
	// granted in the Developer Portal; requesting others closes with 4014.
	PrivilegedIntents int64

	// HeartbeatInterval sent in HELLO; tests shorten it.
	HeartbeatInterval time.Duration
	// InteractionDeadline (≤ 3 s) and InteractionTokenLifetime (≤ 15 min)
	// may be shortened to exercise the late paths without waiting.
	InteractionDeadline      time.Duration
	InteractionTokenLifetime time.Duration

	// MessageBucket is the per-channel bucket of POST /channels/{id}/messages.
	// Size is capped at 5 (Discord's); Reset may be shortened so tests that
	// post many messages stay fast while bursts still trip it.
	MessageBucket Bucket
	// RouteBucket is every other route's bucket, per route and major id.
	RouteBucket Bucket
	// GlobalPerSecond is the global request budget (≤ 50); interaction
	// callbacks and interaction webhooks are exempt, as on Discord.
	GlobalPerSecond int
	// InvalidRequestLimit (≤ 10,000) is how many 401/403/429 answers within
	// 10 minutes get the client banned (Cloudflare 429 "error code: 1015").
	InvalidRequestLimit int

	// Faults injects failures into POST /channels/{id}/messages.
	Faults Faults

	// Logger receives debug lines about requests (never tokens); nil is silent.
	Logger *slog.Logger
}

// Bucket is a rate-limit bucket: Size requests per Reset.
type Bucket struct {
	Size  int
	Reset time.Duration
}

// Faults describes injected failures on channel message creation, drawn
// from a random source seeded with Seed so runs repeat.
type Faults struct {
	Seed int64
	// TooManyRequests is the fraction of requests answered 429 (bucket scope)
	// with RetryAfter.
	TooManyRequests float64
	// GlobalTooManyRequests is the fraction answered with a global 429
	// lasting RetryAfter, which refuses every route while it runs.
	GlobalTooManyRequests float64
	// ServerErrors is the fraction answered 500/502/503/504.
	ServerErrors float64
	// CommittedServerErrors is the fraction of those server errors after
	// which the message was stored anyway (the client cannot tell).
	CommittedServerErrors float64
	// RetryAfter of injected 429s; default 250 ms.
	RetryAfter time.Duration
}

// Stats counts what the fake saw.
type Stats struct {
	Requests          int // REST requests received
	InvalidRequests   int // 401/403/429 (not shared-scope 429) in the last 10 minutes
	Unauthorized      int // 401 answers in total
	Forbidden         int // 403 answers in total
	RateLimited       int // 429 answers for a bucket in total (including injected)
	GlobalRateLimited int // 429 answers for the global limit in total
	// DuringGlobalLimit counts the requests that arrived while a global 429
	// ran (each refused): what a client that pauses on one never sends.
	DuringGlobalLimit int
	InjectedFaults    int // injected 429 and 5xx answers
	Banned            bool
	MessagesCreated   int // channel messages stored
	Identifies        int
	Resumes           int
	Heartbeats        int // heartbeats received (each one is ACKed)
}

// Server is a fake Discord. It is safe for concurrent use.
type Server struct {
	opts       Options
	token      string
	appID      string
	botUserID  string
	botName    string
	privateKey ed25519.PrivateKey
	logger     *slog.Logger

	listener   net.Listener
	httpServer *http.Server
	baseURL    *url.URL
	transport  *http.Transport
	upgrader   websocket.Upgrader
	background sync.WaitGroup
	closed     chan struct{}
	closeOnce  sync.Once

	mu                  sync.Mutex
	idCounter, lastID   uint64
	guilds              map[string]*guild
	channels            map[string]*channel
	users               map[string]*user
	globalCommands      []*Command
	dailyCreates        map[string][]time.Time
	interactions        map[string]*interactionRecord
	interactionsByToken map[string]*interactionRecord
	endpointURL         string
	sessions            map[string]*gatewaySession
	conns               map[*gatewayConn]struct{}
	limits              limiterState
	stats               Stats
	identifyLog         []time.Time
	faultRand           *mathrand.Rand
}

// NewServer starts a fake Discord on 127.0.0.1 on a free port.
func NewServer(opts Options) *Server {
	s := &Server{
		guilds:              map[string]*guild{},
		channels:            map[string]*channel{},
		users:               map[string]*user{},
		dailyCreates:        map[string][]time.Time{},
		interactions:        map[string]*interactionRecord{},
		interactionsByToken: map[string]*interactionRecord{},
		sessions:            map[string]*gatewaySession{},
		conns:               map[*gatewayConn]struct{}{},
		closed:              make(chan struct{}),
	}
	s.opts = normalizeOptions(opts)
	s.limits = newLimiterState()
	s.faultRand = mathrand.New(mathrand.NewPCG(uint64(s.opts.Faults.Seed), 0x9e3779b97f4a7c15))
	s.logger = s.opts.Logger
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.token = s.opts.Token
	if s.token == "" {
		s.token = randomHex(24)
	}
	s.appID = s.opts.ApplicationID
	if s.appID == "" {
		s.appID = s.newIDLocked()
	}
	s.botUserID = s.opts.BotUserID
	if s.botUserID == "" {
		s.botUserID = s.appID
	}
	s.botName = s.opts.BotUsername
	s.users[s.botUserID] = &user{id: s.botUserID, username: s.botName, bot: true}
	s.privateKey = s.opts.PrivateKey
	if len(s.privateKey) != ed25519.PrivateKeySize {
		_, s.privateKey, _ = ed25519.GenerateKey(rand.Reader)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		// Without a loopback listener no test can run; failing loudly here is
		// the only useful answer and mirrors httptest.NewServer.
		panic(fmt.Sprintf("discordtest: listen on 127.0.0.1: %v", err))
	}
	s.listener = ln
	s.baseURL = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	s.transport = &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
	s.upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.serveREST)
	mux.HandleFunc("/gateway", s.serveGateway)
	mux.HandleFunc("/gateway/", s.serveGateway)
	s.httpServer = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		_ = s.httpServer.Serve(ln)
	}()
	return s
}

func normalizeOptions(o Options) Options {
	if o.BotUsername == "" {
		o.BotUsername = "newsbot"
	}
	if o.BotPermissions == 0 {
		o.BotPermissions = DefaultBotPermissions
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if o.InteractionDeadline <= 0 || o.InteractionDeadline > InteractionResponseDeadline {
		o.InteractionDeadline = InteractionResponseDeadline
	}
	if o.InteractionTokenLifetime <= 0 || o.InteractionTokenLifetime > InteractionTokenLifetime {
		o.InteractionTokenLifetime = InteractionTokenLifetime
	}
	o.InteractionDeadline = min(o.InteractionDeadline, o.InteractionTokenLifetime)
	o.MessageBucket = clampBucket(o.MessageBucket, ChannelMessageBucketSize, ChannelMessageBucketReset)
	o.RouteBucket = clampBucket(o.RouteBucket, RouteBucketSize, RouteBucketReset)
	if o.GlobalPerSecond <= 0 || o.GlobalPerSecond > GlobalRequestsPerSecond {
		o.GlobalPerSecond = GlobalRequestsPerSecond
	}
	if o.InvalidRequestLimit <= 0 || o.InvalidRequestLimit > InvalidRequestLimit {
		o.InvalidRequestLimit = InvalidRequestLimit
	}
	if o.Faults.RetryAfter <= 0 {
		o.Faults.RetryAfter = 250 * time.Millisecond
	}
	o.Faults.TooManyRequests = clampFraction(o.Faults.TooManyRequests)
	o.Faults.GlobalTooManyRequests = clampFraction(o.Faults.GlobalTooManyRequests)
	o.Faults.ServerErrors = clampFraction(o.Faults.ServerErrors)
	o.Faults.CommittedServerErrors = clampFraction(o.Faults.CommittedServerErrors)
	return o
}

func clampBucket(b Bucket, maxSize int, defaultReset time.Duration) Bucket {
	if b.Size <= 0 || b.Size > maxSize {
		b.Size = maxSize
	}
	if b.Reset <= 0 {
		b.Reset = defaultReset
	}
	return b
}

func clampFraction(f float64) float64 {
	if math.IsNaN(f) || f < 0 {
		return 0
	}
	return min(f, 1)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Close stops the server, closes gateway connections and waits for its
// goroutines.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		close(s.closed)
		for c := range s.conns {
			c.closeWith(websocket.CloseGoingAway, "server closing")
		}
		for _, rec := range s.interactions {
			rec.stopTimers()
		}
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.httpServer.Shutdown(ctx)
		s.transport.CloseIdleConnections()
		s.background.Wait()
	})
}

// URL is the server's scheme and host; the REST base is URL()+"/api/v9/".
func (s *Server) URL() string { return s.baseURL.String() }

// GatewayURL is the websocket URL GET /gateway answers.
func (s *Server) GatewayURL() string { return "ws://" + s.baseURL.Host + "/gateway" }

// Token is the bot token REST calls must present.
func (s *Server) Token() string { return s.token }

// ApplicationID is the application's id.
func (s *Server) ApplicationID() string { return s.appID }

// BotUserID is the bot user's id.
func (s *Server) BotUserID() string { return s.botUserID }

// PublicKey verifies the signatures of interactions POSTed to HTTP
// endpoints (what the Developer Portal shows as the application's public key).
func (s *Server) PublicKey() ed25519.PublicKey {
	return s.privateKey.Public().(ed25519.PublicKey)
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	st := s.stats
	st.InvalidRequests = s.limits.invalidInWindow(now)
	st.Banned = now.Before(s.limits.bannedUntil)
	return st
}

// discordHosts are the hosts discordgo's Endpoint* strings point at.
var discordHosts = map[string]bool{
	"discord.com": true, "discordapp.com": true, "canary.discord.com": true, "ptb.discord.com": true,
}

type rewriteTransport struct {
	target *url.URL
	base   http.RoundTripper
}

// RoundTrip sends Discord-bound requests to the fake and refuses every other
// host, so a forgotten endpoint can never reach the real Discord.
func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := strings.ToLower(req.URL.Hostname())
	if !discordHosts[host] && req.URL.Host != t.target.Host {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("discordtest: refusing request to %s: only Discord hosts go to the fake", req.URL.Host)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme = t.target.Scheme
	out.URL.Host = t.target.Host
	out.Host = ""
	return t.base.RoundTrip(out)
}

// Transport rewrites the scheme and host of requests to discord.com (and
// discordapp.com) to the fake, leaving discordgo's Endpoint* globals alone.
func (s *Server) Transport() http.RoundTripper {
	return &rewriteTransport{target: s.baseURL, base: s.transport}
}

// HTTPClient is an *http.Client using Transport, for discordgo's Session.Client.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Transport: s.Transport(), Timeout: 20 * time.Second}
}

// Dialer is a websocket dialer for discordgo's Session.Dialer that only
// connects to the fake's gateway.
func (s *Server) Dialer() *websocket.Dialer {
	addr := s.baseURL.Host
	return &websocket.Dialer{
		HandshakeTimeout: 10 * time.Second,
		NetDialContext: func(ctx context.Context, network, target string) (net.Conn, error) {
			if target != addr {
				return nil, fmt.Errorf("discordtest: refusing to dial %s: only the fake's gateway %s", target, addr)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, target)
		},
	}
}

// --- REST ----------------------------------------------------------------

type restRequest struct {
	r       *http.Request
	segs    []string
	body    []byte
	files   int
	now     time.Time
	headers http.Header
	limit   *rateLimitAnswer // set when the request is refused with 429
}

// param returns the i-th path segment after the API version.
func (q *restRequest) param(i int) string {
	if i < len(q.segs) {
		return q.segs[i]
	}
	return ""
}

type restHandler func(q *restRequest) (status int, body any, err *apiError)

type route struct {
	handler      restHandler
	bucketKey    string // route template + major parameter
	bucket       Bucket
	exemptGlobal bool
	// interactionCallback: the initial response to an interaction, answered
	// even while a global rate limit runs (see checkRateLimits).
	interactionCallback bool
	needsAuth           bool
	messagePost         bool
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// segs[0] == "api"; accept v9 and v10 like Discord's current versions.
	if len(segs) < 3 || (segs[1] != "v9" && segs[1] != "v10") {
		s.writeError(w, errNotFound(), nil)
		return
	}
	q := &restRequest{r: r, segs: segs[2:], now: now, headers: http.Header{}}
	s.mu.Lock()
	s.stats.Requests++
	banned := now.Before(s.limits.bannedUntil)
	s.mu.Unlock()
	if banned {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, "error code: 1015")
		return
	}
	rt, apiErr := s.route(r.Method, q)
	if apiErr != nil {
		s.finish(w, q, 0, nil, apiErr)
		return
	}
	if rt.needsAuth && r.Header.Get("Authorization") != "Bot "+s.token {
		s.finish(w, q, 0, nil, errUnauthorized())
		return
	}
	if limited := s.checkRateLimits(q, rt); limited {
		s.finish(w, q, 0, nil, nil)
		return
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		body, files, err := readBody(r)
		if err != nil {
			s.finish(w, q, 0, nil, err)
			return
		}
		q.body, q.files = body, files
	}
	if rt.messagePost {
		if fault := s.drawFault(q, rt); fault != nil {
			if fault.committed {
				// The message is stored but the client only sees the failure:
				// the case where a retry posts it twice.
				_, _, _ = rt.handler(q)
			}
			s.finishFault(w, q, fault.status)
			return
		}
	}
	status, body, herr := rt.handler(q)
	s.finish(w, q, status, body, herr)
}

// readBody returns the JSON body, unpacking payload_json from a multipart
// upload (discordgo's file sends) and counting the files.
func readBody(r *http.Request) ([]byte, int, *apiError) {
	const maxBody = 25 << 20
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		mr := multipart.NewReader(io.LimitReader(r.Body, maxBody), params["boundary"])
		var payload []byte
		files := 0
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, 0, errInvalidJSON()
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, 0, errInvalidJSON()
			}
			if part.FormName() == "payload_json" {
				payload = data
			} else if part.FileName() != "" {
				files++
			}
		}
		return payload, files, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, 0, errInvalidJSON()
	}
	if len(body) > 0 && ct != "application/json" {
		// Discord decodes nothing but JSON and multipart; anything else is a
		// body it cannot read.
		return nil, 0, errInvalidJSON()
	}
	return body, 0, nil
}

// route resolves method and path to a handler, Discord's way: an unknown
// path is 404, a known path with the wrong method 405.
func (s *Server) route(method string, q *restRequest) (route, *apiError) {
	p := q.segs
	n := len(p)
	rt := route{needsAuth: true, bucket: s.opts.RouteBucket}
	pick := func(handlers map[string]restHandler, key string) (route, *apiError) {
		h, ok := handlers[method]
		if !ok {
			return route{}, errMethodNotAllowed()
		}
		rt.handler = h
		rt.bucketKey = method + " " + key
		return rt, nil
	}
	switch {
	case n == 1 && p[0] == "gateway":
		rt.needsAuth = false
		return pick(map[string]restHandler{"GET": s.getGateway}, "gateway")
	case n == 2 && p[0] == "gateway" && p[1] == "bot":
		return pick(map[string]restHandler{"GET": s.getGatewayBot}, "gateway/bot")
	case n == 2 && p[0] == "users":
		return pick(map[string]restHandler{"GET": s.getUser}, "users/"+p[1])
	case n == 3 && p[0] == "applications" && p[2] == "commands":
		return pick(map[string]restHandler{"GET": s.listCommands, "PUT": s.putCommands, "POST": s.postCommand},
			"applications/"+p[1]+"/commands")
	case n == 4 && p[0] == "applications" && p[2] == "commands":
		return pick(map[string]restHandler{"GET": s.getCommand, "DELETE": s.deleteCommand},
			"applications/"+p[1]+"/commands/{id}")
	case n == 5 && p[0] == "applications" && p[2] == "guilds" && p[4] == "commands":
		return pick(map[string]restHandler{"GET": s.listCommands, "PUT": s.putCommands, "POST": s.postCommand},
			"applications/"+p[1]+"/guilds/"+p[3]+"/commands")
	case n == 6 && p[0] == "applications" && p[2] == "guilds" && p[4] == "commands":
		return pick(map[string]restHandler{"GET": s.getCommand, "DELETE": s.deleteCommand},
			"applications/"+p[1]+"/guilds/"+p[3]+"/commands/{id}")
	case n == 4 && p[0] == "interactions" && p[3] == "callback":
		rt.needsAuth, rt.exemptGlobal, rt.interactionCallback = false, true, true
		return pick(map[string]restHandler{"POST": s.interactionCallback}, "interactions/"+p[1]+"/callback")
	case n == 3 && p[0] == "webhooks":
		rt.needsAuth, rt.exemptGlobal = false, true
		return pick(map[string]restHandler{"POST": s.webhookExecute}, "webhooks/"+p[1]+"/"+p[2])
	case n == 5 && p[0] == "webhooks" && p[3] == "messages":
		rt.needsAuth, rt.exemptGlobal = false, true
		return pick(map[string]restHandler{"GET": s.webhookGetMessage, "PATCH": s.webhookEditMessage, "DELETE": s.webhookDeleteMessage},
			"webhooks/"+p[1]+"/"+p[2]+"/messages")
	case n == 2 && p[0] == "channels":
		return pick(map[string]restHandler{"GET": s.getChannel}, "channels/"+p[1])
	case n == 3 && p[0] == "channels" && p[2] == "messages":
		if method == http.MethodPost {
			rt.messagePost = true
			rt.bucket = s.opts.MessageBucket
		}
		return pick(map[string]restHandler{"POST": s.createMessage, "GET": s.listMessages}, "channels/"+p[1]+"/messages")
	case n == 2 && p[0] == "guilds":
		return pick(map[string]restHandler{"GET": s.getGuild}, "guilds/"+p[1])
	case n == 3 && p[0] == "guilds" && p[2] == "roles":
		return pick(map[string]restHandler{"GET": s.getGuildRoles}, "guilds/"+p[1]+"/roles")
	case n == 3 && p[0] == "guilds" && p[2] == "channels":
		return pick(map[string]restHandler{"GET": s.getGuildChannels}, "guilds/"+p[1]+"/channels")
	case n == 4 && p[0] == "guilds" && p[2] == "members":
		return pick(map[string]restHandler{"GET": s.getGuildMember}, "guilds/"+p[1]+"/members/{id}")
	}
	return route{}, errNotFound()
}

// finish writes the answer, counting invalid requests the way Discord's
// Cloudflare ban does.
func (s *Server) finish(w http.ResponseWriter, q *restRequest, status int, body any, apiErr *apiError) {
	for k, v := range q.headers {
		w.Header()[k] = v
	}
	if apiErr != nil {
		s.writeError(w, apiErr, q)
		return
	}
	if status == 0 {
		// A rate-limit answer was already prepared in q.headers / q.limited.
		s.writeRateLimited(w, q)
		return
	}
	if status == http.StatusNoContent || body == nil {
		w.WriteHeader(status)
		return
	}
	data, err := json.Marshal(body)
	if err != nil {
		s.writeError(w, newAPIError(http.StatusInternalServerError, CodeGeneral, "500: Internal Server Error"), q)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

func (s *Server) writeError(w http.ResponseWriter, e *apiError, q *restRequest) {
	s.countAnswer(e.status, false)
	data, _ := json.Marshal(e)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_, _ = w.Write(data)
	if q != nil {
		s.logger.Debug("discordtest: request refused", "method", q.r.Method, "route", strings.Join(redactSegments(q.segs), "/"),
			"status", e.status, "code", e.Code)
	}
}

// redactSegments hides interaction and webhook tokens from logs.
func redactSegments(segs []string) []string {
	out := append([]string(nil), segs...)
	if len(out) >= 3 && (out[0] == "interactions" || out[0] == "webhooks") {
		out[2] = "<token>"
	}
	return out
}

func (s *Server) countAnswer(status int, sharedScope bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	switch status {
	case http.StatusUnauthorized:
		s.stats.Unauthorized++
	case http.StatusForbidden:
		s.stats.Forbidden++
	case http.StatusTooManyRequests:
		if sharedScope {
			return
		}
	default:
		return
	}
	if s.limits.recordInvalid(now, s.opts.InvalidRequestLimit) {
		s.limits.bannedUntil = now.Add(time.Hour)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
