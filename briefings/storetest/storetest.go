// Package storetest is the contract every briefings.Store passes: one test
// per promise of the interface's documentation, run against each driver by
// that driver's own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) briefings.Store { return openEmptyStore(t) })
//	}
//
// What the suite assumes of every store, beyond the interface's comments:
//
//   - Times come back as the same instant to the microsecond, in any
//     location (PostgreSQL keeps microseconds; SQLite stores them too). The
//     suite writes times with whole microseconds in a zone that is not UTC
//     and compares instants: cmp uses time.Time.Equal. The zero time.Time
//     comes back as the zero time.Time.
//   - An empty and a nil slice are the same (cmpopts.EquateEmpty).
//   - An item is known by each key it has: an item without a link is known by
//     its content alone, and an item whose title and text hold no word at all
//     by its link alone. One with neither is never unseen and never stored.
//   - Updating a story that does not exist fails with briefings.ErrNotFound,
//     and then nothing of that SaveStories call is applied.
//   - A summary of no sentences is a cache hit.
//   - A cached page comes back as it was saved, failures included.
//   - A call with a canceled context fails with context.Canceled.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/newsbot/newsbot/briefings"
)

// Run runs the contract against stores made by open, which returns a new,
// empty store for each subtest and arranges its cleanup with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) briefings.Store) {
	t.Run("Sources", func(t *testing.T) { testSources(t, open) })
	t.Run("UnseenItems", func(t *testing.T) { testUnseenItems(t, open) })
	t.Run("SaveStories", func(t *testing.T) { testSaveStories(t, open) })
	t.Run("RecentStories", func(t *testing.T) { testRecentStories(t, open) })
	t.Run("Subscriptions", func(t *testing.T) { testSubscriptions(t, open) })
	t.Run("SummaryCache", func(t *testing.T) { testSummaryCache(t, open) })
	t.Run("Pages", func(t *testing.T) { testPages(t, open) })
	t.Run("Story", func(t *testing.T) { testStoryByID(t, open) })
	t.Run("CanceledContext", func(t *testing.T) { testCanceledContext(t, open) })
	t.Run("ChatSources", func(t *testing.T) { testChatSources(t, open) })
	t.Run("Retold", func(t *testing.T) { testRetold(t, open) })
}

// equate is how results are compared: see the package comment.
var equate = cmpopts.EquateEmpty()

// base is a time with microseconds, in a zone that is not UTC.
var base = time.Date(2025, time.March, 14, 9, 26, 53, 589793000, time.FixedZone("UTC+2", 2*60*60))

// at is base plus n hours.
func at(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }

// item returns a distinct item: its link, GUID, title and text all differ
// from every other n's.
func item(n int) briefings.Item {
	return briefings.Item{
		FeedURL:   "https://feeds.example.org/world.xml",
		GUID:      fmt.Sprintf("urn:example:%d", n),
		Link:      fmt.Sprintf("https://news.example.org/world/story-%d?id=%d", n, n),
		Title:     fmt.Sprintf("Headline number %d", n),
		Text:      fmt.Sprintf("Lead paragraph of story %d. It says what happened.", n),
		Outlet:    "Example News",
		Published: at(n),
	}
}

func items(ns ...int) []briefings.Item {
	out := make([]briefings.Item, len(ns))
	for i, n := range ns {
		out[i] = item(n)
	}
	return out
}

// newStory is a change creating a story of the given items.
func newStory(headline string, its ...briefings.Item) briefings.StoryChange {
	updated := time.Time{}
	for _, it := range its {
		if it.Published.After(updated) {
			updated = it.Published
		}
	}
	return briefings.StoryChange{
		Headline:  headline,
		Summary:   []string{headline + ", said a spokesperson.", "More was to follow."},
		FirstSeen: at(-100),
		Updated:   updated,
		NewItems:  its,
	}
}

// wantStory is the story a store should hold after creating ch under id.
func wantStory(id int64, ch briefings.StoryChange) briefings.Story {
	return briefings.Story{
		ID: id, Headline: ch.Headline, Summary: ch.Summary,
		Items: ch.NewItems, FirstSeen: ch.FirstSeen, Updated: ch.Updated,
	}
}

func save(t *testing.T, s briefings.Store, changes ...briefings.StoryChange) []int64 {
	t.Helper()
	ids, err := s.SaveStories(t.Context(), changes)
	if err != nil {
		t.Fatalf("SaveStories: %v", err)
	}
	if len(ids) != len(changes) {
		t.Fatalf("SaveStories returned %d ids for %d changes", len(ids), len(changes))
	}
	return ids
}

func recent(t *testing.T, s briefings.Store, since time.Time, limit int) []briefings.Story {
	t.Helper()
	stories, err := s.RecentStories(t.Context(), since, limit)
	if err != nil {
		t.Fatalf("RecentStories(%v, %d): %v", since, limit, err)
	}
	return stories
}

func unseen(t *testing.T, s briefings.Store, its []briefings.Item) []briefings.Item {
	t.Helper()
	got, err := s.UnseenItems(t.Context(), its)
	if err != nil {
		t.Fatalf("UnseenItems: %v", err)
	}
	return got
}

func version(t *testing.T, s briefings.Store) int64 {
	t.Helper()
	v, err := s.StoriesVersion(t.Context())
	if err != nil {
		t.Fatalf("StoriesVersion: %v", err)
	}
	return v
}

