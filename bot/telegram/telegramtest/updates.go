package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// storedUpdate is an update waiting to be fetched or delivered.
type storedUpdate struct {
	id   int
	kind string // the Update field it fills: "message", …
	body json.RawMessage
}

// poll is a getUpdates call waiting for updates.
type poll struct {
	kicked chan struct{} // closed when another call ends this one
	reason *apiError
}

// webhook is the setWebhook state.
type webhook struct {
	url              string
	secret           string
	maxConnections   int
	generation       int // changes on every set or delete, so a retry loop notices
	lastErrorDate    int64
	lastErrorMessage string
}

// excludedByDefault are the update kinds a bot gets only when it asks for
// them by name in allowed_updates.
var excludedByDefault = []string{"chat_member", "message_reaction", "message_reaction_count"}

func conflictWebhookActive() *apiError {
	return &apiError{
		code:        http.StatusConflict,
		description: "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
		kind:        RejectConflict,
	}
}

func conflictTerminated() *apiError {
	return &apiError{
		code:        http.StatusConflict,
		description: "terminated by other getUpdates request; make sure that only one bot instance is running",
		kind:        RejectConflict,
	}
}

// enqueueLocked queues an update and wakes pollers and the webhook sender.
func (s *Server) enqueueLocked(kind string, payload any) int {
	id := s.nextUpdateID
	s.nextUpdateID++
	body, err := json.Marshal(map[string]any{"update_id": id, kind: payload})
	if err != nil {
		// Only the fake's own types are marshalled here; they always encode.
		panic("telegramtest: encode update: " + err.Error())
	}
	s.updates = append(s.updates, storedUpdate{id: id, kind: kind, body: body})
	s.broadcastLocked()
	return id
}

// PendingUpdates is how many updates the bot has not confirmed yet.
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

func (s *Server) allowedLocked(kind string) bool {
	if len(s.allowed) == 0 {
		return !slices.Contains(excludedByDefault, kind)
	}
	return slices.Contains(s.allowed, kind)
}

// parseAllowedUpdates reads allowed_updates; absent (or null) keeps the
// previous setting, an empty list restores the default.
func parseAllowedUpdates(p params) ([]string, bool, *apiError) {
	if !p.has("allowed_updates") {
		return nil, false, nil
	}
	var kinds []string
	if err := json.Unmarshal([]byte(p["allowed_updates"]), &kinds); err != nil {
		return nil, false, badRequest(RejectBadRequest, "can't parse allowed updates JSON array")
	}
	return kinds, true, nil
}

// confirmLocked forgets the updates getUpdates' offset confirms: everything
// before a positive offset; all but the last -offset for a negative one.
func (s *Server) confirmLocked(offset int64) {
	switch {
	case offset > 0:
		i := 0
		for i < len(s.updates) && int64(s.updates[i].id) < offset {
			i++
		}
		s.updates = s.updates[i:]
	case offset < 0:
		if keep := -offset; int64(len(s.updates)) > keep {
			s.updates = s.updates[int64(len(s.updates))-keep:]
		}
	}
}

// takeLocked returns up to limit pending updates, leaving them queued until
// confirmed; updates of kinds the bot did not ask for are dropped.
func (s *Server) takeLocked(limit int) []json.RawMessage {
	kept := s.updates[:0]
	for _, u := range s.updates {
		if s.allowedLocked(u.kind) {
			kept = append(kept, u)
		}
	}
	s.updates = kept
	out := make([]json.RawMessage, 0, min(limit, len(s.updates)))
	for _, u := range s.updates[:min(limit, len(s.updates))] {
		out = append(out, u.body)
	}
	return out
}

