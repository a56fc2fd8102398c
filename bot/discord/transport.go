package discord

import (
	"bytes"
	"context"
	"encoding/json"
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

// apiTransport sends discordgo's REST calls to DISCORD_API_BASE (a proxy, or
// the fake in tests) by rewriting the scheme and host of requests bound for
// discord.com. It belongs to one Session, so parallel tests each reach their
// own server; discordgo's Endpoint* globals are never touched. It also
// records what the adapter needs from each answer that discordgo drops (see
// callInfo).
type apiTransport struct {
	base   http.RoundTripper
	target *url.URL // nil: no rewriting
}

func (t *apiTransport) RoundTrip(req *http.Request) (*http.Response, error) {
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
	if info, ok := req.Context().Value(callInfoKey{}).(*callInfo); ok {
		info.record(resp)
	}
	return resp, nil
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

func (c *callInfo) record(resp *http.Response) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status = resp.StatusCode
	if resp.StatusCode != http.StatusTooManyRequests {
		return
	}
	h := resp.Header
	c.global = h.Get("X-RateLimit-Global") == "true" || h.Get("X-RateLimit-Scope") == "global"
	if s, err := strconv.ParseFloat(h.Get("Retry-After"), 64); err == nil {
		c.retryAfter = seconds(s)
	}
	// The body's retry_after is more precise than the header's whole
	// seconds; read it and put the body back for discordgo.
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return
	}
	var body struct {
		RetryAfter *float64 `json:"retry_after"`
		Global     bool     `json:"global"`
	}
	if json.Unmarshal(data, &body) != nil {
		// Not Discord's JSON: Cloudflare's ban page. It stops every request.
		c.global = true
		return
	}
	c.global = c.global || body.Global
	if body.RetryAfter != nil {
		c.retryAfter = seconds(*body.RetryAfter)
	}
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
