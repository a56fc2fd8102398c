package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// Platform is what a chat adapter offers the rest of the bot: serving
// commands, and delivering briefings one message at a time.
//
// The division of work: the adapter renders a briefing in its platform's
// format and splits it into messages within the platform's limits, paces
// every send inside the platform's rate limits (with a Pacer), sends one
// message, and classifies the platform's answer into the errors below. The
// delivery queue (in this package) owns everything across messages: one
// chat's messages in order, many chats at once, requeueing a chat after a 429
// without holding a worker, the delivery ledger and exactly-once.
type Platform interface {
	// Name is the platform's label in ChatRefs, logs and metrics.
	Name() briefings.Platform
	// Serve answers commands until ctx ends. It returns nil on a clean stop.
	Serve(ctx context.Context, h *Handler) error
	// RenderBriefing turns a briefing into the messages that carry it, in
	// order. The same briefing renders to the same messages, so a delivery
	// interrupted after k messages resumes at message k+1 after a restart.
	RenderBriefing(b briefings.Briefing) ([]OutMessage, error)
	// Send sends one message to a chat, paced within the platform's limits.
	// Its error, when not nil, is one of (or wraps) *RetryAfterError,
	// *ChatGoneError, *ChatMovedError, ErrRejected, or anything else for a
	// transient failure worth retrying with back-off.
	Send(ctx context.Context, chat briefings.ChatRef, m OutMessage) error
}

// OutMessage is one rendered message; only its adapter looks inside.
type OutMessage interface {
	// Summary describes the message for logs: never its full text.
	Summary() string
}

// RetryAfterError is the platform asking us to wait. It is not a failure:
// the message is sent again after After.
type RetryAfterError struct {
	After time.Duration
	// Global is true when the whole bot must wait (Discord's global limit;
	// any Telegram 429, whose scope Telegram does not say), false when only
	// this chat (or route) must.
	Global bool
	Err    error
}

func (e *RetryAfterError) Error() string {
	scope := "chat"
	if e.Global {
		scope = "bot"
	}
	return fmt.Sprintf("rate limited (%s): retry after %v: %v", scope, e.After, e.Err)
}
func (e *RetryAfterError) Unwrap() error { return e.Err }

// ChatGoneError means the chat will not take messages until its people act:
// the bot was blocked or removed, the channel is gone, a permission is
// missing, the bot was muted (ErrCantWrite). The subscription is deactivated
// with Reason, shown in /status, and not tried again until the chat comes
// back (a /start, a /subscribe, or the platform saying the right is back).
type ChatGoneError struct {
	Reason string // for people: "the bot was blocked by the user"
	Err    error
}

func (e *ChatGoneError) Error() string { return fmt.Sprintf("chat gone: %s: %v", e.Reason, e.Err) }
func (e *ChatGoneError) Unwrap() error { return e.Err }

// ChatMovedError means the chat has a new id (a Telegram group upgraded to a
// supergroup). The subscription moves to NewID and the message is sent again
// there.
type ChatMovedError struct {
	NewID string
	Err   error
}

func (e *ChatMovedError) Error() string { return fmt.Sprintf("chat moved to %s: %v", e.NewID, e.Err) }
func (e *ChatMovedError) Unwrap() error { return e.Err }

// ErrCantWrite marks a ChatGoneError for a chat the bot is still in but may
// not post to (muted, restricted, write access revoked): nothing is wrong with
// the message, and the chat comes back when the right does. Adapters wrap it.
var ErrCantWrite = errors.New("the bot may not write in the chat")

// ErrRejected marks a message the platform will refuse however often it is
// sent (too long, malformed, a revoked token): retrying is pointless, so the
// delivery fails for the day with the reason recorded. Adapters wrap it.
var ErrRejected = errors.New("rejected by the platform")

// The outcomes of one Send, as Classify names them for logs and metrics.
const (
	OutcomeSent       = "sent"
	OutcomeRetryAfter = "retry_after"
	OutcomeGone       = "gone"
	OutcomeMoved      = "moved"
	OutcomeRejected   = "rejected"
	OutcomeTransient  = "transient"
)

// Outcomes is every outcome a DeliveryEvent can carry: Classify's per
// message, then the per-delivery ones (delivery.go). Metrics start a series
// at zero for each; a new outcome is one line here.
func Outcomes() []string {
	return []string{
		OutcomeSent, OutcomeRetryAfter, OutcomeGone, OutcomeMoved, OutcomeRejected, OutcomeTransient,
		OutcomeClaimed, OutcomeDelivered, OutcomeEmpty, OutcomeSkipped, OutcomeFailed, OutcomeDeferred, OutcomePaused,
	}
}

// Classify names the outcome of a Send (one of the constants above).
func Classify(err error) string {
	var ra *RetryAfterError
	var gone *ChatGoneError
	var moved *ChatMovedError
	switch {
	case err == nil:
		return OutcomeSent
	case errors.As(err, &ra):
		return OutcomeRetryAfter
	case errors.As(err, &gone):
		return OutcomeGone
	case errors.As(err, &moved):
		return OutcomeMoved
	case errors.Is(err, ErrRejected):
		return OutcomeRejected
	}
	return OutcomeTransient
}
