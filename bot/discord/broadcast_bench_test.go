package discord_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/discord"
	"github.com/newsbot/newsbot/bot/discord/discordtest"
)

// BenchmarkBroadcast posts one briefing to many channels at once against
// the strict fake at production limits (50 requests/s, 5 messages per 5 s
// per channel), with 32 workers as the delivery queue runs, and reports the
// send rate against Discord's global budget, the 429s the adapter ran into,
// and the requests that reached Discord while a global 429 ran. With
// global429 a share of message POSTs draws an injected global 429 lasting
// 1 s. Run once: go test -run '^$' -bench Broadcast -benchtime 1x ./bot/discord
func BenchmarkBroadcast(b *testing.B) {
	for _, tc := range []struct {
		name      string
		global429 float64
		gateway   bool
	}{
		{"gateway", 0, true},
		{"gateway_global429", 0.02, true},
		{"rest_permissions", 0, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				broadcast(b, tc.global429, tc.gateway)
			}
		})
	}
}

func broadcast(b *testing.B, global429 float64, gateway bool) {
	const channels, workers = 100, 32
	w := newWorld(b, discordtest.Options{Faults: discordtest.Faults{Seed: 11, GlobalTooManyRequests: global429, RetryAfter: time.Second}})
	a := w.adapter(b, discord.Options{GuildID: w.guildID})
	ids := make([]string, channels)
	for i := range ids {
		ids[i] = w.srv.NewID()
		must(b, w.srv.AddChannel(w.guildID, ids[i], fmt.Sprintf("news-%d", i)))
	}
	if gateway {
		w.serve(b, a, service(b), false)
		waitForChannels(b, a, ids)
	}
	msgs, err := a.RenderBriefing(hostileBriefing(12))
	if err != nil {
		b.Fatal(err)
	}
	before := w.srv.Stats()
	jobs := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []error
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for ch := range jobs {
				for i := 0; i < len(msgs); {
					err := a.Send(ctxT(b), discordChat(ch), msgs[i])
					var ra *bot.RetryAfterError
					switch {
					case err == nil:
						i++
					case errors.As(err, &ra):
						time.Sleep(ra.After)
					default:
						mu.Lock()
						failures = append(failures, err)
						mu.Unlock()
						i = len(msgs)
					}
				}
			}
		})
	}
	for _, id := range ids {
		jobs <- id
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	if len(failures) > 0 {
		b.Fatalf("%d sends failed, first: %v", len(failures), failures[0])
	}
	st := w.srv.Stats()
	posted, lost, dup := 0, 0, 0
	for _, id := range ids {
		n := len(w.srv.Messages(id))
		posted += n
		lost += max(len(msgs)-n, 0)
		dup += max(n-len(msgs), 0)
	}
	requests := st.Requests - before.Requests
	b.ReportMetric(float64(posted)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(requests)/elapsed.Seconds()/discordtest.GlobalRequestsPerSecond, "requests/allowed")
	b.ReportMetric(float64(st.RateLimited-before.RateLimited), "bucket429s")
	b.ReportMetric(float64(st.GlobalRateLimited-before.GlobalRateLimited-st.InjectedFaults+before.InjectedFaults), "own_global429s")
	b.ReportMetric(float64(st.InjectedFaults-before.InjectedFaults), "injected_global429s")
	b.ReportMetric(float64(st.DuringGlobalLimit-before.DuringGlobalLimit), "sent_inside_global429")
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(dup), "duplicated")
}

// waitForChannels waits until the gateway's State holds every channel.
func waitForChannels(t testing.TB, a *discord.Adapter, ids []string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range ids {
		for {
			if _, err := a.Session().State.Channel(id); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("channel %s never reached the gateway state", id)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
