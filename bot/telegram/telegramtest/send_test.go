package telegramtest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"
)

func htmlMessage(chatID int64, text string) tgbotapi.MessageConfig {
	m := tgbotapi.NewMessage(chatID, text)
	m.ParseMode = tgbotapi.ModeHTML
	return m
}

// sendError returns the Bot API error's description, or "" on success.
func sendError(t *testing.T, bot *tgbotapi.BotAPI, c tgbotapi.Chattable) (tgbotapi.Message, *tgbotapi.Error) {
	t.Helper()
	m, err := bot.Send(c)
	if err == nil {
		return m, nil
	}
	return m, asAPIError(t, err)
}

func TestSendMessageHTML(t *testing.T) {
	srv := newServer(t, Options{DisableRateLimits: true})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	const prefix = "Bad Request: can't parse entities: "
	tests := []struct {
		name      string
		text      string
		wantErr   string
		wantPlain string
	}{
		{"closed bold", "<b>x</b>", "", "x"},
		{"unclosed bold", "<b>x", prefix + `Can't find end tag corresponding to start tag "b"`, ""},
		{"unknown tag", "<x>", prefix + `Unsupported start tag "x" at byte offset 0`, ""},
		{"bare less-than", "a < b", prefix + `Unsupported start tag "" at byte offset 2`, ""},
		{"bare ampersand", "AT&T", prefix + `Character "&" must be escaped as "&amp;" at byte offset 2`, ""},
		{"escaped ampersand", "AT&amp;T", "", "AT&T"},
		{"link", `<a href="https://x">y</a>`, "", "y"},
		{"wrong nesting", "<b><i>x</b></i>", prefix + `Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`, ""},
		{"hostile headline escaped", "<b>&lt;b&gt;Breaking&lt;/b&gt; &amp; &quot;more&quot; @everyone &lt;script&gt;</b>", "",
			`<b>Breaking</b> & "more" @everyone <script>`},
		{"hostile headline raw", `<b>Breaking</b> & "more" @everyone <script>`, prefix + `Character "&" must be escaped as "&amp;" at byte offset 16`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, e := sendError(t, bot, htmlMessage(1, tt.text))
			switch {
			case tt.wantErr != "" && e == nil:
				t.Fatalf("%q accepted as %q, want %q", tt.text, m.Text, tt.wantErr)
			case tt.wantErr != "" && (e.Code != http.StatusBadRequest || e.Message != tt.wantErr):
				t.Fatalf("%q: %d %q, want 400 %q", tt.text, e.Code, e.Message, tt.wantErr)
			case tt.wantErr == "" && e != nil:
				t.Fatalf("%q rejected: %q", tt.text, e.Message)
			case tt.wantErr == "" && m.Text != tt.wantPlain:
				t.Fatalf("%q reads %q, want %q", tt.text, m.Text, tt.wantPlain)
			}
		})
	}
	st := srv.Stats()
	if st.Sent != 4 || st.Rejected[RejectParseEntities] != 6 || st.BadRequests != 6 {
		t.Errorf("stats sent=%d parse rejections=%d bad requests=%d, want 4, 6, 6", st.Sent, st.Rejected[RejectParseEntities], st.BadRequests)
	}
}

func TestSendMessageRecordsWhatWasSent(t *testing.T) {
	srv := newServer(t, Options{DisableRateLimits: true})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	m := htmlMessage(1, `  <b>Top</b> <a href="https://example.org/s?id=1&amp;x=2">story</a> 😀 `)
	m.DisableWebPagePreview = true
	sent, err := bot.Send(m)
	must(t, err)
	got := srv.Messages(1)
	if len(got) != 1 {
		t.Fatalf("recorded %d messages, want 1", len(got))
	}
	want := SentMessage{
		MessageID: sent.MessageID,
		ChatID:    1,
		Text:      m.Text,
		PlainText: "Top story 😀",
		ParseMode: "HTML",
		Entities: []Entity{
			{Type: "bold", Offset: 0, Length: 3},
			{Type: "text_link", Offset: 4, Length: 5, URL: "https://example.org/s?id=1&x=2"},
		},
		PreviewDisabled: true,
		Time:            got[0].Time,
	}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("recorded message (-want +got):\n%s", diff)
	}
	if sent.Text != want.PlainText || len(sent.Entities) != 2 || sent.Chat.ID != 1 || sent.From.ID != testBotID {
		t.Errorf("the API answered %+v", sent)
	}
}

