package telegramtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"
)

// step is one send in a strict-model scenario: after advancing the clock,
// send to chat (none when 0) and expect 0 (accepted) or a 429 with retry_after and scope.
type step struct {
	advance    time.Duration
	chat       int64
	n          int   // this many sends, to chat, chat+1, … (1 when 0)
	retryAfter int   // 0: accepted
	scope      Scope // the 429's scope; "": a refusal inside a flood wait
}

func runSteps(t *testing.T, srv *Server, clock *fakeClock, steps []step) {
	t.Helper()
	bot := newBot(t, srv)
	for i, st := range steps {
		clock.Advance(st.advance)
		if st.chat == 0 {
			continue // only the clock moves
		}
		for k := range max(st.n, 1) {
			before := srv.Stats().TooManyRequests
			_, e := sendError(t, bot, tgbotapi.NewMessage(st.chat+int64(k), fmt.Sprintf("step %d.%d", i, k)))
			switch {
			case st.retryAfter == 0 && e != nil:
				t.Fatalf("step %d.%d to %d: %d %q, want it accepted", i, k, st.chat, e.Code, e.Message)
			case st.retryAfter != 0 && e == nil:
				t.Fatalf("step %d.%d to %d: accepted, want 429 retry after %d", i, k, st.chat, st.retryAfter)
			case st.retryAfter != 0 && (e.Code != http.StatusTooManyRequests || e.RetryAfter != st.retryAfter ||
				e.Message != fmt.Sprintf("Too Many Requests: retry after %d", st.retryAfter)):
				t.Fatalf("step %d.%d to %d: %d %q retry_after=%d, want 429 retry after %d", i, k, st.chat, e.Code, e.Message, e.RetryAfter, st.retryAfter)
			}
			if st.retryAfter != 0 {
				scope := st.scope
				if scope == "" {
					scope = ScopeFloodWait
				}
				if got := srv.Stats().TooManyRequests[scope] - before[scope]; got != 1 {
					t.Fatalf("step %d.%d to %d: the 429 was not counted for %s", i, k, st.chat, scope)
				}
			}
		}
	}
}

func strictServer(t *testing.T, clock *fakeClock, opts Options) *Server {
	t.Helper()
	opts.Now = clock.Now
	srv := newServer(t, opts)
	for id := int64(1); id <= 70; id++ {
		must(t, srv.AddPrivateChat(id, "user"))
	}
	must(t, srv.AddGroup(-1, "Club", true))
	must(t, srv.AddGroup(-2, "Other club", true))
	return srv
}

// The strict model: never more than 30 in any second in all (not 30 + 30 at
// a bucket's refill), and a 429 for the global limit refuses every chat
// until its retry_after has passed.
func TestStrictGlobalWindow(t *testing.T) {
	clock := newFakeClock()
	srv := strictServer(t, clock, Options{})
	var steps []step
	for id := int64(1); id <= 15; id++ {
		steps = append(steps, step{chat: id})
	}
	steps = append(steps, step{advance: 500 * time.Millisecond})
	for id := int64(16); id <= 30; id++ {
		steps = append(steps, step{chat: id})
	}
	steps = append(steps,
		step{advance: 500 * time.Millisecond, chat: 31}, // the first 15 left the window
		step{chat: 32, n: 14},                           // 30 in (0, 1 s]
		step{advance: 200 * time.Millisecond, chat: 46, retryAfter: 1, scope: ScopeGlobal}, // 31st within a second
		step{advance: 400 * time.Millisecond, chat: 47, retryAfter: 1},                     // flood wait: every chat
		step{chat: 48, retryAfter: 1},
		step{advance: 600 * time.Millisecond, chat: 49}, // the wait has passed
	)
	runSteps(t, srv, clock, steps)
	st := srv.Stats()
	if st.TooManyRequests[ScopeGlobal] != 1 || st.TooManyRequests[ScopeFloodWait] != 2 || st.DuringRetryAfter != 2 ||
		st.DuringRetryAfterByScope[ScopeGlobal] != 2 {
		t.Errorf("429s %v, during a retry_after %d %v; want 1 global, 2 inside its wait", st.TooManyRequests, st.DuringRetryAfter, st.DuringRetryAfterByScope)
	}
	if st.BusiestGlobal != 30 {
		t.Errorf("busiest second: %d, want 30", st.BusiestGlobal)
	}
}

