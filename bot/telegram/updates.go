package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
)

// SecretTokenHeader carries setWebhook's secret_token on every webhook
// request (https://core.telegram.org/bots/api#setwebhook).
const SecretTokenHeader = "X-Telegram-Bot-Api-Secret-Token"

// allowedUpdates is all the bot asks Telegram for: messages (commands, and
// the service messages of a group's migration) and changes of the bot's own
// membership (muted, given the right to post back, removed).
const allowedUpdates = `["message","my_chat_member"]`

// poll answers updates by long polling until ctx ends. With an elector
// (ElectPoller), it polls only while this instance holds the lead, and
// waits for it otherwise.
func (a *Adapter) poll(ctx context.Context) error {
	el, retry := a.updates.pollElector()
	if el == nil {
		return a.pollUpdates(ctx)
	}
	name := pollLeadName(a.self.ID)
	for {
		lead, release, err := a.awaitLead(ctx, el, name, retry)
		if err != nil {
			return nil // ctx ended
		}
		a.log.Info("this instance leads: it long-polls getUpdates for every instance")
		err = a.pollUpdates(lead)
		release()
		if err != nil || ctx.Err() != nil {
			return err
		}
		a.log.Warn("lost the lead of getUpdates (its database connection failed); another instance takes over, and this one tries again")
	}
}

// pollUpdates answers updates by long polling until ctx ends.
func (a *Adapter) pollUpdates(ctx context.Context) error {
	// A webhook left by an earlier run in webhook mode would make every
	// getUpdates fail with 409 Conflict.
	if _, err := a.call(ctx, "deleteWebhook", nil); err != nil {
		if err := a.classifyCall(err); errors.Is(err, ErrUnauthorized) {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		a.log.Warn("deleteWebhook failed; polling anyway", "err", err)
	}
	a.log.Info("receiving updates by long polling", "bot", "@"+a.self.UserName)
	offset := int64(0)
	backoff := time.Duration(0)
	for {
		if err := a.updates.waitForRoom(ctx); err != nil {
			return nil
		}
		params := tgbotapi.Params{
			"timeout":         strconv.Itoa(int(pollTimeout / time.Second)),
			"allowed_updates": allowedUpdates,
		}
		if offset > 0 {
			// Confirms every update before offset: each was handed to
			// the dispatcher already.
			params["offset"] = strconv.FormatInt(offset, 10)
		}
		pollCtx, cancel := context.WithTimeout(ctx, pollTimeout+a.requestTimeout)
		resp, err := a.api(pollCtx).MakeRequest("getUpdates", params)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			err = a.classifyCall(a.redact.err(err))
			if errors.Is(err, ErrUnauthorized) {
				return err
			}
			backoff = nextBackoff(backoff)
			var apiErr *tgbotapi.Error
			if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
				backoff = time.Duration(apiErr.RetryAfter) * time.Second
			}
			a.log.Warn("getUpdates failed", "err", err, "retry_in", backoff)
			if bot.Sleep(ctx, backoff) != nil {
				return nil
			}
			continue
		}
		backoff = 0
		var raw []json.RawMessage
		if err := json.Unmarshal(resp.Result, &raw); err != nil {
			a.log.Error("getUpdates: unreadable answer", "err", err)
			continue
		}
		for _, r := range raw {
			var u tgbotapi.Update
			if err := json.Unmarshal(r, &u); err != nil {
				// Skip it, but read its id so that it is confirmed and
				// not fetched again forever.
				var id struct {
					UpdateID int64 `json:"update_id"`
				}
				_ = json.Unmarshal(r, &id)
				u = tgbotapi.Update{UpdateID: int(id.UpdateID)}
				a.log.Warn("skipping an update that does not decode", "update_id", id.UpdateID, "err", err)
			}
			if next := int64(u.UpdateID) + 1; next > offset {
				offset = next
			}
			if err := a.updates.dispatch(u, false); err != nil {
				a.log.Warn("update dropped", "update_id", u.UpdateID, "err", err)
			}
		}
	}
}

