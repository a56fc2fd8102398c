package bot

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

var telegramLike = PaceLimits{
	Global:   Rate{Count: 30, Per: time.Second, Burst: 30},
	PerChat:  Rate{Count: 1, Per: time.Second, Burst: 1},
	PerGroup: Rate{Count: 20, Per: time.Minute, Burst: 1},
}

// sendLog is when each send reached the "platform", by chat.
type sendLog struct {
	mu     sync.Mutex
	byChat map[string][]time.Time
	all    []time.Time
}

func (l *sendLog) add(chat string, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byChat == nil {
		l.byChat = map[string][]time.Time{}
	}
	l.byChat[chat] = append(l.byChat[chat], t)
	l.all = append(l.all, t)
}

// delay is a send's way to the platform and back: the platform counts it
// after in, and answers after in+back.
type delay func(chat string, i int) (in, back time.Duration)

// send has one sender per chat send m messages through p (Acquire, the
// delay, done) and logs when each reached the platform.
func send(t *testing.T, p *Pacer, chats []string, group bool, m int, d delay) *sendLog {
	t.Helper()
	log := &sendLog{}
	var wg sync.WaitGroup
	for _, c := range chats {
		wg.Go(func() {
			for i := range m {
				done, err := p.Acquire(context.Background(), c, group)
				if err != nil {
					t.Error(err)
					return
				}
				in, back := time.Duration(0), time.Duration(0)
				if d != nil {
					in, back = d(c, i)
				}
				time.Sleep(in)
				log.add(c, time.Now())
				time.Sleep(back)
				done()
			}
		})
	}
	wg.Wait()
	return log
}

// busiest is the most sends in any window of length per (half-open, as
// the platform's "no more than N in any per").
func busiest(times []time.Time, per time.Duration) int {
	ts := slices.Clone(times)
	slices.SortFunc(ts, time.Time.Compare)
	most, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= per {
			lo++
		}
		most = max(most, hi-lo+1)
	}
	return most
}

func chatNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

