package bot

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// Outcomes reported to a DeliveryObserver. Per message: the names Classify
// gives (platform.go). Per delivery: these. Outcomes lists them all.
const (
	OutcomeClaimed   = "claimed"   // Count subscriptions were claimed
	OutcomeDelivered = "delivered" // a briefing's last message went out
	OutcomeEmpty     = "empty"     // nothing new: nothing sent
	OutcomeSkipped   = "skipped"   // too late (an earlier local date)
	OutcomeFailed    = "failed"    // given up for the day
	OutcomeDeferred  = "deferred"  // claim given up until the platform allows sending
	OutcomePaused    = "paused"    // the whole platform paused (a global 429)
)

// DeliveryEvent is one thing delivery did, for metrics.
type DeliveryEvent struct {
	Platform   briefings.Platform
	Chat       briefings.ChatRef
	Outcome    string        // see the Outcome constants and Classify
	Count      int           // for OutcomeClaimed
	RetryAfter time.Duration // for retry_after, deferred and paused
	Latency    time.Duration // of the Send, for per-message outcomes
	Err        error
}

// DeliveryObserver receives every DeliveryEvent; it must not block.
type DeliveryObserver interface {
	ObserveDelivery(DeliveryEvent)
}

// DeliveryObserverFunc adapts a function to DeliveryObserver.
type DeliveryObserverFunc func(DeliveryEvent)

func (f DeliveryObserverFunc) ObserveDelivery(e DeliveryEvent) { f(e) }

// job is one subscription's delivery for one local date, held by one queue.
type job struct {
	sub     briefings.Subscription // as claimed: NextDue is the due instant
	chat    briefings.ChatRef      // where it goes now (follows moves)
	msgs    []OutMessage
	next    int // index of the next message to send
	tries   int // transient failures of msgs[next]
	moves   int
	started bool

	readyAt time.Time
	seq     uint64
}

// queue is one platform's delivery queue: jobs ordered by when they are
// ready, a bounded number of workers, and the platform-wide pause.
type queue struct {
	p       Platform
	opts    *SchedulerOptions // the scheduler's, with its defaults; read only
	log     *slog.Logger
	stories *briefings.DailyStories

	mu          sync.Mutex
	jobs        jobHeap
	held        int // jobs claimed and not yet finished, queued or running
	seq         uint64
	pausedUntil time.Time
	wake        chan struct{}
}

func newQueue(p Platform, opts *SchedulerOptions, stories *briefings.DailyStories) *queue {
	return &queue{p: p, opts: opts, log: opts.Logger, stories: stories, wake: make(chan struct{}, 1)}
}

func (q *queue) now() time.Time { return q.opts.Now() }

func (q *queue) heldCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.held
}

// claim takes what is due of the platform's subscriptions, up to the
// queue's free capacity, and queues it.
func (q *queue) claim(ctx context.Context, now time.Time) (int, error) {
	free := q.opts.MaxClaimed - q.heldCount()
	if free <= 0 {
		return 0, nil
	}
	subs, err := q.opts.Store.ClaimDue(ctx, briefings.ClaimRequest{
		Owner: q.opts.Owner, Platform: q.p.Name(), Now: now, LeaseUntil: now.Add(q.opts.Lease), Limit: free,
	})
	if err != nil {
		return 0, fmt.Errorf("delivery: claim %s: %w", q.p.Name(), err)
	}
	for _, sub := range subs {
		q.add(&job{sub: sub, chat: sub.Chat, readyAt: now})
	}
	if len(subs) > 0 {
		q.opts.Observer.ObserveDelivery(DeliveryEvent{Platform: q.p.Name(), Outcome: OutcomeClaimed, Count: len(subs)})
	}
	return len(subs), nil
}

// add queues a newly claimed job.
func (q *queue) add(j *job) {
	q.mu.Lock()
	q.held++
	q.mu.Unlock()
	q.push(j)
}

