package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary be the bot the harness starts, as the
// harness binary is when run.
func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) == "bot" {
		os.Exit(runBot(os.Environ(), os.Stderr))
	}
	os.Exit(m.Run())
}

// selfBot starts this test binary as the bot under measurement.
func selfBot(t *testing.T) botCommand {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return botCommand{Path: self, Env: []string{roleEnv + "=bot", "NEWSBOT_LOG_LEVEL=warn"}}
}

// The harness's -quick mode, so that it cannot rot: every chat gets one
// briefing, none twice; without injected 429s the strict fake never has to
// say 429 and sees no send inside a retry_after, and the groups that were
// also sent commands never get more than 20 messages in a (scaled) minute;
// with them, what reaches the fake inside a retry_after is at most what was
// in flight; the memory run measures a bot that holds every stored
// subscription and sends nothing. Speed is printed, not asserted.
func TestQuickHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("starts bot processes; skipped with -short")
	}
	o, err := parseFlags([]string{"-quick"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	fanOuts, st, err := measure(ctx, selfBot(t), t.TempDir(), o, &out)
	t.Logf("harness output:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(fanOuts) != 2 {
		t.Fatalf("%d fan-out runs, want 2 (one with injected 429s)", len(fanOuts))
	}
	for _, r := range fanOuts {
		if r.Count.Lost != 0 || r.Count.Duplicated != 0 || r.Count.Messages != r.N {
			t.Errorf("%d chats: %d briefings, %d lost, %d duplicated", r.N, r.Count.Messages, r.Count.Lost, r.Count.Duplicated)
		}
		if r.InsideRetryAfter > r.InFlightAt429 {
			t.Errorf("%d sends inside a retry_after, more than the %d in flight when the 429s came", r.InsideRetryAfter, r.InFlightAt429)
		}
		if r.Achieved <= 0 || r.Allowed != 30*r.Scale || r.PeakRSS <= 0 || r.BusiestGlobal <= 0 {
			t.Errorf("figures not measured: %+v", r)
		}
	}
	plain, injected := fanOuts[0], fanOuts[1]
	if plain.Rejected429 != 0 || plain.InsideRetryAfter != 0 {
		t.Errorf("%d flood-control 429s, %d sends inside a retry_after at factor %g", plain.Rejected429, plain.InsideRetryAfter, plain.Scale)
	}
	if plain.Replies < o.ChattyGroups*o.CommandsPerGroup || plain.BusiestGroup > 20 || plain.BusiestGroup < 20 {
		t.Errorf("%d replies; busiest group window %d, want the commands answered and the group limit of 20 reached, not passed",
			plain.Replies, plain.BusiestGroup)
	}
	if injected.Injected429 == 0 || injected.InFlightAt429 < 0 {
		t.Errorf("no 429 injected in the injection run: %+v", injected)
	}
	if st.Subscriptions != o.Stored || st.RSS <= 0 || st.HWM < st.RSS {
		t.Errorf("memory run: %+v", st)
	}
	for _, want := range []string{"send rate:", "busiest windows:", "429s from the limits: 0", "lost: 0", "duplicated: 0", "bot peak RSS (VmHWM):", "stored: 2000 subscriptions"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output lacks %q", want)
		}
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{nil, true},
		{[]string{"-n", "50", "-scale", "5, 10"}, true},
		{[]string{"-scale", "0"}, false},
		{[]string{"-scale", "ten"}, false},
		{[]string{"-n", "0"}, false},
		{[]string{"-stored", "-1"}, false},
	} {
		o, err := parseFlags(tc.args, io.Discard)
		if (err == nil) != tc.ok {
			t.Errorf("%q: %+v, %v", tc.args, o, err)
		}
	}
	o, _ := parseFlags([]string{"-n", "50", "-scale", "5, 10"}, io.Discard)
	if o.N != 50 || len(o.Scales) != 2 || o.Scales[1] != 10 || o.Stored != 100_000 {
		t.Errorf("parsed %+v", o)
	}
}