// The budgets are windows: however the senders crowd in and however the
// network delays each send, no window of the stated length holds more than
// its count at the platform, and the budget is used (the run takes about
// as long as the count allows, not much longer).
func TestPacerWindows(t *testing.T) {
	jitter := func(c string, i int) (time.Duration, time.Duration) {
		// Deterministic, uneven: some sends dawdle on the way in, some
		// on the way back.
		h := (len(c)*31 + int(c[len(c)-1])*17 + i*13) % 50
		return time.Duration(h) * time.Millisecond, time.Duration(49-h) * time.Millisecond
	}
	tests := []struct {
		name   string
		limits PaceLimits
		chats  []string
		group  bool
		m      int
		delay  delay
		// every window of per holds at most count, globally and per chat
		global, perChat Rate
		// the run takes at most this long
		within time.Duration
	}{
		{
			name: "global, 300 chats at once", limits: telegramLike, chats: chatNames("c", 300), m: 1,
			global: telegramLike.Global, perChat: telegramLike.PerChat, within: 10 * time.Second,
		},
		{
			name: "global with network jitter", limits: telegramLike, chats: chatNames("c", 300), m: 1, delay: jitter,
			global: telegramLike.Global, perChat: telegramLike.PerChat, within: 11 * time.Second,
		},
		{
			name: "global smoothed, burst 5", limits: PaceLimits{Global: Rate{Count: 30, Per: time.Second, Burst: 5}},
			chats: chatNames("c", 90), m: 1, global: Rate{Count: 30, Per: time.Second}, within: 3100 * time.Millisecond,
		},
		{
			name: "global with a margin", limits: PaceLimits{Global: Rate{Count: 30, Per: time.Second, Burst: 30}, Margin: 100 * time.Millisecond},
			chats: chatNames("c", 90), m: 1, global: Rate{Count: 30, Per: 1100 * time.Millisecond}, within: 3 * time.Second,
		},
		{
			name: "one chat", limits: telegramLike, chats: []string{"a"}, m: 5, delay: jitter,
			global: telegramLike.Global, perChat: telegramLike.PerChat, within: 5 * time.Second,
		},
		{
			name: "chat with a short burst", limits: PaceLimits{PerChat: Rate{Count: 3, Per: 3 * time.Second, Burst: 3}},
			chats: []string{"a", "b"}, m: 9, perChat: Rate{Count: 3, Per: 3 * time.Second}, within: 7 * time.Second,
		},
		{
			name: "group, 20 per minute", limits: telegramLike, chats: []string{"g"}, group: true, m: 41, delay: jitter,
			global: telegramLike.Global, perChat: Rate{Count: 20, Per: time.Minute}, within: 2*time.Minute + time.Second,
		},
		{
			name: "many chats, several messages each", limits: telegramLike, chats: chatNames("p", 105),
			m: 3, delay: jitter, global: telegramLike.Global, perChat: telegramLike.PerChat, within: 15 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				log := send(t, NewPacer(tt.limits, nil), tt.chats, tt.group, tt.m, tt.delay)
				took := time.Since(start)
				if len(log.all) != len(tt.chats)*tt.m {
					t.Fatalf("%d sends, want %d", len(log.all), len(tt.chats)*tt.m)
				}
				if !tt.global.unlimited() {
					if got := busiest(log.all, tt.global.Per); got > tt.global.Count {
						t.Errorf("%d sends in one window of %v in all, limit %d", got, tt.global.Per, tt.global.Count)
					}
				}
				if !tt.perChat.unlimited() {
					for c, ts := range log.byChat {
						if got := busiest(ts, tt.perChat.Per); got > tt.perChat.Count {
							t.Errorf("%d sends to %s in one window of %v, limit %d", got, c, tt.perChat.Per, tt.perChat.Count)
						}
					}
				}
				if took > tt.within {
					t.Errorf("took %v, want at most %v: the budget is not used", took, tt.within)
				}
			})
		})
	}
}

// A group is limited by both its chat budget and its group budget.
func TestPacerGroupAlsoPerChat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := send(t, NewPacer(telegramLike, nil), []string{"g"}, true, 5, nil)
		if got := busiest(log.all, time.Second); got > 1 {
			t.Errorf("%d sends to one group within a second", got)
		}
	})
}

func TestPacerPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(telegramLike, nil)
		start := time.Now()
		p.Pause("a", false, 30*time.Second)
		if until := p.PausedUntil("a"); until.Sub(start) != 30*time.Second+PauseMargin {
			t.Errorf("PausedUntil = %v from now, want 30s + the margin", until.Sub(start))
		}
		if !p.PausedUntil("b").IsZero() {
			t.Error("pausing a paused b")
		}
		log := send(t, p, []string{"a", "b"}, false, 1, nil)
		if a, b := log.byChat["a"][0].Sub(start), log.byChat["b"][0].Sub(start); a < 30*time.Second+PauseMargin || b > time.Second {
			t.Errorf("a sent at %v (paused 30s), b at %v (not paused)", a, b)
		}
	})
}

