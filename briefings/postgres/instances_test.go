package postgres

import (
	"fmt"
	"github.com/newsbot/newsbot/briefings/postgres/pgtest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/briefings"
)

// Instances polling at once split the due feeds: each is claimed by one of
// them, and not again until its lease ends or its state moves it on.
func TestClaimDueSourcesSplitsFeeds(t *testing.T) {
	u := pgtest.Schema(t)
	t.Parallel()
	ctx := t.Context()
	dbs := []*DB{openURL(t, u), openURL(t, u), openURL(t, u)}
	var want []string
	for i := range 20 {
		url := fmt.Sprintf("https://feeds.example.org/%02d.xml", i)
		if _, err := dbs[0].AddSource(ctx, url); err != nil {
			t.Fatal(err)
		}
		want = append(want, url)
	}
	now := day0
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			for {
				srcs, err := db.ClaimDueSources(ctx, fmt.Sprintf("instance-%d", i), now, now.Add(5*time.Minute), 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(srcs) == 0 {
					return
				}
				mu.Lock()
				for _, s := range srcs {
					got = append(got, s.URL)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("feeds claimed (-each once +got):\n%s", diff)
	}

	// Fetched: its state moves it on, and it is not due when the lease ends.
	fetched := briefings.Source{URL: want[0], LastFetchedAt: now, NextFetchAt: now.Add(10 * time.Minute)}
	if err := dbs[0].SaveSourceState(ctx, fetched); err != nil {
		t.Fatal(err)
	}
	// Its fetcher died: the others are due again once the lease ended.
	later := now.Add(6 * time.Minute)
	srcs, err := dbs[1].ClaimDueSources(ctx, "instance-1", later, later.Add(5*time.Minute), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 19 || slices.ContainsFunc(srcs, func(s briefings.Source) bool { return s.URL == want[0] }) {
		t.Errorf("after the lease: claimed %d feeds, want the 19 not fetched", len(srcs))
	}
}

// Heartbeats count the live instances of each platform; an instance silent
// too long is forgotten and its claims are released at once.
func TestHeartbeatCountsLiveInstancesAndReleasesTheDead(t *testing.T) {
	db := openTest(t)
	t.Parallel()
	ctx := t.Context()
	const live, dead = 6 * time.Second, 10 * time.Second
	tg, dc := briefings.PlatformTelegram, briefings.PlatformDiscord
	if _, err := db.Heartbeat(ctx, "a", []briefings.Platform{tg}, live, dead); err != nil {
		t.Fatal(err)
	}
	counts, err := db.Heartbeat(ctx, "b", []briefings.Platform{tg, dc}, live, dead)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[briefings.Platform]int{tg: 2, dc: 1}, counts); diff != "" {
		t.Errorf("live instances (-want +got):\n%s", diff)
	}

	// b holds a delivery claim and a feed claim, then falls silent.
	sub := subscribeDue(t, db, "42", day0)
	if got, err := db.ClaimDue(ctx, briefings.ClaimRequest{Owner: "b", Platform: tg, Now: day0, LeaseUntil: day0.Add(time.Hour), Limit: 1}); err != nil || len(got) != 1 {
		t.Fatalf("ClaimDue: %v, %d", err, len(got))
	}
	if _, err := db.AddSource(ctx, "https://feeds.example.org/a.xml"); err != nil {
		t.Fatal(err)
	}
	if got, err := db.ClaimDueSources(ctx, "b", day0, day0.Add(time.Hour), 1); err != nil || len(got) != 1 {
		t.Fatalf("ClaimDueSources: %v, %d", err, len(got))
	}
	if _, err := db.pool.Exec(ctx, `UPDATE instances SET last_seen = last_seen - interval '8 seconds' WHERE id = 'b'`); err != nil {
		t.Fatal(err)
	}
	counts, err = db.Heartbeat(ctx, "a", []briefings.Platform{tg}, live, dead)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[briefings.Platform]int{tg: 1}, counts); diff != "" {
		t.Errorf("with b silent for 8 s (-want +got):\n%s", diff)
	}
	if got, _ := db.ClaimDue(ctx, briefings.ClaimRequest{Owner: "a", Platform: tg, Now: day0, LeaseUntil: day0.Add(time.Hour), Limit: 1}); len(got) != 0 {
		t.Error("b's claim was released while b might still be alive")
	}

	if _, err := db.pool.Exec(ctx, `UPDATE instances SET last_seen = last_seen - interval '1 minute' WHERE id = 'b'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Heartbeat(ctx, "a", []briefings.Platform{tg}, live, dead); err != nil {
		t.Fatal(err)
	}
	got, err := db.ClaimDue(ctx, briefings.ClaimRequest{Owner: "a", Platform: tg, Now: day0, LeaseUntil: day0.Add(time.Hour), Limit: 1})
	if err != nil || len(got) != 1 || got[0].ID != sub.ID {
		t.Errorf("after b is dead, a claims %v (%v), want subscription %d", got, err, sub.ID)
	}
	if srcs, err := db.ClaimDueSources(ctx, "a", day0, day0.Add(time.Hour), 1); err != nil || len(srcs) != 1 {
		t.Errorf("after b is dead, a claims %d feeds (%v), want b's one", len(srcs), err)
	}

	// A graceful stop: gone at once.
	if err := db.Leave(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	counts, err = db.Heartbeat(ctx, "c", []briefings.Platform{tg}, live, dead)
	if err != nil {
		t.Fatal(err)
	}
	if counts[tg] != 1 {
		t.Errorf("after a left: %d live on telegram, want 1 (c)", counts[tg])
	}
}

// One instance holds a lead at a time; when its connection dies, the lead
// is free for another, and the holder learns it lost it.
func TestTryLeadHasOneHolderAndFailsOver(t *testing.T) {
	u := pgtest.Schema(t)
	t.Parallel()
	ctx := t.Context()
	a, b := openURL(t, u), openURL(t, u)

	leadA, releaseA, ok, err := a.TryLead(ctx, "poll")
	if err != nil || !ok {
		t.Fatalf("a: TryLead = %v, %v; want the lead", ok, err)
	}
	if _, _, ok, err := b.TryLead(ctx, "poll"); err != nil || ok {
		t.Fatalf("b: TryLead while a leads = %v, %v; want refused", ok, err)
	}
	if _, releaseOther, ok, err := b.TryLead(ctx, "other"); err != nil || !ok {
		t.Fatalf("b: another lead = %v, %v; want it", ok, err)
	} else {
		releaseOther()
	}
	releaseA()
	if leadA.Err() == nil {
		t.Error("a's lead context is live after release")
	}

	leadB, releaseB, ok, err := b.TryLead(ctx, "poll")
	if err != nil || !ok {
		t.Fatalf("b: TryLead after a released = %v, %v; want the lead", ok, err)
	}
	defer releaseB()
	// b's connection dies (as when its process is killed): PostgreSQL drops
	// the lock, a may lead, and b's lead context ends.
	// (A one-key lock on a bigint shows as classid = its high half, objid
	// = its low half.)
	var killed int
	if err := a.pool.QueryRow(ctx, `
		WITH k AS (SELECT hashtextextended(current_schema() || ':poll', 0) AS key)
		SELECT count(pg_terminate_backend(pid)) FROM pg_locks, k
		WHERE locktype = 'advisory' AND granted AND objsubid = 1
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND ((classid::bigint << 32) | objid::bigint) = k.key`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d connections holding the lead, want b's", killed)
	}
	select {
	case <-leadB.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("b did not learn it lost the lead")
	}
	_, releaseA, ok, err = a.TryLead(ctx, "poll")
	if err != nil || !ok {
		t.Fatalf("a: TryLead after b died = %v, %v; want the lead", ok, err)
	}
	releaseA()
}
