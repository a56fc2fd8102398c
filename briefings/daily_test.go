package briefings

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func instant(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// dailySub is a subscription at "at" in zone, due at the RFC 3339 instant due.
func dailySub(t *testing.T, zone, at, due string) Subscription {
	t.Helper()
	tod, err := ParseTimeOfDay(at)
	if err != nil {
		t.Fatal(err)
	}
	return Subscription{ID: 7, Chat: ChatRef{Platform: PlatformTelegram, ID: "1"}, At: tod,
		Zone: ZoneOf(mustZone(t, zone)), Active: true, NextDue: instant(t, due)}
}

// TestPlanDaily: what a claimed subscription gets, from its due instant, its
// ledger entry of the due date and the time now — the catch-up rules of
// README's "Daily briefings" (late the same local day, once; an earlier day
// skipped unless part of it went out; a finished day never sent again).
func TestPlanDaily(t *testing.T) {
	pending := func(sent int) *Delivery { return &Delivery{State: DeliveryPending, MessagesSent: sent} }
	tests := []struct {
		name          string
		zone, at, due string
		entry         *Delivery // nil: none in the ledger
		now           string
		want          DailyStep
		wantDate      string
		wantNext      string // for DailyFinished and DailySkip: the NextDue recorded
	}{
		{"due now, nothing recorded: compose", "Europe/Berlin", "07:30", "2025-06-02T07:30:00+02:00", nil, "2025-06-02T07:30:05+02:00", DailyCompose, "2025-06-02", ""},
		{"down at 07:30, back at 11:00 the same local day: delivered late", "Europe/Berlin", "07:30", "2025-06-02T07:30:00+02:00", nil, "2025-06-02T11:00:00+02:00", DailyCompose, "2025-06-02", ""},
		{"due on an earlier local date: skipped, today's still ahead", "Europe/Berlin", "07:30", "2025-06-01T07:30:00+02:00", nil, "2025-06-02T06:00:00+02:00", DailySkip, "2025-06-01", "2025-06-02T07:30:00+02:00"},
		{"due on an earlier local date: skipped, today's due already (delivered late next)", "Europe/Berlin", "07:30", "2025-06-01T07:30:00+02:00", nil, "2025-06-02T11:00:00+02:00", DailySkip, "2025-06-01", "2025-06-02T07:30:00+02:00"},
		{"a month down: skipped, due next within a day", "UTC", "07:00", "2025-05-01T07:00:00Z", nil, "2025-06-02T08:00:00Z", DailySkip, "2025-05-01", "2025-06-02T07:00:00Z"},
		{"Tokyo: due 08:00 local is 23:00 UTC the day before; later that UTC day is the same local date", "Asia/Tokyo", "08:00", "2025-06-03T08:00:00+09:00", nil, "2025-06-03T17:00:00+09:00", DailyCompose, "2025-06-03", ""},
		{"pending today, nothing sent yet: resume", "UTC", "07:00", "2025-06-02T07:00:00Z", pending(0), "2025-06-02T09:00:00Z", DailyResume, "2025-06-02", ""},
		{"pending of an earlier day, partly sent: finished, not left half sent", "UTC", "07:00", "2025-06-01T07:00:00Z", pending(2), "2025-06-02T09:00:00Z", DailyResume, "2025-06-01", ""},
		{"pending of an earlier day, nothing sent: skipped", "UTC", "07:00", "2025-06-01T07:00:00Z", pending(0), "2025-06-02T09:00:00Z", DailySkip, "2025-06-01", "2025-06-02T07:00:00Z"},
		{"sent already today (time changed to later): moved on, not sent again", "UTC", "09:00", "2025-06-02T09:00:00Z", &Delivery{State: DeliverySent, FinishedAt: instant(t, "2025-06-02T07:00:02Z")}, "2025-06-02T09:00:00Z", DailyFinished, "2025-06-02", "2025-06-03T09:00:00Z"},
		{"Berlin spring gap: 02:30 due at 03:00, the local date of the gap night", "Europe/Berlin", "02:30", "2025-03-30T03:00:00+02:00", nil, "2025-03-30T03:00:00+02:00", DailyCompose, "2025-03-30", ""},
		{"Berlin fall-back: 02:30 finished at its first occurrence is not sent at the second", "Europe/Berlin", "02:30", "2025-10-26T02:30:00+02:00", &Delivery{State: DeliverySent}, "2025-10-26T02:30:00+01:00", DailyFinished, "2025-10-26", "2025-10-27T02:30:00+01:00"},
		{"Apia: the day after the skipped 30 December", "Pacific/Apia", "07:00", "2011-12-29T07:00:00-10:00", nil, "2011-12-31T08:00:00+14:00", DailySkip, "2011-12-29", "2011-12-31T07:00:00+14:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := dailySub(t, tt.zone, tt.at, tt.due)
			now := instant(t, tt.now)
			var entry Delivery
			if tt.entry != nil {
				entry = *tt.entry
			}
			got := PlanDaily(sub, entry, tt.entry != nil, now)
			if got.Step != tt.want || got.LocalDate != tt.wantDate {
				t.Fatalf("step %v for %s, want %v for %s", got.Step, got.LocalDate, tt.want, tt.wantDate)
			}
			if tt.wantNext == "" {
				if got.Result != (DeliveryResult{}) {
					t.Errorf("result %+v for a delivery that goes on", got.Result)
				}
				return
			}
			r := got.Result
			if !r.NextDue.Equal(instant(t, tt.wantNext)) {
				t.Errorf("next due %s, want %s", r.NextDue.In(sub.Zone.Location()).Format(time.RFC3339), tt.wantNext)
			}
			if err := r.Validate(); err != nil || r.SubscriptionID != sub.ID || r.LocalDate != tt.wantDate || !r.Due.Equal(sub.NextDue) {
				t.Errorf("result %+v (%v): want a final result for subscription %d, %s, due %s", r, err, sub.ID, tt.wantDate, sub.NextDue)
			}
			switch tt.want {
			case DailySkip:
				if r.State != DeliverySkipped || !r.FinishedAt.Equal(now) {
					t.Errorf("skip recorded as %s at %s", r.State, r.FinishedAt)
				}
			case DailyFinished:
				if r.State != tt.entry.State || (!tt.entry.FinishedAt.IsZero() && !r.FinishedAt.Equal(tt.entry.FinishedAt)) {
					t.Errorf("finished entry recorded as %s at %s, want the entry's %s at %s", r.State, r.FinishedAt, tt.entry.State, tt.entry.FinishedAt)
				}
			}
		})
	}
}

