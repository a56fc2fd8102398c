package bot

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Rate is a budget: never more than Count sends in any window of length Per,
// at most Burst of them back to back (the rest spaced Per/Count apart). A
// Burst of Count or more leaves only the window; 0 or 1 spaces every send.
type Rate struct {
	Count int
	Per   time.Duration
	Burst int
}

func (r Rate) unlimited() bool { return r.Count <= 0 || r.Per <= 0 }

// Scaled is the rate on a clock f times as fast (a test speed-up): the
// window shrinks, Count and Burst are kept.
func (r Rate) Scaled(f float64) Rate {
	if r.unlimited() || f <= 0 {
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
	// Margin lengthens every window, for a platform whose clock may run a
	// little apart from ours. Sends counted with Acquire are counted when
	// the platform has answered, so network delay needs no margin.
	Margin time.Duration
}

// Scaled is the limits on a clock f times as fast, margin included.
func (l PaceLimits) Scaled(f float64) PaceLimits {
	if f <= 0 {
		return l
	}
	return PaceLimits{Global: l.Global.Scaled(f), PerChat: l.PerChat.Scaled(f), PerGroup: l.PerGroup.Scaled(f),
		Margin: time.Duration(float64(l.Margin) / f)}
}

// Pause tuning. A platform's retry_after is waited out plus PauseMargin (as
// python-telegram-bot's AIORateLimiter adds 0.1 s); after a pause of the
// whole bot the global budget starts at rampStartShare of itself and grows
// back to all of it over rampWindows of its windows, so the sends held back
// do not all go at once into a platform that has just said "too many".
const (
	PauseMargin    = 100 * time.Millisecond
	rampStartShare = 0.25
	rampWindows    = 4
)

// Pacer keeps sends inside a platform's limits before the platform has to
// say so, and holds back what the platform paused with a 429. Each platform
// adapter has one, shared by replies and deliveries.
//
// Every budget is a sliding window: a send taken with Acquire counts in it
// while in flight and then for a window's length from its answer, so no
// window of the stated length ever holds more than Count sends at the
// platform however the network delays them. The price is one round trip per
// window: Count sends per Per plus the round trip.
type Pacer struct {
	limits PaceLimits
	now    func() time.Time

	mu          sync.Mutex
	share       float64 // of the global budget (SetGlobalShare)
	global      window
	chats       map[string]*chatBudget
	pausedUntil time.Time // the whole bot
	rampFrom    time.Time // when the last pause of the whole bot ended
	inFlight    int
	// changed is closed and replaced when the limits change, or when a
	// send completes while senders wait for one (waitingForChange), waking
	// them; senders that wait for time sleep on their own timers.
	changed          chan struct{}
	waitingForChange int
}

type chatBudget struct {
	chat, group window
	pausedUntil time.Time
	lastUsed    time.Time
}

// window is one sliding-window budget: the sends in flight, and the times
// the completed ones were counted at (sorted, pruned once out of the
// window); tat is the smoothing's theoretical arrival time (GCRA).
type window struct {
	pending int
	done    []time.Time
	tat     time.Time
}

// NewPacer returns a Pacer for limits. now is the clock (time.Now when nil).
func NewPacer(limits PaceLimits, now func() time.Time) *Pacer {
	if now == nil {
		now = time.Now
	}
	return &Pacer{
		limits:  limits,
		now:     now,
		share:   1,
		chats:   make(map[string]*chatBudget),
		changed: make(chan struct{}),
	}
}

// maxIdleChats bounds the per-chat state kept; chats with nothing in their
// windows are forgotten, which costs nothing since an empty window is what a
// new chat starts with.
const maxIdleChats = 50_000

func (p *Pacer) budget(chat string, now time.Time) *chatBudget {
	b, ok := p.chats[chat]
	if !ok {
		if len(p.chats) >= maxIdleChats {
			p.evictIdle(now)
		}
		b = &chatBudget{}
		p.chats[chat] = b
	}
	b.lastUsed = now
	return b
}

func (p *Pacer) evictIdle(now time.Time) {
	longest := max(p.limits.PerChat.Per, p.limits.PerGroup.Per) + p.limits.Margin
	for k, v := range p.chats {
		if v.chat.pending == 0 && v.group.pending == 0 && now.Sub(v.lastUsed) > longest && now.After(v.pausedUntil) {
			delete(p.chats, k)
		}
	}
}

// budgetRate is a Rate resolved for one moment: the count allowed in the
// window, the window's length, the burst.
type budgetRate struct {
	count int
	per   time.Duration
	burst int
}

func (p *Pacer) resolve(r Rate, share float64) (budgetRate, bool) {
	if r.unlimited() {
		return budgetRate{}, false
	}
	return budgetRate{
		count: max(int(math.Floor(float64(r.Count)*share+1e-9)), 1),
		per:   r.Per + p.limits.Margin,
		burst: max(int(math.Floor(float64(max(r.Burst, 1))*share+1e-9)), 1),
	}, true
}

// globalRateLocked is the global budget now: this instance's share, cut
// back while ramping up after a pause of the whole bot.
func (p *Pacer) globalRateLocked(now time.Time) (budgetRate, bool) {
	share := p.share
	if !p.rampFrom.IsZero() && !p.limits.Global.unlimited() {
		ramp := time.Duration(rampWindows) * (p.limits.Global.Per + p.limits.Margin)
		if since := now.Sub(p.rampFrom); since < ramp {
			share *= rampStartShare + (1-rampStartShare)*float64(since)/float64(ramp)
		} else {
			p.rampFrom = time.Time{}
		}
	}
	return p.resolve(p.limits.Global, share)
}

// wait reports how long until one more send fits the window (0: now), and
// whether only a send in flight completing can make room.
func (w *window) wait(r budgetRate, now time.Time) (time.Duration, bool) {
	cut := 0
	for cut < len(w.done) && !w.done[cut].After(now.Add(-r.per)) {
		cut++
	}
	w.done = w.done[cut:]
	var d time.Duration
	if over := w.pending + len(w.done) - r.count; over >= 0 {
		if over >= len(w.done) {
			return 0, true
		}
		d = w.done[over].Add(r.per).Sub(now)
	}
	interval := r.per / time.Duration(r.count)
	if earliest := w.tat.Add(-time.Duration(r.burst-1) * interval); earliest.After(now) {
		d = max(d, earliest.Sub(now))
	}
	return d, false
}

func (w *window) take(r budgetRate, now time.Time) {
	w.pending++
	interval := r.per / time.Duration(r.count)
	w.tat = later(w.tat, now).Add(interval)
}

// complete counts a send taken from the window as having left at t.
func (w *window) complete(t time.Time) {
	w.pending--
	i, _ := slices.BinarySearchFunc(w.done, t, time.Time.Compare)
	w.done = slices.Insert(w.done, i, t)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Acquire blocks until a message to chat may be sent: after any pause,
// within the chat's (and group's) budget and the global one, and while this
// instance holds a share of the global budget. The send counts against every
// budget from now until done is called, and from then on as having left when
// done was called: call done once the platform has answered, so that a send
// delayed on its way is never counted earlier than the platform counts it.
// Acquire returns ctx's error if ctx ends first.
func (p *Pacer) Acquire(ctx context.Context, chat string, group bool) (done func(), err error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		p.mu.Lock()
		now := p.now()
		b := p.budget(chat, now)
		wait, blocked := p.blockedLocked(b, group, now)
		if wait <= 0 && !blocked {
			done := p.takeLocked(b, group, now)
			p.mu.Unlock()
			return done, nil
		}
		changed := p.changed
		if blocked {
			p.waitingForChange++
		}
		p.mu.Unlock()

		var fired <-chan time.Time
		if wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			fired = timer.C
		}
		var err error
		select {
		case <-ctx.Done():
			err = fmt.Errorf("pace %s: %w", chat, ctx.Err())
		case <-changed:
			if timer != nil && !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case <-fired:
		}
		if blocked {
			p.mu.Lock()
			p.waitingForChange--
			p.mu.Unlock()
		}
		if err != nil {
			return nil, err
		}
	}
}

