package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/briefings"
)

func testPages(t *testing.T, open func(t *testing.T) briefings.Store) {
	cached := func(t *testing.T, s briefings.Store, urls ...string) map[string]briefings.ArticlePage {
		t.Helper()
		got, err := s.CachedPages(t.Context(), urls)
		if err != nil {
			t.Fatalf("CachedPages(%q): %v", urls, err)
		}
		return got
	}
	savePage := func(t *testing.T, s briefings.Store, p briefings.ArticlePage) {
		t.Helper()
		if err := s.SavePage(t.Context(), p); err != nil {
			t.Fatalf("SavePage(%s): %v", p.URL, err)
		}
	}
	page := briefings.ArticlePage{
		URL:          "https://news.example.org/world/story-1?id=1",
		Title:        "Rubio meets Lavrov in Kuala Lumpur",
		Text:         "Rubio met Lavrov.\n\nThey talked for an hour.",
		Published:    at(-3),
		Language:     "en",
		ETag:         `"v1"`,
		LastModified: "Wed, 09 Jul 2025 10:00:00 GMT",
		FetchedAt:    at(0),
	}
	failed := briefings.ArticlePage{URL: "https://news.example.org/paywalled", FetchedAt: at(1), Failure: briefings.ArticlePaywalled}

	t.Run("miss", func(t *testing.T) {
		if got := cached(t, open(t), page.URL); len(got) != 0 {
			t.Errorf("CachedPages of an empty cache = %v, want none", got)
		}
	})

	t.Run("hit, failure kept, replace, batch", func(t *testing.T) {
		s := open(t)
		savePage(t, s, page)
		savePage(t, s, failed)
		want := map[string]briefings.ArticlePage{page.URL: page, failed.URL: failed}
		if diff := cmp.Diff(want, cached(t, s, page.URL, failed.URL, "https://news.example.org/never")); diff != "" {
			t.Errorf("CachedPages (-want +got):\n%s", diff)
		}
		again := page
		again.Text, again.ETag, again.FetchedAt, again.Published = "Rewritten.", `"v2"`, at(5), time.Time{}
		savePage(t, s, again)
		if diff := cmp.Diff(map[string]briefings.ArticlePage{page.URL: again}, cached(t, s, page.URL)); diff != "" {
			t.Errorf("CachedPages after replacing (-want +got):\n%s", diff)
		}
	})

	t.Run("refused", func(t *testing.T) {
		s := open(t)
		if err := s.SavePage(t.Context(), briefings.ArticlePage{Title: "no URL"}); err == nil {
			t.Error("SavePage of a page without a URL = nil, want an error")
		}
		if err := s.SavePage(t.Context(), briefings.ArticlePage{URL: page.URL, FetchedAt: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
			t.Error("SavePage of a page fetched in year 12000 = nil, want an error")
		}
	})
}

func testStoryByID(t *testing.T, open func(t *testing.T) briefings.Store) {
	t.Run("one story with its items", func(t *testing.T) {
		s := open(t)
		chA, chB := newStory("A", item(1), item(2)), newStory("B", item(3))
		ids := save(t, s, chA, chB)
		got, err := s.Story(t.Context(), ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantStory(ids[0], chA), got, equate); diff != "" {
			t.Errorf("Story(%d) (-want +got):\n%s", ids[0], diff)
		}
		if _, err := s.Story(t.Context(), ids[1]+100); !errors.Is(err, briefings.ErrNotFound) {
			t.Errorf("Story of an unknown id = %v, want ErrNotFound", err)
		}
	})

	t.Run("refreshed items get their title and date", func(t *testing.T) {
		s := open(t)
		untitled := item(1)
		untitled.Title = ""
		ch := newStory("A", untitled, item(2))
		id := save(t, s, ch)[0]
		before := version(t, s)

		filled := untitled
		filled.Title, filled.Published = "The page's own title", at(-7)
		update := briefings.StoryChange{StoryID: id, Headline: "The page's own title", Summary: ch.Summary,
			Updated: ch.Updated, Refreshed: []briefings.Item{filled}}
		save(t, s, update)
		got, err := s.Story(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		want := briefings.Story{ID: id, Headline: update.Headline, Summary: ch.Summary, FirstSeen: ch.FirstSeen,
			Updated: ch.Updated, Items: []briefings.Item{filled, item(2)}} // earliest first: the page's date is older
		if diff := cmp.Diff(want, got, equate); diff != "" {
			t.Errorf("Story after refreshing an item (-want +got):\n%s", diff)
		}
		after := version(t, s)
		if after == before {
			t.Errorf("StoriesVersion stayed %d after an item was refreshed", after)
		}
		// The same refresh again changes nothing a reader would see.
		save(t, s, update)
		if again := version(t, s); again != after {
			t.Errorf("StoriesVersion moved from %d to %d on a refresh that changed nothing", after, again)
		}
	})
}
