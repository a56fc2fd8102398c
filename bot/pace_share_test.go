package bot

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// An instance's share of the global budget: a third of it sends a third as
// many messages in the same time, and never more than a third of the count
// in one window, so three instances together stay inside it; a share of 0
// holds every send until a positive share comes.
func TestPacerGlobalShare(t *testing.T) {
	tests := []struct {
		name  string
		share float64
		want  int // sends within 10 s at 30 per second, burst 5
		most  int // in any one second
	}{
		{"whole", 1, 305, 30},
		{"third", 1.0 / 3, 101, 10},
		{"half", 0.5, 152, 15},
		{"a quarter rounds down", 0.25, 71, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := NewPacer(PaceLimits{Global: Rate{Count: 30, Per: time.Second, Burst: 5}}, nil)
				p.SetGlobalShare(tt.share)
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				var times []time.Time
				for i := 0; p.Wait(ctx, string(rune('a'+i%26))+"chat", false) == nil; i++ {
					times = append(times, time.Now())
				}
				if n := len(times); n < tt.want-2 || n > tt.want {
					t.Errorf("sent %d in 10 s at share %.2f, want %d", n, tt.share, tt.want)
				}
				if got := busiest(times, time.Second); got > tt.most {
					t.Errorf("%d sends in one second at share %.2f, want at most %d", got, tt.share, tt.most)
				}
			})
		})
	}
}

func TestPacerShareZeroHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(PaceLimits{Global: Rate{Count: 30, Per: time.Second, Burst: 5}}, nil)
		p.SetGlobalShare(0)
		sent := make(chan time.Time, 1)
		start := time.Now()
		go func() {
			if err := p.Wait(t.Context(), "c", false); err == nil {
				sent <- time.Now()
			}
		}()
		time.Sleep(3 * time.Second)
		synctest.Wait()
		select {
		case <-sent:
			t.Fatal("a send went out while held")
		default:
		}
		p.SetGlobalShare(0.5)
		if at := <-sent; at.Sub(start) != 3*time.Second {
			t.Errorf("the held send went out %s after it asked, want when the share came (3s)", at.Sub(start))
		}

		// A held send gives up with its context.
		p.SetGlobalShare(0)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := p.Wait(ctx, "d", false); err == nil {
			t.Error("Wait returned nil while held and its context ended")
		}
	})
}
