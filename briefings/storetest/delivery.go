package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/briefings"
)

// DeliveryStore is a store that keeps subscriptions and the delivery ledger.
type DeliveryStore interface {
	briefings.Store
	briefings.DeliveryStore
}

// RunDelivery runs the contract of briefings.DeliveryStore against stores
// made by open, which returns a new, empty store for each subtest.
//
// Beyond the interface's comments it assumes that a finished delivery keeps
// its StoryIDs and drops its Briefing, and that a claim's lease is compared
// with ClaimRequest.Now (the store has no clock of its own).
func RunDelivery(t *testing.T, open func(t *testing.T) DeliveryStore) {
	t.Run("ClaimDue", func(t *testing.T) { testClaimDue(t, open) })
	t.Run("Leases", func(t *testing.T) { testLeases(t, open) })
	t.Run("Ledger", func(t *testing.T) { testLedger(t, open) })
	t.Run("FinishDelivery", func(t *testing.T) { testFinishDelivery(t, open) })
	t.Run("PruneDeliveries", func(t *testing.T) { testPruneDeliveries(t, open) })
}

const (
	ownerA = "instance-a"
	ownerB = "instance-b"
)

// subscribe saves an active subscription of platform p due at due.
func subscribe(t *testing.T, s DeliveryStore, p briefings.Platform, id string, due time.Time, active bool) briefings.Subscription {
	t.Helper()
	sub, err := s.SaveSubscription(t.Context(), briefings.Subscription{
		Chat: briefings.ChatRef{Platform: p, ID: id}, At: 9*60 + 26, Zone: Zone("Europe/Berlin"),
		Active: active, NextDue: due, CreatedAt: at(-48),
	})
	if err != nil {
		t.Fatalf("SaveSubscription: %v", err)
	}
	return sub
}

func claim(t *testing.T, s DeliveryStore, owner string, p briefings.Platform, now time.Time, limit int) []string {
	t.Helper()
	subs, err := s.ClaimDue(t.Context(), briefings.ClaimRequest{Owner: owner, Platform: p, Now: now, LeaseUntil: now.Add(time.Hour), Limit: limit})
	if err != nil {
		t.Fatalf("ClaimDue(%s, %s, %v, %d): %v", owner, p, now, limit, err)
	}
	ids := make([]string, len(subs))
	for i, sub := range subs {
		ids[i] = sub.Chat.ID
	}
	return ids
}