// TestDailyResult: whatever a day's outcome, the subscription is next due at
// its time of day on the next local date, by NextDelivery's DST rules.
func TestDailyResult(t *testing.T) {
	tests := []struct {
		zone, at, due string
		want          string
	}{
		{"Europe/Berlin", "07:30", "2025-03-29T07:30:00+01:00", "2025-03-30T07:30:00+02:00"},       // across spring-forward
		{"Europe/Berlin", "02:30", "2025-03-30T03:00:00+02:00", "2025-03-31T02:30:00+02:00"},       // the gap's 03:00, then 02:30 again
		{"Europe/Berlin", "02:30", "2025-10-26T02:30:00+02:00", "2025-10-27T02:30:00+01:00"},       // once on the fall-back night
		{"America/New_York", "01:30", "2025-11-02T01:30:00-04:00", "2025-11-03T01:30:00-05:00"},    // ditto
		{"Pacific/Apia", "07:00", "2011-12-29T07:00:00-10:00", "2011-12-31T07:00:00+14:00"},        // the skipped date gets none
		{"Asia/Kathmandu", "07:00", "2025-06-01T07:00:00+05:45", "2025-06-02T07:00:00+05:45"},      // odd offsets
		{"Australia/Lord_Howe", "02:15", "2025-10-04T02:15:00+10:30", "2025-10-05T02:30:00+11:00"}, // a half-hour gap
		{"UTC", "23:59", "2025-12-31T23:59:00Z", "2026-01-01T23:59:00Z"},                           // the year turns
	}
	now := instant(t, "2030-01-01T00:00:00Z")
	for _, tt := range tests {
		sub := dailySub(t, tt.zone, tt.at, tt.due)
		for _, state := range []DeliveryState{DeliverySent, DeliveryEmpty, DeliveryFailed, DeliveryGone} {
			r := DailyResult(sub, state, "why", now)
			want := DeliveryResult{SubscriptionID: sub.ID, LocalDate: sub.DueDate(), Due: sub.NextDue, State: state, Error: "why",
				FinishedAt: now, NextDue: instant(t, tt.want)}
			if diff := cmp.Diff(want, r); diff != "" {
				t.Errorf("%s %s due %s, %s (-want +got):\n%s", tt.zone, tt.at, tt.due, state, diff)
			}
		}
	}
}

func dailyStory(id int64, updated time.Time, title string) Story {
	return Story{ID: id, Headline: title, Updated: updated,
		Items: []Item{{Title: title, Link: fmt.Sprintf("https://news.example/%d", id), Outlet: "Example", Published: updated}}}
}

