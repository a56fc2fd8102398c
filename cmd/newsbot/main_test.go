package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/newsbot/newsbot/briefings/postgres/pgtest"
)

// buildNewsbot compiles the command once per test binary, as `go run` would.
func buildNewsbot(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "newsbot")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestREADMECommand is `printf '/brief\n' | go run ./cmd/newsbot` in a fresh
// directory with an empty environment: a real briefing on stdout, logs on
// stderr only, exit 0 at end of input; then SIGTERM stops a bot waiting for
// input, cleanly.
func TestREADMECommand(t *testing.T) {
	bin := buildNewsbot(t)
	dir := t.TempDir()

	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir, "PATH=/usr/bin:/bin"}
	cmd.Stdin = strings.NewReader("/brief\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("newsbot: %v\nstderr:\n%s", err, stderr.String())
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "News briefing — ") || !strings.Contains(out, "Lavrov") || !strings.Contains(out, "Sources:") {
		t.Errorf("stdout is not a briefing:\n%s", out)
	}
	if strings.Contains(out, "level=") || !strings.Contains(stderr.String(), "level=INFO") {
		t.Errorf("logs belong on stderr only:\nstdout:\n%s\nstderr:\n%s", out, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "newsbot.db")); err != nil {
		t.Errorf("no SQLite file in the working directory: %v", err)
	}

	// SIGTERM while waiting for input.
	var live, liveErr lockedBuffer
	cmd = exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	cmd.Stdout, cmd.Stderr = &live, &liveErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdin.Write([]byte("/help\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for !strings.Contains(live.String(), "/subscribe") && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond) // waiting for the process, not timing it
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after SIGTERM: %v, want exit 0\nstderr:\n%s", err, liveErr.String())
		}
	case <-ctx.Done():
		cmd.Process.Kill()
		t.Fatal("newsbot did not stop on SIGTERM")
	}
}

func runCLI(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errOut, env)
	return code, out.String(), errOut.String()
}

func TestFeedsSubcommands(t *testing.T) {
	testFeedsSubcommands(t, filepath.Join(t.TempDir(), "n.db"), filepath.Join(t.TempDir(), "n2.db"))
}

// TestFeedsSubcommandsOnPostgres: the feeds subcommands open the store the
// bot opens, PostgreSQL too.
func TestFeedsSubcommandsOnPostgres(t *testing.T) {
	testFeedsSubcommands(t, pgtest.Schema(t), pgtest.Schema(t))
}

// testFeedsSubcommands runs every feeds subcommand on the store databaseURL
// names, and the OPML round trip into the empty store otherURL names.
func testFeedsSubcommands(t *testing.T, databaseURL, otherURL string) {
	env := []string{"DATABASE_URL=" + databaseURL}
	code, out, _ := runCLI(t, env, "feeds", "add", "https://a.example/feed.xml")
	if code != 0 || !strings.Contains(out, "added") {
		t.Fatalf("add: %d %q", code, out)
	}
	if code, out, _ = runCLI(t, env, "feeds", "add", "https://a.example/feed.xml"); code != 0 || !strings.Contains(out, "already listed") {
		t.Errorf("add twice: %d %q", code, out)
	}
	if code, _, errOut := runCLI(t, env, "feeds", "add", "ftp://nope"); code != 2 || !strings.Contains(errOut, "not an http(s) URL") {
		t.Errorf("add bad URL: %d %q", code, errOut)
	}
	opml := filepath.Join(t.TempDir(), "in.opml")
	os.WriteFile(opml, []byte(`<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
<outline text="News"><outline type="rss" text="B &amp; Co" xmlUrl="https://b.example/rss"/>
<outline type="rss" text="A again" xmlUrl="https://a.example/feed.xml"/></outline></body></opml>`), 0o644)
	if code, out, _ = runCLI(t, env, "feeds", "import", opml); code != 0 || !strings.Contains(out, "imported 1 new feed(s) of 2") {
		t.Errorf("import: %d %q", code, out)
	}
	code, out, _ = runCLI(t, env, "feeds", "list")
	if code != 0 || out != "https://a.example/feed.xml\nhttps://b.example/rss\n" {
		t.Errorf("list: %d %q", code, out)
	}
	code, exported, _ := runCLI(t, env, "feeds", "export")
	if code != 0 || !strings.Contains(exported, `xmlUrl="https://b.example/rss"`) {
		t.Errorf("export: %d %q", code, exported)
	}
	// Export → import into a new store gives the same list.
	env2 := []string{"DATABASE_URL=" + otherURL}
	round := filepath.Join(t.TempDir(), "out.opml")
	os.WriteFile(round, []byte(exported), 0o644)
	runCLI(t, env2, "feeds", "import", round)
	if _, out2, _ := runCLI(t, env2, "feeds", "list"); out2 != "https://a.example/feed.xml\nhttps://b.example/rss\n" {
		t.Errorf("OPML round trip lost feeds: %q", out2)
	}
	if code, out, _ = runCLI(t, env, "feeds", "remove", "https://a.example/feed.xml"); code != 0 || !strings.Contains(out, "removed") {
		t.Errorf("remove: %d %q", code, out)
	}
	if code, _, errOut := runCLI(t, env, "feeds", "remove", "https://a.example/feed.xml"); code != 1 || !strings.Contains(errOut, "not in the feed list") {
		t.Errorf("remove twice: %d %q", code, errOut)
	}
}

func TestBadConfigurationNamesTheVariable(t *testing.T) {
	code, _, errOut := runCLI(t, []string{"NEWSBOT_TIMEZONE=Mars/Olympus", "DATABASE_URL=" + filepath.Join(t.TempDir(), "n.db")})
	if code != 2 || !strings.Contains(errOut, "NEWSBOT_TIMEZONE") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestDotEnvDoesNotOverrideEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile(".env", []byte("NEWSBOT_TIMEZONE=Europe/Berlin\nNEWSBOT_BRIEFING_SIZE=3\n"), 0o644)
	cfg, err := loadConfig([]string{"NEWSBOT_TIMEZONE=Asia/Kathmandu"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TimezoneName != "Asia/Kathmandu" || cfg.BriefingSize != 3 {
		t.Errorf("zone %s size %d: the environment must win and .env fill the rest", cfg.TimezoneName, cfg.BriefingSize)
	}
}

// lockedBuffer is a bytes.Buffer safe to read while a child process writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
