package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// discordHosts are the hosts discordgo's Endpoint* strings point at.
func isDiscordHost(host string) bool {
	switch strings.ToLower(host) {
	case "discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com":
		return true
	}
	return false
}

// apiTransport is the one place every REST call of the adapter's session
// passes through. It sends discordgo's calls to DISCORD_API_BASE (a proxy,
// or the fake in tests) by rewriting the scheme and host of requests bound
// for discord.com; it belongs to one Session, so parallel tests each reach
// their own server and discordgo's Endpoint* globals are never touched. It
// holds every call back while Discord's global rate limit runs (see
// restGate), and records what the adapter needs from each answer that
// discordgo drops (see callInfo).
type apiTransport struct {
	base   http.RoundTripper
	target *url.URL // nil: no rewriting
	gate   globalPause
}

func (t *apiTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if kind := classifyRoute(req.URL.Path); kind != routeCallback {
		// discordgo sends with the caller's context (WithContext), so a
		// caller that stops waiting is not held here.
		if err := t.gate.wait(req.Context(), kind == routeBudgeted); err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, fmt.Errorf("discord: waiting out the global rate limit: %w", err)
		}
	}
	out := req
	if t.target != nil && isDiscordHost(req.URL.Hostname()) {
		out = req.Clone(req.Context())
		out.URL.Scheme = t.target.Scheme
		out.URL.Host = t.target.Host
		if p := strings.TrimSuffix(t.target.Path, "/"); p != "" {
			out.URL.Path = p + out.URL.Path
			out.URL.RawPath = ""
		}
		out.Host = ""
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	var limit rateLimit
	if resp.StatusCode == http.StatusTooManyRequests {
		limit = readRateLimit(resp)
		if limit.global {
			t.gate.pause(max(limit.retryAfter, minRetryAfter))
		}
	}
	if info, ok := req.Context().Value(callInfoKey{}).(*callInfo); ok {
		info.record(resp.StatusCode, limit)
	}
	return resp, nil
}

// routeKind is how a REST route relates to Discord's global rate limit.
type routeKind int

const (
	// routeBudgeted counts towards the 50 requests per second.
	routeBudgeted routeKind = iota
	// routeInteraction is an interaction's webhook (follow-ups, edits of
	// the response): outside the global budget, but it waits out a global
	// 429 with everything else — a 15-minute token has time to.
	routeInteraction
	// routeCallback is an interaction's initial response, which must reach
	// Discord within 3 seconds: outside the global budget and never held.
	routeCallback
)

func classifyRoute(path string) routeKind {
	switch {
	case strings.Contains(path, "/interactions/") && strings.HasSuffix(path, "/callback"):
		return routeCallback
	case strings.Contains(path, "/webhooks/"):
		return routeInteraction
	}
	return routeBudgeted
}

// rateLimit is what a 429 said.
type rateLimit struct {
	global     bool
	retryAfter time.Duration
}

// readRateLimit reads a 429's scope and wait, and puts the body back for
// discordgo. A global 429 in production carries only Retry-After,
// X-RateLimit-Global and X-RateLimit-Scope — no bucket headers, which is
// why discordgo, which learns waits from X-RateLimit-Reset-After alone,
// does not pause for it.
func readRateLimit(resp *http.Response) rateLimit {
	h := resp.Header
	var l rateLimit
	l.global = h.Get("X-RateLimit-Global") == "true" || h.Get("X-RateLimit-Scope") == "global"
	if s, err := strconv.ParseFloat(h.Get("Retry-After"), 64); err == nil {
		l.retryAfter = seconds(s)
	}
	// The body's retry_after is more precise than the header's whole
	// seconds.
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return l
	}
	var body struct {
		RetryAfter *float64 `json:"retry_after"`
		Global     bool     `json:"global"`
	}
	if json.Unmarshal(data, &body) != nil {
		// Not Discord's JSON: Cloudflare's ban page. It stops every request.
		l.global = true
		return l
	}
	l.global = l.global || body.Global
	if body.RetryAfter != nil {
		l.retryAfter = seconds(*body.RetryAfter)
	}
	return l
}

type callInfoKey struct{}

// callInfo is what one REST call's answer said, beyond what discordgo
// returns: discordgo's RateLimitError has neither the 429's "global" flag
// nor its scope, and a Cloudflare ban (429, plain text) or a 502 reaches the
// caller as an error without the status.
type callInfo struct {
	mu         sync.Mutex
	status     int
	global     bool
	retryAfter time.Duration
}

// withCallInfo returns a context whose REST calls fill info.
func withCallInfo(ctx context.Context, info *callInfo) context.Context {
	return context.WithValue(ctx, callInfoKey{}, info)
}

func (c *callInfo) record(status int, limit rateLimit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status, c.global, c.retryAfter = status, limit.global, limit.retryAfter
}

func (c *callInfo) snapshot() (status int, global bool, retryAfter time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status, c.global, c.retryAfter
}

func seconds(s float64) time.Duration {
	if math.IsNaN(s) || s < 0 {
		return 0
	}
	if s > 24*3600 {
		s = 24 * 3600
	}
	return time.Duration(math.Ceil(s * float64(time.Second)))
}
