package bot

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a budget of Count events per Per, with bursts of up to Burst.
type Rate struct {
	Count int
	Per   time.Duration
	Burst int
}

func (r Rate) limit() rate.Limit {
	if r.Count <= 0 || r.Per <= 0 {
		return rate.Inf
	}
	return rate.Limit(float64(r.Count) / r.Per.Seconds())
}

func (r Rate) burst() int { return max(r.Burst, 1) }

// Scaled is the rate multiplied by f (a share of a budget split among
// instances, or a test speed-up); bursts are kept.
func (r Rate) Scaled(f float64) Rate {
	if r.Count <= 0 || r.Per <= 0 || f <= 0 {
		return r
	}
	return Rate{Count: r.Count, Per: time.Duration(float64(r.Per) / f), Burst: r.Burst}
}

// PaceLimits are a platform's budgets: in all, per chat, and per group chat
// on top of its chat budget. A zero Rate is unlimited.
type PaceLimits struct {
	Global   Rate
	PerChat  Rate
	PerGroup Rate
}

// Pacer keeps sends inside a platform's limits before the platform has to
// say so, and holds back what the platform paused with a 429. Each platform
// adapter has one, shared by replies and deliveries.
type Pacer struct {
	limits PaceLimits
	now    func() time.Time

	mu          sync.Mutex
	global      *rate.Limiter
	chats       map[string]*chatBudget
	pausedUntil time.Time // the whole bot
	// held is non-nil while SetGlobalShare(0) holds every send back; it is
	// closed when a positive share is set.
	held chan struct{}
}

type chatBudget struct {
	chat, group *rate.Limiter
	pausedUntil time.Time
	lastUsed    time.Time
}

// NewPacer returns a Pacer for limits. now is the clock (time.Now when nil).
func NewPacer(limits PaceLimits, now func() time.Time) *Pacer {
	if now == nil {
		now = time.Now
	}
	return &Pacer{
		limits: limits,
		now:    now,
		global: rate.NewLimiter(limits.Global.limit(), limits.Global.burst()),
		chats:  make(map[string]*chatBudget),
	}
}

// maxIdleChats bounds the per-chat state kept; idle chats' full buckets are
// forgotten, which costs nothing since a new bucket starts full.
const maxIdleChats = 50_000

func (p *Pacer) budget(chat string, group bool, now time.Time) *chatBudget {
	b, ok := p.chats[chat]
	if !ok {
		if len(p.chats) >= maxIdleChats {
			for k, v := range p.chats {
				if now.Sub(v.lastUsed) > time.Minute && now.After(v.pausedUntil) {
					delete(p.chats, k)
				}
			}
		}
		b = &chatBudget{chat: rate.NewLimiter(p.limits.PerChat.limit(), p.limits.PerChat.burst())}
		if group {
			b.group = rate.NewLimiter(p.limits.PerGroup.limit(), p.limits.PerGroup.burst())
		}
		p.chats[chat] = b
	}
	b.lastUsed = now
	return b
}

// Wait blocks until a message to chat may be sent: after any pause, within
// the chat's (and group's) budget and the global one. It returns ctx's error
// if ctx ends first.
func (p *Pacer) Wait(ctx context.Context, chat string, group bool) error {
	for {
		p.mu.Lock()
		held := p.held
		p.mu.Unlock()
		if held == nil {
			break
		}
		select {
		case <-held:
		case <-ctx.Done():
			return fmt.Errorf("pace: held: %w", ctx.Err())
		}
	}
	for {
		now := p.now()
		p.mu.Lock()
		b := p.budget(chat, group, now)
		until := p.pausedUntil
		if b.pausedUntil.After(until) {
			until = b.pausedUntil
		}
		p.mu.Unlock()
		if !until.After(now) {
			break
		}
		if err := Sleep(ctx, until.Sub(now)); err != nil {
			return err
		}
	}
	p.mu.Lock()
	b := p.chats[chat]
	p.mu.Unlock()
	if b == nil { // evicted meanwhile: budgets start full again
		p.mu.Lock()
		b = p.budget(chat, group, p.now())
		p.mu.Unlock()
	}
	if err := b.chat.Wait(ctx); err != nil {
		return fmt.Errorf("pace chat %s: %w", chat, err)
	}
	if b.group != nil {
		if err := b.group.Wait(ctx); err != nil {
			return fmt.Errorf("pace group %s: %w", chat, err)
		}
	}
	if err := p.global.Wait(ctx); err != nil {
		return fmt.Errorf("pace: %w", err)
	}
	return nil
}

// SetGlobalShare sets the global budget to share times the configured one:
// the part of a bot-wide limit this instance may use when several instances
// send for the same bot (share = 1/N for N live instances). Bursts shrink in
// proportion too (at least 1), so N instances bursting at once still burst
// no more than one would. A share of 0 or less holds every send back until a
// positive share is set (an instance that has joined but whose peers have
// not yet made room for it); above 1 is taken as 1. Safe to call while
// sends wait; waiting sends see the new rate at once.
func (p *Pacer) SetGlobalShare(share float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if share <= 0 {
		if p.held == nil {
			p.held = make(chan struct{})
		}
		return
	}
	share = min(share, 1)
	base := p.limits.Global
	if base.Count > 0 && base.Per > 0 {
		p.global.SetLimit(base.Scaled(share).limit())
		p.global.SetBurst(max(int(math.Floor(float64(base.burst())*share)), 1))
	}
	if p.held != nil {
		close(p.held)
		p.held = nil
	}
}

// PausedUntil reports until when sends to chat are held back (zero when they
// are not), for queues that would rather do other work than wait.
func (p *Pacer) PausedUntil(chat string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	until := p.pausedUntil
	if b, ok := p.chats[chat]; ok && b.pausedUntil.After(until) {
		until = b.pausedUntil
	}
	if !until.After(p.now()) {
		return time.Time{}
	}
	return until
}

// Pause holds back sends to chat for d, as the platform asked.
func (p *Pacer) Pause(chat string, group bool, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	b := p.budget(chat, group, now)
	if until := now.Add(d); until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
}

// PauseAll holds back every send for d: the platform's global limit.
func (p *Pacer) PauseAll(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until := p.now().Add(d); until.After(p.pausedUntil) {
		p.pausedUntil = until
	}
}

// Sleep waits for d, or until ctx ends (then it returns ctx's error): the
// one blocking wait adapters and queues need, cancellable like every other.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