func TestLinkPreviewOptions(t *testing.T) {
	srv := newServer(t, Options{DisableRateLimits: true})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	send := func(p tgbotapi.Params) error {
		p["chat_id"], p["text"] = "1", "https://example.org"
		_, err := bot.MakeRequest("sendMessage", p)
		return err
	}
	must(t, send(tgbotapi.Params{"link_preview_options": `{"is_disabled":true}`}))
	must(t, send(tgbotapi.Params{"link_preview_options": `{"is_disabled":false,"url":"https://example.org"}`}))
	must(t, send(tgbotapi.Params{"disable_web_page_preview": "true"}))
	must(t, send(tgbotapi.Params{}))
	var disabled []bool
	for _, m := range srv.Messages(1) {
		disabled = append(disabled, m.PreviewDisabled)
	}
	if diff := cmp.Diff([]bool{true, false, true, false}, disabled); diff != "" {
		t.Errorf("preview disabled (-want +got):\n%s", diff)
	}
	if got := string(srv.Messages(1)[0].LinkPreviewOptions); got != `{"is_disabled":true}` {
		t.Errorf("link_preview_options recorded as %q", got)
	}
	err := send(tgbotapi.Params{"link_preview_options": `{"is_disabled":`})
	if e := asAPIError(t, err); e.Code != http.StatusBadRequest {
		t.Errorf("malformed link_preview_options: %d %q, want 400", e.Code, e.Message)
	}
}

func TestSendMessageLength(t *testing.T) {
	srv := newServer(t, Options{DisableRateLimits: true})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	a := strings.Repeat
	const tooLong = "Bad Request: message is too long"
	const empty = "Bad Request: message text is empty"
	tests := []struct {
		name    string
		text    string
		html    bool
		wantErr string
	}{
		{"4096 ASCII", a("a", 4096), false, ""},
		{"4097 ASCII", a("a", 4097), false, tooLong},
		{"emoji count two: 4094+2", a("a", 4094) + "😀", false, ""},
		{"emoji count two: 4095+2", a("a", 4095) + "😀", false, tooLong},
		{"BMP characters count one", a("é", 4096), false, ""},
		{"tags are free", "<b>" + a("a", 4096) + "</b>", true, ""},
		{"an entity counts one", a("&lt;", 4096), true, ""},
		{"an entity counts one, over", a("&lt;", 4097), true, tooLong},
		{"surrounding spaces are trimmed first", "  " + a("a", 4096) + "\n", false, ""},
		{"empty tag is empty text", "<b></b>", true, empty},
		{"blank text", "  \n ", false, empty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tgbotapi.NewMessage(1, tt.text)
			if tt.html {
				m.ParseMode = tgbotapi.ModeHTML
			}
			_, e := sendError(t, bot, m)
			got := ""
			if e != nil {
				got = e.Message
			}
			if got != tt.wantErr {
				t.Errorf("error %q, want %q", got, tt.wantErr)
			}
		})
	}
	// The library leaves out an empty text, the server still answers.
	_, e := sendError(t, bot, tgbotapi.NewMessage(1, ""))
	if e == nil || e.Message != empty {
		t.Errorf("empty text: %v, want %q", e, empty)
	}
}

func TestMarkdownIsRejected(t *testing.T) {
	srv := newServer(t, Options{DisableRateLimits: true})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	m := tgbotapi.NewMessage(1, "*bold*")
	m.ParseMode = tgbotapi.ModeMarkdownV2
	_, e := sendError(t, bot, m)
	if e == nil || e.Code != http.StatusBadRequest || !strings.Contains(e.Message, "telegramtest") {
		t.Errorf("MarkdownV2: %v, want a 400 naming the fake", e)
	}
}

