package discordtest

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type bucketState struct {
	remaining int
	resetAt   time.Time
}

type limiterState struct {
	buckets map[string]*bucketState
	global  []time.Time // requests counted in the last second
	// globalUntil is when the running global rate limit ends: until then
	// every route is refused (see checkRateLimits).
	globalUntil time.Time
	invalid     []time.Time // 401/403/429 answers in the last 10 minutes
	bannedUntil time.Time
}

func newLimiterState() limiterState {
	return limiterState{buckets: map[string]*bucketState{}}
}

// recordInvalid notes an invalid request and reports whether the budget is
// now exhausted.
func (l *limiterState) recordInvalid(now time.Time, limit int) bool {
	l.pruneInvalid(now)
	l.invalid = append(l.invalid, now)
	return len(l.invalid) >= limit
}

func (l *limiterState) pruneInvalid(now time.Time) {
	cut := 0
	for cut < len(l.invalid) && now.Sub(l.invalid[cut]) >= InvalidRequestWindow {
		cut++
	}
	l.invalid = l.invalid[cut:]
}

func (l *limiterState) invalidInWindow(now time.Time) int {
	l.pruneInvalid(now)
	return len(l.invalid)
}

// rateLimitAnswer describes a 429 about to be written.
type rateLimitAnswer struct {
	retryAfter time.Duration
	global     bool
	scope      string // "user", "global" or "shared"
}

// bucketHash is the opaque X-RateLimit-Bucket value: stable per route
// template, as Discord's hashes are.
func bucketHash(key string) string {
	template := key
	// Major parameters (channel, guild, webhook ids) share a hash across ids;
	// strip digits so the hash depends on the route shape only.
	template = strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return -1
		}
		return r
	}, template)
	sum := sha256.Sum256([]byte(template))
	return hex.EncodeToString(sum[:16])
}

// checkRateLimits applies the global limit and the route's bucket, fills the
// X-RateLimit-* headers and reports whether the request must get a 429.
//
// The global limit is modelled the strict way: once the bot goes over it,
// the 429 persists — every route is refused until its retry_after has
// passed, whatever the client sends meanwhile. Discord's documentation
// exempts interaction endpoints from the global limit; the fake exempts only
// the initial interaction callback (whose 3-second deadline no client could
// wait past) and refuses follow-ups and edits too, the stricter reading, so a
// client that keeps using any REST route during a global 429 fails here.
func (s *Server) checkRateLimits(q *restRequest, rt route) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := q.now
	if now.Before(s.limits.globalUntil) && !rt.interactionCallback {
		s.stats.DuringGlobalLimit++
		s.refuseGlobalLocked(q, s.limits.globalUntil.Sub(now))
		return true
	}
	b := s.limits.buckets[rt.bucketKey]
	if b == nil || !now.Before(b.resetAt) {
		b = &bucketState{remaining: rt.bucket.Size, resetAt: now.Add(rt.bucket.Reset)}
		s.limits.buckets[rt.bucketKey] = b
	}
	if !rt.exemptGlobal {
		cut := 0
		for cut < len(s.limits.global) && now.Sub(s.limits.global[cut]) >= time.Second {
			cut++
		}
		s.limits.global = s.limits.global[cut:]
		if len(s.limits.global) >= s.opts.GlobalPerSecond {
			retry := s.limits.global[0].Add(time.Second).Sub(now)
			s.limits.globalUntil = now.Add(retry)
			s.refuseGlobalLocked(q, retry)
			return true
		}
		s.limits.global = append(s.limits.global, now)
	}
	if b.remaining <= 0 {
		s.setBucketHeaders(q, rt, b, now)
		q.limit = &rateLimitAnswer{retryAfter: b.resetAt.Sub(now), scope: "user"}
		s.stats.RateLimited++
		return true
	}
	b.remaining--
	s.setBucketHeaders(q, rt, b, now)
	return false
}

// refuseGlobalLocked prepares a global 429 in production's shape: only
// Retry-After, X-RateLimit-Global and X-RateLimit-Scope (written by
// writeRateLimited), none of a bucket's headers — no X-RateLimit-Bucket, no
// X-RateLimit-Reset-After — so a client that learns waits only from bucket
// headers (discordgo does) learns nothing from it.
func (s *Server) refuseGlobalLocked(q *restRequest, retry time.Duration) {
	q.limit = &rateLimitAnswer{retryAfter: retry, global: true, scope: "global"}
	s.stats.GlobalRateLimited++
}

