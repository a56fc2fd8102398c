package discord

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/newsbot/newsbot/bot"
)

// globalPause is the bot-wide hold every REST call of the adapter waits on.
// A global 429 is a statement about the whole bot, not about the route that
// drew it: until its Retry-After has passed, every route is refused (and
// every refusal counts towards Cloudflare's invalid-request ban). restGate
// implements it for one adapter; a bot-wide pause shared by all platforms
// can take its place behind the same three calls.
type globalPause interface {
	// wait blocks until a request may go out: after any running pause, and,
	// when budgeted, inside the bot's share of the global request budget.
	wait(ctx context.Context, budgeted bool) error
	// pause holds every request back for d (plus a margin) and then lets
	// them resume gradually.
	pause(d time.Duration)
	// pausedUntil is when the running pause ends; zero when none runs.
	pausedUntil() time.Time
}

// Pausing and resuming after a global 429. The margin covers the distance
// between our clock and Discord's; python-telegram-bot's AIORateLimiter
// waits 0.1 s past Telegram's retry_after for the same reason. After the
// pause the rate starts at a quarter of the budget and doubles every
// rampStep (full after a second), so a backlog of waiting calls does not
// arrive at once and draw the next 429.
const (
	globalPauseMargin = 200 * time.Millisecond
	rampStartFraction = 1.0 / 4
	rampStep          = 500 * time.Millisecond
)

// gateRequestsPerSecond is the ceiling on all of the adapter's budgeted
// REST calls together (sends, permission checks, command registration):
// Discord's 50 per second less a tenth for network jitter. Message sends
// are paced below it by the Pacer; this keeps the other calls from pushing
// the total over.
const gateRequestsPerSecond = globalRequestsPerSecond * 9 / 10

// restGate is the adapter's globalPause: a pause with a margin, a gradual
// ramp after it, and an evenly spaced budget (no burst: never more than the
// ceiling plus one in any second).
type restGate struct {
	now func() time.Time

	mu        sync.Mutex
	perSecond float64 // at full speed: this instance's share of the ceiling
	until     time.Time
	resumedAt time.Time // when the last pause ended; the ramp starts there
	next      time.Time // the earliest a budgeted request may go
	// epoch counts pauses: a request that reserved its slot before a pause
	// began reserves again after it.
	epoch uint64
}

var _ globalPause = (*restGate)(nil)

func newRESTGate(now func() time.Time) *restGate {
	return &restGate{now: now, perSecond: gateRequestsPerSecond}
}

// setShare gives this instance share of the ceiling, as SetRateShare does
// for the Pacer's budget. A share of 0 or less keeps the last one: holding
// sends back is the Pacer's job, and the other calls (answering commands)
// must go on.
func (g *restGate) setShare(share float64) {
	if share <= 0 || math.IsNaN(share) {
		return
	}
	g.mu.Lock()
	g.perSecond = gateRequestsPerSecond * min(share, 1)
	g.mu.Unlock()
}

func (g *restGate) wait(ctx context.Context, budgeted bool) error {
	for {
		g.mu.Lock()
		now := g.now()
		at := g.until
		if budgeted {
			at = latest(now, g.next, g.until)
			g.next = at.Add(g.intervalLocked(at))
		}
		epoch := g.epoch
		g.mu.Unlock()
		if d := at.Sub(now); d > 0 {
			if err := bot.Sleep(ctx, d); err != nil {
				return err
			}
		}
		g.mu.Lock()
		again := g.epoch != epoch && g.until.After(g.now())
		g.mu.Unlock()
		if !again {
			return ctx.Err()
		}
	}
}

// intervalLocked is the spacing of budgeted requests at instant at: the
// ceiling's, or wider while the ramp after a pause runs.
func (g *restGate) intervalLocked(at time.Time) time.Duration {
	rate := g.perSecond
	if !g.resumedAt.IsZero() {
		since := at.Sub(g.resumedAt)
		if f := rampStartFraction * math.Exp2(float64(since)/float64(rampStep)); f < 1 {
			rate *= max(f, rampStartFraction)
		}
	}
	return time.Duration(float64(time.Second) / rate)
}

func (g *restGate) pause(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	until := g.now().Add(d + globalPauseMargin)
	if !until.After(g.until) {
		return
	}
	g.until, g.resumedAt, g.next = until, until, until
	g.epoch++
}

func (g *restGate) pausedUntil() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.until.After(g.now()) {
		return time.Time{}
	}
	return g.until
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}