func addSources(t *testing.T, s briefings.Store, urls ...string) {
	t.Helper()
	for _, u := range urls {
		if added, err := s.AddSource(t.Context(), u); err != nil || !added {
			t.Fatalf("AddSource(%q) = %v, %v; want true, nil", u, added, err)
		}
	}
}

func listSources(t *testing.T, s briefings.Store) []briefings.Source {
	t.Helper()
	srcs, err := s.ListSources(t.Context())
	if err != nil {
		t.Fatalf("ListSources: %v", err)
	}
	return srcs
}

func sourcesAt(urls ...string) []briefings.Source {
	out := make([]briefings.Source, len(urls))
	for i, u := range urls {
		out[i] = briefings.Source{URL: u}
	}
	return out
}

const (
	feedA = "https://a.example.org/feed.xml"
	feedB = "https://b.example.org/rss"
	feedC = "https://c.example.org/atom.xml"
)

func testSources(t *testing.T, open func(t *testing.T) briefings.Store) {
	t.Run("empty store lists none", func(t *testing.T) {
		if got := listSources(t, open(t)); len(got) != 0 {
			t.Errorf("ListSources = %v, want none", got)
		}
	})

	t.Run("a feed is added once", func(t *testing.T) {
		s := open(t)
		addSources(t, s, feedA)
		added, err := s.AddSource(t.Context(), feedA)
		if err != nil || added {
			t.Errorf("AddSource of a listed feed = %v, %v; want false, nil", added, err)
		}
		if diff := cmp.Diff(sourcesAt(feedA), listSources(t, s), equate); diff != "" {
			t.Errorf("ListSources (-want +got):\n%s", diff)
		}
	})

	t.Run("listed in the order added", func(t *testing.T) {
		s := open(t)
		addSources(t, s, feedC, feedA, feedB)
		if diff := cmp.Diff(sourcesAt(feedC, feedA, feedB), listSources(t, s), equate); diff != "" {
			t.Errorf("ListSources (-want +got):\n%s", diff)
		}
	})

	t.Run("remove", func(t *testing.T) {
		s := open(t)
		addSources(t, s, feedA, feedB, feedC)
		if err := s.RemoveSource(t.Context(), feedB); err != nil {
			t.Fatalf("RemoveSource: %v", err)
		}
		if diff := cmp.Diff(sourcesAt(feedA, feedC), listSources(t, s), equate); diff != "" {
			t.Errorf("ListSources after removing %s (-want +got):\n%s", feedB, diff)
		}
		for _, url := range []string{feedB, "https://never.example.org/feed"} {
			if err := s.RemoveSource(t.Context(), url); !errors.Is(err, briefings.ErrNotFound) {
				t.Errorf("RemoveSource(%q) of an unlisted feed = %v, want ErrNotFound", url, err)
			}
		}
	})

	t.Run("a feed added again starts afresh, last", func(t *testing.T) {
		s := open(t)
		addSources(t, s, feedA, feedB)
		state := briefings.Source{URL: feedA, Title: "A", ETag: `"x"`, Failures: 2, LastFetchedAt: at(0)}
		if err := s.SaveSourceState(t.Context(), state); err != nil {
			t.Fatalf("SaveSourceState: %v", err)
		}
		if err := s.RemoveSource(t.Context(), feedA); err != nil {
			t.Fatalf("RemoveSource: %v", err)
		}
		addSources(t, s, feedA)
		if diff := cmp.Diff(sourcesAt(feedB, feedA), listSources(t, s), equate); diff != "" {
			t.Errorf("ListSources (-want +got):\n%s", diff)
		}
	})

	t.Run("fetch state round trip", func(t *testing.T) {
		s := open(t)
		addSources(t, s, feedA, feedB)
		full := briefings.Source{
			URL: feedA, Title: "Ä News — World", ETag: `W/"5e-1a"`, LastModified: "Fri, 14 Mar 2025 07:26:53 GMT",
			LastFetchedAt: at(0), LastError: "fetch: HTTP 503: unavailable", Failures: 3, NextFetchAt: at(2),
		}
		if err := s.SaveSourceState(t.Context(), full); err != nil {
			t.Fatalf("SaveSourceState: %v", err)
		}
		want := []briefings.Source{full, {URL: feedB}}
		if diff := cmp.Diff(want, listSources(t, s), equate); diff != "" {
			t.Errorf("ListSources after saving a state (-want +got):\n%s", diff)
		}

		// Every field is overwritten, emptied ones and zero times included.
		cleared := briefings.Source{URL: feedA, Title: "A News"}
		if err := s.SaveSourceState(t.Context(), cleared); err != nil {
			t.Fatalf("SaveSourceState: %v", err)
		}
		want = []briefings.Source{cleared, {URL: feedB}}
		if diff := cmp.Diff(want, listSources(t, s), equate); diff != "" {
			t.Errorf("ListSources after clearing a state (-want +got):\n%s", diff)
		}
	})

	t.Run("state of an unlisted feed", func(t *testing.T) {
		s := open(t)
		err := s.SaveSourceState(t.Context(), briefings.Source{URL: feedA, Title: "A"})
		if !errors.Is(err, briefings.ErrNotFound) {
			t.Errorf("SaveSourceState of an unlisted feed = %v, want ErrNotFound", err)
		}
		if got := listSources(t, s); len(got) != 0 {
			t.Errorf("ListSources = %v, want none: saving a state must not add the feed", got)
		}
	})
}

