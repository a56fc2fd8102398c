package briefings

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Poller fetches every feed that is due and ingests what it finds. Poll does
// one round; Run calls it every interval. A failing feed backs off on its own,
// exponentially and no sooner than the server's Retry-After, and never holds
// up the others.
type Poller struct {
	Sources  SourceStore
	Fetcher  Fetcher
	Ingester interface {
		Ingest(context.Context, []Item) (IngestStats, error)
	}
	Interval    time.Duration    // between fetches of a healthy feed
	Concurrency int              // feeds fetched at once; 8 when 0
	Now         func() time.Time // time.Now when nil
	Logger      *slog.Logger
	// Observe, when set, hears the result of every fetch (one of
	// FeedFetchResults) and what its ingest did — the hook metrics hang on.
	Observe func(result string, ingested IngestStats)
	// Owner names this instance. When it is set and Sources is a
	// SourceClaimer, Poll fetches only the feeds it claims, so instances
	// sharing a store fetch each feed once per interval between them.
	Owner string
	// ClaimLease is how long a claimed feed is kept from the other
	// instances while this one fetches it (5 min when 0): after it, a feed
	// whose fetcher died is fetched by another.
	ClaimLease time.Duration
	// UnfollowedGrace is how long a feed nobody follows and the operator
	// does not list is kept before it is removed (DefaultUnfollowedGrace
	// when 0), when Sources is a ChatSourceStore.
	UnfollowedGrace time.Duration
}

// The results of one feed fetch, as Poller.Observe hears them.
const (
	FeedOK          = "ok"
	FeedNotModified = "not_modified" // the feed answered 304
	FeedFailed      = "error"
)

// FeedFetchResults is every fetch result, for metrics whose series start at
// zero.
func FeedFetchResults() []string { return []string{FeedOK, FeedNotModified, FeedFailed} }

// defaultClaimLease bounds a batch of claimed fetches: a few rounds of
// fetches with their timeouts.
const defaultClaimLease = 5 * time.Minute

// MaxBackoff caps how long a failing feed waits before it is tried again.
const MaxBackoff = 24 * time.Hour

// PollStats counts what one Poll did.
type PollStats struct {
	Due, OK, NotModified, Failed int
	Ingest                       IngestStats
}

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Poller) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

// Poll fetches the feeds due now, at most Concurrency at a time, and ingests
// their items. It returns an error only when the feed list cannot be read; a
// feed that fails is logged, backed off and counted.
func (p *Poller) Poll(ctx context.Context) (PollStats, error) {
	var stats PollStats
	workers := p.Concurrency
	if workers <= 0 {
		workers = 8
	}
	p.pruneUnfollowed(ctx)
	if claimer, ok := p.Sources.(SourceClaimer); ok && p.Owner != "" {
		// Claim a few batches' worth at a time, so that instances polling
		// at once share the due feeds rather than one taking them all.
		lease := p.ClaimLease
		if lease <= 0 {
			lease = defaultClaimLease
		}
		// A feed whose state could not be saved stays due; it is fetched
		// once per Poll all the same.
		fetched := map[string]bool{}
		for ctx.Err() == nil {
			now := p.now()
			claimed, err := claimer.ClaimDueSources(ctx, p.Owner, now, now.Add(lease), 2*workers)
			if err != nil {
				return stats, fmt.Errorf("poll: %w", err)
			}
			due := claimed[:0]
			for _, src := range claimed {
				if !fetched[src.URL] {
					fetched[src.URL] = true
					due = append(due, src)
				}
			}
			if len(due) == 0 {
				break
			}
			p.fetchAll(ctx, due, workers, &stats)
		}
		return stats, ctx.Err()
	}
	srcs, err := p.pollList(ctx)
	if err != nil {
		return stats, fmt.Errorf("poll: %w", err)
	}
	now := p.now()
	var due []Source
	for _, src := range srcs {
		if !src.NextFetchAt.After(now) {
			due = append(due, src)
		}
	}
	p.fetchAll(ctx, due, workers, &stats)
	return stats, ctx.Err()
}

