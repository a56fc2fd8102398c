package bot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/sqlite"
)

// The delivery tests run in a synctest bubble: time is fake and advances only
// when every goroutine waits, so hours of schedule pass in microseconds and
// every instant asserted is exact. The store is the real SQLite store.

// sentMsg is one message the fake platform accepted.
type sentMsg struct {
	Chat string
	Text string
	At   time.Time
}

type fakeMsg string

func (m fakeMsg) Summary() string { return string(m) }

// fakePlatform renders one message per entry and records what it sends;
// fail scripts the platform's answers.
type fakePlatform struct {
	name briefings.Platform
	now  func() time.Time

	mu       sync.Mutex
	sent     []sentMsg
	attempts map[string]int // by chat id and text
	fail     func(chat briefings.ChatRef, text string, attempt int) error
	// afterSend runs after a message is accepted, outside the lock.
	afterSend func(chat briefings.ChatRef, text string)
}

func (f *fakePlatform) Name() briefings.Platform                        { return f.name }
func (f *fakePlatform) Serve(ctx context.Context, _ *bot.Handler) error { <-ctx.Done(); return nil }

func (f *fakePlatform) RenderBriefing(b briefings.Briefing) ([]bot.OutMessage, error) {
	var out []bot.OutMessage
	for _, e := range b.Entries {
		out = append(out, fakeMsg(e.Headline))
	}
	return out, nil
}

func (f *fakePlatform) Send(ctx context.Context, chat briefings.ChatRef, m bot.OutMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	text := string(m.(fakeMsg))
	f.mu.Lock()
	if f.attempts == nil {
		f.attempts = map[string]int{}
	}
	f.attempts[chat.ID+"|"+text]++
	n := f.attempts[chat.ID+"|"+text]
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		if err := fail(chat, text, n); err != nil {
			return err
		}
	}
	f.mu.Lock()
	f.sent = append(f.sent, sentMsg{Chat: chat.ID, Text: text, At: f.now()})
	after := f.afterSend
	f.mu.Unlock()
	if after != nil {
		after(chat, text)
	}
	return nil
}

func (f *fakePlatform) messages() []sentMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

// to returns the texts sent to chat, in order.
func (f *fakePlatform) to(chat string) []string {
	var out []string
	for _, m := range f.messages() {
		if m.Chat == chat {
			out = append(out, m.Text)
		}
	}
	return out
}

// world is a bot's delivery side on a fake clock.
type world struct {
	t     *testing.T
	db    *sqlite.DB
	svc   *briefings.Service
	fake  *fakePlatform
	now   func() time.Time
	opts  bot.SchedulerOptions
	mu    sync.Mutex
	event []bot.DeliveryEvent
	story int
	logs  lockedLog
}

// lockedLog keeps the scheduler's log for assertions.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newWorld opens the store (dbPath "" for memory) and a clock reading start
// now; it must run inside a synctest bubble.
func newWorld(t *testing.T, start time.Time, dbPath string) *world {
	t.Helper()
	offset := start.Sub(time.Now())
	now := func() time.Time { return time.Now().Add(offset).Round(0) }
	if dbPath == "" {
		dbPath = sqlite.MemoryPath
	}
	db, err := sqlite.Open(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w := &world{t: t, db: db, now: now, fake: &fakePlatform{name: briefings.PlatformTelegram, now: now}}
	w.svc = briefings.NewService(db, briefings.Options{Now: now})
	w.opts = bot.SchedulerOptions{
		Store: db, Stories: db, Chats: w.svc, Platforms: []bot.Platform{w.fake}, Owner: db.InstanceID(), Now: now,
		Logger:  slog.New(slog.NewTextHandler(&w.logs, nil)),
		Workers: 4, RetryBackoff: 10 * time.Second, MaxAttempts: 3, PollInterval: 10 * time.Minute,
		Observer: bot.DeliveryObserverFunc(func(e bot.DeliveryEvent) {
			w.mu.Lock()
			w.event = append(w.event, e)
			w.mu.Unlock()
		}),
	}
	return w
}

// run runs a scheduler until stop is called, which waits for it to end.
func (w *world) run() (stop func()) {
	w.t.Helper()
	s, err := bot.NewScheduler(w.opts)
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(w.t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			w.t.Errorf("Run: %v", err)
		}
	}
}

