package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// Daily delivery, as this package runs it:
//
//   - The Scheduler's Poll claims due subscriptions of each platform from the
//     store (an indexed query on NextDue) under this instance's owner id and a
//     lease, at most MaxClaimed per platform at a time, and hands them to that
//     platform's queue. Run calls Poll every PollInterval and renews the
//     leases while the work goes on.
//   - Each platform has one queue with Workers workers. A worker takes one
//     chat's delivery and sends its messages in order, one at a time; the
//     platform's Send paces each message. A chat that must wait (a 429 for
//     that chat, a transient failure) goes back on the queue with a time it
//     is ready again and the worker moves on to other chats, so one chat's
//     messages never overtake each other and a slow chat never holds a
//     worker. A 429 for the whole bot pauses the platform's queue. A wait
//     longer than DeferAfter also gives up the claim until then, so the
//     subscription is picked up again (by any instance) when it may be sent.
//   - Transient failures are retried with exponential back-off, MaxAttempts
//     times per message; then the day is given up ("failed", LastError set,
//     shown by /status) and the next day is tried afresh.
//   - Exactly once: the ledger entry of (subscription, local date) is written
//     with the composed briefing before the first message, its progress after
//     every message, and its outcome together with the subscription's next
//     due instant in one transaction. A restarted process resumes a pending
//     delivery at its next message with the stored briefing. The only
//     messages that can go out twice are those whose Send had been called
//     but whose progress was not yet written when the process died: at most
//     one per worker, so at most Workers per platform.
//
// What is delivered when — the content, nothing new, late, skipped, the next
// due instant — is decided by package briefings (PlanDaily, NewDailyDelivery,
// DailyResult); this package carries the decisions out.

// ChatLifecycle changes subscriptions as platforms report on chats;
// *briefings.Service is one.
type ChatLifecycle interface {
	Deactivate(ctx context.Context, chat briefings.ChatRef, reason string) error
	MoveChat(ctx context.Context, from, to briefings.ChatRef) error
}

// SchedulerOptions configure a Scheduler. Zero values take the defaults.
type SchedulerOptions struct {
	Store     briefings.DeliveryStore
	Stories   briefings.StoryReader // where briefings' stories come from; usually the same store
	Chats     ChatLifecycle
	Platforms []Platform
	// Owner names this instance in claims; unique per process.
	Owner        string
	BriefingSize int // entries per briefing; briefings.DefaultBriefingSize when 0
	Now          func() time.Time
	Logger       *slog.Logger
	Observer     DeliveryObserver

	Workers      int           // per platform; 32
	MaxClaimed   int           // deliveries held per platform at once; 512
	PollInterval time.Duration // 1 s
	Lease        time.Duration // how long a claim holds unless renewed; 5 min
	MaxAttempts  int           // transient failures of one message before giving up the day; 5
	RetryBackoff time.Duration // wait after the first transient failure, doubled after each; 5 s
	// DeferAfter: a chat that must wait longer than this gives up its claim
	// until then instead of staying in memory; 1 min.
	DeferAfter time.Duration
	// LongRetryAfter: a retry_after at least this long is logged as a
	// warning; 1 min.
	LongRetryAfter time.Duration
	// KeepDeliveries is how long finished ledger entries are kept; 30 days.
	KeepDeliveries time.Duration
}

// Scheduler finds due subscriptions and delivers them through the platforms'
// queues.
type Scheduler struct {
	opts   SchedulerOptions
	log    *slog.Logger
	queues []*queue

	mu         sync.Mutex
	lastRenew  time.Time
	lastPrune  time.Time
	workersRun bool
}

// PollStats says what one Poll did.
type PollStats struct {
	Claimed int // subscriptions claimed now
	Held    int // deliveries held in memory after the poll, all platforms
}

