package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/briefings"
)

var (
	chatX = briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "-100123"}
	chatY = briefings.ChatRef{Platform: briefings.PlatformDiscord, ID: "998877"}
)

func follow(t *testing.T, s briefings.Store, chat briefings.ChatRef, url string, limits briefings.SourceLimits) bool {
	t.Helper()
	added, err := s.FollowSource(t.Context(), chat, briefings.Source{URL: url, Title: "Title of " + url}, limits)
	if err != nil {
		t.Fatalf("FollowSource(%s, %s): %v", chat, url, err)
	}
	return added
}

func chatSources(t *testing.T, s briefings.Store, chat briefings.ChatRef) briefings.ChatSources {
	t.Helper()
	cs, err := s.ChatSources(t.Context(), chat)
	if err != nil {
		t.Fatalf("ChatSources(%s): %v", chat, err)
	}
	return cs
}

func urlsOf[S interface{ ~[]E }, E any](list S, url func(E) string) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = url(e)
	}
	return out
}

func chatURLs(cs briefings.ChatSources) []string {
	return urlsOf(cs.Feeds, func(f briefings.ChatFeed) string { return f.URL })
}

func sourceURLs(srcs []briefings.Source) []string {
	return urlsOf(srcs, func(s briefings.Source) string { return s.URL })
}

func pollURLs(t *testing.T, s briefings.Store) []string {
	t.Helper()
	srcs, err := s.PollSources(t.Context())
	if err != nil {
		t.Fatalf("PollSources: %v", err)
	}
	return sourceURLs(srcs)
}

var noLimits = briefings.SourceLimits{}