// story stores a story published at the given time, headline "story N".
func (w *world) addStory(published time.Time) string {
	w.t.Helper()
	w.story++
	headline := fmt.Sprintf("story %d", w.story)
	it := briefings.Item{FeedURL: "https://feed.example/rss", GUID: headline, Link: "https://news.example/" + strings.ReplaceAll(headline, " ", "-"),
		Title: headline, Text: "Text of " + headline + ".", Outlet: "Example", Published: published}
	_, err := w.db.SaveStories(w.t.Context(), []briefings.StoryChange{{Headline: headline, Summary: []string{"Summary."},
		FirstSeen: published, Updated: published, NewItems: []briefings.Item{it}}})
	if err != nil {
		w.t.Fatal(err)
	}
	return headline
}

func (w *world) subscribe(chat string, at string, zone string) briefings.Subscription {
	w.t.Helper()
	tod, err := briefings.ParseTimeOfDay(at)
	if err != nil {
		w.t.Fatal(err)
	}
	z, err := briefings.ParseZone(zone)
	if err != nil {
		w.t.Fatal(err)
	}
	sub, err := w.svc.Subscribe(w.t.Context(), briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: chat},
		briefings.SubscribeRequest{At: &tod, Zone: z})
	if err != nil {
		w.t.Fatal(err)
	}
	return sub
}

func (w *world) sub(chat string) briefings.Subscription {
	w.t.Helper()
	sub, err := w.db.GetSubscription(w.t.Context(), briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: chat})
	if err != nil {
		w.t.Fatal(err)
	}
	return sub
}

func (w *world) outcomes(kind string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, e := range w.event {
		if e.Outcome == kind {
			n++
		}
	}
	return n
}

// sleepUntil advances the fake clock to t and lets everything settle.
func (w *world) sleepUntil(t time.Time) {
	time.Sleep(t.Sub(w.now()))
	synctest.Wait()
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// One briefing per local date at the local time, across the spring-forward
// and fall-back nights of Berlin and New York; and every one sent at the
// wall-clock time asked for.
func TestOneBriefingPerLocalDateAcrossDST(t *testing.T) {
	for _, tc := range []struct {
		zone  string
		start time.Time // UTC; the run lasts six days
	}{
		{"Europe/Berlin", time.Date(2025, 3, 27, 12, 0, 0, 0, time.UTC)},
		{"Europe/Berlin", time.Date(2025, 10, 23, 12, 0, 0, 0, time.UTC)},
		{"America/New_York", time.Date(2025, 3, 6, 12, 0, 0, 0, time.UTC)},
		{"America/New_York", time.Date(2025, 10, 30, 12, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.zone+" "+tc.start.Format("Jan"), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, tc.start, "")
				loc := mustZone(t, tc.zone)
				w.subscribe("1", "07:30", tc.zone)
				w.subscribe("2", "02:30", tc.zone) // inside the spring-forward gap
				w.subscribe("3", "01:30", tc.zone) // twice on the fall-back night (America) / 02:30 Berlin
				stop := w.run()
				end := tc.start.Add(6 * 24 * time.Hour)
				for t0 := tc.start; t0.Before(end); t0 = t0.Add(4 * time.Hour) {
					w.addStory(w.now())
					w.sleepUntil(t0.Add(4 * time.Hour))
				}
				stop()
				end = w.now()
				for _, chat := range []string{"1", "2", "3"} {
					sub := w.sub(chat)
					// Every due instant from the start to the end, by the
					// pure schedule, each delivered once, on time.
					var want []string
					for d := briefings.NextDelivery(sub.At, loc, tc.start); !d.After(end); d = briefings.NextDelivery(sub.At, loc, d) {
						want = append(want, d.UTC().Format(time.RFC3339))
					}
					var got []string
					for _, m := range w.fake.messages() {
						if m.Chat == chat {
							got = append(got, m.At.UTC().Format(time.RFC3339))
						}
					}
					if diff := cmp.Diff(want, slicesCompact(got)); diff != "" || len(want) < 5 {
						t.Errorf("chat %s: delivery instants (-want +got):\n%s\nwant %v", chat, diff, want)
					}
					if texts := w.fake.to(chat); len(texts) != len(slicesCompact(texts)) {
						t.Errorf("chat %s got a message twice: %v", chat, texts)
					}
				}
			})
		})
	}
}

