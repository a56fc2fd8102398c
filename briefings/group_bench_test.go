package briefings

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// BenchmarkGroup20k groups 20,000 fresh items in one batch, the worst ingest
// a large feed list brings after downtime, and reports items/s. The items are
// a day's news made up from a fixed seed: stories of one to twelve tellings
// sharing their people, place and particulars, in words drawn from a common
// vocabulary, so most items share words with many others of other stories.
//
//	go test -run - -bench Group20k -benchtime 1x ./briefings
func BenchmarkGroup20k(b *testing.B) {
	items := syntheticDay(20_000)
	b.ReportAllocs()
	var stories int
	for b.Loop() {
		stories = len(groupItems(nil, items, &vectorCache{}))
	}
	b.ReportMetric(float64(len(items)*b.N)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(float64(stories), "stories")
}

func syntheticDay(n int) []Item {
	r := rand.New(rand.NewPCG(11, 20))
	// Words follow Zipf's law, as in any language: a few are everywhere,
	// most are rare.
	zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.1, 2, 29_999)
	vocabulary := func() string { return fmt.Sprintf("w%d", zipf.Uint64()) }
	start := time.Date(2025, 7, 10, 0, 0, 0, 0, time.UTC)
	var items []Item
	for story := 0; len(items) < n; story++ {
		first := fmt.Sprintf("Name%d", r.IntN(5000))
		last := fmt.Sprintf("Sur%d", r.IntN(5000))
		place := fmt.Sprintf("Place%d", r.IntN(800))
		particular := fmt.Sprint(101 + r.IntN(9000))
		topic := []string{vocabulary(), vocabulary(), vocabulary()}
		tellings := 1 + r.IntN(12)
		at := start.Add(time.Duration(r.IntN(24*60)) * time.Minute)
		for k := 0; k < tellings && len(items) < n; k++ {
			title := []string{first, last, topic[0], topic[1]}
			for range 5 {
				title = append(title, vocabulary())
			}
			text := []string{"In", place + ",", first, last, "said", particular, topic[2]}
			for range 60 {
				w := vocabulary()
				if r.IntN(12) == 0 {
					w += "."
				}
				text = append(text, w)
			}
			items = append(items, Item{
				Link:      fmt.Sprintf("https://outlet%d.example/%d/%d", k, story, k),
				Outlet:    fmt.Sprintf("Outlet %d", k),
				Title:     strings.Join(title, " "),
				Text:      strings.Join(text, " "),
				Published: at.Add(time.Duration(k) * 7 * time.Minute),
			})
		}
	}
	return items
}

// BenchmarkGroupIntoBusyDay groups one feed's poll — 5 fresh items — into
// a day of 1,200 stored stories (the most an ingest reads), the cost every
// poll that brings news pays.
//
//	go test -run - -bench GroupIntoBusyDay ./briefings
func BenchmarkGroupIntoBusyDay(b *testing.B) {
	items := syntheticDay(3_605)
	var recent []Story
	for i, g := range groupItems(nil, items[:3_600], &vectorCache{}) {
		recent = append(recent, Story{ID: int64(i + 1), Items: g.added, Updated: g.newest})
	}
	if len(recent) > 1_200 {
		recent = recent[:1_200]
	}
	fresh := items[3_600:]
	cache := &vectorCache{}
	groupItems(recent, fresh, cache) // the stored stories' terms are cached, as between polls
	b.ReportAllocs()
	for b.Loop() {
		groupItems(recent, fresh, cache)
	}
	b.ReportMetric(float64(len(recent)), "stories")
}