// A 429 for the whole bot stops every send until retry_after and the margin
// have passed, then the budget ramps up: the first window after the pause
// carries a quarter of the count, later ones more, and the full rate only
// comes back after a few windows.
func TestPacerPauseAllRamps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		limits := PaceLimits{Global: Rate{Count: 40, Per: time.Second, Burst: 40}}
		p := NewPacer(limits, nil)
		start := time.Now()
		p.PauseAll(2 * time.Second)
		log := send(t, p, chatNames("c", 400), false, 1, nil)
		resume := start.Add(2*time.Second + PauseMargin)
		perWindow := make([]int, 14)
		for _, ts := range log.all {
			if ts.Before(resume) {
				t.Fatalf("a send at %v, inside the pause", ts.Sub(start))
			}
			if i := int(ts.Sub(resume) / time.Second); i < len(perWindow) {
				perWindow[i]++
			}
		}
		t.Logf("sends per second after the pause: %v", perWindow)
		if perWindow[0] > 40/2 || perWindow[0] == 0 {
			t.Errorf("first second after the pause: %d sends, want a quarter to a half of 40", perWindow[0])
		}
		if !(perWindow[0] < perWindow[2] && perWindow[2] < perWindow[5]) {
			t.Errorf("the rate does not ramp up: %v", perWindow)
		}
		if perWindow[6] != 40 {
			t.Errorf("after the ramp: %d sends a second, want the full 40", perWindow[6])
		}
		if got := busiest(log.all, time.Second); got > 40 {
			t.Errorf("%d in one second", got)
		}
	})
}

// No send goes out inside a pause, however many wait, and sends already in
// flight when it came are what InFlight reports.
func TestPacerPauseAllHoldsWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(telegramLike, nil)
		var dones []func()
		for _, c := range []string{"x", "y", "z"} {
			done, err := p.Acquire(t.Context(), c, false)
			if err != nil {
				t.Fatal(err)
			}
			dones = append(dones, done)
		}
		if n := p.InFlight(); n != 3 {
			t.Errorf("InFlight = %d, want 3", n)
		}
		start := time.Now()
		p.PauseAll(5 * time.Second)
		for _, done := range dones {
			done()
		}
		log := send(t, p, chatNames("c", 50), false, 1, nil)
		for _, ts := range log.all {
			if ts.Sub(start) < 5*time.Second+PauseMargin {
				t.Errorf("a send %v after a 5 s pause began", ts.Sub(start))
			}
		}
		if n := p.InFlight(); n != 0 {
			t.Errorf("InFlight = %d after every send was answered", n)
		}
	})
}

func TestPacerCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(telegramLike, nil)
		p.PauseAll(time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := p.Wait(ctx, "a", false); err == nil {
			t.Error("Wait returned nil although its context ended during a pause")
		}
		// Every place in flight and the caller gives up: no leak of a place.
		q := NewPacer(PaceLimits{Global: Rate{Count: 1, Per: time.Second, Burst: 1}}, nil)
		done, err := q.Acquire(t.Context(), "a", false)
		if err != nil {
			t.Fatal(err)
		}
		ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
		defer cancel2()
		if _, err := q.Acquire(ctx2, "b", false); err == nil {
			t.Error("a second send went while the only place was in flight")
		}
		done()
		done() // twice is harmless
		if q.InFlight() != 0 {
			t.Errorf("InFlight = %d", q.InFlight())
		}
	})
}

// A Burst of 1 spaces every send Per/Count apart, as the Discord adapter's
// budgets (45 a second in all, 5 per 5 s per channel) rely on.
func TestPacerBurstOneSpacesEvenly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		limits := PaceLimits{Global: Rate{Count: 45, Per: time.Second, Burst: 1}, PerChat: Rate{Count: 5, Per: 5 * time.Second, Burst: 1}}
		p := NewPacer(limits, nil)
		var times []time.Time
		for i := range 90 {
			if err := p.Wait(t.Context(), fmt.Sprint("ch", i%9), false); err != nil {
				t.Fatal(err)
			}
			times = append(times, time.Now())
		}
		for i := 1; i < len(times); i++ {
			if gap := times[i].Sub(times[i-1]); gap < time.Second/45 {
				t.Fatalf("sends %d and %d %v apart, want at least 1/45 s", i-1, i, gap)
			}
		}
		// Nine channels, ten sends each: a channel's 1/s binds before the 45/s.
		if took := times[len(times)-1].Sub(times[0]); took < 9*time.Second || took > 10*time.Second {
			t.Errorf("90 sends to 9 channels took %v, want about 9 s", took)
		}
	})
}