func TestBucketsPerChatFloodControl(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, Options{Now: clock.Now, FloodModel: FloodBuckets})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	burst := DefaultLimits().PerChat.Burst
	for i := range burst {
		if _, e := sendError(t, bot, tgbotapi.NewMessage(1, "burst")); e != nil {
			t.Fatalf("message %d of the burst: %q", i+1, e.Message)
		}
	}
	_, e := sendError(t, bot, tgbotapi.NewMessage(1, "one too many"))
	if e == nil {
		t.Fatal("a message past the burst was accepted")
	}
	if e.Code != http.StatusTooManyRequests || e.RetryAfter != 1 || e.Message != "Too Many Requests: retry after 1" {
		t.Errorf("past the burst: %d %q retry_after=%d, want 429 retry after 1", e.Code, e.Message, e.RetryAfter)
	}
	clock.Advance(time.Duration(e.RetryAfter) * time.Second)
	if _, e := sendError(t, bot, tgbotapi.NewMessage(1, "after waiting")); e != nil {
		t.Errorf("after waiting retry_after: %q", e.Message)
	}
	if got := srv.Stats().TooManyRequests; got[ScopeChat] != 1 || len(got) != 1 {
		t.Errorf("429s by scope = %v, want one for the chat", got)
	}
}

func TestBucketsGroupFloodControl(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, Options{Now: clock.Now, FloodModel: FloodBuckets})
	bot := newBot(t, srv)
	must(t, srv.AddGroup(-1, "Paced", false))
	must(t, srv.AddGroup(-2, "Hurried", true))

	// 20 a minute, one every 3 s, is fine for as long as it goes on.
	for i := range 60 {
		if _, e := sendError(t, bot, tgbotapi.NewMessage(-1, "paced")); e != nil {
			t.Fatalf("message %d at 20/min: %q", i+1, e.Message)
		}
		clock.Advance(3 * time.Second)
	}
	// One a second suits a private chat, but not a group.
	var limited *tgbotapi.Error
	sent := 0
	for limited == nil && sent < 20 {
		if _, e := sendError(t, bot, tgbotapi.NewMessage(-2, "hurried")); e != nil {
			limited = e
			break
		}
		sent++
		clock.Advance(time.Second)
	}
	if limited == nil || limited.Code != http.StatusTooManyRequests {
		t.Fatalf("20 messages at 1/s to a supergroup were all accepted")
	}
	if limited.RetryAfter < 1 || limited.RetryAfter > 3 {
		t.Errorf("retry_after = %d, want at most one 3 s slot", limited.RetryAfter)
	}
	if sent > 5 {
		t.Errorf("%d messages at 1/s accepted before the group limit, want at most burst+refill", sent)
	}
	if got := srv.Stats().TooManyRequests[ScopeGroup]; got != 1 {
		t.Errorf("group 429s = %d, want 1", got)
	}
}

func TestBucketsGlobalFloodControl(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, Options{Now: clock.Now, FloodModel: FloodBuckets})
	bot := newBot(t, srv)
	global := DefaultLimits().Global.Burst
	for id := int64(1); id <= int64(global)+1; id++ {
		must(t, srv.AddPrivateChat(id, "user"))
	}
	for id := int64(1); id <= int64(global); id++ {
		if _, e := sendError(t, bot, tgbotapi.NewMessage(id, "broadcast")); e != nil {
			t.Fatalf("chat %d: %q", id, e.Message)
		}
	}
	_, e := sendError(t, bot, tgbotapi.NewMessage(int64(global)+1, "broadcast"))
	if e == nil || e.Code != http.StatusTooManyRequests || e.RetryAfter != 1 {
		t.Fatalf("message %d within one second: %v, want 429 retry after 1", global+1, e)
	}
	if got := srv.Stats().TooManyRequests[ScopeGlobal]; got != 1 {
		t.Errorf("global 429s = %d, want 1", got)
	}
	clock.Advance(time.Second)
	if _, e := sendError(t, bot, tgbotapi.NewMessage(int64(global)+1, "broadcast")); e != nil {
		t.Errorf("a second later: %q", e.Message)
	}
}

func TestBucketsRateScaleSpeedsUpEveryLimit(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, Options{Now: clock.Now, RateScale: 10, FloodModel: FloodBuckets})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	for range DefaultLimits().PerChat.Burst {
		_, err := bot.Send(tgbotapi.NewMessage(1, "burst"))
		must(t, err)
	}
	if _, e := sendError(t, bot, tgbotapi.NewMessage(1, "too soon")); e == nil || e.RetryAfter != 1 {
		t.Fatalf("past the burst: %v, want 429 with retry_after rounded up to 1", e)
	}
	clock.Advance(100 * time.Millisecond) // one second's worth at 10×
	if _, e := sendError(t, bot, tgbotapi.NewMessage(1, "scaled")); e != nil {
		t.Errorf("after 1/10 s at RateScale 10: %q", e.Message)
	}
}

