package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SentMessage is a message the fake accepted from the bot.
type SentMessage struct {
	MessageID int
	ChatID    int64
	// Text is the text parameter exactly as sent, markup included.
	Text string
	// PlainText is what the user reads: Text after entity parsing and
	// trimming, the text the Bot API returns.
	PlainText string
	// ParseMode is the parse_mode parameter as sent ("" for none).
	ParseMode string
	// Entities are the parsed entities (or the entities parameter when no
	// parse mode was given).
	Entities []Entity
	// PreviewDisabled is true when either disable_web_page_preview or
	// link_preview_options.is_disabled asked for no link preview.
	PreviewDisabled bool
	// LinkPreviewOptions and ReplyMarkup are the parameters' JSON as sent,
	// nil when absent.
	LinkPreviewOptions  json.RawMessage
	ReplyMarkup         json.RawMessage
	DisableNotification bool
	// Time is when the fake accepted it, by Options.Now.
	Time time.Time
}

func (m SentMessage) clone() SentMessage {
	m.Entities = slices.Clone(m.Entities)
	m.LinkPreviewOptions = slices.Clone(m.LinkPreviewOptions)
	m.ReplyMarkup = slices.Clone(m.ReplyMarkup)
	return m
}

// Messages returns the messages accepted for one chat, oldest first.
func (s *Server) Messages(chatID int64) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(chatID)
}

func (s *Server) messagesLocked(chatID int64) []SentMessage {
	idx := s.sentByChat[chatID]
	out := make([]SentMessage, 0, len(idx))
	for _, i := range idx {
		out = append(out, s.sent[i].clone())
	}
	return out
}

// AllMessages returns every accepted message in the order accepted.
func (s *Server) AllMessages() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SentMessage, 0, len(s.sent))
	for _, m := range s.sent {
		out = append(out, m.clone())
	}
	return out
}

// WaitForMessages waits until at least n messages were accepted for chatID
// and returns them all. When ctx ends first it returns what there is and an
// error wrapping ctx.Err().
func (s *Server) WaitForMessages(ctx context.Context, chatID int64, n int) ([]SentMessage, error) {
	for {
		s.mu.Lock()
		got := s.messagesLocked(chatID)
		changed := s.sentChanged
		s.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return got, fmt.Errorf("telegramtest: wait for %d messages in chat %d, have %d: %w", n, chatID, len(got), ctx.Err())
		}
	}
}

type injectedFault int

const (
	noFault injectedFault = iota
	fault429
	fault5xx
)

// drawFaultLocked decides, from the seeded generator, what this sendMessage
// meets, and the retry_after of an injected 429. It always draws three times
// so that one call's outcome never shifts the sequence the next calls see.
func (s *Server) drawFaultLocked() (injectedFault, bool, int) {
	f := s.opts.Faults
	kind, slow, retry := s.rng.Float64(), s.rng.Float64(), s.rng.Float64()
	fault := noFault
	switch {
	case kind < f.Rate429:
		fault = fault429
	case kind < f.Rate429+f.Rate5xx:
		fault = fault5xx
	}
	after := f.RetryAfterMin + int(retry*float64(f.RetryAfterMax-f.RetryAfterMin+1))
	return fault, slow < f.RateSlow, min(after, f.RetryAfterMax)
}

func (s *Server) strict() bool {
	return !s.opts.DisableRateLimits && s.opts.FloodModel == FloodStrict
}

func (s *Server) sendMessage(ctx context.Context, p params) (any, *apiError) {
	chatID, _, _ := p.chatID() // a bad one is answered below
	s.mu.Lock()
	if e := s.floodWaitLocked(chatID); e != nil {
		s.mu.Unlock()
		return nil, e
	}
	fault, slow, retryAfter := s.drawFaultLocked()
	if slow {
		s.stats.InjectedSlow++
	}
	s.mu.Unlock()
	if slow {
		t := time.NewTimer(s.opts.Faults.SlowDelay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, errClientGone
		case <-s.done:
			t.Stop()
			return nil, errClientGone
		}
	}
	switch fault {
	case fault429:
		s.mu.Lock()
		defer s.mu.Unlock()
		s.startFloodWaitLocked(s.opts.Faults.InjectedScope, chatID, retryAfter)
		return nil, tooManyRequests(ScopeInjected, retryAfter)
	case fault5xx:
		return nil, &apiError{code: http.StatusInternalServerError, description: "Internal Server Error", kind: RejectInjected5xx}
	}

	msg, contentErr := composeMessage(p)

	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.resolveChatLocked(p)
	if e != nil {
		return nil, e
	}
	if e := s.reachableLocked(c); e != nil {
		return nil, e
	}
	if contentErr != nil {
		return nil, contentErr
	}
	if e := s.admitSendLocked(c); e != nil {
		return nil, e
	}
	c.lastMessageID++
	now := s.now()
	s.countWindowsLocked(c, now)
	msg.MessageID, msg.ChatID, msg.Time = c.lastMessageID, c.id, now
	s.sentByChat[c.id] = append(s.sentByChat[c.id], len(s.sent))
	s.sent = append(s.sent, msg)
	s.stats.Sent++
	close(s.sentChanged)
	s.sentChanged = make(chan struct{})
	return apiMessage{
		MessageID: msg.MessageID,
		From:      s.apiUserLocked(s.botID),
		Chat:      s.apiChatLocked(c),
		Date:      now.Unix(),
		Text:      msg.PlainText,
		Entities:  msg.Entities,
	}, nil
}