// push puts a held job (back) on the queue.
func (q *queue) push(j *job) {
	q.mu.Lock()
	q.seq++
	j.seq = q.seq
	heap.Push(&q.jobs, j)
	q.mu.Unlock()
	q.notify()
}

func (q *queue) notify() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// done forgets a job: finished, deferred, lost or abandoned.
func (q *queue) done() {
	q.mu.Lock()
	q.held--
	q.mu.Unlock()
}

// pauseAll holds every job of the platform until until.
func (q *queue) pauseAll(until time.Time) {
	q.mu.Lock()
	if until.After(q.pausedUntil) {
		q.pausedUntil = until
	}
	q.mu.Unlock()
}

// take waits for the next ready job; nil when ctx ends.
func (q *queue) take(ctx context.Context) *job {
	for {
		now := q.now()
		q.mu.Lock()
		wait := time.Duration(-1) // no job: wait for one
		switch {
		case q.pausedUntil.After(now):
			wait = q.pausedUntil.Sub(now)
		case len(q.jobs) > 0 && !q.jobs[0].readyAt.After(now):
			j := heap.Pop(&q.jobs).(*job)
			more := len(q.jobs) > 0
			q.mu.Unlock()
			if more {
				q.notify() // another worker may take the next one
			}
			return j
		case len(q.jobs) > 0:
			wait = q.jobs[0].readyAt.Sub(now)
		}
		q.mu.Unlock()
		var timer *time.Timer
		var fired <-chan time.Time
		if wait >= 0 {
			timer = time.NewTimer(wait)
			fired = timer.C
		}
		select {
		case <-ctx.Done():
		case <-q.wake:
		case <-fired:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// work is one worker: it runs ready jobs until ctx ends.
func (q *queue) work(ctx context.Context) {
	for {
		j := q.take(ctx)
		if j == nil {
			return
		}
		q.run(ctx, j)
	}
}

// run advances one job as far as it goes now: it finishes it, or puts it
// back on the queue to wait, or drops it (ctx ended, claim lost, deferred).
func (q *queue) run(ctx context.Context, j *job) {
	if !j.started && !q.prepare(ctx, j) {
		return // finished, or back on the queue
	}
	for j.next < len(j.msgs) {
		start := q.now()
		err := q.p.Send(ctx, j.chat, j.msgs[j.next])
		if ctx.Err() != nil {
			// Stopping: the ledger says where to resume; Run releases the claim.
			q.done()
			return
		}
		outcome := Classify(err)
		ev := DeliveryEvent{Platform: q.p.Name(), Chat: j.chat, Outcome: outcome, Latency: q.now().Sub(start), Err: err}
		var ra *RetryAfterError
		if errors.As(err, &ra) {
			ev.RetryAfter = ra.After
		}
		q.opts.Observer.ObserveDelivery(ev)

		switch outcome {
		case OutcomeSent:
			j.next++
			j.tries = 0
			if err := q.opts.Store.RecordProgress(ctx, q.opts.Owner, j.sub.ID, j.sub.DueDate(), j.next); err != nil {
				q.drop(ctx, j, "record progress", err)
				return
			}
		case OutcomeRetryAfter:
			q.retryAfter(ctx, j, ra)
			return
		case OutcomeGone:
			var gone *ChatGoneError
			errors.As(err, &gone)
			reason := gone.Reason
			if reason == "" {
				reason = "the chat no longer takes messages"
			}
			if err := q.opts.Chats.Deactivate(ctx, j.chat, reason); err != nil {
				q.log.Error("deactivate chat", "chat", j.chat.String(), "err", err)
			}
			q.finish(ctx, j, briefings.DeliveryGone, reason, OutcomeFailed)
			return
		case OutcomeMoved:
			var moved *ChatMovedError
			errors.As(err, &moved)
			to := briefings.ChatRef{Platform: j.chat.Platform, ID: moved.NewID}
			j.moves++
			if moved.NewID == "" || to == j.chat || j.moves > 3 {
				q.transient(ctx, j, fmt.Errorf("chat moved in a loop: %w", err))
				return
			}
			if err := q.opts.Chats.MoveChat(ctx, j.chat, to); err != nil {
				q.transient(ctx, j, err)
				return
			}
			q.log.Info("delivery follows a moved chat", "from", j.chat.String(), "to", to.String())
			j.chat = to // and the same message is sent again there
		default:
			q.transient(ctx, j, err)
			return
		}
	}
	q.finish(ctx, j, briefings.DeliverySent, "", OutcomeDelivered)
}

// prepare carries out briefings.PlanDaily for the claimed subscription:
// it loads or writes the ledger entry of its due date; ready is false when
// the job was finished or put back on the queue.
func (q *queue) prepare(ctx context.Context, j *job) (ready bool) {
	now := q.now()
	d, err := q.opts.Store.GetDelivery(ctx, j.sub.ID, j.sub.DueDate())
	if err != nil && !errors.Is(err, briefings.ErrNotFound) {
		q.transient(ctx, j, err)
		return false
	}
	plan := briefings.PlanDaily(j.sub, d, err == nil, now)
	switch plan.Step {
	case briefings.DailyFinished:
		q.record(ctx, j, plan.Result, "")
		return false
	case briefings.DailySkip:
		q.record(ctx, j, plan.Result, OutcomeSkipped)
		return false
	case briefings.DailyCompose:
		if d, err = q.compose(ctx, j, now); err != nil {
			q.transient(ctx, j, err)
			return false
		}
	}
	j.started = true
	if d.NothingNew() {
		q.finish(ctx, j, briefings.DeliveryEmpty, "", OutcomeEmpty)
		return false
	}
	msgs, err := q.p.RenderBriefing(d.Briefing)
	if err != nil || len(msgs) == 0 {
		q.log.Error("render briefing", "chat", j.chat.String(), "err", err)
		q.finish(ctx, j, briefings.DeliveryFailed, "the briefing could not be rendered", OutcomeFailed)
		return false
	}
	j.msgs = msgs
	j.next = min(d.MessagesSent, len(msgs))
	return true
}

// compose writes the day's ledger entry with a freshly composed briefing
// (or gets the entry another run wrote first).
func (q *queue) compose(ctx context.Context, j *job, now time.Time) (briefings.Delivery, error) {
	last, err := q.opts.Store.LastDelivery(ctx, j.sub.ID)
	if err != nil && !errors.Is(err, briefings.ErrNotFound) {
		return briefings.Delivery{}, err
	}
	stories, err := q.storiesFor(ctx, j.sub.Chat, now)
	if err != nil {
		return briefings.Delivery{}, err
	}
	d, _, err := q.opts.Store.StartDelivery(ctx, q.opts.Owner, briefings.NewDailyDelivery(j.sub, last, stories, now, q.opts.BriefingSize))
	return d, err
}

// retryAfter handles the platform asking to wait: the chat (or, for a
// global limit, the whole platform) waits without holding a worker.
func (q *queue) retryAfter(ctx context.Context, j *job, ra *RetryAfterError) {
	now := q.now()
	wait := max(ra.After, 0)
	until := now.Add(wait)
	if wait >= q.opts.LongRetryAfter {
		q.log.Warn("platform asked to wait long before sending more", "platform", string(q.p.Name()),
			"chat", j.chat.String(), "retry_after", wait, "whole_bot", ra.Global, "resume_at", until)
	}
	if ra.Global {
		q.pauseAll(until)
		q.opts.Observer.ObserveDelivery(DeliveryEvent{Platform: q.p.Name(), Chat: j.chat, Outcome: OutcomePaused, RetryAfter: wait})
	}
	if wait > q.opts.DeferAfter && !ra.Global {
		if err := q.opts.Store.DeferClaim(ctx, q.opts.Owner, j.sub.ID, until); err != nil {
			q.drop(ctx, j, "defer claim", err)
			return
		}
		q.opts.Observer.ObserveDelivery(DeliveryEvent{Platform: q.p.Name(), Chat: j.chat, Outcome: OutcomeDeferred, RetryAfter: wait})
		q.done()
		return
	}
	j.readyAt = until
	q.push(j)
}

// transient retries the job after an exponential back-off, and gives up the
// day after MaxAttempts failures of one message.
func (q *queue) transient(ctx context.Context, j *job, err error) {
	if ctx.Err() != nil {
		q.done() // stopping: not the chat's failure
		return
	}
	j.tries++
	q.log.Warn("delivery failed, will retry", "chat", j.chat.String(), "attempt", j.tries, "err", err)
	if j.tries >= q.opts.MaxAttempts {
		q.finish(ctx, j, briefings.DeliveryFailed, fmt.Sprintf("today's briefing could not be sent after %d attempts", j.tries), OutcomeFailed)
		return
	}
	j.readyAt = q.now().Add(q.opts.RetryBackoff << (j.tries - 1))
	q.push(j)
}

// finish records the outcome of a started job and moves the subscription to
// its next day.
func (q *queue) finish(ctx context.Context, j *job, state briefings.DeliveryState, reason, outcome string) {
	q.record(ctx, j, briefings.DailyResult(j.sub, state, reason, q.now()), outcome)
}

// record writes a delivery's result and forgets the job.
func (q *queue) record(ctx context.Context, j *job, r briefings.DeliveryResult, outcome string) {
	if err := q.opts.Store.FinishDelivery(ctx, q.opts.Owner, r); err != nil {
		q.drop(ctx, j, "finish delivery", err)
		return
	}
	q.done()
	if outcome != "" {
		q.opts.Observer.ObserveDelivery(DeliveryEvent{Platform: q.p.Name(), Chat: j.chat, Outcome: outcome})
	}
	if r.State == briefings.DeliveryFailed {
		q.log.Error("gave up today's briefing", "chat", j.chat.String(), "reason", r.Error)
	}
}

// drop forgets a job the store would not take a write for. When the claim
// went to another instance, that instance resumes it from the ledger. When
// the store failed, the claim is deferred by the back-off so that the
// subscription is claimed and resumed afresh (a claim merely left held would
// be renewed with this instance's others and never picked up again).
func (q *queue) drop(ctx context.Context, j *job, what string, err error) {
	defer q.done()
	if ctx.Err() != nil {
		return // stopping: Run releases the claim; the ledger says where to resume
	}
	if errors.Is(err, briefings.ErrClaimLost) {
		q.log.Warn("delivery claim lost; another instance resumes it", "chat", j.chat.String(), "op", what)
		return
	}
	q.log.Error("delivery store write failed; retrying later", "chat", j.chat.String(), "op", what, "err", err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := q.opts.Store.DeferClaim(ctx, q.opts.Owner, j.sub.ID, q.now().Add(q.opts.RetryBackoff)); err != nil && !errors.Is(err, briefings.ErrClaimLost) {
		q.log.Error("delivery store write failed again", "chat", j.chat.String(), "op", "defer claim", "err", err)
	}
}

// jobHeap orders jobs by readiness, then by the order they were queued.
type jobHeap []*job

func (h jobHeap) Len() int { return len(h) }
func (h jobHeap) Less(i, k int) bool {
	if !h[i].readyAt.Equal(h[k].readyAt) {
		return h[i].readyAt.Before(h[k].readyAt)
	}
	return h[i].seq < h[k].seq
}
func (h jobHeap) Swap(i, k int) { h[i], h[k] = h[k], h[i] }
func (h *jobHeap) Push(x any)   { *h = append(*h, x.(*job)) }
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return j
}
