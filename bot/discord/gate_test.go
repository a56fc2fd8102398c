package discord

import (
	"context"
	"testing"
	"time"
)

func TestClassifyRoute(t *testing.T) {
	for path, want := range map[string]routeKind{
		"/api/v9/channels/1/messages":                     routeBudgeted,
		"/api/v9/applications/1/guilds/2/commands":        routeBudgeted,
		"/api/v9/guilds/2/members/3":                      routeBudgeted,
		"/api/v9/gateway":                                 routeBudgeted,
		"/api/v9/interactions/1/tok/callback":             routeCallback,
		"/api/v9/webhooks/1/tok":                          routeInteraction,
		"/api/v9/webhooks/1/tok/messages/@original":       routeInteraction,
		"/proxy/api/v9/interactions/1/tok/callback":       routeCallback,
		"/api/v9/channels/1/messages/interactions/x/edit": routeBudgeted,
	} {
		if got := classifyRoute(path); got != want {
			t.Errorf("classifyRoute(%q) = %d, want %d", path, got, want)
		}
	}
}

// TestGatePausesThenRamps reads the gate's schedule on a stopped clock:
// nothing before the pause ends, then a rate that starts low and reaches
// the ceiling within a few steps.
func TestGatePausesThenRamps(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	g := newRESTGate(func() time.Time { return now })
	if !g.pausedUntil().IsZero() {
		t.Fatal("a new gate is paused")
	}
	full := spacing(gateRequestsPerSecond)
	if got := g.intervalLocked(now); got != full {
		t.Errorf("interval before any pause = %v, want %v", got, full)
	}
	g.pause(2 * time.Second)
	until := now.Add(2*time.Second + globalPauseMargin)
	if got := g.pausedUntil(); !got.Equal(until) {
		t.Errorf("paused until %v, want retry_after plus the margin (%v)", got, until)
	}
	g.pause(time.Second) // a shorter pause does not shorten the running one
	if got := g.pausedUntil(); !got.Equal(until) {
		t.Errorf("a shorter 429 moved the pause to %v", got)
	}
	first := g.intervalLocked(until)
	if want := time.Duration(float64(full) / rampStartFraction); first < want-time.Microsecond || first > want+time.Microsecond {
		t.Errorf("interval right after the pause = %v, want %v (a quarter of the rate)", first, want)
	}
	prev := first
	for step := 1; step <= 2; step++ {
		got := g.intervalLocked(until.Add(time.Duration(step) * rampStep))
		if got >= prev {
			t.Errorf("step %d: interval %v did not shrink from %v", step, got, prev)
		}
		prev = got
	}
	if prev != full {
		t.Errorf("after two steps the interval is %v, want the ceiling's %v", prev, full)
	}

	// A caller waiting during the pause gives up with its context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.wait(ctx, true); err == nil {
		t.Error("wait during a pause returned without error for a cancelled context")
	}
}

func TestGateShare(t *testing.T) {
	now := time.Now()
	g := newRESTGate(func() time.Time { return now })
	g.setShare(0.5)
	if got, want := g.intervalLocked(now), spacing(gateRequestsPerSecond/2.0); got != want {
		t.Errorf("half share: interval %v, want %v", got, want)
	}
	g.setShare(0) // holding sends is the Pacer's job; the gate keeps its share
	if got, want := g.intervalLocked(now), spacing(gateRequestsPerSecond/2.0); got != want {
		t.Errorf("share 0: interval %v, want the last share's %v", got, want)
	}
}

// spacing is the interval between requests at perSecond.
func spacing(perSecond float64) time.Duration {
	return time.Duration(float64(time.Second) / perSecond)
}
