package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// A second process on the same file refuses to run and says why; once the
// first is gone, the next one runs and takes over the claims it held.
func TestLockInstance(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "newsbot.db")
	first, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.LockInstance(ctx); err != nil {
		t.Fatalf("LockInstance: %v", err)
	}
	if err := first.LockInstance(ctx); err != nil {
		t.Fatalf("LockInstance again: %v", err)
	}
	now := time.Date(2025, 3, 14, 7, 30, 0, 0, time.UTC)
	sub, err := first.SaveSubscription(ctx, briefings.Subscription{
		Chat: briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: "1"}, Zone: briefings.UTC, Active: true, NextDue: now})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := first.ClaimDue(ctx, briefings.ClaimRequest{Owner: first.InstanceID(), Platform: briefings.PlatformTelegram,
		Now: now, LeaseUntil: now.Add(time.Hour), Limit: 10})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("ClaimDue = %v, %v", claimed, err)
	}

	second, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	err = second.LockInstance(ctx)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("LockInstance of a second process = %v, want ErrLocked", err)
	}
	for _, why := range []string{path, "pid " + strconv.Itoa(os.Getpid()), "twice"} {
		if !strings.Contains(err.Error(), why) {
			t.Errorf("the refusal %q does not say %q", err, why)
		}
	}
	second.Close()

	// The first process dies holding a claim (Close drops the lock as
	// process exit does); the next one gets the lock and the claim at once,
	// long before the lease would end.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	third, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if third.InstanceID() == first.InstanceID() {
		t.Fatal("two opens share an instance id")
	}
	if err := third.LockInstance(ctx); err != nil {
		t.Fatalf("LockInstance after the first process ended: %v", err)
	}
	claimed, err = third.ClaimDue(ctx, briefings.ClaimRequest{Owner: third.InstanceID(), Platform: briefings.PlatformTelegram,
		Now: now.Add(time.Second), LeaseUntil: now.Add(time.Hour), Limit: 10})
	if err != nil || len(claimed) != 1 || claimed[0].ID != sub.ID {
		t.Errorf("the new instance claimed %v, %v; want the dead one's claim taken over", claimed, err)
	}
}

// ClaimDue walks the partial index instead of scanning subscriptions, so
// memory and time stay flat as subscriptions grow.
func TestClaimDueUsesIndex(t *testing.T) {
	db, _ := openFile(t)
	rows, err := db.read.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+claimDueQuery, 0, "telegram", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if got := strings.Join(plan, "; "); !strings.Contains(got, "USING INDEX subscriptions_due") || strings.Contains(got, "TEMP B-TREE") {
		t.Errorf("query plan %q, want a walk of subscriptions_due with no sort", got)
	}
}