// composeMessage validates sendMessage's content the way the server does:
// parse, trim, then count.
func composeMessage(p params) (SentMessage, *apiError) {
	msg := SentMessage{
		Text:                p["text"],
		ParseMode:           p["parse_mode"],
		DisableNotification: p.bool("disable_notification"),
	}
	if !utf8.ValidString(msg.Text) {
		return msg, badRequest(RejectBadRequest, "text must be encoded in UTF-8")
	}
	if strings.TrimSpace(msg.Text) == "" {
		return msg, badRequest(RejectEmptyText, "message text is empty")
	}
	var plain string
	var entities []Entity
	switch mode := strings.ToLower(msg.ParseMode); mode {
	case "":
		plain = msg.Text
		if p.has("entities") {
			if err := json.Unmarshal([]byte(p["entities"]), &entities); err != nil {
				return msg, badRequest(RejectBadRequest, "can't parse entities JSON object")
			}
		}
	case "html":
		var err error
		plain, entities, err = ParseHTML(msg.Text)
		if err != nil {
			return msg, badRequest(RejectParseEntities, "can't parse entities: "+err.Error())
		}
	case "markdown", "markdownv2":
		return msg, badRequest(RejectBadRequest, fmt.Sprintf("parse_mode %q is not supported by telegramtest; send HTML", msg.ParseMode))
	default:
		return msg, badRequest(RejectBadRequest, "unsupported parse_mode")
	}
	msg.PlainText, msg.Entities = trimText(plain, entities)
	if msg.PlainText == "" {
		return msg, badRequest(RejectEmptyText, "message text is empty")
	}
	if UTF16Length(msg.PlainText) > MaxMessageLength {
		return msg, badRequest(RejectTooLong, "message is too long")
	}
	if entitiesTooLong(msg.Entities) {
		return msg, badRequest(RejectEntitiesTooLong, "entities too long")
	}

	msg.PreviewDisabled = p.bool("disable_web_page_preview")
	if p.has("link_preview_options") {
		var options struct {
			IsDisabled bool `json:"is_disabled"`
		}
		raw := p["link_preview_options"]
		if err := json.Unmarshal([]byte(raw), &options); err != nil {
			return msg, badRequest(RejectBadRequest, "can't parse link preview options JSON object")
		}
		msg.LinkPreviewOptions = json.RawMessage(raw)
		msg.PreviewDisabled = msg.PreviewDisabled || options.IsDisabled
	}
	if p.has("reply_markup") {
		raw := p["reply_markup"]
		var markup map[string]json.RawMessage
		if err := json.Unmarshal([]byte(raw), &markup); err != nil {
			return msg, badRequest(RejectBadRequest, "can't parse reply keyboard markup JSON object")
		}
		msg.ReplyMarkup = json.RawMessage(raw)
	}
	return msg, nil
}

// entitiesTooLong applies MaxEntities and MaxEntityURLBytes.
func entitiesTooLong(entities []Entity) bool {
	if len(entities) > MaxEntities {
		return true
	}
	urls := 0
	for _, e := range entities {
		urls += len(e.URL)
	}
	return urls > MaxEntityURLBytes
}

// trimText strips leading and trailing white space as the server does before
// it stores a text, moving the entities along and dropping emptied ones.
func trimText(text string, entities []Entity) (string, []Entity) {
	trimmed := strings.TrimLeftFunc(text, unicode.IsSpace)
	shift := UTF16Length(text[:len(text)-len(trimmed)])
	trimmed = strings.TrimRightFunc(trimmed, unicode.IsSpace)
	length := UTF16Length(trimmed)
	var out []Entity
	for _, e := range entities {
		start, end := max(e.Offset-shift, 0), min(e.Offset+e.Length-shift, length)
		if end <= start {
			continue
		}
		e.Offset, e.Length = start, end-start
		out = append(out, e)
	}
	return trimmed, out
}

// floodWaitLocked refuses a send while a flood wait covers its chat, and
// counts it as a send made inside a running retry_after.
func (s *Server) floodWaitLocked(chatID int64) *apiError {
	if !s.strict() {
		return nil
	}
	now := s.now()
	until, scope := s.floodAll, ScopeGlobal
	if t := s.floodChats[chatID]; t.After(until) {
		until, scope = t, ScopeChat
	}
	if !until.After(now) {
		return nil
	}
	s.stats.DuringRetryAfter++
	s.stats.DuringRetryAfterByScope[scope]++
	e := tooManyRequests(ScopeFloodWait, retryAfterSeconds(until.Sub(now)))
	e.kind = RejectFloodWait
	return e
}

