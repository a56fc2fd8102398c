package bot_test

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// More subscriptions due at once than MaxClaimed: the queue claims the rest
// as the first ones finish, so every chat gets its briefing. (A finished
// delivery must give back its place in the queue's capacity; when it does
// not, a process delivers MaxClaimed briefings per platform and then never
// claims again until it restarts.)
func TestMoreDueThanMaxClaimedAllDelivered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, day0, "")
		w.opts.MaxClaimed = 2
		w.opts.PollInterval = time.Second
		w.addStory(day0.Add(-time.Hour))
		var chats []string
		for i := range 5 {
			chats = append(chats, fmt.Sprintf("c%d", i))
			w.subscribe(chats[i], "07:00", "UTC")
		}
		stop := w.run()
		w.sleepUntil(due7.Add(time.Minute))
		stop()
		for _, c := range chats {
			if got := w.fake.to(c); len(got) != 1 {
				t.Errorf("chat %s got %d messages, want its one-story briefing", c, len(got))
			}
		}
	})
}
