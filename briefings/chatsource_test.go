package briefings_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/briefings"
)

// fakeFinder answers FindFeed from a table of addresses, counting calls.
type fakeFinder struct {
	feeds map[string]briefings.FoundFeed
	calls int
}

func (f *fakeFinder) FindFeed(_ context.Context, raw string) (briefings.FoundFeed, error) {
	f.calls++
	found, ok := f.feeds[raw]
	if !ok {
		return briefings.FoundFeed{}, &briefings.FeedRefusedError{URL: raw, Reason: "the page links no feed"}
	}
	return found, nil
}

const (
	wireFeed    = "https://wire.example/feed"
	monitorFeed = "https://monitor.example/feed"
	nicheFeed   = "https://niche.example/feed.xml"
)

func niche() briefings.Item {
	return briefings.Item{
		FeedURL: nicheFeed, GUID: "n1", Link: "https://niche.example/bakery", Outlet: "Niche Gazette",
		Title:     "Village bakery wins regional bread prize",
		Text:      "A bakery in Upper Wold won the regional sourdough prize on Thursday, its third in five years.",
		Published: time.Date(2025, 7, 10, 16, 0, 0, 0, time.UTC),
	}
}

// chatWorld is a store with the operator's feed (the wire, plus "other",
// a feed the store never listed, as the sample feeds are), and a service
// whose finder knows the monitor (a feed) and the niche site (a page
// linking its feed).
func chatWorld(t *testing.T, limits briefings.SourceLimits) (*briefings.Service, *fakeFinder, *countingStore) {
	t.Helper()
	store := &countingStore{Store: openStore(t, filepath.Join(t.TempDir(), "n.db"))}
	finder := &fakeFinder{feeds: map[string]briefings.FoundFeed{
		monitorFeed:              {URL: monitorFeed, Title: "Monitor", Items: []briefings.Item{meeting("https://monitor.example/rubio-lavrov", "m1")}},
		"https://niche.example/": {URL: nicheFeed, Title: "Niche Gazette", Items: []briefings.Item{niche()}},
	}}
	svc := briefings.NewService(store, briefings.Options{
		Summarizer: &firstSentences{}, Now: func() time.Time { return july10 },
		Finder: finder, SourceLimits: limits,
	})
	ctx := t.Context()
	if _, err := store.AddSource(ctx, wireFeed); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Ingest(ctx, append(unrelated(), wire())); err != nil {
		t.Fatal(err)
	}
	return svc, finder, store
}

func headlines(b briefings.Briefing) []string {
	var out []string
	for _, e := range b.Entries {
		out = append(out, e.Headline)
	}
	slices.Sort(out)
	return out
}

func entryWith(t *testing.T, b briefings.Briefing, link string) briefings.Entry {
	t.Helper()
	for _, e := range b.Entries {
		for _, s := range e.Sources {
			if s.URL == link {
				return e
			}
		}
	}
	t.Fatalf("no entry links %s in %v", link, headlines(b))
	return briefings.Entry{}
}

func outlets(e briefings.Entry) []string {
	var out []string
	for _, s := range e.Sources {
		out = append(out, s.Outlet)
	}
	return out
}