// slicesCompact returns the distinct values of s.
func slicesCompact(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return slices.Compact(c)
}

var day0 = time.Date(2025, 6, 2, 6, 0, 0, 0, time.UTC) // a Monday, 06:00 UTC

// due7 is 07:00 UTC on day0.
var due7 = day0.Add(time.Hour)

// A 429 for one chat requeues that chat after retry_after without holding the
// only worker: the other chats go out first, and the chat's messages keep
// their order.
func TestRetryAfterRequeuesWithoutBlockingOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, day0, "")
		w.opts.Workers = 1
		s1, s2 := w.addStory(day0.Add(-2*time.Hour)), w.addStory(day0.Add(-time.Hour))
		for _, c := range []string{"a", "b", "c"} {
			w.subscribe(c, "07:00", "UTC")
		}
		w.fake.fail = func(chat briefings.ChatRef, text string, n int) error {
			if chat.ID == "a" && text == s1 && n == 1 {
				return &bot.RetryAfterError{After: 20 * time.Second}
			}
			return nil
		}
		stop := w.run()
		w.sleepUntil(due7.Add(time.Minute))
		stop()
		var got []string
		for _, m := range w.fake.messages() {
			got = append(got, fmt.Sprintf("%s %s +%v", m.Chat, m.Text, m.At.Sub(due7)))
		}
		// a is claimed first (ties in NextDue go by id): its first message
		// goes out, its second gets the 429 and waits 20 s while b and c are
		// served by the only worker; nothing overtakes a's second message.
		want := []string{
			"a " + s2 + " +0s",
			"b " + s2 + " +0s", "b " + s1 + " +0s",
			"c " + s2 + " +0s", "c " + s1 + " +0s",
			"a " + s1 + " +20s",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("sends (-want +got):\n%s", diff)
		}
	})
}

// A 429 for the whole bot pauses the platform: nothing goes out until it
// ends, then everything does, each message once.
func TestGlobalRetryAfterPausesThePlatform(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, day0, "")
		w.opts.Workers = 1 // so that b and c are not in flight already
		s1 := w.addStory(day0.Add(-time.Hour))
		for _, c := range []string{"a", "b", "c"} {
			w.subscribe(c, "07:00", "UTC")
		}
		w.fake.fail = func(chat briefings.ChatRef, text string, n int) error {
			if chat.ID == "a" && n == 1 {
				return &bot.RetryAfterError{After: 30 * time.Second, Global: true}
			}
			return nil
		}
		stop := w.run()
		w.sleepUntil(due7.Add(time.Minute))
		stop()
		var got []string
		for _, m := range w.fake.messages() {
			got = append(got, fmt.Sprintf("%s %s +%v", m.Chat, m.Text, m.At.Sub(due7)))
		}
		slices.Sort(got)
		want := []string{"a " + s1 + " +30s", "b " + s1 + " +30s", "c " + s1 + " +30s"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("sends (-want +got):\n%s", diff)
		}
		if w.outcomes(bot.OutcomePaused) != 1 {
			t.Errorf("observer saw %d pauses, want 1", w.outcomes(bot.OutcomePaused))
		}
	})
}

// A chat told to wait hours gives up its claim until then: it holds no
// worker and no memory, the others are delivered at once, the wait is
// visible to the observer and in the log, and the chat gets its briefing,
// once, when the wait is over.
func TestLongRetryAfterDefersTheChat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, day0, "")
		w.opts.Workers = 1
		s1 := w.addStory(day0.Add(-time.Hour))
		w.subscribe("a", "07:00", "UTC")
		w.subscribe("b", "07:00", "UTC")
		w.fake.fail = func(chat briefings.ChatRef, text string, n int) error {
			if chat.ID == "a" && n == 1 {
				return &bot.RetryAfterError{After: 3 * time.Hour}
			}
			return nil
		}
		stop := w.run()
		w.sleepUntil(due7.Add(time.Minute))
		if got := w.fake.to("b"); !cmp.Equal(got, []string{s1}) {
			t.Errorf("b got %v while a waits, want its briefing", got)
		}
		if w.outcomes(bot.OutcomeDeferred) != 1 {
			t.Errorf("observer saw %d deferrals, want 1", w.outcomes(bot.OutcomeDeferred))
		}
		if logs := w.logs.String(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "retry_after=3h0m0s") {
			t.Errorf("the long wait is not logged as a warning:\n%s", logs)
		}
		w.sleepUntil(due7.Add(3*time.Hour + 11*time.Minute)) // the next poll after the wait
		stop()
		var got []string
		for _, m := range w.fake.messages() {
			if m.Chat == "a" {
				got = append(got, fmt.Sprintf("%s +%v", m.Text, m.At.Sub(due7).Truncate(10*time.Minute)))
			}
		}
		if want := []string{s1 + " +3h0m0s"}; !cmp.Equal(want, got) {
			t.Errorf("a got %v, want %v", got, want)
		}
	})
}

