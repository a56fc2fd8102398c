package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/newsbot/newsbot/bot/telegram/telegramtest"
)

// inFlightBound is how many briefings a SIGKILL may make a chat receive
// twice: the scheduler's workers per platform (SchedulerOptions.Workers,
// 32 by default), each of which has at most one message whose Send was
// called and whose progress is not yet in the ledger.
const inFlightBound = 32

// A real newsbot process broadcasting to a few thousand chats is SIGKILLed
// mid-way and started again: every chat ends with its briefing for the
// day, and at most the in-flight bound of them with a second one.
func TestCrashMidBroadcast(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the newsbot binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "newsbot")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/newsbot/newsbot/cmd/newsbot").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const n, scale = 2000, 10 // 300 briefings a second: the broadcast lasts about 7 s
	feed := newsFeed()
	defer feed.Close()
	fake, err := telegramtest.Start(telegramtest.Options{Token: harnessToken, RateScale: scale})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	chats := chatIDs(n)
	for _, id := range chats {
		if err := fake.AddPrivateChat(id, "Reader"); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "newsbot.db")
	now := time.Now()
	zone, err := middayZone(now)
	if err != nil {
		t.Fatal(err)
	}
	if err := subscribeChats(ctx, dbPath, chats, now.In(zone.Location()).Truncate(time.Minute), zone); err != nil {
		t.Fatal(err)
	}
	start := func(run int) *botProcess {
		addr, err := freeAddr()
		if err != nil {
			t.Fatal(err)
		}
		p, err := startBot(botCommand{Path: bin, Env: []string{"NEWSBOT_LOG_LEVEL=warn"}}, botEnv(fake, dbPath, feed.URL+"/feed.xml", addr, scale), dir, addr, run)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.cmd.Process.Kill() })
		return p
	}

	first := start(0)
	if err := first.waitUntil(ctx, "a third of the broadcast", func() bool { return fake.Stats().Sent >= n/3 }); err != nil {
		t.Fatal(err)
	}
	if err := first.stop(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	atKill := countDeliveries(fake, chats)
	if atKill.Messages >= n {
		t.Fatalf("the broadcast was over before the kill (%d briefings): the test proves nothing", atKill.Messages)
	}

	restartedAt := time.Now()
	second := start(1)
	err = second.waitUntil(ctx, "every chat's briefing, confirmed", func() bool {
		if countDeliveries(fake, chats).Lost > 0 {
			return false
		}
		v, ok := second.metric(ctx, dueSample)
		return ok && v == 0
	})
	if err != nil {
		t.Fatalf("%v\n%d of %d chats have their briefing", err, n-countDeliveries(fake, chats).Lost, n)
	}
	if err := second.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	got := countDeliveries(fake, chats)
	if got.Lost != 0 {
		t.Errorf("%d chats never got their briefing", got.Lost)
	}
	if got.Duplicated > inFlightBound || got.Repeated > inFlightBound {
		t.Errorf("%d briefings sent twice (%d chats), want at most the %d in flight at the kill", got.Duplicated, got.Repeated, inFlightBound)
	}
	if st := fake.Stats(); floodRejections(st) != 0 {
		t.Errorf("%d flood-control 429s", floodRejections(st))
	}
	t.Logf("killed after %d of %d briefings; the restarted bot finished the rest in %.1f s; %d sent twice",
		atKill.Messages, n, time.Since(restartedAt).Seconds(), got.Duplicated)
}
