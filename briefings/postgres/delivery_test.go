package postgres

import (
	"context"
	"errors"
	"fmt"
	"github.com/newsbot/newsbot/briefings/postgres/pgtest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/storetest"
)

var day0 = time.Date(2025, time.March, 14, 6, 30, 0, 0, time.UTC)

func subscribeDue(t *testing.T, db *DB, id string, due time.Time) briefings.Subscription {
	t.Helper()
	sub, err := db.SaveSubscription(t.Context(), briefings.Subscription{
		Chat: briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: id}, At: 7*60 + 30, Zone: storetest.Zone("Europe/Berlin"),
		Active: true, NextDue: due,
	})
	if err != nil {
		t.Fatalf("SaveSubscription: %v", err)
	}
	return sub
}

// Instances claiming at the same moment split the due subscriptions: every
// one is claimed, by exactly one instance.
func TestInstancesSplitDueWork(t *testing.T) {
	u := pgtest.Schema(t)
	t.Parallel()
	ctx := t.Context()
	const instances, due, batch = 4, 300, 7
	dbs := make([]*DB, instances)
	for i := range dbs {
		dbs[i] = openURL(t, u)
	}
	for n := range due {
		subscribeDue(t, dbs[0], fmt.Sprint(n), day0.Add(time.Duration(n)*time.Second))
	}
	now := day0.Add(time.Hour)

	claimedBy := make([][]int64, instances)
	errs := make([]error, instances)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			<-start
			owner := fmt.Sprintf("instance-%d", i)
			for {
				subs, err := db.ClaimDue(ctx, briefings.ClaimRequest{Owner: owner, Platform: briefings.PlatformTelegram,
					Now: now, LeaseUntil: now.Add(time.Minute), Limit: batch})
				if err != nil {
					errs[i] = err
					return
				}
				if len(subs) == 0 {
					return
				}
				for _, s := range subs {
					claimedBy[i] = append(claimedBy[i], s.ID)
				}
			}
		})
	}
	close(start)
	wg.Wait()

	owners := map[int64]int{}
	for i, ids := range claimedBy {
		if errs[i] != nil {
			t.Errorf("instance %d: ClaimDue: %v", i, errs[i])
		}
		for _, id := range ids {
			if other, dup := owners[id]; dup {
				t.Errorf("subscription %d claimed by instances %d and %d", id, other, i)
			}
			owners[id] = i
		}
		t.Logf("instance %d claimed %d", i, len(ids))
	}
	if len(owners) != due {
		t.Errorf("%d subscriptions claimed, want all %d", len(owners), due)
	}
	// The store agrees: each row names the instance that was told it won.
	rows, err := dbs[0].pool.Query(ctx, `SELECT id, claim_owner FROM subscriptions`)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	var owner string
	_, err = pgx.ForEachRow(rows, []any{&id, &owner}, func() error {
		if want := fmt.Sprintf("instance-%d", owners[id]); owner != want {
			t.Errorf("subscription %d: claim_owner %q, want %q", id, owner, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A row another instance is writing under its claim (its transaction holds
// the row lock) is skipped by ClaimDue, not waited for, even when the lease
// has run out: the claim cannot change hands under a write in progress.
func TestClaimSkipsRowsLockedByAnotherInstance(t *testing.T) {
	u := pgtest.Schema(t)
	t.Parallel()
	a, b := openURL(t, u), openURL(t, u)
	locked := subscribeDue(t, a, "locked", day0)
	subscribeDue(t, a, "free", day0)
	if _, err := a.ClaimDue(t.Context(), briefings.ClaimRequest{Owner: "a", Platform: briefings.PlatformTelegram,
		Now: day0, LeaseUntil: day0.Add(time.Minute), Limit: 10}); err != nil {
		t.Fatal(err)
	}
	afterLease := day0.Add(time.Hour)

	tx, err := a.pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if err := holdsClaim(t.Context(), tx, "a", locked.ID); err != nil {
		t.Fatalf("holdsClaim: %v", err)
	}

	// Bounded, so that a ClaimDue that waited on the lock fails the test
	// instead of hanging it.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	subs, err := b.ClaimDue(ctx, briefings.ClaimRequest{Owner: "b", Platform: briefings.PlatformTelegram,
		Now: afterLease, LeaseUntil: afterLease.Add(time.Minute), Limit: 10})
	if err != nil {
		t.Fatalf("ClaimDue while a row is locked: %v", err)
	}
	if len(subs) != 1 || subs[0].Chat.ID != "free" {
		t.Errorf("ClaimDue while a row is locked claimed %v, want only [free]", chatIDs(subs))
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	subs, err = b.ClaimDue(t.Context(), briefings.ClaimRequest{Owner: "b", Platform: briefings.PlatformTelegram,
		Now: afterLease, LeaseUntil: afterLease.Add(time.Minute), Limit: 10})
	if err != nil || len(subs) != 1 || subs[0].ID != locked.ID {
		t.Errorf("ClaimDue after the write = %v, %v; want [locked]", chatIDs(subs), err)
	}
}

func chatIDs(subs []briefings.Subscription) []string {
	ids := make([]string, len(subs))
	for i, s := range subs {
		ids[i] = s.Chat.ID
	}
	return ids
}

// An instance dies with a delivery under way: once its lease ends another
// instance takes the subscription over, resumes the very delivery from the
// ledger and finishes it; the dead one, should it wake, can write nothing.
func TestDeadInstanceIsTakenOverAfterLease(t *testing.T) {
	u := pgtest.Schema(t)
	t.Parallel()
	ctx := t.Context()
	dead, alive := openURL(t, u), openURL(t, u)
	deadOwner, aliveOwner := dead.InstanceID(), alive.InstanceID()
	if deadOwner == aliveOwner {
		t.Fatalf("two stores share the instance id %q", deadOwner)
	}
	sub := subscribeDue(t, dead, "1", day0)
	lease := day0.Add(2 * time.Minute)
	claim := func(db *DB, owner string, now time.Time) []briefings.Subscription {
		t.Helper()
		subs, err := db.ClaimDue(ctx, briefings.ClaimRequest{Owner: owner, Platform: briefings.PlatformTelegram, Now: now, LeaseUntil: now.Add(2 * time.Minute), Limit: 10})
		if err != nil {
			t.Fatalf("ClaimDue: %v", err)
		}
		return subs
	}
	if got := claim(dead, deadOwner, day0); len(got) != 1 {
		t.Fatalf("first claim = %v", chatIDs(got))
	}
	started := briefings.Delivery{SubscriptionID: sub.ID, LocalDate: "2025-03-14", Due: day0, Since: day0.Add(-24 * time.Hour), ComposedAt: day0,
		StoryIDs: []int64{4, 2}, Briefing: briefings.Briefing{GeneratedAt: day0, Entries: []briefings.Entry{{StoryID: 4, Headline: "Four"}, {StoryID: 2, Headline: "Two"}}},
		State: briefings.DeliveryPending, CreatedAt: day0}
	if _, _, err := dead.StartDelivery(ctx, deadOwner, started); err != nil {
		t.Fatal(err)
	}
	if err := dead.RecordProgress(ctx, deadOwner, sub.ID, "2025-03-14", 1); err != nil {
		t.Fatal(err)
	}
	// The instance dies here: no renewal, no release.

	if got := claim(alive, aliveOwner, lease.Add(-time.Microsecond)); len(got) != 0 {
		t.Fatalf("claimed %v while the dead instance's lease held", chatIDs(got))
	}
	if got := claim(alive, aliveOwner, lease); len(got) != 1 {
		t.Fatalf("claim after the lease = %v, want the subscription", chatIDs(got))
	}
	resumed, created, err := alive.StartDelivery(ctx, aliveOwner, started)
	if err != nil || created {
		t.Fatalf("StartDelivery by the new owner = created %v, %v; want the existing entry", created, err)
	}
	if resumed.MessagesSent != 1 || len(resumed.Briefing.Entries) != 2 {
		t.Errorf("resumed entry: %d sent, %d entries; want 1 sent of the 2 started", resumed.MessagesSent, len(resumed.Briefing.Entries))
	}

	// The dead instance wakes up: every write is refused.
	if err := dead.RecordProgress(ctx, deadOwner, sub.ID, "2025-03-14", 2); !errors.Is(err, briefings.ErrClaimLost) {
		t.Errorf("RecordProgress by the old owner = %v, want ErrClaimLost", err)
	}
	if err := dead.FinishDelivery(ctx, deadOwner, briefings.DeliveryResult{SubscriptionID: sub.ID, LocalDate: "2025-03-14", Due: day0,
		State: briefings.DeliveryFailed, Error: "stale", NextDue: day0.Add(24 * time.Hour), FinishedAt: lease}); !errors.Is(err, briefings.ErrClaimLost) {
		t.Errorf("FinishDelivery by the old owner = %v, want ErrClaimLost", err)
	}
	if err := dead.DeferClaim(ctx, deadOwner, sub.ID, lease.Add(time.Hour)); !errors.Is(err, briefings.ErrClaimLost) {
		t.Errorf("DeferClaim by the old owner = %v, want ErrClaimLost", err)
	}
	if n, err := dead.RenewClaims(ctx, deadOwner, lease.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("RenewClaims by the old owner = %d, %v; want 0", n, err)
	}

	if err := alive.FinishDelivery(ctx, aliveOwner, briefings.DeliveryResult{SubscriptionID: sub.ID, LocalDate: "2025-03-14", Due: day0,
		State: briefings.DeliverySent, NextDue: day0.Add(24 * time.Hour), FinishedAt: lease}); err != nil {
		t.Fatalf("FinishDelivery by the new owner: %v", err)
	}
	d, err := alive.GetDelivery(ctx, sub.ID, "2025-03-14")
	if err != nil || d.State != briefings.DeliverySent {
		t.Errorf("ledger entry = %s, %v; want sent", d.State, err)
	}
}
