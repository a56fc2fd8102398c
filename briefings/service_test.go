package briefings_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/sqlite"
)

// firstSentences is a stand-in summarizer: the core's tests are about what the
// core does with summaries, not about choosing sentences.
type firstSentences struct{ calls atomic.Int64 }

func (f *firstSentences) Summarize(_ context.Context, a briefings.Article) ([]string, error) {
	f.calls.Add(1)
	s, _, _ := strings.Cut(a.Text, ". ")
	return []string{s + "."}, nil
}

func openStore(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var july10 = time.Date(2025, 7, 10, 18, 0, 0, 0, time.UTC)

func newService(t testing.TB, store briefings.Store) (*briefings.Service, *firstSentences) {
	sum := &firstSentences{}
	return briefings.NewService(store, briefings.Options{
		Summarizer: sum,
		Now:        func() time.Time { return july10 },
	}), sum
}

func meeting(link, guid string) briefings.Item {
	return briefings.Item{
		FeedURL: "https://monitor.example/feed", GUID: guid, Link: link, Outlet: "Monitor",
		Title:     "Rubio and Lavrov meet in Kuala Lumpur",
		Text:      "US Secretary of State Marco Rubio met Russian Foreign Minister Sergey Lavrov on July 10 in Kuala Lumpur. The two met for about 50 minutes at the ASEAN meeting. They discussed Ukraine, Iran and Syria.",
		Published: time.Date(2025, 7, 10, 15, 0, 0, 0, time.UTC),
	}
}

func wire() briefings.Item {
	return briefings.Item{
		FeedURL: "https://wire.example/feed", GUID: "w1", Link: "https://wire.example/world/rubio-lavrov", Outlet: "Wire",
		Title:     "US and Russian top diplomats hold talks on ASEAN sidelines",
		Text:      "KUALA LUMPUR - Marco Rubio and Sergei Lavrov held talks in the Malaysian capital on Thursday for about 50 minutes, discussing the war in Ukraine, Iran and Syria, on the sidelines of the ASEAN foreign ministers' meeting.",
		Published: time.Date(2025, 7, 10, 12, 0, 0, 0, time.UTC),
	}
}

func other(i int, title, text string) briefings.Item {
	return briefings.Item{
		FeedURL: "https://other.example/feed", GUID: title, Link: "https://other.example/" + strings.ReplaceAll(strings.ToLower(title), " ", "-"),
		Outlet: "Other", Title: title, Text: text,
		Published: time.Date(2025, 7, 10, 8+i, 0, 0, 0, time.UTC),
	}
}

func unrelated() []briefings.Item {
	return []briefings.Item{
		other(0, "Madrid hits 41C in heat wave", "Temperatures in Madrid reached 41 degrees Celsius on Thursday as the weather agency issued red alerts."),
		other(1, "Tokyo stocks rise on weaker yen", "The Nikkei closed up 0.9% on Thursday as exporters gained after the yen weakened past 147 per dollar."),
		other(2, "Roman mosaic found in Leicester", "Archaeologists uncovered a Roman mosaic under a car park in Leicester, the university said on Thursday."),
	}
}

func TestIngestGroupsOneEventFromTwoOutlets(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, openStore(t, filepath.Join(t.TempDir(), "n.db")))
	stats, err := svc.Ingest(ctx, append([]briefings.Item{meeting("https://monitor.example/a/1", "m1"), wire()}, unrelated()...))
	if err != nil {
		t.Fatal(err)
	}
	if stats.New != 5 || stats.NewStories != 4 {
		t.Errorf("stats = %+v, want 5 new items in 4 stories", stats)
	}
	b, err := svc.Brief(ctx, briefings.Topics{})
	if err != nil {
		t.Fatal(err)
	}
	var meetingEntries int
	for _, e := range b.Entries {
		if strings.Contains(strings.Join(e.Summary, " ")+e.Headline, "Lavrov") {
			meetingEntries++
			if len(e.Sources) != 2 {
				t.Errorf("meeting entry lists %d sources, want both outlets: %+v", len(e.Sources), e.Sources)
			}
		}
	}
	if meetingEntries != 1 {
		t.Errorf("the meeting appears in %d entries, want 1", meetingEntries)
	}
	if len(b.Entries[0].Sources) != 2 {
		t.Errorf("the story told by two outlets should rank first, got %q", b.Entries[0].Headline)
	}
}

