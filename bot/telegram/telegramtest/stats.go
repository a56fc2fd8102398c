package telegramtest

import (
	"maps"
	"net/http"
)

// Rejection classifies the error answers the fake gave.
type Rejection string

// Rejection kinds.
const (
	RejectUnauthorized    Rejection = "unauthorized"      // 401, wrong token
	RejectNotFound        Rejection = "not_found"         // 404, unknown method
	RejectChatNotFound    Rejection = "chat_not_found"    // 400 chat not found
	RejectEmptyText       Rejection = "empty_text"        // 400 message text is empty
	RejectTooLong         Rejection = "too_long"          // 400 message is too long
	RejectParseEntities   Rejection = "parse_entities"    // 400 can't parse entities
	RejectMigrated        Rejection = "migrated"          // 400 group chat was upgraded
	RejectBadRequest      Rejection = "bad_request"       // any other 400
	RejectBlocked         Rejection = "blocked"           // 403 bot was blocked by the user
	RejectKicked          Rejection = "kicked"            // 403 bot was kicked
	RejectDeactivated     Rejection = "deactivated"       // 403 user is deactivated
	RejectConflict        Rejection = "conflict"          // 409 getUpdates conflicts
	RejectRateLimited     Rejection = "rate_limited"      // 429, flood control or injected
	RejectInjected5xx     Rejection = "injected_5xx"      // 500 injected by Faults
	RejectFloodWait       Rejection = "flood_wait"        // 429 inside a running retry_after
	RejectCantWrite       Rejection = "cant_write"        // 400 not enough rights (muted)
	RejectEntitiesTooLong Rejection = "entities_too_long" // 400 entities too long
)

// Scope is what a 429 was issued for.
type Scope string

// 429 scopes.
const (
	ScopeChat     Scope = "chat"     // Limits.PerChat
	ScopeGroup    Scope = "group"    // Limits.PerGroup
	ScopeGlobal   Scope = "global"   // Limits.Global
	ScopeInjected Scope = "injected" // Faults.Rate429
	// ScopeFloodWait is a send refused because a flood wait covered it
	// (FloodStrict); Stats.DuringRetryAfterByScope says whose wait.
	ScopeFloodWait Scope = "flood_wait"
)

// Stats count what the fake saw and answered.
type Stats struct {
	// Requests counts requests by method name, such as "sendMessage",
	// whatever their outcome (requests with a wrong token or an unknown
	// method are not counted here).
	Requests map[string]int
	// Sent counts accepted sendMessage calls.
	Sent int
	// TooManyRequests counts 429 answers by scope: for a limit reached, an
	// injected one, or a send inside a running flood wait.
	TooManyRequests map[Scope]int
	// DuringRetryAfter counts sendMessage calls that arrived while a flood
	// wait (FloodStrict) covered their chat: sends a client made inside a
	// retry_after it had been told, or had in flight when it was told. By
	// the scope of the wait, too.
	DuringRetryAfter        int
	DuringRetryAfterByScope map[Scope]int
	// BusiestGlobal is the most messages accepted in any one window of the
	// global limit (Per, scaled); BusiestChat the most to one chat in any
	// window of the chat limit's Per; BusiestGroup the most to each group
	// in any window of the group limit.
	BusiestGlobal int
	BusiestChat   int
	BusiestGroup  map[int64]int
	// Injected5xx counts injected 500 answers; InjectedSlow the responses
	// delayed by Faults.
	Injected5xx  int
	InjectedSlow int
	// BadRequests counts every 400 answer, of any method.
	BadRequests int
	// Rejected counts every error answer by kind.
	Rejected map[Rejection]int
	// WebhookDeliveries counts updates a webhook accepted with a 2xx;
	// WebhookFailures counts failed attempts (retries included).
	WebhookDeliveries int
	WebhookFailures   int
}

func newStats() Stats {
	return Stats{
		Requests:                map[string]int{},
		TooManyRequests:         map[Scope]int{},
		DuringRetryAfterByScope: map[Scope]int{},
		BusiestGroup:            map[int64]int{},
		Rejected:                map[Rejection]int{},
	}
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stats
	out.Requests = maps.Clone(s.stats.Requests)
	out.TooManyRequests = maps.Clone(s.stats.TooManyRequests)
	out.Rejected = maps.Clone(s.stats.Rejected)
	out.DuringRetryAfterByScope = maps.Clone(s.stats.DuringRetryAfterByScope)
	out.BusiestGroup = maps.Clone(s.stats.BusiestGroup)
	return out
}

func (s *Server) countRejection(e *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kind := e.kind
	if kind == "" {
		kind = RejectBadRequest
	}
	s.stats.Rejected[kind]++
	if e.code == http.StatusBadRequest {
		s.stats.BadRequests++
	}
	if e.code == http.StatusTooManyRequests {
		s.stats.TooManyRequests[e.scope]++
	}
	if kind == RejectInjected5xx {
		s.stats.Injected5xx++
	}
}