// Wait is Acquire for a send counted as having left at once.
func (p *Pacer) Wait(ctx context.Context, chat string, group bool) error {
	done, err := p.Acquire(ctx, chat, group)
	if err != nil {
		return err
	}
	done()
	return nil
}

// blockedLocked is how long a send to b must wait (0: it may go now), and
// whether it waits for a change rather than for time (a held share, or
// every place in a window taken by sends in flight).
func (p *Pacer) blockedLocked(b *chatBudget, group bool, now time.Time) (time.Duration, bool) {
	if p.share <= 0 {
		return 0, true
	}
	until := later(p.pausedUntil, b.pausedUntil)
	if until.After(now) {
		return until.Sub(now), false
	}
	if !p.pausedUntil.IsZero() {
		// The pause of the whole bot has ended: ramp up from here.
		p.rampFrom, p.pausedUntil = p.pausedUntil, time.Time{}
	}
	var wait time.Duration
	var blocked bool
	check := func(w *window, r budgetRate, ok bool) {
		if !ok {
			return
		}
		d, full := w.wait(r, now)
		wait, blocked = max(wait, d), blocked || full
	}
	g, ok := p.globalRateLocked(now)
	check(&p.global, g, ok)
	c, ok := p.resolve(p.limits.PerChat, 1)
	check(&b.chat, c, ok)
	if group {
		gr, ok := p.resolve(p.limits.PerGroup, 1)
		check(&b.group, gr, ok)
	}
	return wait, blocked
}