// TestIngestLaterTellingJoinsStoredStory checks grouping across batches: a
// second outlet's telling, read in a later poll, joins the stored story.
func TestIngestLaterTellingJoinsStoredStory(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, openStore(t, filepath.Join(t.TempDir(), "n.db")))
	if _, err := svc.Ingest(ctx, append([]briefings.Item{meeting("https://monitor.example/a/1", "m1")}, unrelated()...)); err != nil {
		t.Fatal(err)
	}
	stats, err := svc.Ingest(ctx, []briefings.Item{wire()})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Grown != 1 || stats.NewStories != 0 {
		t.Errorf("stats = %+v, want the wire item to join the stored story", stats)
	}
}

// TestIngestNeverReturnsSeenItems covers dedup across restarts, rewritten
// GUIDs, tracking parameters and fragments, and re-published content.
func TestIngestNeverReturnsSeenItems(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "n.db")
	first := append([]briefings.Item{meeting("https://monitor.example/a/1", "m1"), wire()}, unrelated()...)
	func() {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		svc, _ := newService(t, db)
		if _, err := svc.Ingest(ctx, first); err != nil {
			t.Fatal(err)
		}
	}()

	// A restart: a new process on the same file.
	store := openStore(t, path)
	svc, sum := newService(t, store)
	before, _ := svc.Brief(ctx, briefings.Topics{})
	again := []briefings.Item{
		meeting("https://monitor.example/a/1", "m1"),                                            // the same item
		meeting("https://monitor.example/a/1?utm_source=rss&utm_campaign=feed#top", "new-guid"), // rewritten GUID, tracking link
		meeting("https://mirror.example/copy-of-the-article", "mirror-1"),                       // re-published elsewhere
	}
	again = append(again, unrelated()...)
	stats, err := svc.Ingest(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if stats.New != 0 {
		t.Errorf("after a restart %d seen items came back as new", stats.New)
	}
	if sum.calls.Load() != 0 {
		t.Errorf("seen items were summarized again %d times", sum.calls.Load())
	}
	after, _ := svc.Brief(ctx, briefings.Topics{})
	if len(after.Entries) != len(before.Entries) {
		t.Errorf("briefing changed from %d to %d entries on re-ingesting seen items", len(before.Entries), len(after.Entries))
	}
}

// countingStore counts the reads a briefing costs.
type countingStore struct {
	briefings.Store
	recent atomic.Int64
}

func (c *countingStore) RecentStories(ctx context.Context, since time.Time, limit int) ([]briefings.Story, error) {
	c.recent.Add(1)
	return c.Store.RecentStories(ctx, since, limit)
}

func (c *countingStore) OperatorStories(ctx context.Context, limit int) ([]briefings.Story, error) {
	c.recent.Add(1)
	return c.Store.OperatorStories(ctx, limit)
}

func (c *countingStore) StoriesFromFeeds(ctx context.Context, feeds []string, since time.Time, limit int) ([]briefings.Story, error) {
	c.recent.Add(1)
	return c.Store.StoriesFromFeeds(ctx, feeds, since, limit)
}