func nextBackoff(d time.Duration) time.Duration {
	switch {
	case d <= 0:
		return 500 * time.Millisecond
	case d >= 30*time.Second:
		return 30 * time.Second
	}
	return min(2*d, 30*time.Second)
}

// RegisterHTTP serves the webhook path in webhook mode (nothing otherwise).
func (a *Adapter) RegisterHTTP(mux *http.ServeMux) {
	if a.webhookURL == "" {
		return
	}
	pattern := "POST " + a.webhookPath
	if strings.HasSuffix(a.webhookPath, "/") {
		pattern += "{$}" // exactly this path, not everything below it
	}
	mux.HandleFunc(pattern, a.serveWebhook)
}

// serveWebhook takes one update from Telegram: it checks the secret header
// (telegram-bot-api v5.5.1 does not), answers at once and handles the update
// in the background, so a slow command never makes Telegram retry.
func (a *Adapter) serveWebhook(w http.ResponseWriter, r *http.Request) {
	got, sent := r.Header[http.CanonicalHeaderKey(SecretTokenHeader)]
	if !sent || len(got) != 1 {
		http.Error(w, "missing secret token", http.StatusUnauthorized)
		return
	}
	if subtle.ConstantTimeCompare([]byte(got[0]), []byte(a.webhookSecret)) != 1 {
		http.Error(w, "wrong secret token", http.StatusForbidden)
		return
	}
	var u tgbotapi.Update
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxWebhookBody)).Decode(&u); err != nil {
		http.Error(w, "unreadable update", http.StatusBadRequest)
		return
	}
	if err := a.updates.dispatch(u, true); err != nil {
		// Telegram retries a non-2xx answer later.
		a.log.Warn("webhook update refused for now", "update_id", u.UpdateID, "err", err)
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

var (
	errNotServing = errors.New("telegram: not serving yet")
	errBusy       = errors.New("telegram: too many updates waiting")
)

// dispatcher answers updates concurrently across chats and in order within
// one chat, with at most maxPendingUpdates waiting.
type dispatcher struct {
	a   *Adapter
	sem chan struct{} // bounds handlers running at once

	mu      sync.Mutex
	ctx     context.Context
	cancel  context.CancelFunc
	h       *bot.Handler
	elector PollElector // nil: this instance always polls
	retry   time.Duration
	queues  map[int64][]tgbotapi.Update // a chat is present while its worker runs
	pending int
	room    chan struct{} // closed and replaced when pending drops
	seen    recentIDs
	wg      sync.WaitGroup
}

func newDispatcher(a *Adapter) *dispatcher {
	return &dispatcher{
		a:      a,
		sem:    make(chan struct{}, maxConcurrentHandlers),
		queues: map[int64][]tgbotapi.Update{},
		room:   make(chan struct{}),
		seen:   newRecentIDs(4096),
	}
}

func (d *dispatcher) start(ctx context.Context, h *bot.Handler) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ctx, d.cancel = context.WithCancel(ctx)
	d.h = h
}

// stop ends the handlers in flight and waits for them.
func (d *dispatcher) stop() {
	d.mu.Lock()
	cancel := d.cancel
	d.h = nil
	d.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	d.wg.Wait()
}

// dispatch queues an update for its chat. An update seen before (Telegram
// redelivers a webhook update whose answer it did not get) is ignored.
// bounded refuses it when too many wait already; polling, which checks for
// room before it fetches, passes false so no fetched update is lost.
func (d *dispatcher) dispatch(u tgbotapi.Update, bounded bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.h == nil {
		return errNotServing
	}
	if bounded && d.pending >= maxPendingUpdates {
		return errBusy
	}
	if !d.seen.add(u.UpdateID) {
		return nil
	}
	chatID, ok := updateChat(u)
	if !ok {
		return nil
	}
	q, running := d.queues[chatID]
	d.queues[chatID] = append(q, u)
	d.pending++
	if !running {
		ctx, h := d.ctx, d.h
		d.wg.Go(func() { d.drain(ctx, h, chatID) })
	}
	return nil
}