// TestNewDailyDelivery: a first briefing covers the last day, never a
// backlog; a later one what is new since the last was composed, minus what it
// carried; topics filter; nothing new means nothing to send.
func TestNewDailyDelivery(t *testing.T) {
	now := instant(t, "2025-06-02T07:00:00Z")
	sub := dailySub(t, "UTC", "07:00", "2025-06-02T07:00:00Z")
	old := dailyStory(1, now.Add(-25*time.Hour), "old drought")
	dayOld := dailyStory(2, now.Add(-23*time.Hour), "flood")
	carried := dailyStory(3, now.Add(-2*time.Hour), "drought carried")
	fresh := dailyStory(4, now.Add(-time.Hour), "drought fresh")
	stories := []Story{fresh, carried, dayOld, old}
	lastAt := now.Add(-3 * time.Hour)
	last := Delivery{ComposedAt: lastAt, StoryIDs: []int64{3}}
	tests := []struct {
		name    string
		topics  Topics
		last    Delivery
		stories []Story
		want    []int64
		since   time.Time
	}{
		{"first briefing: the last 24 hours", Topics{}, Delivery{}, stories, []int64{4, 3, 2}, now.Add(-FirstBriefingWindow)},
		{"after a week away: still the last 24 hours", Topics{}, Delivery{ComposedAt: now.Add(-7 * 24 * time.Hour)}, stories, []int64{4, 3, 2}, now.Add(-FirstBriefingWindow)},
		{"new since the last briefing, minus what it carried", Topics{}, last, stories, []int64{4}, lastAt},
		{"filtered by topics", Topics{Include: []string{"flood"}}, Delivery{}, stories, []int64{2}, now.Add(-FirstBriefingWindow)},
		{"nothing new", Topics{}, last, []Story{carried, old}, []int64{}, lastAt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sub
			s.Topics = tt.topics
			d := NewDailyDelivery(s, tt.last, tt.stories, now, 5)
			if diff := cmp.Diff(tt.want, d.StoryIDs); diff != "" {
				t.Errorf("stories (-want +got):\n%s", diff)
			}
			if d.NothingNew() != (len(tt.want) == 0) {
				t.Errorf("NothingNew = %v with %d stories", d.NothingNew(), len(tt.want))
			}
			if d.State != DeliveryPending || d.SubscriptionID != s.ID || d.LocalDate != "2025-06-02" || !d.Due.Equal(s.NextDue) ||
				!d.Since.Equal(tt.since) || !d.ComposedAt.Equal(now) || !d.CreatedAt.Equal(now) || len(d.Briefing.Entries) != len(tt.want) {
				t.Errorf("entry %+v, want pending for %s since %s composed at %s", d, "2025-06-02", tt.since, now)
			}
			if err := d.Validate(); err != nil {
				t.Errorf("a store would refuse it: %v", err)
			}
		})
	}
	if d := NewDailyDelivery(sub, Delivery{}, stories, now, 2); len(d.StoryIDs) != 2 {
		t.Errorf("size 2 gave %d stories", len(d.StoryIDs))
	}
}

type countingStories struct {
	version int64
	loads   int
	since   time.Time
	limit   int
	stories []Story
}

func (c *countingStories) RecentStories(_ context.Context, since time.Time, limit int) ([]Story, error) {
	c.loads++
	c.since, c.limit = since, limit
	return c.stories, nil
}

func (c *countingStories) StoriesVersion(context.Context) (int64, error) { return c.version, nil }

// TestDailyStories: the candidates are the last day (and an hour) of
// stories, loaded once for a burst of briefings, again when the story set
// changes or after a minute.
func TestDailyStories(t *testing.T) {
	ctx := context.Background()
	now := instant(t, "2025-06-02T07:00:00Z")
	store := &countingStories{version: 1}
	c := NewDailyStories(store)
	for i := range 100 {
		if _, err := c.Candidates(ctx, now.Add(time.Duration(i)*500*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if store.loads != 1 || !store.since.Equal(now.Add(-25*time.Hour)) || store.limit != DailyCandidates {
		t.Errorf("a burst within a minute: %d loads since %s (limit %d), want 1 since %s", store.loads, store.since, store.limit, now.Add(-25*time.Hour))
	}
	store.version = 2
	c.Candidates(ctx, now.Add(time.Minute-time.Second))
	if store.loads != 2 {
		t.Errorf("after the story set changed: %d loads, want 2", store.loads)
	}
	c.Candidates(ctx, now.Add(2*time.Minute))
	if store.loads != 3 {
		t.Errorf("after a minute: %d loads, want 3", store.loads)
	}
	got, _ := c.Candidates(ctx, now.Add(2*time.Minute))
	if got == nil || store.loads != 3 {
		t.Errorf("an empty story set is cached as empty, not reloaded: %v, %d loads", got, store.loads)
	}
}