func TestBriefIsComposedOncePerChange(t *testing.T) {
	ctx := context.Background()
	store := &countingStore{Store: openStore(t, filepath.Join(t.TempDir(), "n.db"))}
	svc, _ := newService(t, store)
	if _, err := svc.Ingest(ctx, unrelated()); err != nil {
		t.Fatal(err)
	}
	store.recent.Store(0)
	for range 5 {
		if _, err := svc.Brief(ctx, briefings.Topics{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Brief(ctx, briefings.Topics{Include: []string{"madrid"}}); err != nil {
		t.Fatal(err)
	}
	// The candidate stories are read once and shared by both filters.
	if n := store.recent.Load(); n != 1 {
		t.Errorf("6 briefs over 2 filters read stories %d times, want 1", n)
	}
	// A new story invalidates the cached briefing.
	if _, err := svc.Ingest(ctx, []briefings.Item{wire()}); err != nil {
		t.Fatal(err)
	}
	store.recent.Store(0)
	b, _ := svc.Brief(ctx, briefings.Topics{})
	if n := store.recent.Load(); n != 1 {
		t.Errorf("brief after a change read stories %d times, want 1", n)
	}
	found := false
	for _, e := range b.Entries {
		found = found || e.Headline == wire().Title
	}
	if !found {
		t.Error("the briefing after ingest does not show the new story")
	}
}

func TestBriefTopics(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, openStore(t, filepath.Join(t.TempDir(), "n.db")))
	if _, err := svc.Ingest(ctx, append(unrelated(), wire())); err != nil {
		t.Fatal(err)
	}
	b, _ := svc.Brief(ctx, briefings.Topics{Include: []string{"ukraine"}})
	if len(b.Entries) != 1 || b.Entries[0].Headline != wire().Title {
		t.Errorf("/brief ukraine = %+v", b.Entries)
	}
	b, _ = svc.Brief(ctx, briefings.Topics{Include: []string{"yen", "madrid"}})
	if len(b.Entries) != 2 {
		t.Errorf("/brief yen madrid gave %d entries, want 2", len(b.Entries))
	}
	b, _ = svc.Brief(ctx, briefings.Topics{Exclude: []string{"ukraine"}})
	for _, e := range b.Entries {
		if e.Headline == wire().Title {
			t.Error("-ukraine still shows the Ukraine story")
		}
	}
}

func TestSubscriptionLifecycle(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, openStore(t, filepath.Join(t.TempDir(), "n.db")))
	chat := briefings.ChatRef{Platform: "console", ID: "local"}

	if _, err := svc.Unsubscribe(ctx, chat); !errors.Is(err, briefings.ErrNotSubscribed) {
		t.Errorf("unsubscribe before subscribing: %v, want ErrNotSubscribed", err)
	}
	topics, err := svc.ChangeTopics(ctx, chat, []string{"Climate"}, []string{"football"}, nil)
	if err != nil || topics.String() != "+climate -football" {
		t.Fatalf("topics before subscribing = %q, %v", topics.String(), err)
	}
	at, _ := briefings.ParseTimeOfDay("07:30")
	sub, err := svc.Subscribe(ctx, chat, briefings.SubscribeRequest{At: &at, Zone: mustZone(t, "Europe/Berlin")})
	if err != nil {
		t.Fatal(err)
	}
	// 18:00 UTC on 10 July is 20:00 in Berlin: the next 07:30 is tomorrow.
	if want := time.Date(2025, 7, 11, 5, 30, 0, 0, time.UTC); !sub.NextDue.Equal(want) {
		t.Errorf("next due %s, want %s", sub.NextDue, want)
	}
	if sub.Topics.String() != "+climate -football" {
		t.Errorf("topics set before subscribing were lost: %q", sub.Topics.String())
	}
	st, _ := svc.Status(ctx, chat)
	if !st.Subscribed() || st.Zone.String() != "Europe/Berlin" {
		t.Errorf("status = %+v", st)
	}
	// Subscribing again with only a zone keeps the time.
	sub, _ = svc.Subscribe(ctx, chat, briefings.SubscribeRequest{Zone: mustZone(t, "Asia/Kathmandu")})
	if sub.At != at || sub.Zone.String() != "Asia/Kathmandu" {
		t.Errorf("resubscribe = %s %s, want 07:30 Asia/Kathmandu", sub.At, sub.Zone)
	}
	if _, err := svc.Unsubscribe(ctx, chat); err != nil {
		t.Fatal(err)
	}
	st, _ = svc.Status(ctx, chat)
	if st.Subscribed() {
		t.Error("still subscribed after /unsubscribe")
	}
	if _, err := briefings.ParseZone("Mars/Olympus"); !errors.Is(err, briefings.ErrUnknownZone) {
		t.Errorf("subscribe with Mars/Olympus: %v, want ErrUnknownZone", err)
	}
}

// TestIngestHostileItems checks that items with control characters, huge
// texts and future dates are stored tamed, and the store stays usable.
func TestIngestHostileItems(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, openStore(t, filepath.Join(t.TempDir(), "n.db")))
	items := []briefings.Item{
		{Link: "https://x.example/1", Title: "Evil\x1b[2J\x1b[31mTitle\u202e", Text: "Body\x00text with NUL. Second sentence.", Published: july10.Add(-time.Hour)},
		{Link: "https://x.example/2", Title: strings.Repeat("long ", 1000), Text: strings.Repeat("word ", 100_000), Published: july10.Add(-time.Hour)},
		{Link: "https://x.example/3", Title: "From the future", Text: "Dated next year.", Published: july10.AddDate(1, 0, 0)},
		{Link: "", Title: "", Text: ""},
		{Link: "https://x.example/5", Title: "Bad UTF-8 \xff\xfe", Text: "Text \xc3\x28 here.", Published: july10.Add(-time.Hour)},
	}
	if _, err := svc.Ingest(ctx, items); err != nil {
		t.Fatal(err)
	}
	b, err := svc.Brief(ctx, briefings.Topics{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range b.Entries {
		if strings.ContainsAny(e.Headline, "\x1b\x00\u202e") || len(e.Headline) > 2100 {
			t.Errorf("headline not tamed: %.80q", e.Headline)
		}
		if e.Published.After(july10) {
			t.Errorf("a future date was kept: %s", e.Published)
		}
	}
	if len(b.Entries) != 4 {
		t.Errorf("%d entries, want the 4 items that carry something", len(b.Entries))
	}
}

// TestDeactivateResumeMove covers what platforms report about chats: gone
// (deliveries stop, /status says why, /start brings them back unless the
// user unsubscribed on purpose) and moved (the subscription follows).
func TestDeactivateResumeMove(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, openStore(t, filepath.Join(t.TempDir(), "n.db")))
	chat := briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "-42"}
	if _, err := svc.Subscribe(ctx, chat, briefings.SubscribeRequest{Zone: briefings.UTC}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Deactivate(ctx, chat, "the bot was removed from the group"); err != nil {
		t.Fatal(err)
	}
	st, _ := svc.Status(ctx, chat)
	if st.Subscribed() || st.Subscription.LastError != "the bot was removed from the group" {
		t.Errorf("after Deactivate: %+v", st.Subscription)
	}
	sub, resumed, err := svc.Resume(ctx, chat)
	if err != nil || !resumed || !sub.Active || sub.LastError != "" {
		t.Errorf("Resume = %+v, %v, %v", sub, resumed, err)
	}

	to := briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "-1001"}
	if err := svc.MoveChat(ctx, chat, to); err != nil {
		t.Fatal(err)
	}
	if st, _ := svc.Status(ctx, to); !st.Subscribed() {
		t.Error("the subscription did not follow the chat to its new id")
	}
	if err := svc.MoveChat(ctx, chat, to); err != nil {
		t.Errorf("moving a chat without a subscription: %v, want nothing to do", err)
	}

	if _, err := svc.Unsubscribe(ctx, to); err != nil {
		t.Fatal(err)
	}
	if _, resumed, _ := svc.Resume(ctx, to); resumed {
		t.Error("/start resumed a subscription the user had stopped")
	}
}

