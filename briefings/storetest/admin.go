package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/briefings"
)

// AdminStore is a store with the reads the operator's panel (bot/admin) makes.
type AdminStore interface {
	DeliveryStore
	FeedStatuses(ctx context.Context, q briefings.FeedQuery) ([]briefings.FeedStatus, error)
	CountFeeds(ctx context.Context) (briefings.FeedCount, error)
	FeedItems(ctx context.Context, feedURL string, limit int) ([]briefings.FeedItem, error)
	RecordFetchResult(ctx context.Context, feedURL, result string) error
	ScheduleFetch(ctx context.Context, feedURL string, at time.Time) error
	SubscriptionTotals(ctx context.Context, dueBefore time.Time) ([]briefings.SubscriptionTotal, error)
	ListSubscriptions(ctx context.Context, q briefings.SubscriptionQuery) ([]briefings.SubscriptionRow, error)
	SubscriptionByID(ctx context.Context, id int64) (briefings.SubscriptionRow, error)
	DeliveryHistory(ctx context.Context, subscriptionID int64, limit int) ([]briefings.Delivery, error)
	CountDeliveries(ctx context.Context, since time.Time) ([]briefings.DeliveryCount, error)
	SendsPerMinute(ctx context.Context, since time.Time) ([]briefings.SendCount, error)
	RetryQueue(ctx context.Context, now time.Time, limit int) ([]briefings.RetryEntry, error)
}

// RunAdmin runs the contract of the panel's reads against stores made by
// open, which returns a new, empty store for each subtest.
//
// Beyond the method comments it assumes that the store stamps an item's
// ingestion and a message's send with its own clock, the real one.
func RunAdmin(t *testing.T, open func(t *testing.T) AdminStore) {
	t.Run("Feeds", func(t *testing.T) { testAdminFeeds(t, open) })
	t.Run("FeedItems", func(t *testing.T) { testAdminFeedItems(t, open) })
	t.Run("Subscriptions", func(t *testing.T) { testAdminSubscriptions(t, open) })
	t.Run("Deliveries", func(t *testing.T) { testAdminDeliveries(t, open) })
}

func feedStatuses(t *testing.T, s AdminStore, q briefings.FeedQuery) []briefings.FeedStatus {
	t.Helper()
	got, err := s.FeedStatuses(t.Context(), q)
	if err != nil {
		t.Fatalf("FeedStatuses(%+v): %v", q, err)
	}
	return got
}

func feedURLs(fs []briefings.FeedStatus) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.URL
	}
	return out
}

