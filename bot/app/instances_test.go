package app_test

import (
	"context"
	"fmt"
	"github.com/jackc/pgx/v5"
	"github.com/newsbot/newsbot/briefings/postgres/pgtest"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/newsbot/newsbot/bot/telegram/telegramtest"
	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/postgres"
)

// Several instances on one PostgreSQL: three bot processes share a database
// and the Telegram fake while thousands of briefings come due at once, and
// the instance that long-polls is SIGKILLed mid-way. Every chat gets its
// briefing once (a few twice at most: those in flight at the kill), the
// three together never send faster than the bot's limit, the fake answers
// no 429 and no 409, and long polling fails over to a survivor.
func TestInstancesShareOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three bot processes; skipped with -short")
	}
	dbURL := pgtest.Schema(t)
	const (
		chats     = 3000
		instances = 3
		// The fake's limits and the bot's budgets, scaled alike: 300
		// messages per second for the bot as a whole.
		rateScale = 10.0
		// Deliveries whose message may be in flight at the kill: the
		// scheduler's workers per platform (bot.SchedulerOptions.Workers).
		inFlightBound = 32
		// The bot's global limit: Telegram's 30/s scaled, with the
		// short bursts it tolerates (the fake's bucket holds 30): the
		// instances' pacers spread 300/s evenly, but a message's way to
		// the fake takes a varying time, so one second may see a few more.
		perSecond = 30 * rateScale
		burst     = 30
	)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	bin := filepath.Join(t.TempDir(), "newsbot")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/newsbot/newsbot/cmd/newsbot")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// The day's news and the subscriptions, all due now.
	store, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now().UTC()
	if _, err := store.SaveStories(ctx, []briefings.StoryChange{{
		Headline: "Harbour reopens after the storm", Summary: []string{"The harbour reopened on Monday."},
		FirstSeen: now.Add(-time.Hour), Updated: now.Add(-time.Hour),
		NewItems: []briefings.Item{{FeedURL: "https://feeds.example.org/a.xml", GUID: "a1", Link: "https://news.example.org/a1",
			Title: "Harbour reopens after the storm", Text: "The harbour reopened on Monday.", Outlet: "Example", Published: now.Add(-time.Hour)}},
	}}); err != nil {
		t.Fatal(err)
	}
	zone := "UTC"
	if h := now.Hour(); h == 0 || h == 23 {
		zone = "Asia/Tokyo" // the due time and now on one local date
	}
	zoneOf, _ := briefings.ParseZone(zone)
	loc := zoneOf.Location()
	local := now.In(loc)
	at := briefings.TimeOfDay(local.Hour()*60 + local.Minute())

	srv := telegramtest.NewServer(telegramtest.Options{RateScale: rateScale})
	defer srv.Close()
	var wg sync.WaitGroup
	work := make(chan int64)
	errs := make(chan error, chats)
	for range 8 {
		wg.Go(func() {
			for id := range work {
				if err := srv.AddPrivateChat(id, "Reader "+strconv.FormatInt(id, 10)); err != nil {
					errs <- err
					continue
				}
				chat := briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: strconv.FormatInt(id, 10)}
				if _, err := store.SaveSubscription(ctx, briefings.Subscription{Chat: chat, At: at, Zone: zoneOf,
					Active: true, NextDue: now, CreatedAt: now}); err != nil {
					errs <- err
				}
			}
		})
	}
	for id := int64(1); id <= chats; id++ {
		work <- id
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const asker = chats + 1 // a chat that only asks a command
	if err := srv.AddPrivateChat(asker, "Asker"); err != nil {
		t.Fatal(err)
	}

	// Three instances.
	type proc struct {
		cmd  *exec.Cmd
		logs *lockedBuffer
		done chan error
	}
	dir := t.TempDir()
	env := []string{
		"HOME=" + dir,
		"DATABASE_URL=" + dbURL,
		"TELEGRAM_BOT_TOKEN=" + telegramtest.DefaultToken,
		"TELEGRAM_API_ENDPOINT=" + srv.Endpoint(),
		"TELEGRAM_RATE_SCALE=" + strconv.FormatFloat(rateScale, 'f', -1, 64),
	}
	procs := make([]*proc, instances)
	for i := range procs {
		p := &proc{cmd: exec.Command(bin), logs: &lockedBuffer{}, done: make(chan error, 1)}
		p.cmd.Dir, p.cmd.Env = dir, env
		p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.done <- p.cmd.Wait() }()
		procs[i] = p
	}
	defer func() {
		for _, p := range procs {
			p.cmd.Process.Kill()
		}
	}()
	dump := func() string {
		var b strings.Builder
		for i, p := range procs {
			fmt.Fprintf(&b, "--- instance %d ---\n%s\n", i, lastChars(p.logs.String(), 20000))
		}
		b.WriteString(dbState(dbURL))
		return b.String()
	}
	const leads = "this instance leads"
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for !cond() {
			if ctx.Err() != nil || time.Now().After(deadline) {
				for _, p := range procs { // their goroutines, in the dump
					p.cmd.Process.Signal(syscall.SIGQUIT)
					<-p.done
				}
				t.Fatalf("waiting for %s: not within a minute\n%s", what, dump())
			}
			time.Sleep(50 * time.Millisecond) // polling for an event, not timing it
		}
	}

	// Kill the instance that long-polls once a third of the briefings are
	// out.
	waitUntil("a third of the briefings", func() bool { return srv.Stats().Sent >= chats/3 })
	var leader *proc
	waitUntil("an instance to lead long polling", func() bool {
		for _, p := range procs {
			if strings.Contains(p.logs.String(), leads) {
				leader = p
				return true
			}
		}
		return false
	})
	if err := leader.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-leader.done
	killedAt := time.Now()
	sentAtKill := srv.Stats().Sent
	t.Logf("SIGKILLed the polling instance with %d of %d briefings sent", sentAtKill, chats)

	waitUntil("every chat's briefing", func() bool {
		for id := int64(1); id <= chats; id++ {
			if len(srv.Messages(id)) == 0 {
				return false
			}
		}
		return true
	})
	// Long polling failed over: a command is answered.
	if _, err := srv.SendText(asker, asker, "/status"); err != nil {
		t.Fatal(err)
	}
	replyCtx, cancelReply := context.WithTimeout(ctx, 30*time.Second)
	if _, err := srv.WaitForMessages(replyCtx, asker, 1); err != nil {
		t.Errorf("no answer to a command after the polling instance died: %v\n%s", err, dump())
	}
	cancelReply()

	for _, p := range procs {
		if p != leader {
			p.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, p := range procs {
		if p == leader {
			continue
		}
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("instance after SIGTERM: %v", err)
			}
		case <-ctx.Done():
			t.Fatalf("an instance did not stop on SIGTERM\n%s", dump())
		}
	}

	// Exactly once, but for the in-flight bound.
	var lost, twice, more []int64
	for id := int64(1); id <= chats; id++ {
		n := 0
		for _, m := range srv.Messages(id) {
			if strings.Contains(m.PlainText, "News briefing") {
				n++
			}
		}
		switch {
		case n == 0:
			lost = append(lost, id)
		case n == 2:
			twice = append(twice, id)
		case n > 2:
			more = append(more, id)
		}
	}
	if len(lost) > 0 || len(more) > 0 || len(twice) > inFlightBound {
		t.Errorf("chats without their briefing: %d %v; with it twice: %d (bound %d); more: %v", len(lost), firstIDs(lost), len(twice), inFlightBound, firstIDs(more))
	}

	// The bot's limits, for the three together.
	st := srv.Stats()
	if n := sumCounts(st.TooManyRequests); n > 0 {
		t.Errorf("the fake answered %d 429s: %v", n, st.TooManyRequests)
	}
	if n := st.Rejected[telegramtest.RejectConflict]; n > 0 {
		t.Errorf("getUpdates conflicted %d times: more than one instance polled at once", n)
	}
	if st.Requests["getUpdates"] == 0 {
		t.Error("no instance long-polled")
	}
	var times []time.Time
	for _, m := range srv.AllMessages() {
		times = append(times, m.Time)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	peak, peakAt := 0, time.Time{}
	for i, j := 0, 0; j < len(times); j++ {
		for times[j].Sub(times[i]) >= time.Second {
			i++
		}
		if j-i+1 > peak {
			peak, peakAt = j-i+1, times[i]
		}
	}
	if peak > perSecond+burst {
		t.Errorf("%d messages in the second from %s after the kill, over the bot's limit of %v per second (+%d burst)",
			peak, peakAt.Sub(killedAt), perSecond, burst)
	}
	// Over five seconds the jitter evens out: the rate itself.
	peak5 := 0
	for i, j := 0, 0; j < len(times); j++ {
		for times[j].Sub(times[i]) >= 5*time.Second {
			i++
		}
		peak5 = max(peak5, j-i+1)
	}
	if peak5 > 5*perSecond+burst {
		t.Errorf("%d messages in five seconds, over the bot's limit of %v per second (+%d burst)", peak5, perSecond, burst)
	}
	span := times[len(times)-1].Sub(times[0])
	t.Logf("%d instances, %d chats: %d messages in %s; peak 1 s window %d = %.2f of the limit (%v/s), peak 5 s window %.2f; mean %.2f of the limit; "+
		"briefings twice %d (bound %d); 429s %d; getUpdates conflicts %d",
		instances, chats, len(times), span.Round(time.Millisecond), peak, float64(peak)/perSecond, perSecond, float64(peak5)/5/perSecond,
		float64(len(times))/span.Seconds()/perSecond, len(twice), inFlightBound, sumCounts(st.TooManyRequests), st.Rejected[telegramtest.RejectConflict])

	// Long polling was led by one instance, then by one survivor.
	var leaders int
	for _, p := range procs {
		leaders += strings.Count(p.logs.String(), leads)
	}
	if leaders != 2 {
		t.Errorf("long polling was taken %d times, want twice (once at start, once after the kill)\n%s", leaders, dump())
	}
}

// dbState describes the claims, the ledger and the instances, for a failure
// message.
func dbState(dbURL string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "database: " + err.Error()
	}
	defer conn.Close(ctx)
	var b strings.Builder
	for _, q := range []string{
		`SELECT claim_owner, claim_until > now(), next_due <= now(), count(*) FROM subscriptions GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
		`SELECT state, messages_sent, count(*) FROM deliveries GROUP BY 1, 2 ORDER BY 1, 2`,
		`SELECT id, platforms, now() - last_seen FROM instances ORDER BY id`,
	} {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", q, err)
			continue
		}
		fmt.Fprintf(&b, "%s:\n", q)
		for rows.Next() {
			vals, _ := rows.Values()
			fmt.Fprintf(&b, "  %v\n", vals)
		}
		rows.Close()
	}
	return b.String()
}

func sumCounts[K comparable](m map[K]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func firstIDs(ids []int64) []int64 { return ids[:min(len(ids), 10)] }

func lastChars(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