// A chat that blocked the bot is deactivated with the reason /status shows,
// and gets nothing more.
func TestChatGoneDeactivates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, day0, "")
		w.addStory(day0.Add(-time.Hour))
		w.subscribe("a", "07:00", "UTC")
		w.fake.fail = func(chat briefings.ChatRef, text string, n int) error {
			return &bot.ChatGoneError{Reason: "the bot was blocked by the user", Err: errors.New("403")}
		}
		stop := w.run()
		w.sleepUntil(due7.Add(49 * time.Hour))
		stop()
		sub := w.sub("a")
		if sub.Active || sub.LastError != "the bot was blocked by the user" {
			t.Errorf("subscription active=%v, LastError %q; want inactive with the reason", sub.Active, sub.LastError)
		}
		st, err := w.svc.Status(t.Context(), sub.Chat)
		if err != nil {
			t.Fatal(err)
		}
		if text := bot.StatusText(st); !strings.Contains(text, "blocked by the user") {
			t.Errorf("/status does not say why deliveries stopped:\n%s", text)
		}
		if n := len(w.fake.attempts); n != 1 {
			t.Errorf("%d send attempts to a gone chat, want 1", n)
		}
	})
}

// A group upgraded to a supergroup: the subscription follows the new id and
// the message is sent there, and so are the next days'.
func TestChatMovedIsFollowed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, day0, "")
		s1 := w.addStory(day0.Add(-time.Hour))
		w.subscribe("-1", "07:00", "UTC")
		w.fake.fail = func(chat briefings.ChatRef, text string, n int) error {
			if chat.ID == "-1" {
				return &bot.ChatMovedError{NewID: "-100", Err: errors.New("migrated")}
			}
			return nil
		}
		stop := w.run()
		w.sleepUntil(due7.Add(time.Minute))
		s2 := w.addStory(w.now())
		w.sleepUntil(due7.Add(24*time.Hour + time.Minute))
		stop()
		if got := w.fake.to("-100"); !cmp.Equal(got, []string{s1, s2}) {
			t.Errorf("new chat got %v, want %v", got, []string{s1, s2})
		}
		if sub := w.sub("-100"); !sub.Active || sub.LastError != "" {
			t.Errorf("moved subscription active=%v LastError=%q", sub.Active, sub.LastError)
		}
	})
}

// Transient failures are retried with back-off; a chat that keeps failing
// is given up for the day with the reason shown, and tried afresh the next
// day.
func TestTransientFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, day0, "")
		s1 := w.addStory(day0.Add(-time.Hour))
		w.subscribe("flaky", "07:00", "UTC")
		w.subscribe("down", "07:00", "UTC")
		downToday := true
		w.fake.fail = func(chat briefings.ChatRef, text string, n int) error {
			switch {
			case chat.ID == "flaky" && n <= 2:
				return errors.New("502 bad gateway")
			case chat.ID == "down" && downToday:
				return errors.New("connection refused")
			}
			return nil
		}
		stop := w.run()
		w.sleepUntil(due7.Add(time.Hour))
		var flaky []string
		for _, m := range w.fake.messages() {
			if m.Chat == "flaky" {
				flaky = append(flaky, fmt.Sprintf("%s +%v", m.Text, m.At.Sub(due7)))
			}
		}
		// Back-off of 10 s, then 20 s.
		if want := []string{s1 + " +30s"}; !cmp.Equal(want, flaky) {
			t.Errorf("flaky got %v, want %v", flaky, want)
		}
		down := w.sub("down")
		if down.LastError == "" || !down.Active || w.fake.attempts["down|"+s1] != 3 {
			t.Errorf("down: LastError %q, active %v, %d attempts; want given up after 3 attempts, still subscribed",
				down.LastError, down.Active, w.fake.attempts["down|"+s1])
		}
		downToday = false
		s2 := w.addStory(w.now())
		w.sleepUntil(due7.Add(25 * time.Hour))
		stop()
		if got := w.fake.to("down"); !cmp.Equal(got, []string{s2}) {
			t.Errorf("down the next day got %v, want the day's briefing", got)
		}
		if sub := w.sub("down"); sub.LastError != "" {
			t.Errorf("LastError %q after a good delivery, want it cleared", sub.LastError)
		}
	})
}