func (s *Server) getUpdates(ctx context.Context, p params) (any, *apiError) {
	offset, _, err := p.int64("offset")
	if err != nil {
		return nil, badRequest(RejectBadRequest, "invalid offset specified")
	}
	limit, hasLimit, err := p.int64("limit")
	if err != nil {
		return nil, badRequest(RejectBadRequest, "invalid limit specified")
	}
	if !hasLimit || limit < 1 || limit > MaxUpdatesLimit {
		limit = MaxUpdatesLimit
	}
	timeout, _, err := p.int64("timeout")
	if err != nil {
		return nil, badRequest(RejectBadRequest, "invalid timeout specified")
	}
	wait := time.Duration(min(max(timeout, 0), int64(MaxPollTimeout/time.Second))) * time.Second
	allowed, setAllowed, aerr := parseAllowedUpdates(p)
	if aerr != nil {
		return nil, aerr
	}

	s.mu.Lock()
	if s.webhook.url != "" {
		s.mu.Unlock()
		return nil, conflictWebhookActive()
	}
	s.kickPollerLocked(conflictTerminated())
	if setAllowed {
		s.allowed = allowed
	}
	s.confirmLocked(offset)
	if got := s.takeLocked(int(limit)); len(got) > 0 || wait == 0 {
		s.mu.Unlock()
		return got, nil
	}
	me := &poll{kicked: make(chan struct{})}
	s.poller = me
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		changed := s.changed
		s.mu.Unlock()
		expired := false
		select {
		case <-changed:
		case <-me.kicked:
			return nil, me.reason
		case <-timer.C:
			expired = true
		case <-ctx.Done():
			s.dropPoller(me)
			return nil, errClientGone
		case <-s.done:
			s.dropPoller(me)
			return []json.RawMessage{}, nil
		}
		s.mu.Lock()
		if s.poller != me { // kicked while we were waking up
			s.mu.Unlock()
			return nil, me.reason
		}
		if got := s.takeLocked(int(limit)); len(got) > 0 || expired {
			s.poller = nil
			s.mu.Unlock()
			return got, nil
		}
	}
}

// kickPollerLocked ends the waiting getUpdates call, if any, with reason.
func (s *Server) kickPollerLocked(reason *apiError) {
	if s.poller == nil {
		return
	}
	s.poller.reason = reason
	close(s.poller.kicked)
	s.poller = nil
}

func (s *Server) dropPoller(p *poll) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.poller == p {
		s.poller = nil
	}
}