func (d *dispatcher) drain(ctx context.Context, h *bot.Handler, chatID int64) {
	for {
		d.mu.Lock()
		q := d.queues[chatID]
		if len(q) == 0 {
			delete(d.queues, chatID)
			d.mu.Unlock()
			return
		}
		u := q[0]
		d.queues[chatID] = q[1:]
		d.mu.Unlock()

		d.a.handleUpdate(ctx, h, d.sem, u)

		d.mu.Lock()
		d.pending--
		close(d.room)
		d.room = make(chan struct{})
		d.mu.Unlock()
	}
}

// waitForRoom blocks while too many updates wait to be answered.
func (d *dispatcher) waitForRoom(ctx context.Context) error {
	for {
		d.mu.Lock()
		ok, room := d.pending < maxPendingUpdates, d.room
		d.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-room:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// recentIDs remembers the last n update ids.
type recentIDs struct {
	ring []int
	next int
	set  map[int]struct{}
}

func newRecentIDs(n int) recentIDs {
	return recentIDs{ring: make([]int, 0, n), set: make(map[int]struct{}, n)}
}

// add reports whether id is new, and remembers it.
func (r *recentIDs) add(id int) bool {
	if _, dup := r.set[id]; dup {
		return false
	}
	if len(r.ring) < cap(r.ring) {
		r.ring = append(r.ring, id)
	} else {
		delete(r.set, r.ring[r.next])
		r.ring[r.next] = id
		r.next = (r.next + 1) % len(r.ring)
	}
	r.set[id] = struct{}{}
	return true
}

// chatRef is a Telegram chat as the core names it.
func chatRef(id int64) briefings.ChatRef {
	return briefings.ChatRef{Platform: briefings.PlatformTelegram, ID: strconv.FormatInt(id, 10)}
}

// updateChat is the chat an update is about, for the kinds the bot handles.
func updateChat(u tgbotapi.Update) (int64, bool) {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		return u.Message.Chat.ID, true
	case u.MyChatMember != nil:
		return u.MyChatMember.Chat.ID, true
	}
	return 0, false
}

// handleUpdate answers one message, or follows a change of the bot's rights.
func (a *Adapter) handleUpdate(ctx context.Context, h *bot.Handler, sem chan struct{}, u tgbotapi.Update) {
	if u.MyChatMember != nil {
		a.memberChanged(ctx, u.MyChatMember)
		return
	}
	msg := u.Message
	if msg == nil || msg.Chat == nil {
		return
	}
	chatID := msg.Chat.ID
	switch {
	case msg.MigrateToChatID != 0:
		a.moveChat(ctx, chatID, msg.MigrateToChatID)
		return
	case msg.MigrateFromChatID != 0:
		// The same move seen from the new supergroup; moving twice is
		// harmless (nothing is left at the old id).
		a.moveChat(ctx, msg.MigrateFromChatID, chatID)
		return
	}
	if msg.Document != nil {
		a.handleDocument(ctx, h, sem, msg)
		return
	}
	text := strings.TrimSpace(msg.Text)
	if text == "" {
		return
	}
	group := msg.Chat.IsGroup() || msg.Chat.IsSuperGroup()
	if group && !strings.HasPrefix(text, "/") {
		return // chatter, when privacy mode is off
	}
	addressee := commandAddressee(text)
	if group && addressee != "" && !strings.EqualFold(addressee, a.self.UserName) {
		return // another bot's command
	}

	var reply bot.Reply
	cmd, err := bot.ParseCommand(text, a.self.UserName)
	if err != nil {
		var usage *bot.UsageError
		if group && addressee == "" && errors.As(err, &usage) && usage.Command == "" {
			// An unknown command in a group may be another bot's.
			return
		}
		reply = bot.Reply{Text: err.Error()}
	} else {
		var ok bool
		started := time.Now()
		if reply, ok = a.handleRequest(ctx, h, sem, msg, bot.Request{Chat: chatRef(chatID), Command: &cmd}); !ok {
			return
		}
		a.log.Debug("command answered", "chat", chatID, "command", string(cmd.Name), "took", time.Since(started))
	}
	if reply.File != nil {
		a.sendFile(ctx, chatID, reply)
		return
	}
	var msgs []Message
	if reply.Briefing != nil {
		msgs = RenderBriefing(*reply.Briefing)
	} else {
		msgs = RenderText(reply.Text)
	}
	a.sendReply(ctx, chatID, msgs)
}

// commandAddressee is the bot a command names with '@' ("" when none).
func commandAddressee(text string) string {
	head, _, _ := strings.Cut(text, " ")
	head, _, _ = strings.Cut(head, "\n")
	_, at, _ := strings.Cut(head, "@")
	return at
}

// mayManage tells whether the sender of a group message may change the
// group's subscription: its creator or an administrator, asked of Telegram
// each time (an administrator demoted a minute ago is refused now). An
// anonymous administrator writes as the group itself.
func (a *Adapter) mayManage(ctx context.Context, msg *tgbotapi.Message) (bool, error) {
	if msg.SenderChat != nil && msg.SenderChat.ID == msg.Chat.ID {
		return true, nil
	}
	if msg.From == nil {
		return false, nil
	}
	resp, err := a.call(ctx, "getChatMember", tgbotapi.Params{
		"chat_id": strconv.FormatInt(msg.Chat.ID, 10),
		"user_id": strconv.FormatInt(msg.From.ID, 10),
	})
	if err != nil {
		return false, fmt.Errorf("telegram: getChatMember: %w", err)
	}
	var member tgbotapi.ChatMember
	if err := json.Unmarshal(resp.Result, &member); err != nil {
		return false, fmt.Errorf("telegram: getChatMember: %w", err)
	}
	return member.Status == "creator" || member.Status == "administrator", nil
}

// moveChat follows a group upgraded to a supergroup.
func (a *Adapter) moveChat(ctx context.Context, from, to int64) {
	if a.chats == nil || from == to {
		return
	}
	if err := a.chats.MoveChat(ctx, chatRef(from), chatRef(to)); err != nil {
		a.log.Error("could not follow a migrated group", "from", from, "to", to, "err", err)
	}
}

// mayPost tells whether a member with this status may send text messages.
func mayPost(m tgbotapi.ChatMember) bool {
	switch m.Status {
	case "creator", "administrator", "member":
		return true
	case "restricted":
		return m.CanSendMessages
	}
	return false // left, kicked
}

// memberChanged follows the bot's rights in a group: muted, it stops
// deliveries there with a reason for /status (before the next one fails);
// given the right back, or re-added, it resumes what was stopped for a
// reason (not what the group unsubscribed from).
func (a *Adapter) memberChanged(ctx context.Context, upd *tgbotapi.ChatMemberUpdated) {
	if a.chats == nil || upd.NewChatMember.User == nil || upd.NewChatMember.User.ID != a.self.ID {
		return
	}
	chat := chatRef(upd.Chat.ID)
	was, now := mayPost(upd.OldChatMember), mayPost(upd.NewChatMember)
	switch {
	case now && !was:
		if _, resumed, err := a.chats.Resume(ctx, chat); err != nil {
			a.log.Error("could not resume a chat that lets the bot post again", "chat", upd.Chat.ID, "err", err)
		} else if resumed {
			a.log.Info("deliveries resumed: the bot may post in the chat again", "chat", upd.Chat.ID)
		}
	case was && !now && upd.NewChatMember.Status == "restricted":
		if err := a.chats.Deactivate(ctx, chat, cantWriteReason); err != nil {
			a.log.Error("could not stop deliveries to a chat that muted the bot", "chat", upd.Chat.ID, "err", err)
		}
	}
}
