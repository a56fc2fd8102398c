package bot

import (
	"context"
	"fmt"
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

// sendTimes has n senders send m messages each through p and returns when
// each message left, by chat.
func sendTimes(t *testing.T, p *Pacer, chats []string, group bool, m int) map[string][]time.Duration {
	start := time.Now()
	var mu sync.Mutex
	out := map[string][]time.Duration{}
	var wg sync.WaitGroup
	for _, c := range chats {
		wg.Go(func() {
			for range m {
				if err := p.Wait(context.Background(), c, group); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				out[c] = append(out[c], time.Since(start))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return out
}

func TestPacerPerChat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got := sendTimes(t, NewPacer(telegramLike, nil), []string{"a"}, false, 5)
		if d := got["a"][4]; d < 4*time.Second {
			t.Errorf("5 messages to one chat took %v, want at least 4s at 1/s", d)
		}
	})
}

func TestPacerPerGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got := sendTimes(t, NewPacer(telegramLike, nil), []string{"g"}, true, 21)
		if d := got["g"][20]; d < time.Minute {
			t.Errorf("21 messages to one group took %v, want at least a minute at 20/min", d)
		}
	})
}

func TestPacerGlobal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var chats []string
		for i := range 300 {
			chats = append(chats, fmt.Sprint(i))
		}
		start := time.Now()
		sendTimes(t, NewPacer(telegramLike, nil), chats, false, 1)
		// 300 chats, one message each: the global 30/s is the limit, after
		// the first burst of 30.
		if d := time.Since(start); d < 9*time.Second || d > 10*time.Second {
			t.Errorf("300 chats took %v, want 9–10s at 30/s", d)
		}
	})
}

func TestPacerPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(telegramLike, nil)
		p.Pause("a", false, 30*time.Second)
		if until := p.PausedUntil("a"); until.Sub(time.Now()) != 30*time.Second {
			t.Errorf("PausedUntil = %v from now", until.Sub(time.Now()))
		}
		if !p.PausedUntil("b").IsZero() {
			t.Error("pausing a paused b")
		}
		start := time.Now()
		got := sendTimes(t, p, []string{"a", "b"}, false, 1)
		if got["a"][0] < 30*time.Second || got["b"][0] > time.Second {
			t.Errorf("a sent at %v (paused 30s), b at %v (not paused)", got["a"][0], got["b"][0])
		}
		p.PauseAll(time.Hour)
		sendTimes(t, p, []string{"c"}, false, 1)
		if d := time.Since(start); d < time.Hour {
			t.Errorf("a global pause of 1h let a message out after %v", d)
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
	})
}
