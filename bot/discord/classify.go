package discord

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/newsbot/newsbot/bot"
)

// ErrUnauthorized means Discord rejected DISCORD_BOT_TOKEN. The adapter
// stops calling Discord after the first one: every further call would be
// another 401 counted towards Cloudflare's invalid-request ban.
var ErrUnauthorized = fmt.Errorf("discord: DISCORD_BOT_TOKEN was %w (HTTP 401); create a new token in the Developer Portal", bot.ErrRejected)

// restFailure is what Discord answered to a failed REST call.
type restFailure struct {
	status     int // 0 when the call never got an HTTP answer
	code       int // Discord's JSON error code, 0 when none
	retryAfter time.Duration
	global     bool
}

// describeFailure reads a discordgo error together with what the transport
// saw of the answer.
func describeFailure(err error, info *callInfo) restFailure {
	var f restFailure
	if info != nil {
		f.status, f.global, f.retryAfter = info.snapshot()
	}
	var rest *discordgo.RESTError
	if errors.As(err, &rest) {
		if rest.Response != nil {
			f.status = rest.Response.StatusCode
		}
		if rest.Message != nil {
			f.code = rest.Message.Code
		}
	}
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) {
		f.status = http.StatusTooManyRequests
		if rl.RateLimit != nil && rl.TooManyRequests != nil && rl.RetryAfter > f.retryAfter {
			f.retryAfter = rl.RetryAfter
		}
	}
	if errors.Is(err, discordgo.ErrUnauthorized) {
		f.status = http.StatusUnauthorized
	}
	return f
}

// minRetryAfter is the wait assumed when a 429 names none.
const minRetryAfter = time.Second

// classifySend maps a failed message send to the outcome errors of
// bot.Platform. where names the channel for people ("#news"); missing, when
// known, lists the permissions the bot lacks there.
func classifySend(err error, f restFailure, where string, missing []string) error {
	switch {
	case f.status == http.StatusTooManyRequests:
		after := max(f.retryAfter, minRetryAfter)
		return &bot.RetryAfterError{After: after, Global: f.global, Err: err}
	case f.status == http.StatusUnauthorized:
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	case f.code == codeUnknownChannel:
		return &bot.ChatGoneError{Reason: where + " was deleted", Err: err}
	case f.code == codeUnknownGuild:
		return &bot.ChatGoneError{Reason: "the server of " + where + " no longer exists", Err: err}
	case len(missing) > 0 && (f.code == codeMissingAccess || f.code == codeMissingPermissions || f.status == http.StatusForbidden):
		return &bot.ChatGoneError{Reason: "the bot lacks " + listNames(missing) + " in " + where, Err: err}
	case f.code == codeMissingAccess:
		return &bot.ChatGoneError{Reason: "the bot cannot see " + where + " (it lacks View Channel there, or was removed from the server)", Err: err}
	case f.code == codeMissingPermissions:
		return &bot.ChatGoneError{Reason: "the bot lacks Send Messages or Embed Links in " + where, Err: err}
	case f.status == http.StatusForbidden:
		return &bot.ChatGoneError{Reason: fmt.Sprintf("Discord refuses the bot access to %s (error %d)", where, f.code), Err: err}
	case f.status == http.StatusNotFound:
		return &bot.ChatGoneError{Reason: "the channel " + where + " no longer exists", Err: err}
	case f.status == http.StatusBadRequest:
		// Invalid Form Body and the like: the same message fails again however
		// often it is sent.
		return fmt.Errorf("discord: send to %s: %w: %w", where, bot.ErrRejected, err)
	}
	// 5xx, timeouts, connection failures, and anything unexpected: the
	// delivery queue retries with back-off.
	return fmt.Errorf("discord: send to %s: %w", where, err)
}

// goneChannels remembers channels Discord refused (403/404), so that
// deliveries to them stop at once instead of adding to the invalid-request
// count that ends in a Cloudflare ban. A channel is forgotten after
// goneMemory, or when /subscribe finds the bot may post there again.
type goneChannels struct {
	mu      sync.Mutex
	entries map[string]goneEntry
}

type goneEntry struct {
	reason string
	until  time.Time
}

const (
	goneMemory     = time.Hour
	maxGoneEntries = 10_000
)

func (g *goneChannels) remember(channelID, reason string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.entries == nil {
		g.entries = make(map[string]goneEntry)
	}
	if len(g.entries) >= maxGoneEntries {
		for id, e := range g.entries {
			if now.After(e.until) {
				delete(g.entries, id)
			}
		}
		if len(g.entries) >= maxGoneEntries {
			clear(g.entries)
		}
	}
	g.entries[channelID] = goneEntry{reason: reason, until: now.Add(goneMemory)}
}

func (g *goneChannels) lookup(channelID string, now time.Time) (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.entries[channelID]
	if !ok || now.After(e.until) {
		return "", false
	}
	return e.reason, true
}

func (g *goneChannels) forget(channelID string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.entries, channelID)
}
