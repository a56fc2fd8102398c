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
// briefing, none twice, the pacer causes no 429, and the memory run
// measures a bot that holds every stored subscription and sends nothing.
// Speed is printed, not asserted.
func TestQuickHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("starts bot processes; skipped with -short")
	}
	o, err := parseFlags([]string{"-quick"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	fanOuts, st, err := measure(ctx, selfBot(t), t.TempDir(), o, &out)
	t.Logf("harness output:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(fanOuts) != 1 {
		t.Fatalf("%d fan-out runs, want 1", len(fanOuts))
	}
	r := fanOuts[0]
	if r.Count.Lost != 0 || r.Count.Duplicated != 0 || r.Count.Messages != o.N {
		t.Errorf("%d chats: %d briefings, %d lost, %d duplicated", o.N, r.Count.Messages, r.Count.Lost, r.Count.Duplicated)
	}
	if r.Rejected429 != 0 {
		t.Errorf("%d flood-control 429s at factor %g", r.Rejected429, r.Scale)
	}
	if r.Achieved <= 0 || r.Allowed != 30*r.Scale || r.PeakRSS <= 0 {
		t.Errorf("figures not measured: %+v", r)
	}
	if st.Subscriptions != o.Stored || st.RSS <= 0 || st.HWM < st.RSS {
		t.Errorf("memory run: %+v", st)
	}
	for _, want := range []string{"send rate:", "429s received: 0", "lost: 0", "duplicated: 0", "bot peak RSS (VmHWM):", "stored: 2000 subscriptions"} {
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