// NewScheduler checks opts and fills in the defaults.
func NewScheduler(opts SchedulerOptions) (*Scheduler, error) {
	if opts.Store == nil || opts.Stories == nil || opts.Chats == nil {
		return nil, errors.New("delivery: scheduler needs a store, stories and a chat lifecycle")
	}
	if opts.Owner == "" {
		return nil, errors.New("delivery: scheduler needs an owner id")
	}
	seen := map[briefings.Platform]bool{}
	for _, p := range opts.Platforms {
		if seen[p.Name()] {
			return nil, fmt.Errorf("delivery: platform %s given twice", p.Name())
		}
		seen[p.Name()] = true
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&opts.BriefingSize, briefings.DefaultBriefingSize)
	def(&opts.Workers, 32)
	def(&opts.MaxClaimed, 512)
	def(&opts.MaxAttempts, 5)
	defDur(&opts.PollInterval, time.Second)
	defDur(&opts.Lease, 5*time.Minute)
	defDur(&opts.RetryBackoff, 5*time.Second)
	defDur(&opts.DeferAfter, time.Minute)
	defDur(&opts.LongRetryAfter, time.Minute)
	defDur(&opts.KeepDeliveries, 30*24*time.Hour)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Observer == nil {
		opts.Observer = DeliveryObserverFunc(func(DeliveryEvent) {})
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Scheduler{opts: opts, log: opts.Logger}
	stories := briefings.NewDailyStories(opts.Stories)
	for _, p := range opts.Platforms {
		s.queues = append(s.queues, newQueue(p, &s.opts, stories))
	}
	return s, nil
}

func (s *Scheduler) now() time.Time { return s.opts.Now() }

// Poll claims what is due, up to each platform's free capacity, and queues
// it; it renews this instance's leases every third of a lease and prunes old
// ledger entries daily. The deliveries themselves run on Run's workers.
func (s *Scheduler) Poll(ctx context.Context) (PollStats, error) {
	var stats PollStats
	var errs []error
	now := s.now()
	for _, q := range s.queues {
		n, err := q.claim(ctx, now)
		if err != nil {
			errs = append(errs, err)
		}
		stats.Claimed += n
	}
	for _, q := range s.queues {
		stats.Held += q.heldCount()
	}

	s.mu.Lock()
	renew := stats.Held > 0 && now.Sub(s.lastRenew) >= s.opts.Lease/3
	prune := now.Sub(s.lastPrune) >= 24*time.Hour
	if renew {
		s.lastRenew = now
	}
	if prune {
		s.lastPrune = now
	}
	s.mu.Unlock()
	if renew {
		if _, err := s.opts.Store.RenewClaims(ctx, s.opts.Owner, now.Add(s.opts.Lease)); err != nil {
			errs = append(errs, fmt.Errorf("delivery: renew claims: %w", err))
		}
	}
	if prune {
		if n, err := s.opts.Store.PruneDeliveries(ctx, now.Add(-s.opts.KeepDeliveries)); err != nil {
			errs = append(errs, fmt.Errorf("delivery: prune ledger: %w", err))
		} else if n > 0 {
			s.log.Info("pruned delivery ledger", "entries", n)
		}
	}
	return stats, errors.Join(errs...)
}

// Run starts the platforms' workers and polls every PollInterval until ctx
// ends; then it waits for the workers to stop and releases this instance's
// claims, so whichever process runs next takes them at once.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.workersRun {
		s.mu.Unlock()
		return errors.New("delivery: scheduler already running")
	}
	s.workersRun = true
	s.mu.Unlock()

	var wg sync.WaitGroup
	for _, q := range s.queues {
		for range s.opts.Workers {
			wg.Go(func() { q.work(ctx) })
		}
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := s.opts.Store.ReleaseClaims(release, s.opts.Owner); err != nil {
				return fmt.Errorf("delivery: release claims at stop: %w", err)
			}
			return nil
		case <-timer.C:
		}
		stats, err := s.Poll(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("delivery poll failed", "err", err)
		}
		wait := s.untilNextPoll(ctx)
		if stats.Claimed > 0 {
			// More may be due: past the claim limit, or made due by this
			// poll's work (a skipped day whose next due has passed).
			wait = min(wait, time.Second)
		}
		timer.Reset(wait)
	}
}

// untilNextPoll is PollInterval, or less when a subscription comes due
// sooner, so that a briefing goes out at its minute. Subscriptions made or
// changed meanwhile are seen by the next poll at the latest.
func (s *Scheduler) untilNextPoll(ctx context.Context) time.Duration {
	wait := s.opts.PollInterval
	now := s.now()
	next, ok, err := s.opts.Store.NextDueAfter(ctx, now)
	if err == nil && ok && next.Sub(now) < wait {
		wait = max(next.Sub(now), 0)
	}
	return wait
}