func (s *Server) setBucketHeaders(q *restRequest, rt route, b *bucketState, now time.Time) {
	h := q.headers
	h.Set("X-RateLimit-Limit", strconv.Itoa(rt.bucket.Size))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(b.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(math.Ceil(float64(b.resetAt.UnixMilli()))/1000, 'f', 3, 64))
	h.Set("X-RateLimit-Reset-After", formatSeconds(b.resetAt.Sub(now)))
	h.Set("X-RateLimit-Bucket", bucketHash(rt.bucketKey))
}

// formatSeconds renders a wait in seconds with millisecond precision,
// rounded up so a client that waits exactly that long is never early.
func formatSeconds(d time.Duration) string {
	return strconv.FormatFloat(secondsCeil(d), 'f', 3, 64)
}

func secondsCeil(d time.Duration) float64 {
	if d < 0 {
		d = 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return float64(ms) / 1000
}

func (s *Server) writeRateLimited(w http.ResponseWriter, q *restRequest) {
	lim := q.limit
	if lim == nil {
		lim = &rateLimitAnswer{scope: "user"}
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(secondsCeil(lim.retryAfter)))))
	w.Header().Set("X-RateLimit-Scope", lim.scope)
	if lim.global {
		w.Header().Set("X-RateLimit-Global", "true")
	}
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"message":     "You are being rate limited.",
		"retry_after": secondsCeil(lim.retryAfter),
		"global":      lim.global,
	})
	s.countAnswer(http.StatusTooManyRequests, lim.scope == "shared")
}

type injectedFault struct {
	status    int
	committed bool
}

// drawFault decides, from the seeded source, whether this message POST
// fails on purpose.
func (s *Server) drawFault(q *restRequest, rt route) *injectedFault {
	f := s.opts.Faults
	if f.TooManyRequests == 0 && f.GlobalTooManyRequests == 0 && f.ServerErrors == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	roll := s.faultRand.Float64()
	switch {
	case roll < f.TooManyRequests:
		s.stats.InjectedFaults++
		s.stats.RateLimited++
		b := s.limits.buckets[rt.bucketKey]
		b.remaining = 0
		b.resetAt = q.now.Add(f.RetryAfter)
		s.setBucketHeaders(q, rt, b, q.now)
		q.limit = &rateLimitAnswer{retryAfter: f.RetryAfter, scope: "user"}
		return &injectedFault{status: http.StatusTooManyRequests}
	case roll < f.TooManyRequests+f.GlobalTooManyRequests:
		s.stats.InjectedFaults++
		s.limits.globalUntil = q.now.Add(f.RetryAfter)
		q.headers = http.Header{} // a global 429 carries no bucket headers
		s.refuseGlobalLocked(q, f.RetryAfter)
		return &injectedFault{status: http.StatusTooManyRequests}
	case roll < f.TooManyRequests+f.GlobalTooManyRequests+f.ServerErrors:
		s.stats.InjectedFaults++
		statuses := []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
		return &injectedFault{
			status:    statuses[s.faultRand.IntN(len(statuses))],
			committed: s.faultRand.Float64() < f.CommittedServerErrors,
		}
	}
	return nil
}

func (s *Server) finishFault(w http.ResponseWriter, q *restRequest, status int) {
	for k, v := range q.headers {
		w.Header()[k] = v
	}
	switch status {
	case http.StatusTooManyRequests:
		s.writeRateLimited(w, q)
	case http.StatusInternalServerError:
		writeJSON(w, status, map[string]any{"message": "500: Internal Server Error", "code": 0})
	default:
		// 502/503/504 come from Cloudflare as HTML, not Discord's JSON.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "<html><head><title>"+strconv.Itoa(status)+" "+http.StatusText(status)+
			"</title></head><body><center><h1>"+strconv.Itoa(status)+" "+http.StatusText(status)+
			"</h1></center><hr><center>cloudflare</center></body></html>")
	}
}
