package app_test

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/bot/app"
	"github.com/newsbot/newsbot/bot/app/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// runMain runs the whole bot with the console on pipes: input is what the
// user types, the result is what the console printed and what was logged.
func runMain(t *testing.T, env map[string]string, input string) (stdout, logs string) {
	t.Helper()
	return runMainAt(t, time.Date(2025, 7, 11, 18, 0, 0, 0, time.UTC), env, input)
}

func runMainAt(t *testing.T, now time.Time, env map[string]string, input string) (stdout, logs string) {
	t.Helper()
	cfg, err := config.Parse(env)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	m := app.NewMain(cfg, strings.NewReader(input), &out, &errOut)
	m.Now = func() time.Time { return now }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		t.Fatalf("Run: %v\nlogs:\n%s", err, errOut.String())
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String()
}

func dbEnv(t *testing.T) map[string]string {
	return map[string]string{"DATABASE_URL": filepath.Join(t.TempDir(), "newsbot.db")}
}

// TestBriefEmbeddedSampleGolden is the first README command's answer: the
// briefing of the embedded sample feeds, as the console prints it.
func TestBriefEmbeddedSampleGolden(t *testing.T) {
	out, logs := runMain(t, dbEnv(t), "/brief\n")
	golden := filepath.Join("testdata", "brief-sample.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), out); diff != "" {
		t.Errorf("console /brief differs from %s (-want +got); rerun with -update if intended:\n%s", golden, diff)
	}
	if strings.Contains(out, "level=") {
		t.Error("logs leaked onto stdout")
	}
	if !strings.Contains(logs, "sample") {
		t.Errorf("logs do not say the sample feeds are in use:\n%s", logs)
	}
}

// TestBriefGroupsReferenceStory checks what a reader of the first entry must
// learn, whatever the summarizer's exact choice of sentences.
func TestBriefGroupsReferenceStory(t *testing.T) {
	out, _ := runMain(t, dbEnv(t), "/brief\n")
	entries := strings.Split(out, "\n\n")
	var meeting []string
	for _, e := range entries {
		if strings.Contains(e, "Lavrov") || strings.Contains(e, "Russian Counterpart") {
			meeting = append(meeting, e)
		}
	}
	if len(meeting) != 1 {
		t.Fatalf("the Rubio–Lavrov meeting appears in %d entries, want exactly 1:\n%s", len(meeting), out)
	}
	e := meeting[0]
	for _, fact := range []string{"Rubio", "Lavrov", "Kuala Lumpur", "July 10", "50 minutes", "ASEAN", "Ukraine",
		"eastern-monitor.example", "global-wire.example"} {
		if !strings.Contains(e, fact) {
			t.Errorf("the meeting entry does not say %q:\n%s", fact, e)
		}
	}
	if strings.Contains(e, "The world is watching closely") {
		t.Errorf("the meeting entry keeps the scene-setting opening:\n%s", e)
	}
}

