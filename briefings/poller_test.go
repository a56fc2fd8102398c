package briefings

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// memSources is a SourceStore in memory, enough for the poller.
type memSources struct {
	mu   sync.Mutex
	srcs []Source
}

func (m *memSources) ListSources(context.Context) ([]Source, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.srcs), nil
}
func (m *memSources) AddSource(_ context.Context, url string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.srcs = append(m.srcs, Source{URL: url})
	return true, nil
}
func (m *memSources) RemoveSource(context.Context, string) error { return nil }
func (m *memSources) SaveSourceState(_ context.Context, src Source) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.srcs {
		if m.srcs[i].URL == src.URL {
			m.srcs[i] = src
			return nil
		}
	}
	return ErrNotFound
}
func (m *memSources) get(url string) Source {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.srcs {
		if s.URL == url {
			return s
		}
	}
	return Source{}
}

// scriptedFetcher answers each feed with what its function says.
type scriptedFetcher struct {
	mu    sync.Mutex
	calls map[string]int
	seen  map[string][]Source
	fn    map[string]func(Source) (FetchResult, error)
}

func (f *scriptedFetcher) Fetch(ctx context.Context, src Source) (FetchResult, error) {
	f.mu.Lock()
	f.calls[src.URL]++
	f.seen[src.URL] = append(f.seen[src.URL], src)
	fn := f.fn[src.URL]
	f.mu.Unlock()
	return fn(src)
}

func (f *scriptedFetcher) count(url string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[url]
}

type nopIngester struct{ items int }

func (n *nopIngester) Ingest(_ context.Context, items []Item) (IngestStats, error) {
	n.items += len(items)
	return IngestStats{Received: len(items), New: len(items)}, nil
}

func TestPollerBacksOffFailingFeedsAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := &memSources{}
		for _, u := range []string{"good", "notmod", "down", "limited"} {
			store.AddSource(ctx, u)
		}
		f := &scriptedFetcher{calls: map[string]int{}, seen: map[string][]Source{}, fn: map[string]func(Source) (FetchResult, error){
			"good": func(Source) (FetchResult, error) {
				return FetchResult{Title: "Good", ETag: `"v1"`, Items: []Item{{Title: "x", Link: "https://g/1"}}}, nil
			},
			"notmod": func(Source) (FetchResult, error) { return FetchResult{NotModified: true}, nil },
			"down": func(Source) (FetchResult, error) {
				return FetchResult{}, &FetchError{URL: "down", StatusCode: 503, Err: errors.New("unavailable")}
			},
			"limited": func(Source) (FetchResult, error) {
				return FetchResult{}, &FetchError{URL: "limited", StatusCode: 429, RetryAfter: 3 * time.Hour, Err: errors.New("slow down")}
			},
		}}
		ing := &nopIngester{}
		p := &Poller{Sources: store, Fetcher: f, Ingester: ing, Interval: 10 * time.Minute}

		stats, err := p.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if stats.OK != 1 || stats.NotModified != 1 || stats.Failed != 2 || ing.items != 1 {
			t.Errorf("first poll: %+v, ingested %d", stats, ing.items)
		}
		if got := store.get("good"); got.ETag != `"v1"` || got.Title != "Good" {
			t.Errorf("validators not kept: %+v", got)
		}

		// Run for 2 hours: healthy feeds every 10 minutes, the failing one
		// backing off 10, 20, 40, 80 minutes, the rate-limited one waiting
		// out its Retry-After.
		runCtx, cancel := context.WithTimeout(ctx, 2*time.Hour+time.Second)
		defer cancel()
		p.Run(runCtx)
		if n := f.count("good"); n < 12 || n > 14 {
			t.Errorf("good feed fetched %d times in 2h at a 10m interval", n)
		}
		if n := f.count("down"); n != 4 { // t=0, 10m, 30m, 70m; next at 150m
			t.Errorf("failing feed fetched %d times in 2h, want 4 (exponential back-off)", n)
		}
		if n := f.count("limited"); n != 1 {
			t.Errorf("rate-limited feed fetched %d times within its 3h Retry-After", n)
		}
		if got := store.get("down"); got.Failures != 4 || got.LastError == "" {
			t.Errorf("failing feed state: %+v", got)
		}
		// The conditional GET carries what the last fetch returned.
		if seen := f.seen["good"]; seen[len(seen)-1].ETag != `"v1"` {
			t.Errorf("second fetch of good feed was not conditional: %+v", seen[len(seen)-1])
		}
	})
}

func TestPollerSlowFeedDoesNotHoldUpOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := &memSources{}
		store.AddSource(ctx, "slow")
		for _, u := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"} {
			store.AddSource(ctx, u)
		}
		var mu sync.Mutex
		var doneAt []time.Duration
		start := time.Now()
		fns := map[string]func(Source) (FetchResult, error){}
		for _, s := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"} {
			fns[s] = func(Source) (FetchResult, error) {
				time.Sleep(time.Second)
				mu.Lock()
				doneAt = append(doneAt, time.Since(start))
				mu.Unlock()
				return FetchResult{NotModified: true}, nil
			}
		}
		fns["slow"] = func(Source) (FetchResult, error) {
			time.Sleep(20 * time.Second) // a feed that hangs until its timeout
			return FetchResult{}, &FetchError{URL: "slow", Err: context.DeadlineExceeded}
		}
		f := &scriptedFetcher{calls: map[string]int{}, seen: map[string][]Source{}, fn: fns}
		p := &Poller{Sources: store, Fetcher: f, Ingester: &nopIngester{}, Interval: 10 * time.Minute, Concurrency: 4}
		p.Poll(ctx)
		for _, d := range doneAt {
			if d > 3*time.Second {
				t.Errorf("a healthy feed finished after %v, held up by the slow one", d)
			}
		}
		if len(doneAt) != 9 {
			t.Errorf("%d healthy feeds fetched, want 9", len(doneAt))
		}
	})
}