func testClaimDue(t *testing.T, open func(t *testing.T) DeliveryStore) {
	tg, dc := briefings.PlatformTelegram, briefings.PlatformDiscord
	// Subscriptions, by chat id: due one hour apart, one inactive, one on
	// another platform.
	setup := func(t *testing.T) DeliveryStore {
		s := open(t)
		subscribe(t, s, tg, "late", at(3), true)
		subscribe(t, s, tg, "early", at(1), true)
		subscribe(t, s, tg, "middle", at(2), true)
		subscribe(t, s, tg, "stopped", at(0), false)
		subscribe(t, s, dc, "discord", at(0), true)
		return s
	}
	tests := []struct {
		name     string
		platform briefings.Platform
		now      time.Time
		limit    int
		want     []string
	}{
		{"nothing due yet", tg, at(0), 10, nil},
		{"due at exactly now", tg, at(1), 10, []string{"early"}},
		{"earliest first, active only", tg, at(5), 10, []string{"early", "middle", "late"}},
		{"at most limit", tg, at(5), 2, []string{"early", "middle"}},
		{"zero limit claims nothing", tg, at(5), 0, nil},
		{"only the platform asked for", dc, at(5), 10, []string{"discord"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := setup(t)
			if diff := cmp.Diff(tc.want, claim(t, s, ownerA, tc.platform, tc.now, tc.limit), equate); diff != "" {
				t.Errorf("claimed (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("a claimed subscription is not claimed again, by anyone, while its lease holds", func(t *testing.T) {
		s := setup(t)
		if got := claim(t, s, ownerA, tg, at(2), 10); !cmp.Equal(got, []string{"early", "middle"}) {
			t.Fatalf("first claim = %v, want [early middle]", got)
		} // leases until at(3)
		if got := claim(t, s, ownerA, tg, at(2).Add(time.Microsecond), 10); len(got) != 0 {
			t.Errorf("the owner claimed its own claims again: %v", got)
		}
		if got := claim(t, s, ownerB, tg, at(3).Add(-time.Microsecond), 10); len(got) != 0 {
			t.Errorf("another owner claimed %v while the leases held", got)
		}
		if got := claim(t, s, ownerB, tg, at(3), 10); !cmp.Equal(got, []string{"early", "middle", "late"}) {
			t.Errorf("another owner after the leases ended claimed %v, want [early middle late]", got)
		}
	})

	t.Run("a claim returns the subscription as stored", func(t *testing.T) {
		s := open(t)
		want := subscribe(t, s, tg, "x", at(0), true)
		got, err := s.ClaimDue(t.Context(), briefings.ClaimRequest{Owner: ownerA, Platform: tg, Now: at(0), LeaseUntil: at(1), Limit: 1})
		if err != nil || len(got) != 1 {
			t.Fatalf("ClaimDue = %v, %v", got, err)
		}
		if diff := cmp.Diff(want, got[0], equate); diff != "" {
			t.Errorf("claimed subscription (-want +got):\n%s", diff)
		}
	})

	t.Run("NextDueAfter is the earliest active NextDue after the instant", func(t *testing.T) {
		s := setup(t)
		for _, tc := range []struct {
			after  time.Time
			want   time.Time
			wantOK bool
		}{
			{at(-1), at(0), true}, // discord's; stopped is inactive
			{at(0), at(1), true},
			{at(2), at(3), true},
			{at(3), time.Time{}, false},
		} {
			got, ok, err := s.NextDueAfter(t.Context(), tc.after)
			if err != nil || ok != tc.wantOK || !got.Equal(tc.want) {
				t.Errorf("NextDueAfter(%v) = %v, %v, %v; want %v, %v", tc.after, got, ok, err, tc.want, tc.wantOK)
			}
		}
	})

	t.Run("an empty owner is refused", func(t *testing.T) {
		s := setup(t)
		if _, err := s.ClaimDue(t.Context(), briefings.ClaimRequest{Platform: tg, Now: at(5), LeaseUntil: at(6), Limit: 1}); err == nil {
			t.Error("ClaimDue with no owner succeeded")
		}
	})
}

func testLeases(t *testing.T, open func(t *testing.T) DeliveryStore) {
	tg := briefings.PlatformTelegram
	t.Run("renew extends every claim of the owner", func(t *testing.T) {
		s := open(t)
		subscribe(t, s, tg, "1", at(0), true)
		subscribe(t, s, tg, "2", at(0), true)
		claim(t, s, ownerA, tg, at(0), 10) // lease until at(1)
		n, err := s.RenewClaims(t.Context(), ownerA, at(5))
		if err != nil || n != 2 {
			t.Fatalf("RenewClaims = %d, %v, want 2", n, err)
		}
		if n, _ := s.RenewClaims(t.Context(), ownerB, at(9)); n != 0 {
			t.Errorf("RenewClaims of an owner with no claims = %d", n)
		}
		if got := claim(t, s, ownerB, tg, at(4), 10); len(got) != 0 {
			t.Errorf("claimed %v inside a renewed lease", got)
		}
		if got := claim(t, s, ownerB, tg, at(5), 10); len(got) != 2 {
			t.Errorf("claimed %v after the renewed lease, want both", got)
		}
	})
	t.Run("release frees the owner's claims at once, and only its", func(t *testing.T) {
		s := open(t)
		subscribe(t, s, tg, "1", at(0), true)
		subscribe(t, s, tg, "2", at(0), true)
		claim(t, s, ownerA, tg, at(0), 1)
		claim(t, s, ownerB, tg, at(0), 1)
		if err := s.ReleaseClaims(t.Context(), ownerA); err != nil {
			t.Fatal(err)
		}
		if got := claim(t, s, ownerA, tg, at(0), 10); !cmp.Equal(got, []string{"1"}) {
			t.Errorf("after release claimed %v, want [1] (2 is still B's)", got)
		}
	})
	t.Run("a deferred subscription is claimable only after the deferral", func(t *testing.T) {
		s := open(t)
		sub := subscribe(t, s, tg, "1", at(0), true)
		claim(t, s, ownerA, tg, at(0), 1)
		if err := s.DeferClaim(t.Context(), ownerB, sub.ID, at(3)); !errors.Is(err, briefings.ErrClaimLost) {
			t.Errorf("DeferClaim by a non-owner = %v, want ErrClaimLost", err)
		}
		if err := s.DeferClaim(t.Context(), ownerA, sub.ID, at(3)); err != nil {
			t.Fatal(err)
		}
		if got := claim(t, s, ownerA, tg, at(3).Add(-time.Microsecond), 1); len(got) != 0 {
			t.Errorf("claimed %v during the deferral", got)
		}
		if err := s.ReleaseClaims(t.Context(), ownerA); err != nil {
			t.Fatal(err)
		}
		if got := claim(t, s, ownerB, tg, at(3).Add(-time.Microsecond), 1); len(got) != 0 {
			t.Errorf("releasing the old owner's claims ended the deferral: claimed %v", got)
		}
		if got := claim(t, s, ownerB, tg, at(3), 1); len(got) != 1 {
			t.Errorf("claimed %v after the deferral, want it", got)
		}
	})
}

func sampleBriefing() briefings.Briefing {
	return briefings.Briefing{
		Topics:      briefings.Topics{Include: []string{"ukraine"}, Exclude: []string{"sport"}},
		GeneratedAt: at(0),
		Entries: []briefings.Entry{
			{StoryID: 7, Headline: "Talks <resume> & more", Summary: []string{"One.", "Two."}, Published: at(-1),
				Sources: []briefings.SourceLink{{Outlet: "A", Title: "a", URL: "https://a.example/1"}, {Outlet: "B", Title: "b", URL: "https://b.example/1"}}},
			{StoryID: 3, Headline: "Second", Published: at(-2)},
		},
	}
}

func pending(sub briefings.Subscription, date string) briefings.Delivery {
	b := sampleBriefing()
	return briefings.Delivery{
		SubscriptionID: sub.ID, LocalDate: date, Due: sub.NextDue, Since: at(-24), ComposedAt: at(0),
		StoryIDs: b.StoryIDs(), Briefing: b, State: briefings.DeliveryPending, CreatedAt: at(0),
	}
}

func testLedger(t *testing.T, open func(t *testing.T) DeliveryStore) {
	tg := briefings.PlatformTelegram
	t.Run("recorded once; a second start gets the first entry back", func(t *testing.T) {
		s := open(t)
		sub := subscribe(t, s, tg, "1", at(0), true)
		claim(t, s, ownerA, tg, at(0), 1)
		want := pending(sub, "2025-03-14")
		got, created, err := s.StartDelivery(t.Context(), ownerA, want)
		if err != nil || !created {
			t.Fatalf("StartDelivery = %v, %v, want created", created, err)
		}
		if diff := cmp.Diff(want, got, equate); diff != "" {
			t.Errorf("StartDelivery returned (-want +got):\n%s", diff)
		}
		other := want
		other.Briefing.Entries = nil
		other.StoryIDs = nil
		got, created, err = s.StartDelivery(t.Context(), ownerA, other)
		if err != nil || created {
			t.Fatalf("second StartDelivery = %v, %v, want not created", created, err)
		}
		if diff := cmp.Diff(want, got, equate); diff != "" {
			t.Errorf("second StartDelivery returned (-want the first +got):\n%s", diff)
		}
		if got, err := s.GetDelivery(t.Context(), sub.ID, "2025-03-14"); err != nil || !cmp.Equal(want, got, equate) {
			t.Errorf("GetDelivery = %v, %v; want %v", got, err, want)
		}
	})
	t.Run("progress is kept", func(t *testing.T) {
		s := open(t)
		sub := subscribe(t, s, tg, "1", at(0), true)
		claim(t, s, ownerA, tg, at(0), 1)
		if _, _, err := s.StartDelivery(t.Context(), ownerA, pending(sub, "2025-03-14")); err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 2} {
			if err := s.RecordProgress(t.Context(), ownerA, sub.ID, "2025-03-14", n); err != nil {
				t.Fatalf("RecordProgress(%d): %v", n, err)
			}
		}
		if got, _ := s.GetDelivery(t.Context(), sub.ID, "2025-03-14"); got.MessagesSent != 2 {
			t.Errorf("MessagesSent = %d, want 2", got.MessagesSent)
		}
		if err := s.RecordProgress(t.Context(), ownerA, sub.ID, "2025-03-15", 1); !errors.Is(err, briefings.ErrNotFound) {
			t.Errorf("RecordProgress of an unrecorded date = %v, want ErrNotFound", err)
		}
	})
	t.Run("writes without the claim are refused and change nothing", func(t *testing.T) {
		s := open(t)
		sub := subscribe(t, s, tg, "1", at(0), true)
		claim(t, s, ownerA, tg, at(0), 1)
		if _, _, err := s.StartDelivery(t.Context(), ownerA, pending(sub, "2025-03-14")); err != nil {
			t.Fatal(err)
		}
		calls := []struct {
			name string
			call func() error
		}{
			{"StartDelivery", func() error {
				_, _, err := s.StartDelivery(t.Context(), ownerB, pending(sub, "2025-03-15"))
				return err
			}},
			{"RecordProgress", func() error { return s.RecordProgress(t.Context(), ownerB, sub.ID, "2025-03-14", 1) }},
			{"FinishDelivery", func() error {
				return s.FinishDelivery(t.Context(), ownerB, briefings.DeliveryResult{SubscriptionID: sub.ID, LocalDate: "2025-03-14",
					Due: at(0), State: briefings.DeliverySent, NextDue: at(24), FinishedAt: at(0)})
			}},
		}
		for _, c := range calls {
			if err := c.call(); !errors.Is(err, briefings.ErrClaimLost) {
				t.Errorf("%s by a non-owner = %v, want ErrClaimLost", c.name, err)
			}
		}
		got, _ := s.GetDelivery(t.Context(), sub.ID, "2025-03-14")
		if got.State != briefings.DeliveryPending || got.MessagesSent != 0 {
			t.Errorf("after refused writes the entry is %s with %d sent", got.State, got.MessagesSent)
		}
		if _, err := s.GetDelivery(t.Context(), sub.ID, "2025-03-15"); !errors.Is(err, briefings.ErrNotFound) {
			t.Errorf("a refused start was recorded: %v", err)
		}
	})
	t.Run("no entry", func(t *testing.T) {
		s := open(t)
		if _, err := s.GetDelivery(t.Context(), 1, "2025-03-14"); !errors.Is(err, briefings.ErrNotFound) {
			t.Errorf("GetDelivery = %v, want ErrNotFound", err)
		}
		if _, err := s.LastDelivery(t.Context(), 1); !errors.Is(err, briefings.ErrNotFound) {
			t.Errorf("LastDelivery = %v, want ErrNotFound", err)
		}
	})
}

func testFinishDelivery(t *testing.T, open func(t *testing.T) DeliveryStore) {
	tg := briefings.PlatformTelegram
	tests := []struct {
		state           briefings.DeliveryState
		errText         string
		wantDelivered   bool // LastDeliveredAt set
		wantLastForNext bool // LastDelivery returns it
	}{
		{briefings.DeliverySent, "", true, true},
		{briefings.DeliveryEmpty, "", false, true},
		{briefings.DeliveryFailed, "telegram: 502 bad gateway", false, false},
		{briefings.DeliveryGone, "the bot was blocked by the user", false, false},
	}
	for _, tc := range tests {
		t.Run(string(tc.state), func(t *testing.T) {
			s := open(t)
			sub := subscribe(t, s, tg, "1", at(0), true)
			claim(t, s, ownerA, tg, at(0), 1)
			start := pending(sub, "2025-03-14")
			if _, _, err := s.StartDelivery(t.Context(), ownerA, start); err != nil {
				t.Fatal(err)
			}
			r := briefings.DeliveryResult{SubscriptionID: sub.ID, LocalDate: "2025-03-14", Due: at(0), State: tc.state,
				Error: tc.errText, NextDue: at(24), FinishedAt: at(1)}
			if err := s.FinishDelivery(t.Context(), ownerA, r); err != nil {
				t.Fatalf("FinishDelivery: %v", err)
			}
			got, err := s.GetSubscription(t.Context(), sub.Chat)
			if err != nil {
				t.Fatal(err)
			}
			want := sub
			want.NextDue = at(24)
			want.LastError = tc.errText
			if tc.wantDelivered {
				want.LastDeliveredAt = at(1)
			}
			if diff := cmp.Diff(want, got, equate); diff != "" {
				t.Errorf("subscription after finishing (-want +got):\n%s", diff)
			}
			entry, err := s.GetDelivery(t.Context(), sub.ID, "2025-03-14")
			if err != nil {
				t.Fatal(err)
			}
			wantEntry := start
			wantEntry.State, wantEntry.Error, wantEntry.FinishedAt = tc.state, tc.errText, at(1)
			wantEntry.Briefing = briefings.Briefing{}
			if diff := cmp.Diff(wantEntry, entry, equate); diff != "" {
				t.Errorf("ledger entry (-want +got):\n%s", diff)
			}
			last, err := s.LastDelivery(t.Context(), sub.ID)
			if tc.wantLastForNext != (err == nil) {
				t.Errorf("LastDelivery = %v, %v; want found=%v", last, err, tc.wantLastForNext)
			}
			// The claim is released: due again at the new NextDue.
			if got := claim(t, s, ownerB, tg, at(24), 1); len(got) != 1 {
				t.Errorf("after finishing, claim at the next due = %v, want it", got)
			}
		})
	}

	t.Run("a subscription changed meanwhile keeps its new NextDue", func(t *testing.T) {
		s := open(t)
		sub := subscribe(t, s, tg, "1", at(0), true)
		claim(t, s, ownerA, tg, at(0), 1)
		changed := sub
		changed.NextDue = at(3) // /subscribe at another time while the briefing was out
		if _, err := s.SaveSubscription(t.Context(), changed); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishDelivery(t.Context(), ownerA, briefings.DeliveryResult{SubscriptionID: sub.ID, LocalDate: "2025-03-14",
			Due: at(0), State: briefings.DeliverySent, NextDue: at(24), FinishedAt: at(1)}); err != nil {
			t.Fatalf("FinishDelivery after SaveSubscription (the claim must survive it): %v", err)
		}
		got, _ := s.GetSubscription(t.Context(), sub.Chat)
		if !got.NextDue.Equal(at(3)) {
			t.Errorf("NextDue = %v, want the changed %v", got.NextDue, at(3))
		}
	})

	t.Run("finishing without a started entry records one; LastDelivery is the latest composed", func(t *testing.T) {
		s := open(t)
		sub := subscribe(t, s, tg, "1", at(0), true)
		for i, date := range []string{"2025-03-14", "2025-03-15"} {
			now := at(24 * i)
			claim(t, s, ownerA, tg, now, 1)
			d := pending(sub, date)
			d.ComposedAt = now
			if _, _, err := s.StartDelivery(t.Context(), ownerA, d); err != nil {
				t.Fatal(err)
			}
			if err := s.FinishDelivery(t.Context(), ownerA, briefings.DeliveryResult{SubscriptionID: sub.ID, LocalDate: date,
				Due: now, State: briefings.DeliverySent, NextDue: now.Add(24 * time.Hour), FinishedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		claim(t, s, ownerA, tg, at(48), 1)
		if err := s.FinishDelivery(t.Context(), ownerA, briefings.DeliveryResult{SubscriptionID: sub.ID, LocalDate: "2025-03-16",
			Due: at(48), State: briefings.DeliverySkipped, Error: "", NextDue: at(72), FinishedAt: at(49)}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetDelivery(t.Context(), sub.ID, "2025-03-16"); err != nil || got.State != briefings.DeliverySkipped {
			t.Errorf("skipped entry = %v, %v", got, err)
		}
		last, err := s.LastDelivery(t.Context(), sub.ID)
		if err != nil || last.LocalDate != "2025-03-15" {
			t.Errorf("LastDelivery = %v, %v; want the one of 2025-03-15", last.LocalDate, err)
		}
	})

	t.Run("a pending state is refused", func(t *testing.T) {
		s := open(t)
		sub := subscribe(t, s, tg, "1", at(0), true)
		claim(t, s, ownerA, tg, at(0), 1)
		err := s.FinishDelivery(t.Context(), ownerA, briefings.DeliveryResult{SubscriptionID: sub.ID, LocalDate: "2025-03-14",
			Due: at(0), State: briefings.DeliveryPending, NextDue: at(24)})
		if err == nil {
			t.Error("FinishDelivery with state pending succeeded")
		}
	})
}

func testPruneDeliveries(t *testing.T, open func(t *testing.T) DeliveryStore) {
	s := open(t)
	tg := briefings.PlatformTelegram
	sub := subscribe(t, s, tg, "1", at(0), true)
	for day := range 3 {
		claim(t, s, ownerA, tg, at(24*day), 1)
		d := pending(sub, fmt.Sprintf("2025-03-%d", 14+day))
		d.CreatedAt = at(24 * day)
		if _, _, err := s.StartDelivery(t.Context(), ownerA, d); err != nil {
			t.Fatal(err)
		}
		if day == 2 {
			break // the last stays pending
		}
		if err := s.FinishDelivery(t.Context(), ownerA, briefings.DeliveryResult{SubscriptionID: sub.ID, LocalDate: d.LocalDate,
			Due: at(24 * day), State: briefings.DeliverySent, NextDue: at(24 * (day + 1)), FinishedAt: at(24 * day)}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneDeliveries(t.Context(), at(100))
	if err != nil || n != 2 {
		t.Errorf("PruneDeliveries = %d, %v; want the 2 finished ones", n, err)
	}
	if _, err := s.GetDelivery(t.Context(), sub.ID, "2025-03-16"); err != nil {
		t.Errorf("the pending entry was pruned: %v", err)
	}
}