func testAdminFeeds(t *testing.T, open func(t *testing.T) AdminStore) {
	s := open(t)
	ctx := t.Context()
	now := time.Now()
	addSources(t, s, feedA, feedB, feedC)
	failing := briefings.Source{URL: feedB, Title: "B", LastFetchedAt: at(0), LastError: "fetch: HTTP 500", Failures: 3, NextFetchAt: at(1)}
	if err := s.SaveSourceState(ctx, failing); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordFetchResult(ctx, feedB, briefings.FetchResultError); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordFetchResult(ctx, feedC, briefings.FetchResultNotModified); err != nil {
		t.Fatal(err)
	}
	fromC := item(1)
	fromC.FeedURL = feedC
	fromA := item(2)
	fromA.FeedURL = feedA
	save(t, s, newStory("one", fromC, item(3)), newStory("two", fromA))
	if err := s.RecordFetchResult(ctx, "https://nowhere.example/feed", briefings.FetchResultOK); !errors.Is(err, briefings.ErrNotFound) {
		t.Errorf("RecordFetchResult of an unlisted feed: %v, want ErrNotFound", err)
	}

	all := feedStatuses(t, s, briefings.FeedQuery{Now: now, Limit: 10})
	if diff := cmp.Diff([]string{feedB, feedA, feedC}, feedURLs(all)); diff != "" {
		t.Fatalf("failing feeds first, then in the order added (-want +got):\n%s", diff)
	}
	b := all[0]
	if b.Source.LastError != failing.LastError || b.Failures != 3 || b.Title != "B" || !b.LastFetchedAt.Equal(at(0)) ||
		!b.NextFetchAt.Equal(at(1)) || b.LastResult != briefings.FetchResultError || b.ID == 0 {
		t.Errorf("failing feed = %+v, want its saved state, result and id", b)
	}
	if all[2].LastResult != briefings.FetchResultNotModified || all[1].LastResult != "" {
		t.Errorf("results = %q, %q; want not_modified, and none before a fetch", all[2].LastResult, all[1].LastResult)
	}
	if all[1].ItemsLastDay != 1 || all[2].ItemsLastDay != 1 || b.ItemsLastDay != 0 {
		t.Errorf("items in the last day = %d, %d, %d; want 0, 1, 1", b.ItemsLastDay, all[1].ItemsLastDay, all[2].ItemsLastDay)
	}
	if later := feedStatuses(t, s, briefings.FeedQuery{Now: now.Add(25 * time.Hour), ID: all[2].ID, Limit: 10}); len(later) != 1 || later[0].ItemsLastDay != 0 {
		t.Errorf("a day later, one feed by id: %+v; want it, with no items in its last day", later)
	}
	if got := feedURLs(feedStatuses(t, s, briefings.FeedQuery{Now: now, FailingOnly: true, Limit: 10})); !cmp.Equal(got, []string{feedB}) {
		t.Errorf("failing only: %v", got)
	}
	if got := feedURLs(feedStatuses(t, s, briefings.FeedQuery{Now: now, Offset: 1, Limit: 1})); !cmp.Equal(got, []string{feedA}) {
		t.Errorf("second page of one: %v, want [%s]", got, feedA)
	}
	if c, err := s.CountFeeds(ctx); err != nil || c != (briefings.FeedCount{Total: 3, Failing: 1}) {
		t.Errorf("CountFeeds = %+v, %v; want 3 of which 1 failing", c, err)
	}

	soon := at(-5)
	if err := s.ScheduleFetch(ctx, feedB, soon); err != nil {
		t.Fatal(err)
	}
	if got := feedStatuses(t, s, briefings.FeedQuery{Now: now, ID: b.ID, Limit: 1}); len(got) != 1 || !got[0].NextFetchAt.Equal(soon) || got[0].Failures != 3 {
		t.Errorf("after ScheduleFetch: %+v; want next fetch %v and the rest kept", got, soon)
	}
	if err := s.ScheduleFetch(ctx, "https://nowhere.example/feed", soon); !errors.Is(err, briefings.ErrNotFound) {
		t.Errorf("ScheduleFetch of an unlisted feed: %v, want ErrNotFound", err)
	}
}

func testAdminFeedItems(t *testing.T, open func(t *testing.T) AdminStore) {
	s := open(t)
	one, two, other := item(1), item(2), item(3)
	other.FeedURL = feedB
	ids := save(t, s, newStory("first story", one, other))
	ids = append(ids, save(t, s, newStory("second story", two))...)
	got, err := s.FeedItems(t.Context(), item(0).FeedURL, 10)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Title, Headline string
		StoryID         int64
		StoryItems      int
	}
	var rows []row
	for _, it := range got {
		rows = append(rows, row{it.Title, it.StoryHeadline, it.StoryID, it.StoryItems})
		if it.IngestedAt.IsZero() || it.Link == "" || it.Outlet == "" {
			t.Errorf("item %+v lacks its link, outlet or ingestion time", it)
		}
	}
	want := []row{{two.Title, "second story", ids[1], 1}, {one.Title, "first story", ids[0], 2}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("the feed's items, newest first, with their stories (-want +got):\n%s", diff)
	}
	if got, _ := s.FeedItems(t.Context(), item(0).FeedURL, 1); len(got) != 1 {
		t.Errorf("limit 1: %d items", len(got))
	}
}

