package app_test

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsbot/newsbot/bot/app"
	"github.com/newsbot/newsbot/bot/app/config"
)

// waitFor waits until the output satisfies cond, failing after a generous
// deadline; it asserts an event, not a duration.
func waitFor(t *testing.T, out *lockedBuffer, what string, cond func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s; output so far:\n%s", what, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The whole bot on the console: subscribe, let the clock pass the due time,
// and the briefing is printed once; /status then shows the delivery and the
// next one.
func TestConsoleDailyBriefingEndToEnd(t *testing.T) {
	cfg, err := config.Parse(dbEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	var clock atomic.Int64
	clock.Store(time.Date(2025, 7, 11, 6, 0, 0, 0, time.UTC).UnixNano())
	pr, pw := io.Pipe()
	var out, logs lockedBuffer
	m := app.NewMain(cfg, pr, &out, &logs)
	m.Now = func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()

	io.WriteString(pw, "/subscribe 07:30 UTC\n")
	waitFor(t, &out, "the /subscribe reply", func(s string) bool { return strings.Contains(s, "07:30") })
	if strings.Contains(out.String(), "News briefing") {
		t.Fatalf("a briefing was printed before its time:\n%s", out.String())
	}

	clock.Store(time.Date(2025, 7, 11, 7, 31, 0, 0, time.UTC).UnixNano())
	waitFor(t, &out, "the daily briefing", func(s string) bool { return strings.Contains(s, "News briefing") })
	// The ledger confirms a delivery just after its last message is out:
	// ask /status until it shows the confirmation.
	deadline := time.Now().Add(30 * time.Second)
	for {
		asked := strings.Count(out.String(), "Now:")
		io.WriteString(pw, "/status\n")
		waitFor(t, &out, "/status after the delivery", func(s string) bool { return strings.Count(s, "Now:") > asked })
		s := out.String()
		if strings.Contains(s[strings.LastIndex(s, "Now:"):], "Last delivery: today") || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v\nlogs:\n%s", err, logs.String())
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	got := out.String()
	if n := strings.Count(got, "News briefing"); n != 1 {
		t.Errorf("the briefing was printed %d times, want once:\n%s", n, got)
	}
	status := got[strings.LastIndex(got, "Now:"):]
	for _, want := range []string{"Last delivery: today 07:31", "Next delivery: tomorrow Sat 12 Jul 07:30"} {
		if !strings.Contains(status, want) {
			t.Errorf("/status lacks %q:\n%s", want, status)
		}
	}
	// The sample's stories of the last day, not the older ones.
	if !strings.Contains(got, "Lavrov") {
		t.Errorf("the briefing lacks the day's top story:\n%s", got)
	}
}

// A second bot on the same database file refuses to run, and says why.
func TestSecondProcessOnTheSameDatabaseRefuses(t *testing.T) {
	env := dbEnv(t)
	cfg, err := config.Parse(env)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	var out1 lockedBuffer
	first := app.NewMain(cfg, pr, &out1, io.Discard)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	io.WriteString(pw, "/status\n")
	waitFor(t, &out1, "the first bot to answer", func(s string) bool { return strings.Contains(s, "Now:") })

	// Refused either at start (Run returns the error) or, until Main locks
	// the store at start, when delivery begins (the error is logged).
	var logs lockedBuffer
	idle, idleW := io.Pipe() // input that stays open: the console keeps serving
	defer idleW.Close()
	second := app.NewMain(cfg, idle, io.Discard, &logs)
	secondCtx, stopSecond := context.WithCancel(ctx)
	defer stopSecond()
	secondDone := make(chan error, 1)
	go func() { secondDone <- second.Run(secondCtx) }()
	var refusal string
	deadline := time.After(30 * time.Second)
	for refusal == "" {
		select {
		case err := <-secondDone:
			if err == nil {
				t.Fatalf("the second bot ran and stopped without an error; logs:\n%s", logs.String())
			}
			refusal = err.Error()
		case <-deadline:
			t.Fatalf("the second bot did not refuse; logs:\n%s", logs.String())
		case <-time.After(20 * time.Millisecond):
			if l := logs.String(); strings.Contains(l, "in use by another newsbot process") {
				refusal = l
				stopSecond()
				<-secondDone
			}
		}
	}
	second.Close()
	for _, why := range []string{"in use by another newsbot process", "twice"} {
		if !strings.Contains(refusal, why) {
			t.Errorf("the refusal does not say %q:\n%s", why, refusal)
		}
	}

	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	first.Close()
}