const feedXML = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Test Outlet</title><link>http://outlet.test/</link>
<item><title>Bridge reopens after repairs</title><link>http://outlet.test/bridge</link>
<pubDate>Fri, 11 Jul 2025 09:00:00 +0000</pubDate>
<description>The city bridge reopened on Friday after six months of repairs, the mayor said. Traffic will flow in both directions from Monday.</description></item>
<item><title>Library extends opening hours</title><link>http://outlet.test/library</link>
<pubDate>Fri, 11 Jul 2025 10:00:00 +0000</pubDate>
<description>The central library will open until 10 p.m. on weekdays from August, the council said on Friday.</description></item>
</channel></rss>`

// TestConsoleOnPipesAgainstFeedServer runs Main on a configured feed served
// by a local HTTP server, and restarts it on the same store.
func TestConsoleOnPipesAgainstFeedServer(t *testing.T) {
	var requests, notModified atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, feedXML)
	}))
	defer srv.Close()
	env := dbEnv(t)
	env["NEWSBOT_FEEDS"] = srv.URL + "/feed.xml"
	env["NEWSBOT_ALLOW_PRIVATE_FEEDS"] = "true"

	out, logs := runMain(t, env, "/brief\n/sources\n")
	for _, want := range []string{"Bridge reopens after repairs", "Library extends opening hours", "http://outlet.test/bridge", "Test Outlet"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Rubio") {
		t.Error("the sample feeds were used although a feed is configured")
	}

	// A restart after the poll interval: the feed answers 304 to the stored
	// validators, nothing is new, and the briefing is the same.
	later := time.Date(2025, 7, 11, 18, 11, 0, 0, time.UTC)
	out2, logs2 := runMainAt(t, later, env, "/brief\n/sources\n")
	if out2 != out {
		t.Errorf("briefing changed across a restart:\n%s\n---\n%s", out, out2)
	}
	if notModified.Load() != 1 {
		t.Errorf("restart fetched the feed unconditionally (%d requests, %d not modified)\n%s\n%s", requests.Load(), notModified.Load(), logs, logs2)
	}
}

// TestRestartDoesNotReingestSeenItems serves the same items under new GUIDs
// and tracking links after a restart; the briefing must not repeat them.
func TestRestartDoesNotReingestSeenItems(t *testing.T) {
	body := feedXML
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	}))
	defer srv.Close()
	env := dbEnv(t)
	env["NEWSBOT_FEEDS"] = srv.URL + "/feed.xml"
	env["NEWSBOT_ALLOW_PRIVATE_FEEDS"] = "true"
	first, _ := runMain(t, env, "/brief\n")

	body = strings.ReplaceAll(feedXML, "http://outlet.test/bridge", "http://outlet.test/bridge?utm_source=rss#top")
	body = strings.ReplaceAll(body, "<link>http://outlet.test/library</link>", "<link>http://outlet.test/library</link><guid>rewritten-guid-7</guid>")
	second, logs := runMainAt(t, time.Date(2025, 7, 11, 18, 11, 0, 0, time.UTC), env, "/brief\n")
	if first != second {
		t.Errorf("re-served items changed the briefing:\n%s\n---\n%s", first, second)
	}
	if !strings.Contains(logs, "new_items=0") {
		t.Errorf("logs do not show zero new items after the restart:\n%s", logs)
	}
}

// TestConsoleBadInput checks each bad input gets one friendly line and the
// bot carries on.
func TestConsoleBadInput(t *testing.T) {
	garbage := strings.Repeat("\x1b[31m<&>\x00\xff", 700) // about 5 kB
	input := strings.Join([]string{"/subscribe 25:00", "/subscribe 07:30 Mars/Olympus", "/frobnicate", garbage,
		strings.Repeat("A", 100_000), "hello?", "/help"}, "\n") + "\n"
	out, logs := runMain(t, dbEnv(t), input)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	wantStarts := []string{
		`"25:00" is not a time of day`,
		`"Mars/Olympus" is not a time zone I know`,
		"I don't know the command /frobnicate.",
		"That is too long for a command",
		"That line is too long for a command.",
		"I only understand commands that start with /.",
		"newsbot sends short news briefings",
	}
	if len(lines) < len(wantStarts) {
		t.Fatalf("got %d lines, want at least %d:\n%s", len(lines), len(wantStarts), out)
	}
	for i, w := range wantStarts {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("reply %d = %q, want it to start %q", i, lines[i], w)
		}
	}
	if strings.ContainsAny(out, "\x1b\x00") || strings.Contains(out, "goroutine") || strings.Contains(logs, "panic") {
		t.Errorf("output carries control bytes or a stack trace:\n%q", out)
	}
}

// TestRunStopsOnCancel is Ctrl-C / SIGTERM: the context ends while the
// console waits for input, and Run returns cleanly.
func TestRunStopsOnCancel(t *testing.T) {
	cfg, err := config.Parse(dbEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	var out bytes.Buffer
	m := app.NewMain(cfg, pr, &out, io.Discard)
	m.Logger = slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	// Cancel once the console is reading: the store is open by then.
	pw.Write([]byte("/status\n"))
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
	if err := m.Close(); err != nil {
		t.Error(err)
	}
}

// TestRunCancelledWhileStarting is Ctrl-C before the bot is up.
func TestRunCancelledWhileStarting(t *testing.T) {
	cfg, err := config.Parse(dbEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	m := app.NewMain(cfg, strings.NewReader(""), io.Discard, io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Run(ctx); err != nil {
		t.Errorf("Run with a cancelled context: %v, want a clean stop", err)
	}
	m.Close()
}

// TestOPMLFeedsAddedAtStart: NEWSBOT_OPML's feeds join the stored list and
// are read at start.
func TestOPMLFeedsAddedAtStart(t *testing.T) {
	feedURL := serveFeed(t, feedXML)
	opml := filepath.Join(t.TempDir(), "feeds.opml")
	os.WriteFile(opml, []byte(`<?xml version="1.0"?><opml version="2.0"><head/><body>
<outline text="Local" type="rss" xmlUrl="`+feedURL+`"/></body></opml>`), 0o644)
	env := dbEnv(t)
	env["NEWSBOT_OPML"] = opml
	env["NEWSBOT_ALLOW_PRIVATE_FEEDS"] = "true"
	out, _ := runMain(t, env, "/sources\n/brief\n")
	if !strings.Contains(out, feedURL) || !strings.Contains(out, "Bridge reopens after repairs") {
		t.Errorf("the OPML feed was not listed and read:\n%s", out)
	}
}

// TestPrivateFeedRefusedByDefault: without NEWSBOT_ALLOW_PRIVATE_FEEDS a feed
// on a loopback address is refused, logged, and the bot still runs.
func TestPrivateFeedRefusedByDefault(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); io.WriteString(w, feedXML) }))
	defer srv.Close()
	env := dbEnv(t)
	env["NEWSBOT_FEEDS"] = srv.URL + "/feed.xml"
	out, logs := runMain(t, env, "/brief\n/sources\n")
	if hits.Load() != 0 {
		t.Error("the private feed was fetched")
	}
	if !strings.Contains(logs, "NEWSBOT_ALLOW_PRIVATE_FEEDS") {
		t.Errorf("the log does not say how to allow it:\n%s", logs)
	}
	if !strings.Contains(out, "No stories yet") || !strings.Contains(out, "failing") {
		t.Errorf("the user is not told:\n%s", out)
	}
}