func testChatSources(t *testing.T, open func(t *testing.T) briefings.Store) {
	t.Run("a chat that chose nothing reads the operator's feeds", func(t *testing.T) {
		cs := chatSources(t, open(t), chatX)
		if len(cs.Feeds) != 0 || !cs.OperatorFeeds {
			t.Errorf("ChatSources of a new chat = %+v, want no feeds and the operator's", cs)
		}
	})

	t.Run("followed feeds are the chat's, polled, and not the operator's list", func(t *testing.T) {
		s := open(t)
		addSources(t, s, feedA)
		if !follow(t, s, chatX, feedB, noLimits) || !follow(t, s, chatX, feedA, noLimits) {
			t.Fatal("FollowSource of new feeds = false, want true")
		}
		if follow(t, s, chatX, feedB, noLimits) {
			t.Error("FollowSource of a followed feed = true, want false")
		}
		cs := chatSources(t, s, chatX)
		if diff := cmp.Diff([]string{feedB, feedA}, chatURLs(cs)); diff != "" {
			t.Errorf("ChatSources in the order followed (-want +got):\n%s", diff)
		}
		if cs.Feeds[0].Title != "Title of "+feedB || cs.Feeds[0].AddedAt.IsZero() {
			t.Errorf("a new feed = %+v, want its title and when it was added", cs.Feeds[0])
		}
		// An operator's feed keeps its own state when a chat follows it.
		if cs.Feeds[1].Title != "" {
			t.Errorf("an operator's feed followed got title %q, want its own (none yet)", cs.Feeds[1].Title)
		}
		if diff := cmp.Diff([]string{feedA}, sourceURLs(listSources(t, s))); diff != "" {
			t.Errorf("ListSources shows the operator's feeds only (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{feedA, feedB}, pollURLs(t, s)); diff != "" {
			t.Errorf("PollSources (-want +got):\n%s", diff)
		}
		if other := chatSources(t, s, chatY); len(other.Feeds) != 0 {
			t.Errorf("another chat's sources = %v, want none", chatURLs(other))
		}
	})

	t.Run("one row per address however many chats follow it", func(t *testing.T) {
		s := open(t)
		follow(t, s, chatX, feedB, noLimits)
		follow(t, s, chatY, feedB, noLimits)
		if diff := cmp.Diff([]string{feedB}, pollURLs(t, s)); diff != "" {
			t.Errorf("PollSources (-want +got):\n%s", diff)
		}
		got, err := s.FeedFollowers(t.Context(), feedB)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]briefings.ChatRef{chatX, chatY}, got); diff != "" {
			t.Errorf("FeedFollowers (-want +got):\n%s", diff)
		}
		// The state the poller saves is everyone's.
		src := briefings.Source{URL: feedB, Title: "B", LastError: "HTTP 500", Failures: 2, LastFetchedAt: at(1), NextFetchAt: at(2)}
		if err := s.SaveSourceState(t.Context(), src); err != nil {
			t.Fatalf("SaveSourceState of a chat's feed: %v", err)
		}
		for _, c := range []briefings.ChatRef{chatX, chatY} {
			if f := chatSources(t, s, c).Feeds[0]; f.LastError != "HTTP 500" || !f.LastFetchedAt.Equal(at(1)) || f.Title != "B" {
				t.Errorf("%s sees %+v, want the saved state", c, f.Source)
			}
		}
	})

	t.Run("limits per chat and on distinct feeds", func(t *testing.T) {
		s := open(t)
		addSources(t, s, feedA)
		limits := briefings.SourceLimits{PerChat: 2, Feeds: 2}
		follow(t, s, chatX, feedA, limits)
		follow(t, s, chatX, feedB, limits)
		_, err := s.FollowSource(t.Context(), chatX, briefings.Source{URL: feedA + "?more"}, limits)
		if !errors.Is(err, briefings.ErrChatSourcesFull) {
			t.Errorf("a third feed for a chat allowed two: %v, want ErrChatSourcesFull", err)
		}
		_, err = s.FollowSource(t.Context(), chatY, briefings.Source{URL: feedC}, limits)
		if !errors.Is(err, briefings.ErrFeedsFull) {
			t.Errorf("a third distinct feed with room for two: %v, want ErrFeedsFull", err)
		}
		// A feed already polled costs no room.
		if !follow(t, s, chatY, feedB, limits) {
			t.Error("following a polled feed at the cap = false, want true")
		}
		if diff := cmp.Diff([]string{feedA, feedB}, pollURLs(t, s)); diff != "" {
			t.Errorf("PollSources after refusals (-want +got):\n%s", diff)
		}
	})

	t.Run("an unfollowed feed stops being polled and is pruned after the grace", func(t *testing.T) {
		s := open(t)
		follow(t, s, chatX, feedB, noLimits)
		save(t, s, newStory("B's story", briefings.Item{FeedURL: feedB, Link: "https://b.example.org/1", Title: "One", Text: "One thing.", Published: at(0)}))
		if err := s.UnfollowSource(t.Context(), chatY, feedB); !errors.Is(err, briefings.ErrNotFound) {
			t.Errorf("UnfollowSource by a chat that does not follow it: %v, want ErrNotFound", err)
		}
		if err := s.UnfollowSource(t.Context(), chatX, feedB); err != nil {
			t.Fatal(err)
		}
		if got := pollURLs(t, s); len(got) != 0 {
			t.Errorf("PollSources after the last follower left = %v, want none", got)
		}
		if claimer, ok := s.(briefings.SourceClaimer); ok {
			got, err := claimer.ClaimDueSources(t.Context(), "instance-1", time.Now(), time.Now().Add(time.Minute), 10)
			if err != nil || len(got) != 0 {
				t.Errorf("ClaimDueSources of an unfollowed feed = %v, %v; want none", sourceURLs(got), err)
			}
		}
		if n, err := s.PruneSources(t.Context(), time.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Errorf("PruneSources within the grace = %d, %v; want 0", n, err)
		}
		// Followed again within the grace: it is back, nothing lost.
		follow(t, s, chatX, feedB, noLimits)
		if diff := cmp.Diff([]string{feedB}, pollURLs(t, s)); diff != "" {
			t.Errorf("PollSources after following again (-want +got):\n%s", diff)
		}
		if err := s.UnfollowSource(t.Context(), chatX, feedB); err != nil {
			t.Fatal(err)
		}
		if n, err := s.PruneSources(t.Context(), time.Now().Add(time.Hour)); err != nil || n != 1 {
			t.Errorf("PruneSources after the grace = %d, %v; want 1", n, err)
		}
		if got := unseen(t, s, []briefings.Item{{FeedURL: feedB, Link: "https://b.example.org/1", Title: "One", Text: "One thing."}}); len(got) != 0 {
			t.Errorf("an item of a pruned feed is unseen again: %v", got)
		}
		if !follow(t, s, chatY, feedB, noLimits) {
			t.Error("following a pruned feed again = false, want true")
		}
	})

	t.Run("operator feeds: removal keeps followers, pruning spares the list", func(t *testing.T) {
		s := open(t)
		addSources(t, s, feedA, feedC)
		follow(t, s, chatX, feedA, noLimits)
		follow(t, s, chatX, feedB, noLimits)
		if err := s.RemoveSource(t.Context(), feedA); err != nil {
			t.Fatalf("RemoveSource of a followed operator feed: %v", err)
		}
		if err := s.RemoveSource(t.Context(), feedB); !errors.Is(err, briefings.ErrNotFound) {
			t.Errorf("RemoveSource of a chat's feed the operator never listed: %v, want ErrNotFound", err)
		}
		if diff := cmp.Diff([]string{feedC}, sourceURLs(listSources(t, s))); diff != "" {
			t.Errorf("ListSources (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{feedA, feedC, feedB}, pollURLs(t, s)); diff != "" {
			t.Errorf("PollSources (-want +got):\n%s", diff)
		}
		if n, err := s.PruneSources(t.Context(), time.Now().Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("PruneSources with every feed listed or followed = %d, %v; want 0", n, err)
		}
		if added, err := s.AddSource(t.Context(), feedB); err != nil || !added {
			t.Errorf("AddSource of a chat's feed = %v, %v; want true (now the operator's)", added, err)
		}
		if diff := cmp.Diff([]string{feedC, feedB}, sourceURLs(listSources(t, s))); diff != "" {
			t.Errorf("ListSources (-want +got):\n%s", diff)
		}
	})

	t.Run("operator feeds on and off", func(t *testing.T) {
		s := open(t)
		if err := s.SetOperatorFeeds(t.Context(), chatX, false); err != nil {
			t.Fatal(err)
		}
		if chatSources(t, s, chatX).OperatorFeeds {
			t.Error("OperatorFeeds after turning them off = true")
		}
		follow(t, s, chatX, feedB, noLimits)
		if chatSources(t, s, chatX).OperatorFeeds {
			t.Error("OperatorFeeds of a chat with feeds, turned off = true")
		}
		if !chatSources(t, s, chatY).OperatorFeeds {
			t.Error("another chat's OperatorFeeds = false")
		}
		if err := s.SetOperatorFeeds(t.Context(), chatX, true); err != nil {
			t.Fatal(err)
		}
		if !chatSources(t, s, chatX).OperatorFeeds {
			t.Error("OperatorFeeds after turning them on = false")
		}
	})

	t.Run("a moved chat keeps its sources", func(t *testing.T) {
		s := open(t)
		to := briefings.ChatRef{Platform: chatX.Platform, ID: "-100999"}
		follow(t, s, chatX, feedA, noLimits)
		follow(t, s, to, feedC, noLimits)
		if err := s.SetOperatorFeeds(t.Context(), chatX, false); err != nil {
			t.Fatal(err)
		}
		if err := s.MoveChatSources(t.Context(), chatX, to); err != nil {
			t.Fatal(err)
		}
		got := chatSources(t, s, to)
		if diff := cmp.Diff([]string{feedA}, chatURLs(got)); diff != "" || got.OperatorFeeds {
			t.Errorf("moved chat's sources = %v (operator %v), want [%s] and operator off:\n%s", chatURLs(got), got.OperatorFeeds, feedA, diff)
		}
		if old := chatSources(t, s, chatX); len(old.Feeds) != 0 || !old.OperatorFeeds {
			t.Errorf("the old chat id still has %+v", old)
		}
		if diff := cmp.Diff([]string{feedA}, pollURLs(t, s)); diff != "" {
			t.Errorf("PollSources: the feed only the replaced chat followed is let go (-want +got):\n%s", diff)
		}
	})

	t.Run("stories from feeds and the operator's stories", func(t *testing.T) {
		s := open(t)
		addSources(t, s, feedA)
		follow(t, s, chatX, feedB, noLimits)
		it := func(feed string, n int) briefings.Item {
			x := item(n)
			x.FeedURL = feed
			return x
		}
		ids := save(t, s,
			newStory("only A", it(feedA, 1)),
			newStory("A and B", it(feedA, 2), it(feedB, 3)),
			newStory("only B", it(feedB, 4)),
			newStory("only C, a feed nobody lists", it(feedC, 5)),
			newStory("old B", it(feedB, -50)),
		)
		storyIDs := func(st []briefings.Story) []int64 {
			out := make([]int64, len(st))
			for i, x := range st {
				out[i] = x.ID
			}
			return out
		}
		fromB, err := s.StoriesFromFeeds(t.Context(), []string{feedB}, at(-10), 10)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int64{ids[2], ids[1]}, storyIDs(fromB)); diff != "" {
			t.Errorf("StoriesFromFeeds(B, since -10h) (-want +got):\n%s", diff)
		}
		if len(fromB) == 2 && len(fromB[1].Items) != 2 {
			t.Errorf("a story from B comes with %d items, want all 2", len(fromB[1].Items))
		}
		if got, err := s.StoriesFromFeeds(t.Context(), []string{feedB, feedC}, time.Time{}, 2); err != nil || len(got) != 2 || got[0].ID != ids[3] {
			t.Errorf("StoriesFromFeeds(B, C, limit 2) = %v, %v; want the newest two, C's first", storyIDs(got), err)
		}
		op, err := s.OperatorStories(t.Context(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int64{ids[3], ids[1], ids[0]}, storyIDs(op)); diff != "" {
			t.Errorf("OperatorStories (-want +got):\n%s", diff)
		}
		if got, err := s.OperatorStories(t.Context(), 1); err != nil || len(got) != 1 {
			t.Errorf("OperatorStories(limit 1) = %v, %v", storyIDs(got), err)
		}
	})
}