func TestDeadChats(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(*Server) error
		chatID    int64
		wantCode  int
		wantText  string
		wantKind  Rejection
		afterFix  func(*Server) error
		stillDead bool
	}{
		{"blocked", func(s *Server) error { return s.Block(1) }, 1,
			http.StatusForbidden, "Forbidden: bot was blocked by the user", RejectBlocked,
			func(s *Server) error { _, err := s.SendText(1, 1, "/start"); return err }, false},
		{"kicked from group", func(s *Server) error { return s.Kick(-1) }, -1,
			http.StatusForbidden, "Forbidden: bot was kicked from the group chat", RejectKicked,
			func(s *Server) error { return s.Rejoin(-1) }, false},
		{"kicked from supergroup", func(s *Server) error { return s.Kick(-1001) }, -1001,
			http.StatusForbidden, "Forbidden: bot was kicked from the supergroup chat", RejectKicked, nil, true},
		{"deactivated", func(s *Server) error { return s.Deactivate(1) }, 1,
			http.StatusForbidden, "Forbidden: user is deactivated", RejectDeactivated, nil, true},
		{"chat not found", func(*Server) error { return nil }, 99,
			http.StatusBadRequest, "Bad Request: chat not found", RejectChatNotFound, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, Options{DisableRateLimits: true})
			bot := newBot(t, srv)
			must(t, srv.AddPrivateChat(1, "Ann"))
			must(t, srv.AddGroup(-1, "Group", false))
			must(t, srv.AddGroup(-1001, "Supergroup", true))
			must(t, tt.setup(srv))
			_, e := sendError(t, bot, tgbotapi.NewMessage(tt.chatID, "hello"))
			if e == nil || e.Code != tt.wantCode || e.Message != tt.wantText {
				t.Fatalf("send = %v, want %d %q", e, tt.wantCode, tt.wantText)
			}
			if got := srv.Stats().Rejected[tt.wantKind]; got != 1 {
				t.Errorf("rejections of kind %s = %d, want 1", tt.wantKind, got)
			}
			if tt.afterFix != nil {
				must(t, tt.afterFix(srv))
				if _, e := sendError(t, bot, tgbotapi.NewMessage(tt.chatID, "back")); e != nil {
					t.Errorf("after the chat came back: %q", e.Message)
				}
			}
		})
	}
}