// After downtime: a briefing due earlier the same local day is delivered
// when the bot comes back, once; one due on an earlier local day is skipped.
func TestDowntimeCatchUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, day0, "")
		w.addStory(day0.Add(-time.Hour))
		w.subscribe("morning", "07:00", "UTC")           // due day0 07:00
		w.subscribe("tokyo", "08:00", "Asia/Tokyo")      // due day0 23:00 UTC, local date day0+1
		w.subscribe("evening", "22:00", "UTC")           // due day0 22:00
		w.subscribe("next", "09:00", "America/New_York") // due day0 13:00 UTC
		// The bot is down from day0 06:00 to day1 08:00 UTC.
		comeback := day0.Add(26 * time.Hour)
		w.sleepUntil(comeback)
		w.addStory(w.now())
		stop := w.run()
		w.sleepUntil(comeback.Add(time.Hour))
		stop()
		for _, tc := range []struct {
			chat    string
			skipped string // local date skipped
			sentAt  time.Duration
		}{
			{"morning", "2025-06-02", time.Second},                         // day1 07:00 missed an hour ago: same day, late (on the second poll)
			{"tokyo", "", 0},                                               // due 08:00 Tokyo of Jun 3 = day0 23:00 UTC: same local day
			{"evening", "2025-06-02", -1},                                  // day0 22:00 passed on an earlier date; day1 22:00 is ahead
			{"next", "2025-06-02", 13*time.Hour - 2*time.Hour - time.Hour}, // day1 09:00 New York = 13:00 UTC: not yet
		} {
			var at []time.Duration
			for _, m := range w.fake.messages() {
				if m.Chat == tc.chat {
					at = append(at, m.At.Sub(comeback))
				}
			}
			sub := w.sub(tc.chat)
			if tc.sentAt >= 0 && tc.sentAt < time.Hour {
				if len(at) == 0 || at[0] != tc.sentAt {
					t.Errorf("%s: sent at %v after the comeback, want once at +%v", tc.chat, at, tc.sentAt)
				}
				if d, err := w.db.GetDelivery(t.Context(), sub.ID, briefings.LocalDate(w.now(), sub.Zone.Location())); err != nil || d.State != briefings.DeliverySent {
					t.Errorf("%s: today's ledger entry %v, %v", tc.chat, d.State, err)
				}
			} else if len(at) != 0 {
				t.Errorf("%s: sent at %v after the comeback, want nothing yet", tc.chat, at)
			}
			if tc.skipped != "" {
				if d, err := w.db.GetDelivery(t.Context(), sub.ID, tc.skipped); err != nil || d.State != briefings.DeliverySkipped {
					t.Errorf("%s: ledger of %s = %v, %v; want skipped", tc.chat, tc.skipped, d.State, err)
				}
			}
			if !sub.NextDue.After(w.now()) {
				t.Errorf("%s: NextDue %v not moved past now", tc.chat, sub.NextDue)
			}
		}
	})
}

// A day with nothing new sends nothing and records the day; the next
// briefing has only what is new since the last one.
func TestNothingNew(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, day0, "")
		s1 := w.addStory(day0.Add(-time.Hour))
		sub := w.subscribe("a", "07:00", "UTC")
		stop := w.run()
		w.sleepUntil(due7.Add(25 * time.Hour)) // day0: s1; day1: nothing new
		s2 := w.addStory(w.now())
		w.sleepUntil(due7.Add(49 * time.Hour)) // day2: s2 only
		stop()
		if got := w.fake.to("a"); !cmp.Equal(got, []string{s1, s2}) {
			t.Errorf("sent %v, want %v", got, []string{s1, s2})
		}
		if d, err := w.db.GetDelivery(t.Context(), sub.ID, "2025-06-03"); err != nil || d.State != briefings.DeliveryEmpty {
			t.Errorf("ledger of the empty day: %v, %v; want empty", d.State, err)
		}
		if w.outcomes(bot.OutcomeEmpty) != 1 {
			t.Errorf("observer saw %d empty days, want 1", w.outcomes(bot.OutcomeEmpty))
		}
	})
}

