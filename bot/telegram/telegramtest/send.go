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
// meets. It always draws twice so that one call's outcome never shifts the
// sequence the next calls see.
func (s *Server) drawFaultLocked() (injectedFault, bool) {
	f := s.opts.Faults
	kind, slow := s.rng.Float64(), s.rng.Float64()
	fault := noFault
	switch {
	case kind < f.Rate429:
		fault = fault429
	case kind < f.Rate429+f.Rate5xx:
		fault = fault5xx
	}
	return fault, slow < f.RateSlow
}

func (s *Server) sendMessage(ctx context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	fault, slow := s.drawFaultLocked()
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
		return nil, tooManyRequests(ScopeInjected, 1)
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
	if !s.opts.DisableRateLimits {
		if e := s.takeTokensLocked(c); e != nil {
			return nil, e
		}
	}
	c.lastMessageID++
	now := s.now()
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
		{bucketFor(s.chatBuckets, c.id), s.opts.Limits.PerChat, ScopeChat},
	}
	if isGroup(c) {
		charges = append(charges, charge{bucketFor(s.groupBuckets, c.id), s.opts.Limits.PerGroup, ScopeGroup})
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

func bucketFor(buckets map[int64]*bucket, id int64) *bucket {
	b, ok := buckets[id]
	if !ok {
		b = &bucket{}
		buckets[id] = b
	}
	return b
}