// validSecretToken is setWebhook's rule: A-Z a-z 0-9 _ -.
func validSecretToken(secret string) bool {
	for i := 0; i < len(secret); i++ {
		if c := secret[i]; !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func (s *Server) setWebhook(_ context.Context, p params) (any, *apiError) {
	rawURL := strings.TrimSpace(p["url"])
	secret := p["secret_token"]
	if len(secret) > MaxSecretTokenLength {
		return nil, badRequest(RejectBadRequest, "secret token is too long")
	}
	if !validSecretToken(secret) {
		return nil, badRequest(RejectBadRequest, "secret token contains unallowed characters")
	}
	maxConnections := int64(40)
	if n, present, err := p.int64("max_connections"); present {
		if err != nil || n < 1 || n > 100 {
			return nil, badRequest(RejectBadRequest, "bad webhook: max_connections must be between 1 and 100")
		}
		maxConnections = n
	}
	allowed, setAllowed, aerr := parseAllowedUpdates(p)
	if aerr != nil {
		return nil, aerr
	}
	if rawURL == "" {
		return s.deleteWebhook(context.Background(), p)
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, badRequest(RejectBadRequest, "bad webhook: Failed to resolve host: Name or service not known")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, badRequest(RejectBadRequest, "bad webhook: An HTTPS URL must be provided for webhook")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if p.bool("drop_pending_updates") {
		s.updates = nil
	}
	if setAllowed {
		s.allowed = allowed
	}
	description := "Webhook was set"
	if s.webhook.url == rawURL && s.webhook.secret == secret {
		description = "Webhook is already set"
	}
	s.webhook = webhook{
		url:            rawURL,
		secret:         secret,
		maxConnections: int(maxConnections),
		generation:     s.webhook.generation + 1,
	}
	s.kickPollerLocked(conflictWebhookActive())
	s.broadcastLocked()
	return okWithDescription{result: true, description: description}, nil
}

func (s *Server) deleteWebhook(_ context.Context, p params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.bool("drop_pending_updates") {
		s.updates = nil
	}
	if s.webhook.url == "" {
		return okWithDescription{result: true, description: "Webhook is already deleted"}, nil
	}
	s.webhook = webhook{generation: s.webhook.generation + 1}
	s.broadcastLocked()
	return okWithDescription{result: true, description: "Webhook was deleted"}, nil
}

func (s *Server) getWebhookInfo(context.Context, params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := map[string]any{
		"url":                    s.webhook.url,
		"has_custom_certificate": false,
		"pending_update_count":   len(s.updates),
	}
	if s.webhook.url != "" {
		info["max_connections"] = s.webhook.maxConnections
		if len(s.allowed) > 0 {
			info["allowed_updates"] = s.allowed
		}
	}
	if s.webhook.lastErrorDate != 0 {
		info["last_error_date"] = s.webhook.lastErrorDate
		info["last_error_message"] = s.webhook.lastErrorMessage
	}
	return info, nil
}

// deliverWebhooks POSTs queued updates, one at a time and in order, to the
// webhook while one is set. It runs until Close.
func (s *Server) deliverWebhooks() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		s.mu.Lock()
		hook := s.webhook
		var next *storedUpdate
		if hook.url != "" {
			for len(s.updates) > 0 && !s.allowedLocked(s.updates[0].kind) {
				s.updates = s.updates[1:]
			}
			if len(s.updates) > 0 {
				u := s.updates[0]
				next = &u
			}
		}
		changed := s.changed
		s.mu.Unlock()
		if next == nil {
			select {
			case <-changed:
				continue
			case <-s.done:
				return
			}
		}
		if !s.deliver(ctx, hook, *next) {
			return
		}
	}
}

// deliver tries one update on one webhook, retrying non-2xx answers with
// doubling pauses; after the last attempt the update is dropped, as Telegram
// gives up on it. It reports false when the server is closing.
func (s *Server) deliver(ctx context.Context, hook webhook, u storedUpdate) bool {
	delay := s.opts.WebhookRetryDelay
	for attempt := 1; ; attempt++ {
		failure := s.post(ctx, hook, u)
		if ctx.Err() != nil {
			return false
		}
		s.mu.Lock()
		if failure == "" {
			s.stats.WebhookDeliveries++
			s.removeUpdateLocked(u.id)
			s.mu.Unlock()
			return true
		}
		s.stats.WebhookFailures++
		current := s.webhook.generation == hook.generation
		if current {
			s.webhook.lastErrorDate = s.now().Unix()
			s.webhook.lastErrorMessage = failure
		}
		if current && attempt >= s.opts.WebhookAttempts {
			s.removeUpdateLocked(u.id)
		}
		s.mu.Unlock()
		if !current || attempt >= s.opts.WebhookAttempts {
			return true
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return false
		}
		delay *= 2
		s.mu.Lock()
		current = s.webhook.generation == hook.generation
		s.mu.Unlock()
		if !current {
			return true
		}
	}
}

// post sends one update and describes the failure as getWebhookInfo's
// last_error_message would, or returns "" on a 2xx. The description never
// holds the URL, which often carries a secret path.
func (s *Server) post(ctx context.Context, hook webhook, u storedUpdate) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.url, bytes.NewReader(u.body))
	if err != nil {
		return "Invalid webhook URL"
	}
	req.Header.Set("Content-Type", "application/json")
	if hook.secret != "" {
		req.Header.Set(SecretTokenHeader, hook.secret)
	}
	resp, err := s.opts.WebhookClient.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			if uerr.Timeout() {
				return "Read timeout expired"
			}
			return "Connection failed: " + uerr.Err.Error()
		}
		return "Connection failed"
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "Wrong response from the webhook: " + resp.Status
	}
	return ""
}

func (s *Server) removeUpdateLocked(id int) {
	if i := slices.IndexFunc(s.updates, func(u storedUpdate) bool { return u.id == id }); i >= 0 {
		s.updates = slices.Delete(s.updates, i, i+1)
	}
}