func testRetold(t *testing.T, open func(t *testing.T) briefings.Store) {
	t.Run("a story a followed feed retold reaches the feed", func(t *testing.T) {
		s := open(t)
		addSources(t, s, feedA)
		follow(t, s, chatX, feedB, noLimits)
		original := item(1)
		original.FeedURL = feedA
		ids := save(t, s, newStory("A's story", original))
		sameLink, sameText := item(1), item(1)
		sameLink.FeedURL, sameLink.Title, sameLink.Text = feedB, "Another headline", "Other words entirely."
		sameText.FeedURL, sameText.Link = feedB, "https://b.example.org/copy"
		if got := unseen(t, s, []briefings.Item{sameLink, sameText}); len(got) != 0 {
			t.Fatalf("the copies are unseen: %v", got)
		}
		nobody := item(1)
		nobody.FeedURL = feedC
		if err := s.RecordRetold(t.Context(), []briefings.Item{sameLink, sameText, nobody}); err != nil {
			t.Fatal(err)
		}
		for _, feed := range []string{feedB, feedC} {
			got, err := s.StoriesFromFeeds(t.Context(), []string{feed}, at(-10), 10)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if feed == feedB {
				want = 1
			}
			if len(got) != want || want == 1 && got[0].ID != ids[0] {
				t.Errorf("StoriesFromFeeds(%s) = %d stories, want %d (the story it retold, once)", feed, len(got), want)
			}
		}
		if got, _ := s.StoriesFromFeeds(t.Context(), []string{feedB}, at(10), 10); len(got) != 0 {
			t.Errorf("StoriesFromFeeds(B, since after the retelling) = %d stories, want none", len(got))
		}
	})

	t.Run("a story absorbed into another takes its feeds along", func(t *testing.T) {
		s := open(t)
		addSources(t, s, feedA)
		follow(t, s, chatX, feedB, noLimits)
		a, b := item(1), item(2)
		a.FeedURL, b.FeedURL = feedA, feedA
		ids := save(t, s, newStory("A", a), newStory("B", b))
		retold := item(2)
		retold.FeedURL, retold.Link = feedB, "https://b.example.org/copy-of-2"
		if err := s.RecordRetold(t.Context(), []briefings.Item{retold}); err != nil {
			t.Fatal(err)
		}
		save(t, s, briefings.StoryChange{StoryID: ids[0], Headline: "A", Updated: at(2), Absorbs: []int64{ids[1]}})
		got, err := s.StoriesFromFeeds(t.Context(), []string{feedB}, at(-10), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != ids[0] {
			t.Errorf("StoriesFromFeeds(B) after B's story was absorbed = %v, want the survivor %d", got, ids[0])
		}
	})
}