func TestMigration(t *testing.T) {
	srv := newServer(t, Options{DisableRateLimits: true})
	bot := newBot(t, srv)
	must(t, srv.AddGroup(-3001, "Old group", false))
	must(t, srv.SetMember(-3001, 7, StatusCreator))
	must(t, srv.Migrate(-3001, -1003001))

	_, e := sendError(t, bot, tgbotapi.NewMessage(-3001, "to the old id"))
	if e == nil || e.Code != http.StatusBadRequest || e.MigrateToChatID != -1003001 ||
		e.Message != "Bad Request: group chat was upgraded to a supergroup chat" {
		t.Fatalf("send to the old id = %+v, want 400 with migrate_to_chat_id -1003001", e)
	}
	if _, e := sendError(t, bot, tgbotapi.NewMessage(-1003001, "to the new id")); e != nil {
		t.Fatalf("send to the new id: %q", e.Message)
	}
	member, err := bot.GetChatMember(tgbotapi.GetChatMemberConfig{ChatConfigWithUser: tgbotapi.ChatConfigWithUser{ChatID: -1003001, UserID: 7}})
	must(t, err)
	if member.Status != StatusCreator {
		t.Errorf("the creator is %q in the supergroup", member.Status)
	}

	updates, err := bot.GetUpdates(tgbotapi.UpdateConfig{})
	must(t, err)
	type service struct {
		ChatID, ChatTo, ChatFrom int64
		ChatType                 string
	}
	var got []service
	for _, u := range updates {
		got = append(got, service{u.Message.Chat.ID, u.Message.MigrateToChatID, u.Message.MigrateFromChatID, u.Message.Chat.Type})
	}
	want := []service{{-3001, -1003001, 0, "group"}, {-1003001, 0, -3001, "supergroup"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("migration updates (-want +got):\n%s", diff)
	}
}

// outcome is how one sendMessage ended, for comparing fault sequences.
func outcome(t *testing.T, err error) byte {
	if err == nil {
		return '.'
	}
	switch e := asAPIError(t, err); {
	case e.Code == http.StatusTooManyRequests && e.RetryAfter == 1:
		return 'R'
	case e.Code == http.StatusInternalServerError:
		return 'E'
	default:
		t.Fatalf("unexpected error %d %q", e.Code, e.Message)
		return '?'
	}
}

func faultSequence(t *testing.T, seed int64, n int) (string, Stats, int) {
	srv := newServer(t, Options{DisableRateLimits: true, Faults: Faults{Rate429: 0.1, Rate5xx: 0.1, Seed: seed}})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	var seq strings.Builder
	for range n {
		_, err := bot.Send(tgbotapi.NewMessage(1, "x"))
		seq.WriteByte(outcome(t, err))
	}
	return seq.String(), srv.Stats(), len(srv.Messages(1))
}

func TestFaultInjection(t *testing.T) {
	const n = 1000
	seq, st, delivered := faultSequence(t, 7, n)
	r, e, ok := strings.Count(seq, "R"), strings.Count(seq, "E"), strings.Count(seq, ".")
	// 10% of 1000 is 100 ± 9.5 (one standard deviation); allow four.
	for name, got := range map[string]int{"429": r, "5xx": e} {
		if got < 62 || got > 138 {
			t.Errorf("%d injected %s out of %d at 10%%", got, name, n)
		}
	}
	if st.TooManyRequests[ScopeInjected] != r || st.Injected5xx != e || st.Sent != ok || delivered != ok {
		t.Errorf("stats %+v disagree with what the client saw: %d 429, %d 5xx, %d ok, %d recorded", st, r, e, ok, delivered)
	}
	again, _, _ := faultSequence(t, 7, n)
	if again != seq {
		t.Error("the same seed gave a different sequence of faults")
	}
	other, _, _ := faultSequence(t, 8, n)
	if other == seq {
		t.Error("another seed gave the same sequence of faults")
	}
}

func TestSlowResponses(t *testing.T) {
	srv := newServer(t, Options{DisableRateLimits: true, Faults: Faults{RateSlow: 1, SlowDelay: 10 * time.Millisecond}})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	_, err := bot.Send(tgbotapi.NewMessage(1, "slow but fine"))
	must(t, err)

	// A client that gives up first never has the message delivered behind
	// its back.
	impatient := newServer(t, Options{DisableRateLimits: true, Faults: Faults{RateSlow: 1, SlowDelay: time.Minute}})
	must(t, impatient.AddPrivateChat(1, "Ann"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	client := &http.Client{Transport: contextTransport{ctx}}
	bot2, err := tgbotapi.NewBotAPIWithClient(testToken, impatient.Endpoint(), client)
	if err == nil {
		_, err = bot2.Send(tgbotapi.NewMessage(1, "gave up"))
	}
	if err == nil {
		t.Fatal("a request the client abandoned succeeded")
	}
	impatient.Close() // waits for the abandoned handler
	if got := impatient.Messages(1); len(got) != 0 {
		t.Errorf("an abandoned slow request was delivered: %+v", got)
	}
	if st := srv.Stats(); st.InjectedSlow != 1 || st.Sent != 1 {
		t.Errorf("slow=%d sent=%d, want 1 and 1", st.InjectedSlow, st.Sent)
	}
}

// contextTransport ties every request to ctx.
type contextTransport struct{ ctx context.Context }

func (c contextTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return http.DefaultTransport.RoundTrip(req.WithContext(c.ctx))
}

func TestWaitForMessages(t *testing.T) {
	srv := newServer(t, Options{DisableRateLimits: true})
	bot := newBot(t, srv)
	must(t, srv.AddPrivateChat(1, "Ann"))
	go func() {
		for range 3 {
			_, _ = bot.Send(tgbotapi.NewMessage(1, "part"))
		}
	}()
	got, err := srv.WaitForMessages(testContext(t), 1, 3)
	must(t, err)
	if len(got) != 3 {
		t.Errorf("got %d messages, want 3", len(got))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err = srv.WaitForMessages(ctx, 1, 4)
	if !errors.Is(err, context.Canceled) || len(got) != 3 {
		t.Errorf("waiting for a 4th with a cancelled context: %d messages, %v", len(got), err)
	}
}
