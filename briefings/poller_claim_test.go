package briefings

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// claimingSources is memSources with claims, as a shared store has them.
type claimingSources struct {
	memSources
	claims map[string]time.Time // url → lease end
}

func (c *claimingSources) ClaimDueSources(_ context.Context, owner string, now, leaseUntil time.Time, limit int) ([]Source, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Source
	for _, s := range c.srcs {
		if len(out) == limit {
			break
		}
		if !s.NextFetchAt.After(now) && !c.claims[s.URL].After(now) {
			c.claims[s.URL] = leaseUntil
			out = append(out, s)
		}
	}
	return out, nil
}

// Three instances polling one shared store for an hour fetch each feed once
// per interval between them, not three times.
func TestPollersSharingAStoreFetchEachFeedOncePerInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := &claimingSources{claims: map[string]time.Time{}}
		fn := map[string]func(Source) (FetchResult, error){}
		for i := range 30 {
			url := fmt.Sprintf("feed%d", i)
			store.AddSource(ctx, url)
			fn[url] = func(Source) (FetchResult, error) {
				time.Sleep(time.Second) // a fetch takes a while: the others poll meanwhile
				return FetchResult{NotModified: true}, nil
			}
		}
		f := &scriptedFetcher{calls: map[string]int{}, seen: map[string][]Source{}, fn: fn}
		runCtx, cancel := context.WithTimeout(ctx, time.Hour-time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for i := range 3 {
			p := &Poller{Sources: store, Fetcher: f, Ingester: &nopIngester{}, Interval: 10 * time.Minute,
				Owner: fmt.Sprintf("instance-%d", i), Concurrency: 4}
			wg.Go(func() { p.Run(runCtx) })
		}
		wg.Wait()
		for url := range fn {
			// At 0, 10, …, 50 minutes (and a round's own fetch time later).
			if n := f.count(url); n != 6 {
				t.Errorf("%s fetched %d times in an hour at a 10 min interval by 3 instances, want 6", url, n)
			}
		}
	})
}