func listSubs(t *testing.T, s AdminStore, q briefings.SubscriptionQuery) []string {
	t.Helper()
	rows, err := s.ListSubscriptions(t.Context(), q)
	if err != nil {
		t.Fatalf("ListSubscriptions(%+v): %v", q, err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Chat.String()
	}
	return out
}

func testAdminSubscriptions(t *testing.T, open func(t *testing.T) AdminStore) {
	s := open(t)
	ctx := t.Context()
	tg, dc := briefings.PlatformTelegram, briefings.PlatformDiscord
	subscribe(t, s, tg, "1", at(2), true)
	subscribe(t, s, tg, "2", at(0), true)
	gone := subscribe(t, s, tg, "3", at(0), true)
	subscribe(t, s, dc, "1", at(5), true)
	subscribe(t, s, dc, "9", at(0), false)

	// Chat tg:3 is found gone by its delivery, then deactivated.
	claim(t, s, ownerA, tg, at(0), 3)
	if err := s.FinishDelivery(ctx, ownerA, briefings.DeliveryResult{SubscriptionID: gone.ID, LocalDate: "2025-03-14", Due: at(0),
		State: briefings.DeliveryGone, Error: "the bot was blocked by the user", NextDue: at(24), FinishedAt: at(0).Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	gone.Active, gone.LastError, gone.NextDue = false, "the bot was blocked by the user", at(24)
	if _, err := s.SaveSubscription(ctx, gone); err != nil {
		t.Fatal(err)
	}

	totals, err := s.SubscriptionTotals(ctx, at(3))
	if err != nil {
		t.Fatal(err)
	}
	want := []briefings.SubscriptionTotal{{Platform: dc, Active: 1, Deactivated: 1, DueSoon: 0}, {Platform: tg, Active: 2, Deactivated: 1, DueSoon: 2}}
	if diff := cmp.Diff(want, totals); diff != "" {
		t.Errorf("SubscriptionTotals (-want +got):\n%s", diff)
	}

	for _, c := range []struct {
		name string
		q    briefings.SubscriptionQuery
		want []string
	}{
		{"active of a platform", briefings.SubscriptionQuery{Platform: tg, State: briefings.SubscriptionsActive, Limit: 10}, []string{"telegram:1", "telegram:2"}},
		{"deactivated of a platform", briefings.SubscriptionQuery{Platform: tg, State: briefings.SubscriptionsDeactivated, Limit: 10}, []string{"telegram:3"}},
		{"due soon, earliest first", briefings.SubscriptionQuery{Platform: tg, State: briefings.SubscriptionsDueSoon, DueBefore: at(3), Limit: 10}, []string{"telegram:2", "telegram:1"}},
		{"a page after an id", briefings.SubscriptionQuery{Platform: tg, AfterID: gone.ID - 2, Limit: 1}, []string{"telegram:2"}},
		{"a chat id on any platform", briefings.SubscriptionQuery{ChatID: "1", Limit: 10}, []string{"telegram:1", "discord:1"}},
		{"an unknown chat id", briefings.SubscriptionQuery{ChatID: "77", Limit: 10}, []string{}},
	} {
		if diff := cmp.Diff(c.want, listSubs(t, s, c.q), equate); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}

	// A chat that moves to another platform's id keeps the counts right, and
	// one that moves onto an existing subscription replaces it.
	if err := s.MoveSubscription(ctx, briefings.ChatRef{Platform: dc, ID: "9"}, briefings.ChatRef{Platform: tg, ID: "2"}); err != nil {
		t.Fatal(err)
	}
	totals, err = s.SubscriptionTotals(ctx, at(3))
	if err != nil {
		t.Fatal(err)
	}
	want = []briefings.SubscriptionTotal{{Platform: dc, Active: 1}, {Platform: tg, Active: 1, Deactivated: 2, DueSoon: 1}}
	if diff := cmp.Diff(want, totals); diff != "" {
		t.Errorf("SubscriptionTotals after a move (-want +got):\n%s", diff)
	}

	row, err := s.SubscriptionByID(ctx, gone.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.Active || row.LastError != gone.LastError || !row.DeactivatedAt.Equal(at(0).Add(time.Minute)) {
		t.Errorf("deactivated subscription = %+v; want its reason and when its chat was found gone", row)
	}
	if others, _ := s.ListSubscriptions(ctx, briefings.SubscriptionQuery{ChatID: "2", Limit: 1}); len(others) != 1 || !others[0].DeactivatedAt.IsZero() {
		t.Errorf("unsubscribed chat = %+v; want no deactivation time (no delivery found it gone)", others)
	}
	if _, err := s.SubscriptionByID(ctx, gone.ID+100); !errors.Is(err, briefings.ErrNotFound) {
		t.Errorf("SubscriptionByID of no subscription: %v, want ErrNotFound", err)
	}
}

func testAdminDeliveries(t *testing.T, open func(t *testing.T) AdminStore) {
	s := open(t)
	ctx := t.Context()
	tg := briefings.PlatformTelegram
	sent := subscribe(t, s, tg, "1", at(0), true)
	busy := subscribe(t, s, tg, "2", at(0), true)
	held := subscribe(t, s, tg, "3", at(0), true)
	claim(t, s, ownerA, tg, at(0), 3)

	for _, sub := range []briefings.Subscription{sent, busy} {
		if _, _, err := s.StartDelivery(ctx, ownerA, pending(sub, "2025-03-14")); err != nil {
			t.Fatal(err)
		}
	}
	before := time.Now().UTC().Truncate(time.Minute)
	for n := 1; n <= 2; n++ {
		if err := s.RecordProgress(ctx, ownerA, sent.ID, "2025-03-14", n); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordProgress(ctx, ownerA, busy.ID, "2025-03-14", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishDelivery(ctx, ownerA, briefings.DeliveryResult{SubscriptionID: sent.ID, LocalDate: "2025-03-14", Due: at(0),
		State: briefings.DeliverySent, NextDue: at(24), FinishedAt: at(0).Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeferClaim(ctx, ownerA, held.ID, at(2)); err != nil {
		t.Fatal(err)
	}

	sends, err := s.SendsPerMinute(ctx, before.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range sends {
		if c.Platform != tg || c.Minute.Before(before) || c.Minute.Second() != 0 {
			t.Errorf("send count %+v: want telegram, in a whole minute from %v", c, before)
		}
		total += c.Sends
	}
	if total != 3 {
		t.Errorf("sends per minute %+v add up to %d; want the 3 messages recorded", sends, total)
	}
	if later, _ := s.SendsPerMinute(ctx, time.Now().Add(time.Hour)); len(later) != 0 {
		t.Errorf("sends after an hour from now: %+v", later)
	}

	counts, err := s.CountDeliveries(ctx, at(-1))
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := []briefings.DeliveryCount{{State: briefings.DeliveryPending, Count: 1}, {State: briefings.DeliverySent, Count: 1}}
	if diff := cmp.Diff(wantCounts, counts); diff != "" {
		t.Errorf("CountDeliveries (-want +got):\n%s", diff)
	}
	if later, _ := s.CountDeliveries(ctx, at(1)); len(later) != 0 {
		t.Errorf("deliveries created after they were: %+v", later)
	}

	history, err := s.DeliveryHistory(ctx, sent.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 1 || history[0].State != briefings.DeliverySent || history[0].MessagesSent != 2 || history[0].LocalDate != "2025-03-14" {
		t.Errorf("DeliveryHistory = %+v; want the sent day with its 2 messages", history)
	}

	if n, err := s.PruneDeliveries(ctx, at(1)); err != nil || n != 1 {
		t.Fatalf("PruneDeliveries = %d, %v; want the finished entry gone", n, err)
	}
	counts, _ = s.CountDeliveries(ctx, at(-1))
	if diff := cmp.Diff(wantCounts[:1], counts); diff != "" {
		t.Errorf("CountDeliveries after pruning (-want +got):\n%s", diff)
	}

	queue, err := s.RetryQueue(ctx, at(1), 10)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		Chat         string
		Date         string
		MessagesSent int
		Owner        string
		Until        time.Time
	}
	var gotQ []entry
	for _, e := range queue {
		gotQ = append(gotQ, entry{e.Chat.String(), e.LocalDate, e.MessagesSent, e.Owner, e.Until})
	}
	wantQ := []entry{
		{"telegram:2", "2025-03-14", 1, ownerA, at(1)},
		{"telegram:3", "", 0, "", at(2)},
	}
	if diff := cmp.Diff(wantQ, gotQ); diff != "" {
		t.Errorf("RetryQueue: the pending delivery, then the deferral (-want +got):\n%s", diff)
	}
	if got, _ := s.RetryQueue(ctx, at(3), 10); len(got) != 1 {
		t.Errorf("after the deferral ended: %+v; want the pending delivery only", got)
	}
}