func testUnseenItems(t *testing.T, open func(t *testing.T) briefings.Store) {
	t.Run("everything is new to an empty store, and asking stores nothing", func(t *testing.T) {
		s := open(t)
		batch := items(3, 1, 2)
		for range 2 {
			if diff := cmp.Diff(batch, unseen(t, s, batch), equate); diff != "" {
				t.Errorf("UnseenItems (-want +got):\n%s", diff)
			}
		}
		if got := unseen(t, s, nil); len(got) != 0 {
			t.Errorf("UnseenItems(nil) = %v, want none", got)
		}
	})

	t.Run("stored items are not new, the rest keep their order", func(t *testing.T) {
		s := open(t)
		save(t, s, newStory("One", item(1), item(2)))
		got := unseen(t, s, items(5, 1, 4, 2, 3))
		if diff := cmp.Diff(items(5, 4, 3), got, equate); diff != "" {
			t.Errorf("UnseenItems (-want +got):\n%s", diff)
		}
		// An item is never new again: not in a later batch, not in a later story.
		save(t, s, newStory("Three", item(3)))
		if diff := cmp.Diff(items(4, 5), unseen(t, s, items(1, 2, 3, 4, 5)), equate); diff != "" {
			t.Errorf("UnseenItems after a second save (-want +got):\n%s", diff)
		}
	})

	// The same article under another form of its address, with a new GUID,
	// title and text (so only the link can tell): LinkKey says it is seen.
	stored := briefings.Item{
		FeedURL: feedA, GUID: "a-1", Link: "https://www.example.com/world/talks?id=7&lang=en",
		Title: "Talks in Kuala Lumpur", Text: "The ministers met for an hour.", Outlet: "A", Published: at(0),
	}
	relinked := func(n int, link string) briefings.Item {
		return briefings.Item{
			FeedURL: feedB, GUID: fmt.Sprintf("b-%d", n), Link: link,
			Title: fmt.Sprintf("Rewritten headline %d", n), Text: fmt.Sprintf("Rewritten lead %d.", n), Outlet: "B", Published: at(1),
		}
	}
	linkCases := []struct {
		name string
		link string
		seen bool
	}{
		{"identical", "https://www.example.com/world/talks?id=7&lang=en", true},
		{"tracking parameters", "https://www.example.com/world/talks?utm_source=rss&id=7&fbclid=x1&lang=en", true},
		{"fragment", "https://www.example.com/world/talks?id=7&lang=en#comments", true},
		{"http, no www, trailing slash, parameters reordered", "http://EXAMPLE.com/world/talks/?lang=en&id=7", true},
		{"another article", "https://www.example.com/world/talks?id=8&lang=en", false},
		{"another path", "https://www.example.com/sport/talks?id=7&lang=en", false},
		{"another site", "https://example.net/world/talks?id=7&lang=en", false},
	}
	t.Run("known by link", func(t *testing.T) {
		s := open(t)
		save(t, s, newStory("Talks", stored))
		for i, tc := range linkCases {
			t.Run(tc.name, func(t *testing.T) {
				it := relinked(i, tc.link)
				var want []briefings.Item
				if !tc.seen {
					want = []briefings.Item{it}
				}
				if diff := cmp.Diff(want, unseen(t, s, []briefings.Item{it}), equate); diff != "" {
					t.Errorf("UnseenItems of %s after storing %s (-want +got):\n%s", tc.link, stored.Link, diff)
				}
			})
		}
	})

	// The same title and lead under a new link and GUID: ContentKey says it
	// is seen; case, punctuation and spacing do not count.
	contentCases := []struct {
		name        string
		title, text string
		seen        bool
	}{
		{"identical", stored.Title, stored.Text, true},
		{"case, punctuation, spacing", "TALKS in  Kuala-Lumpur!", "The ministers met — for an hour", true},
		{"another lead", stored.Title, "The ministers did not meet.", false},
		{"another title", "Talks in Kuala Lumpur end", stored.Text, false},
	}
	t.Run("known by content", func(t *testing.T) {
		s := open(t)
		save(t, s, newStory("Talks", stored))
		for i, tc := range contentCases {
			t.Run(tc.name, func(t *testing.T) {
				it := briefings.Item{
					FeedURL: feedB, GUID: fmt.Sprintf("b-%d", i), Link: fmt.Sprintf("https://mirror.example.net/%d", i),
					Title: tc.title, Text: tc.text, Outlet: "B", Published: at(1),
				}
				var want []briefings.Item
				if !tc.seen {
					want = []briefings.Item{it}
				}
				if diff := cmp.Diff(want, unseen(t, s, []briefings.Item{it}), equate); diff != "" {
					t.Errorf("UnseenItems of %q / %q after storing %q / %q (-want +got):\n%s", tc.title, tc.text, stored.Title, stored.Text, diff)
				}
			})
		}
	})

	t.Run("duplicates within one batch: the first is kept", func(t *testing.T) {
		s := open(t)
		first, sameLink, sameContent, other := item(1), item(2), item(3), item(4)
		sameLink.Link = "http://news.example.org/world/story-1/?id=1&utm_medium=feed#top"
		sameContent.Title, sameContent.Text = first.Title, first.Text
		got := unseen(t, s, []briefings.Item{first, sameLink, other, sameContent})
		if diff := cmp.Diff([]briefings.Item{first, other}, got, equate); diff != "" {
			t.Errorf("UnseenItems (-want +got):\n%s", diff)
		}
	})

	t.Run("an item without a link is known by its content", func(t *testing.T) {
		s := open(t)
		a, b := item(1), item(2)
		a.Link, b.Link = "", ""
		save(t, s, newStory("No links", a, b))
		aAgain, c := a, item(3)
		aAgain.GUID = "another-guid"
		c.Link = ""
		if diff := cmp.Diff([]briefings.Item{c}, unseen(t, s, []briefings.Item{aAgain, c}), equate); diff != "" {
			t.Errorf("UnseenItems (-want +got):\n%s", diff)
		}
	})

	t.Run("an item without words is known by its link", func(t *testing.T) {
		s := open(t)
		a, b, c := item(1), item(2), item(3)
		for _, it := range []*briefings.Item{&a, &b, &c} {
			it.Title, it.Text = "", "…"
		}
		save(t, s, newStory("No words", a))
		if diff := cmp.Diff([]briefings.Item{b, c}, unseen(t, s, []briefings.Item{a, b, c}), equate); diff != "" {
			t.Errorf("UnseenItems (-want +got):\n%s", diff)
		}
	})

	t.Run("an item with neither link nor words is never new", func(t *testing.T) {
		s := open(t)
		nothing := briefings.Item{FeedURL: feedA, GUID: "g", Title: " ", Published: at(0)}
		if got := unseen(t, s, []briefings.Item{nothing}); len(got) != 0 {
			t.Errorf("UnseenItems = %v, want none", got)
		}
	})

	t.Run("a large batch", func(t *testing.T) {
		s := open(t)
		var batch, stored, want []briefings.Item
		for n := range 600 {
			batch = append(batch, item(n))
			if n%2 == 0 {
				stored = append(stored, item(n))
			} else {
				want = append(want, item(n))
			}
		}
		save(t, s, newStory("Many", stored...))
		if diff := cmp.Diff(want, unseen(t, s, batch), equate); diff != "" {
			t.Errorf("UnseenItems (-want +got):\n%s", diff)
		}
	})
}