// 20 messages to a group in any minute; the 21st starts a flood wait for
// that group only, as long as its window needs.
func TestStrictGroupWindow(t *testing.T) {
	clock := newFakeClock()
	srv := strictServer(t, clock, Options{})
	var steps []step
	for range 20 {
		steps = append(steps, step{advance: time.Second, chat: -1})
	}
	steps = append(steps,
		step{advance: time.Second, chat: -1, retryAfter: 40, scope: ScopeGroup}, // at 21 s; the first leaves at 1 s + 60 s
		step{chat: -2},
		step{chat: 1},
		step{advance: 39 * time.Second, chat: -1, retryAfter: 1},
		step{advance: time.Second, chat: -1},
	)
	runSteps(t, srv, clock, steps)
	st := srv.Stats()
	if st.TooManyRequests[ScopeGroup] != 1 || st.DuringRetryAfterByScope[ScopeChat] != 1 {
		t.Errorf("429s %v, inside a wait %v; want one for the group, one inside its wait", st.TooManyRequests, st.DuringRetryAfterByScope)
	}
	if diff := cmp.Diff(map[int64]int{-1: 20, -2: 1}, st.BusiestGroup); diff != "" {
		t.Errorf("busiest minute per group (-want +got):\n%s", diff)
	}
}

// One a second per chat with a short burst: 3 in any 3 s.
func TestStrictChatWindow(t *testing.T) {
	clock := newFakeClock()
	srv := strictServer(t, clock, Options{})
	runSteps(t, srv, clock, []step{
		{chat: 1}, {chat: 1}, {chat: 1},
		{chat: 1, retryAfter: 3, scope: ScopeChat},
		{advance: 2 * time.Second, chat: 1, retryAfter: 1},
		{chat: 2},
		{advance: time.Second, chat: 1},
		{advance: time.Second, chat: 1},
	})
	if st := srv.Stats(); st.BusiestChat != 3 {
		t.Errorf("busiest second for one chat: %d, want 3", st.BusiestChat)
	}
}

// An injected 429 starts a flood wait of its retry_after for its scope.
func TestInjectedFloodWait(t *testing.T) {
	for _, tt := range []struct {
		scope     Scope
		otherChat int // retry_after another chat meets inside the wait
	}{
		{ScopeGlobal, 2},
		{ScopeChat, 0},
	} {
		t.Run(string(tt.scope), func(t *testing.T) {
			clock := newFakeClock()
			srv := strictServer(t, clock, Options{Faults: Faults{Rate429: 0.5, RetryAfterMin: 3, RetryAfterMax: 3, InjectedScope: tt.scope, Seed: 1}})
			bot := newBot(t, srv)
			var e *tgbotapi.Error
			for i := 0; e == nil; i++ { // until the first injected 429
				if i > 50 {
					t.Fatal("no 429 injected at a rate of 0.5")
				}
				clock.Advance(3 * time.Second)
				_, e = sendError(t, bot, tgbotapi.NewMessage(1, "x"))
			}
			if e.RetryAfter != 3 {
				t.Fatalf("injected 429 retry_after %d, want 3", e.RetryAfter)
			}
			clock.Advance(time.Second)
			if _, e := sendError(t, bot, tgbotapi.NewMessage(1, "inside")); e == nil || e.RetryAfter != 2 {
				t.Errorf("the same chat inside the wait: %v, want 429 retry after 2", e)
			}
			_, other := sendError(t, bot, tgbotapi.NewMessage(2, "inside"))
			switch {
			case tt.otherChat != 0 && (other == nil || other.RetryAfter != tt.otherChat):
				t.Errorf("another chat inside a global wait: %v, want 429 retry after %d", other, tt.otherChat)
			case tt.otherChat == 0 && other != nil && srv.Stats().DuringRetryAfter > 1:
				t.Errorf("another chat refused inside one chat's wait: %q", other.Message)
			}
			want := 1 + min(tt.otherChat, 1)
			if st := srv.Stats(); st.DuringRetryAfter != want {
				t.Errorf("sends during a retry_after: %d, want %d", st.DuringRetryAfter, want)
			}
		})
	}
}

