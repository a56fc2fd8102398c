package briefings

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// IngestStats says what one Ingest did.
type IngestStats struct {
	Received   int // items offered
	New        int // items never seen before
	NewStories int // stories created
	Grown      int // existing stories that gained an outlet's telling
	Merged     int // stored stories folded into another: a later telling showed one event
}

// Ingest adds the items newsbot has not seen before: each joins the story it
// tells, or starts a new one, and every story it touches is summarized again.
// An item seen once — by its normalized link or by its title and lead — is
// never new again.
func (s *Service) Ingest(ctx context.Context, items []Item) (IngestStats, error) {
	stats := IngestStats{Received: len(items)}
	now := s.now()
	clean := make([]Item, 0, len(items))
	// Items the feed gave no date carry their ingest time until their page
	// tells theirs.
	undated := map[string]bool{}
	for _, it := range items {
		noDate := it.Published.IsZero()
		it = cleanItem(it, now)
		if it.Title == "" && it.Text == "" {
			continue
		}
		if noDate {
			undated[it.LinkKey()] = true
		}
		clean = append(clean, it)
	}
	if len(clean) == 0 {
		return stats, nil
	}

	s.ingestMu.Lock()
	defer s.ingestMu.Unlock()
	fresh, err := s.store.UnseenItems(ctx, clean)
	if err != nil {
		return stats, fmt.Errorf("ingest: %w", err)
	}
	stats.New = len(fresh)
	s.recordRetold(ctx, clean, fresh)
	if len(fresh) == 0 {
		return stats, nil
	}
	earliest := now
	for _, it := range fresh {
		if !it.Published.IsZero() && it.Published.Before(earliest) {
			earliest = it.Published
		}
	}
	recent, err := s.store.RecentStories(ctx, earliest.Add(-groupWindow), briefCandidates*4)
	if err != nil {
		return stats, fmt.Errorf("ingest: %w", err)
	}
	dateUndated(fresh, recent, now)
	slices.SortStableFunc(fresh, func(a, b Item) int { return a.Published.Compare(b.Published) })

	groups := groupItems(recent, fresh, &s.vectors)
	var touched []Item
	tellings := make([][]Item, len(groups)) // each group's, stored and fresh
	for i, g := range groups {
		tellings[i] = append(g.items(), g.added...)
		touched = append(touched, tellings[i]...)
	}
	// A story is told by its most complete telling: the article page an
	// item links to, where one was read, counts as that item's text.
	pages, err := s.cachedPagesOf(ctx, touched)
	if err != nil {
		return stats, fmt.Errorf("ingest: %w", err)
	}
	changes := make([]StoryChange, len(groups))
	var summaries sync.WaitGroup
	slots := make(chan struct{}, summarizeConcurrency)
	for i, g := range groups {
		all := tellings[i]
		change := StoryChange{StoryID: g.story.ID, FirstSeen: now, NewItems: g.added, Summary: g.story.Summary}
		for _, st := range g.absorbed {
			change.Absorbs = append(change.Absorbs, st.ID)
		}
		lead := leadItem(tell(all, pages))
		change.Headline = headlineOf(lead)
		for _, it := range all {
			if it.Published.After(change.Updated) {
				change.Updated = it.Published
			}
		}
		changes[i] = change
		if g.story.ID == 0 || len(g.absorbed) > 0 || lead.LinkKey() != leadItem(tell(g.story.Items, pages)).LinkKey() || len(change.Summary) == 0 {
			// Summaries are the slow part when a model writes them: several
			// at once, each into its own slot of changes.
			slots <- struct{}{}
			summaries.Go(func() {
				defer func() { <-slots }()
				changes[i].Summary = s.summarize(ctx, lead)
			})
		}
		if g.story.ID == 0 {
			stats.NewStories++
		} else {
			stats.Grown++
		}
		stats.Merged += len(g.absorbed)
	}
	summaries.Wait()
	ids, err := s.store.SaveStories(ctx, changes)
	if err != nil {
		return stats, fmt.Errorf("ingest: %w", err)
	}
	// The feed text is briefed at once; pages come later, off the poll.
	s.enqueueArticles(changes, ids, undated)
	return stats, nil
}

func (s *Service) summarize(ctx context.Context, it Item) []string {
	if s.summarizer == nil {
		return nil
	}
	sum, err := s.summarizer.Summarize(ctx, Article{Title: it.Title, Text: it.Text})
	if err != nil {
		// A story without a summary is still news: show the headline and links.
		s.log.Warn("summarize failed", "link", it.Link, "err", err)
		return nil
	}
	return sum
}

// leadItem is the telling a story's headline and summary come from: the one
// with the most text, which usually carries the most particulars; the earliest
// among equals.
func leadItem(items []Item) Item {
	best := items[0]
	for _, it := range items[1:] {
		if utf8.RuneCountInString(it.Text) > utf8.RuneCountInString(best.Text) {
			best = it
		}
	}
	return best
}

// summarizeConcurrency bounds the summaries one ingest asks for at once.
const summarizeConcurrency = 4

// Limits on what one item may bring in; feeds are not trusted.
const (
	maxTitleRunes = 500
	maxTextRunes  = 50_000
	maxLinkBytes  = 2048
)

// cleanItem makes an item safe to store and show: valid UTF-8, no control
// characters, bounded lengths, a publication time no later than now (an
// undated item stays undated, for dateUndated).
func cleanItem(it Item, now time.Time) Item {
	it.Title = truncateRunes(collapseSpace(cleanText(it.Title)), maxTitleRunes)
	if isDateline(it.Title) {
		it.Title = "" // the page's title, or the text's start, heads it instead
	}
	it.Text = truncateRunes(strings.TrimSpace(cleanText(it.Text)), maxTextRunes)
	it.Outlet = truncateRunes(collapseSpace(cleanText(it.Outlet)), 200)
	it.Link = strings.TrimSpace(cleanText(it.Link))
	if len(it.Link) > maxLinkBytes {
		it.Link = ""
	}
	it.GUID = truncateRunes(cleanText(it.GUID), 1000)
	if it.Published.After(now) {
		it.Published = now
	}
	return it
}

// dateUndated dates the items their feed gave no date by their first
// sighting, now — but no later than the newest dated news newsbot knows (the
// fresh items' and the recent stories'), so that lacking a date never makes
// an item look newer than the news that has one.
func dateUndated(fresh []Item, recent []Story, now time.Time) {
	var newest time.Time
	for _, it := range fresh {
		if it.Published.After(newest) {
			newest = it.Published
		}
	}
	for _, st := range recent {
		if st.Updated.After(newest) {
			newest = st.Updated
		}
	}
	stamp := now
	if !newest.IsZero() && newest.Before(now) {
		stamp = newest
	}
	for i := range fresh {
		if fresh[i].Published.IsZero() {
			fresh[i].Published = stamp
		}
	}
}

func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), r == '\u2028', r == '\u2029', r == '\u202e', r == '\u202d':
			return -1
		}
		return r
	}, s)
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }
