package briefings_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// BenchmarkBrief measures /brief on a cached briefing, the common case, and
// reports its p99 alongside the cost of composing one from the store (the
// baseline, measured in the same run).
//
//	go test -run - -bench Brief -cpu 1 ./briefings
func BenchmarkBrief(b *testing.B) {
	ctx := context.Background()
	store := openStore(b, filepath.Join(b.TempDir(), "bench.db"))
	svc, _ := newService(b, store)
	var items []briefings.Item
	for i := range 300 {
		items = append(items, briefings.Item{
			Link:      fmt.Sprintf("https://bench.example/%d", i),
			Title:     fmt.Sprintf("Story number %d about topic%d", i, i%17),
			Text:      fmt.Sprintf("Event %d happened in place%d on day %d. Officials commented on item %d.", i, i%23, i%5, i),
			Outlet:    "Bench",
			Published: july10.Add(-time.Duration(i) * time.Minute),
		})
	}
	if _, err := svc.Ingest(ctx, items); err != nil {
		b.Fatal(err)
	}
	measure := func(b *testing.B, fresh func() *briefings.Service) {
		lat := make([]time.Duration, 0, b.N)
		b.ReportAllocs()
		for b.Loop() {
			s := fresh()
			start := time.Now()
			if _, err := s.Brief(ctx, briefings.Topics{}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		p99 := lat[len(lat)*99/100]
		b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
	}
	b.Run("cached", func(b *testing.B) { measure(b, func() *briefings.Service { return svc }) })
	b.Run("composed", func(b *testing.B) {
		measure(b, func() *briefings.Service { s, _ := newService(b, store); return s })
	})
}