// startFloodWaitLocked starts a flood wait of retryAfter seconds for scope:
// every chat for the global limit, the one chat otherwise. The wait is real
// seconds whatever RateScale, since that is what the 429 told the client.
func (s *Server) startFloodWaitLocked(scope Scope, chatID int64, retryAfter int) {
	if !s.strict() {
		return
	}
	until := s.now().Add(time.Duration(retryAfter) * time.Second)
	if scope == ScopeGlobal {
		if until.After(s.floodAll) {
			s.floodAll = until
		}
		return
	}
	if until.After(s.floodChats[chatID]) {
		s.floodChats[chatID] = until
	}
}

// chatWindow is the strict per-chat limit: Burst messages in Burst×Per.
func (l Limits) chatWindow() (time.Duration, int) {
	return time.Duration(l.PerChat.Burst) * l.PerChat.Per, l.PerChat.Burst
}

// takeWindowsLocked admits a message into every sliding window that
// applies, or answers 429 for the scope that would have to wait longest and
// starts its flood wait.
func (s *Server) takeWindowsLocked(c *chat) *apiError {
	l, scale, now := s.opts.Limits, s.opts.RateScale, s.now()
	chatPer, chatCount := l.chatWindow()
	longest, scope := s.globalLog.wait(now, scaled(l.Global.Per, scale), l.Global.Count), ScopeGlobal
	if w := stateFor(s.chatLogs, c.id).wait(now, scaled(chatPer, scale), chatCount); w > longest {
		longest, scope = w, ScopeChat
	}
	if isGroup(c) {
		if w := stateFor(s.groupLogs, c.id).wait(now, scaled(l.PerGroup.Per, scale), l.PerGroup.Count); w > longest {
			longest, scope = w, ScopeGroup
		}
	}
	if longest <= 0 {
		return nil
	}
	after := retryAfterSeconds(longest)
	s.startFloodWaitLocked(scope, c.id, after)
	return tooManyRequests(scope, after)
}

// countWindowsLocked logs an accepted message in its windows and keeps the
// busiest-window figures (under either model).
func (s *Server) countWindowsLocked(c *chat, now time.Time) {
	l, scale := s.opts.Limits, s.opts.RateScale
	chatPer, _ := l.chatWindow()
	globalPer := scaled(l.Global.Per, scale)
	s.globalLog.prune(now, globalPer)
	s.globalLog = append(s.globalLog, now)
	s.stats.BusiestGlobal = max(s.stats.BusiestGlobal, len(s.globalLog))
	cw := stateFor(s.chatLogs, c.id)
	cw.prune(now, scaled(max(chatPer, l.PerChat.Per), scale))
	*cw = append(*cw, now)
	s.stats.BusiestChat = max(s.stats.BusiestChat, cw.within(now, scaled(l.PerChat.Per, scale)))
	if isGroup(c) {
		gw := stateFor(s.groupLogs, c.id)
		gw.prune(now, scaled(l.PerGroup.Per, scale))
		*gw = append(*gw, now)
		s.stats.BusiestGroup[c.id] = max(s.stats.BusiestGroup[c.id], len(*gw))
	}
}

// takeTokensLocked charges one message to every bucket that applies, or
// answers 429 for the scope that would have to wait longest.
func (s *Server) takeTokensLocked(c *chat) *apiError {
	type charge struct {
		b     *bucket
		rate  Rate
		scope Scope
	}
	charges := []charge{
		{&s.globalBucket, s.opts.Limits.Global, ScopeGlobal},
		{stateFor(s.chatBuckets, c.id), s.opts.Limits.PerChat, ScopeChat},
	}
	if isGroup(c) {
		charges = append(charges, charge{stateFor(s.groupBuckets, c.id), s.opts.Limits.PerGroup, ScopeGroup})
	}
	now := s.now()
	var longest time.Duration
	var scope Scope
	for _, ch := range charges {
		if wait := ch.b.refill(now, ch.rate, s.opts.RateScale); wait > longest {
			longest, scope = wait, ch.scope
		}
	}
	if longest > 0 {
		return tooManyRequests(scope, retryAfterSeconds(longest))
	}
	for _, ch := range charges {
		ch.b.tokens--
	}
	return nil
}

// stateFor is a chat's limiter state (a bucket, a window), new when absent.
func stateFor[T any](states map[int64]*T, id int64) *T {
	st, ok := states[id]
	if !ok {
		st = new(T)
		states[id] = st
	}
	return st
}

// admitSendLocked applies the flood model to one message-sending request
// (a message or a document) to c: every kind of send shares the budgets.
func (s *Server) admitSendLocked(c *chat) *apiError {
	if s.opts.DisableRateLimits {
		return nil
	}
	if s.opts.FloodModel == FloodStrict {
		return s.takeWindowsLocked(c)
	}
	return s.takeTokensLocked(c)
}