// The first briefing covers the last 24 hours; subscribing again after a
// week away brings the last 24 hours, not the week's backlog; topics filter.
func TestBriefingWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, day0, "")
		old := w.addStory(due7.Add(-25 * time.Hour))
		fresh := w.addStory(due7.Add(-23 * time.Hour))
		w.subscribe("a", "07:00", "UTC")
		stop := w.run()
		w.sleepUntil(due7.Add(time.Minute))
		if got := w.fake.to("a"); !cmp.Equal(got, []string{fresh}) {
			t.Errorf("first briefing %v, want only %v (not %v, older than a day)", got, fresh, old)
		}
		if _, err := w.svc.Unsubscribe(t.Context(), w.sub("a").Chat); err != nil {
			t.Fatal(err)
		}
		var week []string
		for d := range 7 {
			week = append(week, w.addStory(due7.Add(time.Duration(d)*24*time.Hour+time.Hour)))
		}
		w.sleepUntil(due7.Add(7*24*time.Hour - time.Hour))
		w.subscribe("a", "07:00", "UTC")
		w.sleepUntil(due7.Add(7*24*time.Hour + time.Minute))
		stop()
		// Stories of day0+1h … day6+1h; the last day's window is day6 07:00
		// on: only the last one.
		if got := w.fake.to("a"); !cmp.Equal(got, []string{fresh, week[6]}) {
			t.Errorf("after a week away got %v, want %v", got, []string{fresh, week[6]})
		}
	})
}

// A process killed mid-broadcast and started again: every chat ends with its
// whole briefing, in order, and the only messages sent twice are those in
// flight at the kill — at most one per worker.
func TestRestartResumesWithinInFlightBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "newsbot.db")
		w := newWorld(t, day0, path)
		if err := w.db.LockInstance(t.Context()); err != nil {
			t.Fatal(err)
		}
		var stories []string
		for i := range 3 {
			stories = append(stories, w.addStory(day0.Add(-time.Duration(i+1)*time.Hour)))
		}
		const chats = 40
		for i := range chats {
			w.subscribe(fmt.Sprint(i), "07:00", "UTC")
		}
		// The "kill": after the 50th accepted message, the process stops
		// before it can record anything more. Sends block until then so that
		// every worker has a message in flight.
		ctx, kill := context.WithCancel(t.Context())
		var accepted int
		var mu sync.Mutex
		w.fake.afterSend = func(briefings.ChatRef, string) {
			mu.Lock()
			accepted++
			n := accepted
			mu.Unlock()
			if n == 50 {
				kill()
			}
		}
		s, err := bot.NewScheduler(w.opts)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		w.sleepUntil(due7)
		go func() { done <- s.Run(ctx) }()
		<-done
		w.db.Close() // the process is gone; its lock with it

		w2 := newWorld(t, w.now(), path)
		w2.fake = w.fake // the same chats
		w2.opts.Platforms = []bot.Platform{w.fake}
		if err := w2.db.LockInstance(t.Context()); err != nil {
			t.Fatal(err)
		}
		stop := w2.run()
		w2.sleepUntil(due7.Add(time.Minute))
		stop()

		want := []string{stories[0], stories[1], stories[2]}
		dups := 0
		for i := range chats {
			got := w.fake.to(fmt.Sprint(i))
			if c := slices.Compact(slices.Clone(got)); !cmp.Equal(c, want) {
				t.Errorf("chat %d got %v, want %v in order", i, got, want)
			}
			dups += len(got) - len(slices.Compact(slices.Clone(got)))
		}
		if dups > w.opts.Workers {
			t.Errorf("%d messages sent twice, want at most the %d in flight", dups, w.opts.Workers)
		}
		t.Logf("%d messages sent twice across the restart (bound %d)", dups, w.opts.Workers)
	})
}