// TestIngestFoldsStoriesALaterTellingLinks: the winner's and the loser's
// tellings of one final are stored as two stories (each came before
// anything linked them); a third telling naming both joins one, the other is
// folded into it, and /brief shows the final once, with all three links.
func TestIngestFoldsStoriesALaterTellingLinks(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, filepath.Join(t.TempDir(), "n.db"))
	svc, _ := newService(t, store)
	at := time.Date(2025, 7, 10, 9, 0, 0, 0, time.UTC)
	tellings := []briefings.Item{
		{Link: "https://a.example/winner", Outlet: "A", Published: at,
			Title: "Alcaraz saves three match points to beat Sinner in epic French Open final",
			Text:  "Carlos Alcaraz won the French Open on Sunday, saving three championship points in a five-set comeback."},
		{Link: "https://b.example/loser", Outlet: "B", Published: at.Add(time.Hour),
			Title: "Sinner falls to Alcaraz after five-and-a-half hours at Roland Garros",
			Text:  "Jannik Sinner came within a point of the title before losing the longest final in Roland Garros history."},
	}
	var ids []int64
	for _, it := range tellings {
		got, err := store.SaveStories(ctx, []briefings.StoryChange{{Headline: it.Title, FirstSeen: it.Published, Updated: it.Published, NewItems: []briefings.Item{it}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got[0])
	}
	bridge := briefings.Item{
		Link: "https://c.example/final", Outlet: "C", Published: at.Add(2 * time.Hour),
		Title: "Alcaraz beats Sinner in French Open final at Roland Garros after saving three match points",
		Text: "Carlos Alcaraz came back from two sets down and saved three match points to beat Jannik Sinner " +
			"in a five-and-a-half-hour French Open final at Roland Garros, the longest in the tournament's history.",
	}
	stats, err := svc.Ingest(ctx, append([]briefings.Item{bridge}, unrelated()...))
	if err != nil {
		t.Fatal(err)
	}
	if stats.Merged != 1 {
		t.Errorf("stats = %+v, want one stored story folded into the other", stats)
	}
	if _, err := store.Story(ctx, ids[0]); !errors.Is(err, briefings.ErrNotFound) {
		t.Errorf("the older story %d is still there (%v); it should have been folded into %d", ids[0], err, ids[1])
	}
	b, err := svc.Brief(ctx, briefings.Topics{})
	if err != nil {
		t.Fatal(err)
	}
	finals := 0
	for _, st := range b.Entries {
		if strings.Contains(st.Headline, "Alcaraz") || strings.Contains(st.Headline, "Sinner") {
			finals++
			if len(st.Sources) != 3 {
				t.Errorf("the final carries %d sources, want the three tellings: %+v", len(st.Sources), st.Sources)
			}
		}
	}
	if finals != 1 {
		t.Errorf("/brief shows the final %d times, want once", finals)
	}
}