func TestChatBriefDrawsOnItsOwnFeeds(t *testing.T) {
	ctx := t.Context()
	svc, finder, _ := chatWorld(t, briefings.SourceLimits{})
	chat := briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "-1001"}
	bystander := briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "42"}

	added, err := svc.AddChatSource(ctx, chat, monitorFeed)
	if err != nil {
		t.Fatalf("AddChatSource(monitor): %v", err)
	}
	if added.Already || added.Feed.Title != "Monitor" || added.Latest.Title != meeting("", "").Title {
		t.Errorf("AddChatSource(monitor) = %+v, want the feed's title and latest headline", added)
	}
	added, err = svc.AddChatSource(ctx, chat, "niche.example/")
	if err != nil {
		t.Fatalf("AddChatSource(a page linking a feed, no scheme): %v", err)
	}
	if added.Feed.URL != nicheFeed {
		t.Errorf("a page's feed was stored as %s, want %s", added.Feed.URL, nicheFeed)
	}

	mine, err := svc.BriefChat(ctx, chat, briefings.Topics{})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := svc.BriefChat(ctx, bystander, briefings.Topics{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(headlines(mine), niche().Title) {
		t.Errorf("the chat's brief %v lacks its own feed's story", headlines(mine))
	}
	if slices.Contains(headlines(theirs), niche().Title) {
		t.Errorf("another chat's brief %v carries a story only this chat's feed told", headlines(theirs))
	}
	// Grouping is global: the monitor (this chat's) and the wire (the
	// operator's) told one story; each chat sees it once, this chat its own
	// outlet first.
	if diff := cmp.Diff([]string{"Monitor", "Wire"}, outlets(entryWith(t, mine, wire().Link))); diff != "" {
		t.Errorf("the chat's entry outlets (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Wire", "Monitor"}, outlets(entryWith(t, theirs, wire().Link))); diff != "" {
		t.Errorf("another chat's entry outlets (-want +got):\n%s", diff)
	}

	// Without the operator's feeds: only stories one of its feeds told.
	if err := svc.SetOperatorFeeds(ctx, chat, false); err != nil {
		t.Fatal(err)
	}
	own, err := svc.BriefChat(ctx, chat, briefings.Topics{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{niche().Title, entryWith(t, mine, wire().Link).Headline}
	slices.Sort(want)
	if diff := cmp.Diff(want, headlines(own)); diff != "" {
		t.Errorf("brief with the operator's feeds off (-want +got):\n%s", diff)
	}
	daily, err := svc.ChatStories(ctx, chat, july10.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(daily) != 2 {
		t.Errorf("ChatStories with the operator's feeds off = %d stories, want the 2 its feeds told", len(daily))
	}

	// Removing by number, then by address.
	if src, err := svc.RemoveChatSource(ctx, chat, "2"); err != nil || src.URL != nicheFeed {
		t.Errorf("RemoveChatSource(2) = %v, %v; want the niche feed", src.URL, err)
	}
	if _, err := svc.RemoveChatSource(ctx, chat, nicheFeed); !errors.Is(err, briefings.ErrNoSuchChatSource) {
		t.Errorf("RemoveChatSource of a removed feed: %v, want ErrNoSuchChatSource", err)
	}
	if _, err := svc.RemoveChatSource(ctx, chat, "7"); !errors.Is(err, briefings.ErrNoSuchChatSource) {
		t.Errorf("RemoveChatSource(7) of 1 feed: %v, want ErrNoSuchChatSource", err)
	}
	calls := finder.calls
	if added, err := svc.AddChatSource(ctx, chat, monitorFeed); err != nil || !added.Already {
		t.Errorf("AddChatSource of a followed feed = %+v, %v; want Already", added, err)
	}
	if finder.calls != calls {
		t.Error("a followed feed was fetched again")
	}
}

func TestAddChatSourceRefusals(t *testing.T) {
	ctx := t.Context()
	svc, finder, _ := chatWorld(t, briefings.SourceLimits{PerChat: 1})
	chat := briefings.ChatRef{Platform: briefings.PlatformDiscord, ID: "555"}

	_, err := svc.AddChatSource(ctx, chat, "https://nothing.example/")
	var refused *briefings.FeedRefusedError
	if !errors.As(err, &refused) || refused.Reason == "" {
		t.Errorf("AddChatSource of a page without a feed: %v, want a FeedRefusedError with its reason", err)
	}
	for _, bad := range []string{"ftp://x.example/feed", "https://user:pw@x.example/feed", "http://", "https://" + string(make([]byte, 3000))} {
		calls := finder.calls
		if _, err := svc.AddChatSource(ctx, chat, bad); !errors.As(err, &refused) {
			t.Errorf("AddChatSource(%.40q): %v, want a FeedRefusedError", bad, err)
		}
		if finder.calls != calls {
			t.Errorf("AddChatSource(%.40q) fetched a malformed address", bad)
		}
	}
	if cs, err := svc.ChatSources(ctx, chat); err != nil || len(cs.Feeds) != 0 {
		t.Errorf("after refusals the chat follows %v (%v), want nothing", cs.Feeds, err)
	}
	if _, err := svc.AddChatSource(ctx, chat, monitorFeed); err != nil {
		t.Fatal(err)
	}
	calls := finder.calls
	if _, err := svc.AddChatSource(ctx, chat, "https://niche.example/"); !errors.Is(err, briefings.ErrChatSourcesFull) {
		t.Errorf("a second feed with room for one: %v, want ErrChatSourcesFull", err)
	}
	if finder.calls != calls {
		t.Error("a feed over the chat's limit was fetched")
	}
}

func TestChatBriefIsCachedPerSelection(t *testing.T) {
	ctx := t.Context()
	svc, _, store := chatWorld(t, briefings.SourceLimits{})
	a := briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "1"}
	b := briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "2"}
	for _, c := range []briefings.ChatRef{a, b} {
		if _, err := svc.AddChatSource(ctx, c, "https://niche.example/"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.BriefChat(ctx, a, briefings.Topics{}); err != nil {
		t.Fatal(err)
	}
	store.recent.Store(0)
	for range 3 {
		for _, c := range []briefings.ChatRef{a, b} {
			if _, err := svc.BriefChat(ctx, c, briefings.Topics{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := store.recent.Load(); n != 0 {
		t.Errorf("6 briefs of two chats reading the same feeds read stories %d times, want 0 (cached)", n)
	}
}

func FuzzCheckFeedURL(f *testing.F) {
	for _, s := range []string{"https://example.com/feed.xml", "example.com", "ftp://x", "http://user:pw@x/", "http://[::1", " https://a.example/#frag ", "https://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := briefings.CheckFeedURL(raw)
		if err != nil {
			var refused *briefings.FeedRefusedError
			if !errors.As(err, &refused) || refused.Reason == "" {
				t.Fatalf("CheckFeedURL(%q) = %v, want a FeedRefusedError with a reason", raw, err)
			}
			return
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("CheckFeedURL(%q) accepted %s", raw, u)
		}
	})
}

// A feed that carries another outlet's article (the same link, or the same
// text) tells the chat that story, although dedup keeps one copy.
func TestChatFeedThatRetellsReachesTheChat(t *testing.T) {
	ctx := t.Context()
	svc, finder, _ := chatWorld(t, briefings.SourceLimits{})
	copied := wire()
	copied.FeedURL, copied.Outlet = "https://aggregator.example/feed", "Aggregator"
	finder.feeds["https://aggregator.example/feed"] = briefings.FoundFeed{URL: copied.FeedURL, Title: "Aggregator", Items: []briefings.Item{copied}}
	chat := briefings.ChatRef{Platform: briefings.PlatformDiscord, ID: "777"}
	if _, err := svc.AddChatSource(ctx, chat, copied.FeedURL); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetOperatorFeeds(ctx, chat, false); err != nil {
		t.Fatal(err)
	}
	b, err := svc.BriefChat(ctx, chat, briefings.Topics{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{wire().Title}, headlines(b)); diff != "" {
		t.Errorf("brief of a chat whose only feed retold the wire's story (-want +got):\n%s", diff)
	}
}

// An address refused for its password never shows the password.
func TestCheckFeedURLHidesThePassword(t *testing.T) {
	_, err := briefings.CheckFeedURL("https://reader:hunter2secret@feeds.example.org/rss")
	if err == nil || strings.Contains(err.Error(), "hunter2secret") {
		t.Fatalf("CheckFeedURL = %v; want a refusal without the password", err)
	}
}