func testSaveStories(t *testing.T, open func(t *testing.T) briefings.Store) {
	t.Run("creates stories, returning their ids in order", func(t *testing.T) {
		s := open(t)
		a := newStory("Talks in Kuala Lumpur", item(1), item(2))
		b := newStory("Drone attack", item(3))
		b.Summary = []string{"Сотни дронов.", "Rekord: 728 Drohnen."}
		ids := save(t, s, a, b)
		if ids[0] == 0 || ids[1] == 0 || ids[0] == ids[1] {
			t.Fatalf("SaveStories ids = %v, want two distinct non-zero ids", ids)
		}
		want := []briefings.Story{wantStory(ids[1], b), wantStory(ids[0], a)}
		if diff := cmp.Diff(want, recent(t, s, time.Time{}, 10), equate); diff != "" {
			t.Errorf("RecentStories (-want +got):\n%s", diff)
		}
	})

	t.Run("an update replaces headline, summary and Updated, keeps FirstSeen, adds items", func(t *testing.T) {
		s := open(t)
		created := newStory("Talks", item(5))
		other := newStory("Other", item(20))
		ids := save(t, s, created, other)
		update := briefings.StoryChange{
			StoryID: ids[0], Headline: "Talks end", Summary: []string{"They ended."},
			FirstSeen: at(50), // ignored: the story was first seen when created
			Updated:   at(7), NewItems: items(7, 4),
		}
		got := save(t, s, update)
		if got[0] != ids[0] {
			t.Errorf("SaveStories of an update returned id %d, want the story's id %d", got[0], ids[0])
		}
		want := []briefings.Story{
			wantStory(ids[1], other),
			{
				ID: ids[0], Headline: "Talks end", Summary: []string{"They ended."},
				FirstSeen: created.FirstSeen, Updated: at(7), Items: items(4, 5, 7),
			},
		}
		if diff := cmp.Diff(want, recent(t, s, time.Time{}, 10), equate); diff != "" {
			t.Errorf("RecentStories (-want +got):\n%s", diff)
		}
	})

	t.Run("an update absorbs stories: their items move to it, they are gone", func(t *testing.T) {
		s := open(t)
		ids := save(t, s, newStory("First telling", item(1)), newStory("Second telling", item(2)),
			newStory("Third telling", item(3)), newStory("Unrelated", item(9)))
		before := version(t, s)
		update := briefings.StoryChange{
			StoryID: ids[0], Headline: "One event", Summary: []string{"It happened."},
			Updated: at(4), NewItems: items(4), Absorbs: []int64{ids[1], ids[2], ids[0]},
		}
		if got := save(t, s, update); got[0] != ids[0] {
			t.Errorf("SaveStories returned id %d, want the surviving story's %d", got[0], ids[0])
		}
		if version(t, s) == before {
			t.Error("StoriesVersion did not move")
		}
		st, err := s.Story(t.Context(), ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(items(1, 2, 3, 4), st.Items, equate); diff != "" {
			t.Errorf("the surviving story's items (-want +got):\n%s", diff)
		}
		for _, gone := range ids[1:3] {
			if _, err := s.Story(t.Context(), gone); !errors.Is(err, briefings.ErrNotFound) {
				t.Errorf("Story(%d) after it was absorbed: %v, want ErrNotFound", gone, err)
			}
		}
		if got := recent(t, s, time.Time{}, 10); len(got) != 2 {
			t.Errorf("RecentStories after absorbing = %d stories, want 2 (the survivor and the unrelated one)", len(got))
		}
		if got := unseen(t, s, items(1, 2, 3)); len(got) != 0 {
			t.Errorf("absorbed items are new again: %v", got)
		}
		// A story another writer absorbed first is passed over.
		again := briefings.StoryChange{StoryID: ids[0], Headline: "One event", Summary: []string{"It happened."}, Updated: at(4), Absorbs: []int64{ids[1]}}
		save(t, s, again)
	})

	t.Run("items come earliest Published first, ties in the order stored", func(t *testing.T) {
		s := open(t)
		first, tie1, tie2, late := item(1), item(2), item(3), item(4)
		first.Published = at(0)
		tie1.Published, tie2.Published = at(5), at(5)
		late.Published = at(9)
		ch := newStory("Order", late, tie1, first, tie2)
		ids := save(t, s, ch)
		tie3 := item(6)
		tie3.Published = at(5)
		save(t, s, briefings.StoryChange{StoryID: ids[0], Headline: ch.Headline, Summary: ch.Summary, Updated: ch.Updated, NewItems: []briefings.Item{tie3}})
		stories := recent(t, s, time.Time{}, 1)
		if len(stories) != 1 {
			t.Fatalf("RecentStories = %d stories, want 1", len(stories))
		}
		want := []briefings.Item{first, tie1, tie2, tie3, late}
		if diff := cmp.Diff(want, stories[0].Items, equate); diff != "" {
			t.Errorf("items (-want +got):\n%s", diff)
		}
	})

	t.Run("stored items are skipped; a story with none new is not created", func(t *testing.T) {
		s := open(t)
		ids := save(t, s, newStory("First", item(1), item(2)))
		before := version(t, s)

		again := item(1)
		again.GUID, again.Link = "rewritten", "http://news.example.org/world/story-1/?id=1&utm_source=x"
		repeat := newStory("Repeat", again, item(2))
		got := save(t, s, repeat)
		if got[0] != 0 {
			t.Errorf("SaveStories of a story of stored items returned id %d, want 0", got[0])
		}
		if v := version(t, s); v != before {
			t.Errorf("StoriesVersion moved from %d to %d though nothing changed", before, v)
		}

		partly := newStory("Partly new", item(2), item(3))
		got = save(t, s, partly)
		if got[0] == 0 {
			t.Fatalf("SaveStories of a story with one new item returned id 0")
		}
		partly.NewItems = items(3)
		want := []briefings.Story{wantStory(got[0], partly), wantStory(ids[0], newStory("First", item(1), item(2)))}
		if diff := cmp.Diff(want, recent(t, s, time.Time{}, 10), equate); diff != "" {
			t.Errorf("RecentStories (-want +got):\n%s", diff)
		}
	})

	t.Run("an item in two changes of one call goes to the first", func(t *testing.T) {
		s := open(t)
		shared := item(1)
		a := newStory("A", shared)
		b := newStory("B", shared)
		ids := save(t, s, a, b)
		if ids[0] == 0 || ids[1] != 0 {
			t.Errorf("SaveStories ids = %v, want [non-zero 0]", ids)
		}
		if diff := cmp.Diff([]briefings.Story{wantStory(ids[0], a)}, recent(t, s, time.Time{}, 10), equate); diff != "" {
			t.Errorf("RecentStories (-want +got):\n%s", diff)
		}
	})

	t.Run("StoriesVersion moves on every change and only then", func(t *testing.T) {
		s := open(t)
		v0 := version(t, s)
		if ids, err := s.SaveStories(t.Context(), nil); err != nil || len(ids) != 0 {
			t.Fatalf("SaveStories(nil) = %v, %v; want none, nil", ids, err)
		}
		if v := version(t, s); v != v0 {
			t.Errorf("StoriesVersion moved from %d to %d on an empty SaveStories", v0, v)
		}
		ch := newStory("A", item(1))
		id := save(t, s, ch)[0]
		v1 := version(t, s)
		if v1 == v0 {
			t.Errorf("StoriesVersion stayed %d after a story was created", v0)
		}
		if v := version(t, s); v != v1 {
			t.Errorf("StoriesVersion moved from %d to %d between two reads", v1, v)
		}

		ch.StoryID, ch.Headline = id, "A, updated"
		ch.NewItems = nil
		save(t, s, ch)
		v2 := version(t, s)
		if v2 == v1 {
			t.Errorf("StoriesVersion stayed %d after a headline changed", v1)
		}

		ch.NewItems = items(2)
		save(t, s, ch)
		if v := version(t, s); v == v2 {
			t.Errorf("StoriesVersion stayed %d after an item was added", v2)
		}
	})

	t.Run("updating a missing story fails and applies nothing", func(t *testing.T) {
		s := open(t)
		existing := save(t, s, newStory("Exists", item(1)))[0]
		v := version(t, s)
		_, err := s.SaveStories(t.Context(), []briefings.StoryChange{
			newStory("New", item(2)),
			{StoryID: existing, Headline: "Exists, changed", Updated: at(3), NewItems: items(3)},
			{StoryID: existing + 1000, Headline: "Missing", Updated: at(4), NewItems: items(4)},
		})
		if !errors.Is(err, briefings.ErrNotFound) {
			t.Errorf("SaveStories updating a missing story = %v, want ErrNotFound", err)
		}
		want := []briefings.Story{wantStory(existing, newStory("Exists", item(1)))}
		if diff := cmp.Diff(want, recent(t, s, time.Time{}, 10), equate); diff != "" {
			t.Errorf("RecentStories after a failed SaveStories (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(items(2, 3, 4), unseen(t, s, items(2, 3, 4)), equate); diff != "" {
			t.Errorf("UnseenItems after a failed SaveStories (-want +got):\n%s", diff)
		}
		if got := version(t, s); got != v {
			t.Errorf("StoriesVersion moved from %d to %d on a failed SaveStories", v, got)
		}
	})

	t.Run("zero times and no summary round-trip", func(t *testing.T) {
		s := open(t)
		it := item(1)
		it.Published = time.Time{}
		ch := briefings.StoryChange{Headline: "Undated", NewItems: []briefings.Item{it}}
		id := save(t, s, ch)[0]
		want := []briefings.Story{{ID: id, Headline: "Undated", Items: []briefings.Item{it}}}
		if diff := cmp.Diff(want, recent(t, s, time.Time{}, 10), equate); diff != "" {
			t.Errorf("RecentStories (-want +got):\n%s", diff)
		}
		for _, st := range recent(t, s, time.Time{}, 10) {
			if !st.FirstSeen.IsZero() || !st.Updated.IsZero() || !st.Items[0].Published.IsZero() {
				t.Errorf("zero times came back as %v, %v, %v", st.FirstSeen, st.Updated, st.Items[0].Published)
			}
		}
	})
}

func testRecentStories(t *testing.T, open func(t *testing.T) briefings.Store) {
	t.Run("empty store", func(t *testing.T) {
		if got := recent(t, open(t), time.Time{}, 10); len(got) != 0 {
			t.Errorf("RecentStories = %v, want none", got)
		}
	})

	// Five stories updated at hours 0…4, saved out of order.
	setup := func(t *testing.T) (briefings.Store, map[int]briefings.Story) {
		s := open(t)
		byHour := make(map[int]briefings.Story)
		for _, h := range []int{2, 0, 4, 1, 3} {
			ch := newStory(fmt.Sprintf("Story at %d", h), item(h))
			byHour[h] = wantStory(save(t, s, ch)[0], ch)
		}
		return s, byHour
	}
	pick := func(byHour map[int]briefings.Story, hours ...int) []briefings.Story {
		var out []briefings.Story
		for _, h := range hours {
			out = append(out, byHour[h])
		}
		return out
	}
	cases := []struct {
		name  string
		since time.Time
		limit int
		want  []int // hours, in order
	}{
		{"everything", time.Time{}, 10, []int{4, 3, 2, 1, 0}},
		{"limit keeps the newest", time.Time{}, 3, []int{4, 3, 2}},
		{"limit 1", time.Time{}, 1, []int{4}},
		{"limit 0", time.Time{}, 0, nil},
		{"since is inclusive", at(2), 10, []int{4, 3, 2}},
		{"since between two", at(2).Add(time.Microsecond), 10, []int{4, 3}},
		{"since and limit", at(1), 2, []int{4, 3}},
		{"since after all", at(5), 10, nil},
	}
	t.Run("since, limit, order", func(t *testing.T) {
		s, byHour := setup(t)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := recent(t, s, tc.since, tc.limit)
				if diff := cmp.Diff(pick(byHour, tc.want...), got, equate); diff != "" {
					t.Errorf("RecentStories(%v, %d) (-want +got):\n%s", tc.since, tc.limit, diff)
				}
			})
		}
	})

	t.Run("an update moves a story to the front", func(t *testing.T) {
		s, byHour := setup(t)
		old := byHour[0]
		save(t, s, briefings.StoryChange{StoryID: old.ID, Headline: old.Headline, Summary: old.Summary, Updated: at(9), NewItems: items(9)})
		got := recent(t, s, time.Time{}, 2)
		old.Updated, old.Items = at(9), append(slices.Clone(old.Items), item(9))
		if diff := cmp.Diff([]briefings.Story{old, byHour[4]}, got, equate); diff != "" {
			t.Errorf("RecentStories (-want +got):\n%s", diff)
		}
	})
}