// fetchAll fetches due, workers at a time, adding to stats.
func (p *Poller) fetchAll(ctx context.Context, due []Source, workers int, stats *PollStats) {
	stats.Due += len(due)
	var mu sync.Mutex
	jobs := make(chan Source)
	var wg sync.WaitGroup
	for range min(workers, len(due)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for src := range jobs {
				result, ingested := p.pollOne(ctx, src)
				mu.Lock()
				switch result {
				case FeedOK:
					stats.OK++
				case FeedNotModified:
					stats.NotModified++
				default:
					stats.Failed++
				}
				stats.Ingest.Received += ingested.Received
				stats.Ingest.New += ingested.New
				stats.Ingest.NewStories += ingested.NewStories
				stats.Ingest.Grown += ingested.Grown
				stats.Ingest.Merged += ingested.Merged
				mu.Unlock()
				if p.Observe != nil {
					p.Observe(result, ingested)
				}
			}
		}()
	}
feed:
	for _, src := range due {
		select {
		case jobs <- src:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
}

func (p *Poller) pollOne(ctx context.Context, src Source) (string, IngestStats) {
	log := p.logger().With("feed", src.URL)
	res, err := p.Fetcher.Fetch(ctx, src)
	now := p.now()
	src.LastFetchedAt = now
	var ingested IngestStats
	result := FeedOK
	if err == nil && !res.NotModified {
		ingested, err = p.Ingester.Ingest(ctx, res.Items)
	}
	switch {
	case err != nil:
		result = FeedFailed
		src.Failures++
		src.LastError = err.Error()
		src.NextFetchAt = now.Add(p.backoff(src.Failures, err))
		log.Warn("feed fetch failed", "err", err, "failures", src.Failures, "next_fetch_at", src.NextFetchAt)
	default:
		if res.NotModified {
			result = FeedNotModified
		}
		src.Failures = 0
		src.LastError = ""
		src.NextFetchAt = now.Add(p.Interval)
		if res.Title != "" {
			src.Title = res.Title
		}
		if res.ETag != "" || res.LastModified != "" || !res.NotModified {
			src.ETag, src.LastModified = res.ETag, res.LastModified
		}
		log.Debug("feed fetched", "result", result, "items", len(res.Items), "new", ingested.New)
	}
	if ctx.Err() != nil {
		return result, ingested // shutting down: leave the state as it was
	}
	if err := p.Sources.SaveSourceState(ctx, src); err != nil && !errors.Is(err, ErrNotFound) {
		log.Error("save feed state", "err", err)
	}
	return result, ingested
}

// backoff is the wait after the n-th consecutive failure: the interval doubled
// per failure, capped at MaxBackoff, and never shorter than Retry-After.
func (p *Poller) backoff(failures int, err error) time.Duration {
	d := p.Interval
	for i := 1; i < failures && d < MaxBackoff; i++ {
		d *= 2
	}
	var fe *FetchError
	if errors.As(err, &fe) && fe.RetryAfter > d {
		d = fe.RetryAfter
	}
	return min(d, MaxBackoff)
}

// Run polls now and then every Interval until ctx ends.
func (p *Poller) Run(ctx context.Context) error {
	interval := p.Interval
	if interval <= 0 {
		return errors.New("poller: interval must be positive")
	}
	for {
		stats, err := p.Poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			p.logger().Error("poll", "err", err)
		} else if stats.Due > 0 {
			p.logger().Info("polled feeds", "due", stats.Due, "ok", stats.OK, "not_modified", stats.NotModified,
				"failed", stats.Failed, "new_items", stats.Ingest.New, "new_stories", stats.Ingest.NewStories)
		}
		// Wake at the next whole interval; feeds that back off longer are
		// skipped by Poll until their NextFetchAt.
		t := time.NewTimer(min(interval, time.Minute))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