// A muted group refuses with 400 "not enough rights"; muting and unmuting
// emit my_chat_member updates with the bot's old and new rights.
func TestMuteAndMyChatMember(t *testing.T) {
	srv := newServer(t, Options{})
	bot := newBot(t, srv)
	must(t, srv.AddGroup(-5, "Quiet", true))
	must(t, srv.SetMember(-5, 9, StatusCreator))
	must(t, srv.Mute(-5, 9))
	_, e := sendError(t, bot, tgbotapi.NewMessage(-5, "hello"))
	if e == nil || e.Code != http.StatusBadRequest || e.Message != "Bad Request: not enough rights to send text messages to the chat" {
		t.Fatalf("muted: %v, want 400 not enough rights", e)
	}
	must(t, srv.Unmute(-5, 9))
	if _, e := sendError(t, bot, tgbotapi.NewMessage(-5, "hello")); e != nil {
		t.Fatalf("unmuted: %q", e.Message)
	}
	u := tgbotapi.NewUpdate(0)
	u.AllowedUpdates = []string{"message", "my_chat_member"}
	updates, err := bot.GetUpdates(u)
	must(t, err)
	type change struct {
		Old, New string
		CanSend  bool
	}
	var got []change
	for _, up := range updates {
		m := up.MyChatMember
		if m == nil || m.Chat.ID != -5 || m.From.ID != 9 || m.NewChatMember.User == nil || m.NewChatMember.User.ID != srv.BotID() {
			t.Fatalf("update %s is not the bot's membership in -5 changed by 9", mustJSON(t, up))
		}
		got = append(got, change{m.OldChatMember.Status, m.NewChatMember.Status, m.NewChatMember.CanSendMessages})
	}
	want := []change{{StatusMember, StatusRestricted, false}, {StatusRestricted, StatusMember, false}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("my_chat_member updates (-want +got):\n%s", diff)
	}
	if st := srv.Stats(); st.Rejected[RejectCantWrite] != 1 {
		t.Errorf("can't-write rejections: %d", st.Rejected[RejectCantWrite])
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	must(t, err)
	return string(b)
}

// A message's entities: at most MaxEntities, and their URLs at most
// MaxEntityURLBytes in all; past either, 400 "entities too long".
func TestEntitiesTooLong(t *testing.T) {
	srv := newServer(t, Options{DisableRateLimits: true})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	bold := func(n int) string { return strings.Repeat("<b>x</b> ", n) }
	link := func(n, urlBytes int) string {
		u := "https://example.org/?" + strings.Repeat("u", urlBytes-len("https://example.org/?"))
		return strings.Repeat(`<a href="`+u+`">x</a> `, n)
	}
	for _, tt := range []struct {
		name string
		text string
		ok   bool
	}{
		{"100 entities", bold(MaxEntities), true},
		{"101 entities", bold(MaxEntities + 1), false},
		{"links at the byte limit", link(9, MaxEntityURLBytes/9), true},
		{"links past the byte limit", link(9, MaxEntityURLBytes/9+1), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, e := sendError(t, bot, htmlMessage(1, tt.text))
			switch {
			case tt.ok && e != nil:
				t.Errorf("refused: %q", e.Message)
			case !tt.ok && (e == nil || e.Code != http.StatusBadRequest || e.Message != "Bad Request: entities too long"):
				t.Errorf("%v, want 400 entities too long", e)
			}
		})
	}
}