func testSubscriptions(t *testing.T, open func(t *testing.T) briefings.Store) {
	chat := briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "-100123456"}
	full := briefings.Subscription{
		Chat: chat, At: 7*60 + 30, Zone: Zone("Europe/Berlin"),
		Topics:  briefings.Topics{Include: []string{"ukraine", "münchen"}, Exclude: []string{"sport"}},
		Active:  true,
		NextDue: at(24), LastDeliveredAt: at(0), LastError: "telegram: 429: retry after 3", CreatedAt: at(-240),
	}

	t.Run("move to a new chat id", func(t *testing.T) {
		s := open(t)
		saved, err := s.SaveSubscription(t.Context(), full)
		if err != nil {
			t.Fatal(err)
		}
		to := briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "-100999"}
		if err := s.MoveSubscription(t.Context(), chat, to); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetSubscription(t.Context(), chat); !errors.Is(err, briefings.ErrNotFound) {
			t.Errorf("old chat still has a subscription: %v", err)
		}
		moved, err := s.GetSubscription(t.Context(), to)
		if err != nil {
			t.Fatal(err)
		}
		want := saved
		want.Chat = to
		if diff := cmp.Diff(want, moved); diff != "" {
			t.Errorf("moved subscription (-want +got):\n%s", diff)
		}
		if err := s.MoveSubscription(t.Context(), chat, to); !errors.Is(err, briefings.ErrNotFound) {
			t.Errorf("moving a chat with no subscription: %v, want ErrNotFound", err)
		}
		// Moving onto a chat that has its own subscription replaces it.
		other := full
		other.Chat = briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "-5"}
		other.Zone = briefings.UTC
		if _, err := s.SaveSubscription(t.Context(), other); err != nil {
			t.Fatal(err)
		}
		if err := s.MoveSubscription(t.Context(), other.Chat, to); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetSubscription(t.Context(), to); got.Zone.String() != "UTC" {
			t.Errorf("after moving onto an occupied chat, zone = %q, want the moved one's", got.Zone)
		}
	})

	t.Run("counts for operators", func(t *testing.T) {
		s := open(t)
		counter, ok := s.(interface {
			CountSubscriptions(ctx context.Context, now time.Time, overdueAfter time.Duration) ([]briefings.SubscriptionCount, error)
		})
		if !ok {
			t.Skip("this store has no CountSubscriptions")
		}
		now := at(0)
		for i, due := range []time.Time{at(-1), now.Add(-time.Minute), at(5)} {
			sub := full
			sub.Chat = briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: fmt.Sprint(i)}
			sub.NextDue = due
			if _, err := s.SaveSubscription(t.Context(), sub); err != nil {
				t.Fatal(err)
			}
		}
		off := full
		off.Chat = briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "off"}
		off.Active = false
		off.NextDue = at(-3)
		discord := full
		discord.Chat = briefings.ChatRef{Platform: briefings.PlatformDiscord, ID: "c"}
		for _, sub := range []briefings.Subscription{off, discord} {
			if _, err := s.SaveSubscription(t.Context(), sub); err != nil {
				t.Fatal(err)
			}
		}
		got, err := counter.CountSubscriptions(t.Context(), now, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		want := []briefings.SubscriptionCount{
			{Platform: briefings.PlatformDiscord, Active: 1},
			{Platform: briefings.PlatformTelegram, Active: 3, Due: 2, Overdue: 1},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("counts (-want +got):\n%s", diff)
		}
	})

	t.Run("a chat that never subscribed", func(t *testing.T) {
		_, err := open(t).GetSubscription(t.Context(), chat)
		if !errors.Is(err, briefings.ErrNotFound) {
			t.Errorf("GetSubscription = %v, want ErrNotFound", err)
		}
	})

	t.Run("save and get", func(t *testing.T) {
		s := open(t)
		saved, err := s.SaveSubscription(t.Context(), full)
		if err != nil {
			t.Fatalf("SaveSubscription: %v", err)
		}
		if saved.ID == 0 {
			t.Errorf("SaveSubscription returned ID 0")
		}
		want := full
		want.ID = saved.ID
		if diff := cmp.Diff(want, saved, equate); diff != "" {
			t.Errorf("SaveSubscription returned (-want +got):\n%s", diff)
		}
		got, err := s.GetSubscription(t.Context(), chat)
		if err != nil {
			t.Fatalf("GetSubscription: %v", err)
		}
		if diff := cmp.Diff(want, got, equate); diff != "" {
			t.Errorf("GetSubscription (-want +got):\n%s", diff)
		}
	})

	t.Run("one per chat: saving again replaces it, inactive and zero times included", func(t *testing.T) {
		s := open(t)
		first, err := s.SaveSubscription(t.Context(), full)
		if err != nil {
			t.Fatalf("SaveSubscription: %v", err)
		}
		replacement := briefings.Subscription{Chat: chat, At: 0, Zone: briefings.UTC} // inactive, no topics, zero times
		second, err := s.SaveSubscription(t.Context(), replacement)
		if err != nil {
			t.Fatalf("SaveSubscription: %v", err)
		}
		if second.ID != first.ID {
			t.Errorf("saving the chat's subscription again gave ID %d, want its ID %d", second.ID, first.ID)
		}
		want := replacement
		want.ID = first.ID
		got, err := s.GetSubscription(t.Context(), chat)
		if err != nil {
			t.Fatalf("GetSubscription of an inactive subscription: %v", err)
		}
		if diff := cmp.Diff(want, got, equate); diff != "" {
			t.Errorf("GetSubscription (-want +got):\n%s", diff)
		}
		if !got.NextDue.IsZero() || !got.LastDeliveredAt.IsZero() || !got.CreatedAt.IsZero() {
			t.Errorf("zero times came back as %v, %v, %v", got.NextDue, got.LastDeliveredAt, got.CreatedAt)
		}
	})

	t.Run("chats are told apart by platform and id", func(t *testing.T) {
		s := open(t)
		chats := []briefings.ChatRef{
			chat,
			{Platform: briefings.PlatformDiscord, ID: chat.ID},
			{Platform: briefings.PlatformTelegram, ID: "42"},
		}
		want := make(map[briefings.ChatRef]briefings.Subscription)
		for i, c := range chats {
			sub := full
			sub.Chat, sub.At = c, briefings.TimeOfDay(i*60)
			saved, err := s.SaveSubscription(t.Context(), sub)
			if err != nil {
				t.Fatalf("SaveSubscription(%s): %v", c, err)
			}
			for _, other := range want {
				if other.ID == saved.ID {
					t.Errorf("%s and %s share ID %d", c, other.Chat, saved.ID)
				}
			}
			want[c] = saved
		}
		for _, c := range chats {
			got, err := s.GetSubscription(t.Context(), c)
			if err != nil {
				t.Fatalf("GetSubscription(%s): %v", c, err)
			}
			if diff := cmp.Diff(want[c], got, equate); diff != "" {
				t.Errorf("GetSubscription(%s) (-want +got):\n%s", c, diff)
			}
		}
	})

	topicCases := []struct {
		name   string
		topics briefings.Topics
	}{
		{"none", briefings.Topics{}},
		{"include only", briefings.Topics{Include: []string{"ukraine"}}},
		{"exclude only", briefings.Topics{Exclude: []string{"sport", "celebrity"}}},
		{"both, order kept", briefings.Topics{Include: []string{"zoll", "ai", "東京"}, Exclude: []string{"b", "a"}}},
	}
	t.Run("topics round trip", func(t *testing.T) {
		s := open(t)
		for _, tc := range topicCases {
			t.Run(tc.name, func(t *testing.T) {
				sub := full
				sub.Topics = tc.topics
				if _, err := s.SaveSubscription(t.Context(), sub); err != nil {
					t.Fatalf("SaveSubscription: %v", err)
				}
				got, err := s.GetSubscription(t.Context(), chat)
				if err != nil {
					t.Fatalf("GetSubscription: %v", err)
				}
				if diff := cmp.Diff(tc.topics, got.Topics, equate); diff != "" {
					t.Errorf("topics (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func testSummaryCache(t *testing.T, open func(t *testing.T) briefings.Store) {
	cached := func(t *testing.T, s briefings.Store, key string) ([]string, bool) {
		t.Helper()
		got, ok, err := s.CachedSummary(t.Context(), key)
		if err != nil {
			t.Fatalf("CachedSummary(%q): %v", key, err)
		}
		return got, ok
	}
	store := func(t *testing.T, s briefings.Store, key string, summary []string) {
		t.Helper()
		if err := s.CacheSummary(t.Context(), key, summary); err != nil {
			t.Fatalf("CacheSummary(%q): %v", key, err)
		}
	}

	t.Run("miss", func(t *testing.T) {
		if got, ok := cached(t, open(t), "k1"); ok || got != nil {
			t.Errorf("CachedSummary of an empty cache = %v, %v; want nil, false", got, ok)
		}
	})

	t.Run("hit, replace, keys apart", func(t *testing.T) {
		s := open(t)
		first := []string{"Rubio met Lavrov in Kuala Lumpur.", "They talked for an hour."}
		store(t, s, "k1", first)
		if got, ok := cached(t, s, "k1"); !ok || !cmp.Equal(first, got) {
			t.Errorf("CachedSummary = %q, %v; want %q, true", got, ok, first)
		}
		if got, ok := cached(t, s, "k2"); ok {
			t.Errorf("CachedSummary of another key = %q, true; want a miss", got)
		}
		second := []string{"Replaced."}
		store(t, s, "k1", second)
		if got, ok := cached(t, s, "k1"); !ok || !cmp.Equal(second, got) {
			t.Errorf("CachedSummary after replacing = %q, %v; want %q, true", got, ok, second)
		}
	})

	t.Run("no sentences is a hit", func(t *testing.T) {
		s := open(t)
		store(t, s, "empty", nil)
		if got, ok := cached(t, s, "empty"); !ok || len(got) != 0 {
			t.Errorf("CachedSummary = %q, %v; want no sentences, true", got, ok)
		}
	})
}

func testCanceledContext(t *testing.T, open func(t *testing.T) briefings.Store) {
	s := open(t)
	addSources(t, s, feedA)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := []struct {
		name string
		call func() error
	}{
		{"ListSources", func() error { _, err := s.ListSources(ctx); return err }},
		{"AddSource", func() error { _, err := s.AddSource(ctx, feedB); return err }},
		{"RemoveSource", func() error { return s.RemoveSource(ctx, feedA) }},
		{"SaveSourceState", func() error { return s.SaveSourceState(ctx, briefings.Source{URL: feedA, Title: "x"}) }},
		{"UnseenItems", func() error { _, err := s.UnseenItems(ctx, items(1)); return err }},
		{"RecentStories", func() error { _, err := s.RecentStories(ctx, time.Time{}, 10); return err }},
		{"SaveStories", func() error {
			_, err := s.SaveStories(ctx, []briefings.StoryChange{newStory("x", item(1))})
			return err
		}},
		{"StoriesVersion", func() error { _, err := s.StoriesVersion(ctx); return err }},
		{"GetSubscription", func() error {
			_, err := s.GetSubscription(ctx, briefings.ChatRef{Platform: briefings.PlatformConsole, ID: "1"})
			return err
		}},
		{"SaveSubscription", func() error {
			_, err := s.SaveSubscription(ctx, briefings.Subscription{Chat: briefings.ChatRef{Platform: briefings.PlatformConsole, ID: "1"}, Zone: briefings.UTC})
			return err
		}},
		{"CachedSummary", func() error { _, _, err := s.CachedSummary(ctx, "k"); return err }},
		{"CacheSummary", func() error { return s.CacheSummary(ctx, "k", []string{"x"}) }},
		{"CachedPages", func() error { _, err := s.CachedPages(ctx, []string{"https://x.example/a"}); return err }},
		{"SavePage", func() error { return s.SavePage(ctx, briefings.ArticlePage{URL: "https://x.example/a"}) }},
		{"Story", func() error { _, err := s.Story(ctx, 1); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context = %v, want context.Canceled", c.name, err)
		}
	}
	// Nothing the canceled calls would have written is there.
	if diff := cmp.Diff(sourcesAt(feedA), listSources(t, s), equate); diff != "" {
		t.Errorf("ListSources after canceled calls (-want +got):\n%s", diff)
	}
	if got := recent(t, s, time.Time{}, 10); len(got) != 0 {
		t.Errorf("RecentStories after a canceled SaveStories = %v, want none", got)
	}
}

// Zone is a zone the tests know loads.
func Zone(name string) briefings.Zone {
	z, err := briefings.ParseZone(name)
	if err != nil {
		panic(err)
	}
	return z
}