func (p *Pacer) takeLocked(b *chatBudget, group bool, now time.Time) func() {
	var windows []*window
	if g, ok := p.globalRateLocked(now); ok {
		p.global.take(g, now)
		windows = append(windows, &p.global)
	}
	if c, ok := p.resolve(p.limits.PerChat, 1); ok {
		b.chat.take(c, now)
		windows = append(windows, &b.chat)
	}
	if gr, ok := p.resolve(p.limits.PerGroup, 1); ok && group {
		b.group.take(gr, now)
		windows = append(windows, &b.group)
	}
	p.inFlight++
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			t := p.now()
			for _, w := range windows {
				w.complete(t)
			}
			p.inFlight--
			if p.waitingForChange > 0 {
				p.broadcastLocked()
			}
		})
	}
}

func (p *Pacer) broadcastLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// InFlight is how many sends have been acquired and not yet answered: what
// may still reach the platform after it said "wait".
func (p *Pacer) InFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inFlight
}

// SetGlobalShare sets the global budget to share times the configured one:
// the part of a bot-wide limit this instance may use when several instances
// send for the same bot (share = 1/N for N live instances). The window keeps
// its length and its count shrinks (rounded down, at least 1), so N
// instances together never put more than the whole count in one window;
// bursts shrink in proportion too. A share of 0 or less holds every send
// back until a positive share is set (an instance that has joined but whose
// peers have not yet made room for it); above 1 is taken as 1. Safe to call
// while sends wait; waiting sends see the new budget at once.
func (p *Pacer) SetGlobalShare(share float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.share = min(max(share, 0), 1)
	p.broadcastLocked()
}

// PausedUntil reports until when sends to chat are held back (zero when they
// are not), for queues that would rather do other work than wait.
func (p *Pacer) PausedUntil(chat string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	until := p.pausedUntil
	if b, ok := p.chats[chat]; ok {
		until = later(until, b.pausedUntil)
	}
	if !until.After(p.now()) {
		return time.Time{}
	}
	return until
}

// Pause holds back sends to chat for d (plus PauseMargin), as the platform
// asked; the pause covers the chat's group budget too, whatever group says.
func (p *Pacer) Pause(chat string, group bool, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	b := p.budget(chat, now)
	b.pausedUntil = later(b.pausedUntil, now.Add(d+PauseMargin))
	p.broadcastLocked()
}

// PauseAll holds back every send for d (plus PauseMargin): the platform
// said "too many" for the whole bot, or did not say for what. When the pause
// ends the global budget ramps up again instead of opening all at once.
func (p *Pacer) PauseAll(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pausedUntil = later(p.pausedUntil, p.now().Add(d+PauseMargin))
	p.broadcastLocked()
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
