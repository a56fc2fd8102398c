package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Access. The operator holds one secret, NEWSBOT_ADMIN_TOKEN. A browser
// trades it once, on the login form, for a session cookie that carries no
// part of it: an expiry and a random nonce, signed with a key derived from
// the token (so changing the token ends every session). A script sends the
// token itself as "Authorization: Bearer". Every comparison is constant-time.
// Every POST is refused when it comes from another origin, and a POST made
// with the session cookie must also carry the session's CSRF token, derived
// from the cookie with the same key. Wrong tokens are answered 401 and
// counted per client address: after failureBurst of them the address is
// refused (429) until its budget refills.

const (
	cookieName = "newsbot_admin"
	cookiePath = "/admin/"
	// sessionLifetime is how long a login lasts.
	sessionLifetime = 12 * time.Hour
	// failureBurst wrong tokens are allowed from one address at once, then
	// one per failureEvery.
	failureBurst = 5
	failureEvery = 20 * time.Second
	// maxTrackedClients bounds the failure budgets kept; idle ones are
	// forgotten first.
	maxTrackedClients = 10_000
)

// keys are the secrets derived from the token.
type keys struct {
	tokenHash [sha256.Size]byte // what a presented token's hash is compared with
	session   []byte            // signs session cookies and derives CSRF tokens
}

func deriveKeys(token string) keys {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("newsbot admin session v1"))
	return keys{tokenHash: sha256.Sum256([]byte(token)), session: mac.Sum(nil)}
}

// tokenMatches compares a presented token with the configured one in
// constant time, whatever their lengths.
func (k keys) tokenMatches(presented string) bool {
	h := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(h[:], k.tokenHash[:]) == 1
}

func (k keys) sign(payload []byte) []byte {
	mac := hmac.New(sha256.New, k.session)
	mac.Write(payload)
	return mac.Sum(nil)
}

var b64 = base64.RawURLEncoding

// newSession returns a session cookie value that expires at expires.
func (k keys) newSession(expires time.Time) string {
	payload := make([]byte, 8+16)
	binary.BigEndian.PutUint64(payload, uint64(expires.Unix()))
	rand.Read(payload[8:])
	return b64.EncodeToString(payload) + "." + b64.EncodeToString(k.sign(payload))
}

// validSession reports whether value is a session this key signed that has
// not expired at now.
func (k keys) validSession(value string, now time.Time) bool {
	p, s, ok := strings.Cut(value, ".")
	if !ok {
		return false
	}
	payload, err1 := b64.DecodeString(p)
	sig, err2 := b64.DecodeString(s)
	if err1 != nil || err2 != nil || len(payload) != 24 || !hmac.Equal(sig, k.sign(payload)) {
		return false
	}
	return now.Before(time.Unix(int64(binary.BigEndian.Uint64(payload)), 0))
}

// csrfToken is the token forms of the session carry.
func (k keys) csrfToken(session string) string {
	return b64.EncodeToString(k.sign([]byte("csrf\x00" + session)))
}

func (k keys) validCSRF(session, presented string) bool {
	return hmac.Equal([]byte(presented), []byte(k.csrfToken(session)))
}

// principal is who a request comes from.
type principal int

const (
	anonymous principal = iota
	scriptCaller
	browserSession
)

// authenticate tells who sent r. A wrong bearer token is reported as bad
// (and the caller answers 401); a missing or stale cookie is anonymous.
func (h *Handler) authenticate(r *http.Request) (who principal, session string, bad bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, token, _ := strings.Cut(auth, " ")
		if strings.EqualFold(scheme, "Bearer") && h.keys.tokenMatches(strings.TrimSpace(token)) {
			return scriptCaller, "", false
		}
		return anonymous, "", true
	}
	// Sessions run on the real clock, whatever clock the panel shows: the
	// browser expires the cookie by it.
	if c, err := r.Cookie(cookieName); err == nil && h.keys.validSession(c.Value, time.Now()) {
		return browserSession, c.Value, false
	}
	return anonymous, "", false
}

func (h *Handler) setSessionCookie(w http.ResponseWriter, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: value, Path: cookiePath, Expires: expires,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

func (h *Handler) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: "", Path: cookiePath, MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// failures keeps a budget of wrong tokens per client address.
type failures struct {
	mu      sync.Mutex
	clients map[string]*clientBudget
}

type clientBudget struct {
	lim  *rate.Limiter
	seen time.Time
}

func newFailures() *failures { return &failures{clients: map[string]*clientBudget{}} }

// blocked reports whether addr has used up its budget at now, and how long
// until it may try again.
func (f *failures) blocked(addr string, now time.Time) (bool, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.clients[addr]
	if !ok {
		return false, 0
	}
	tokens := b.lim.TokensAt(now)
	if tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - tokens) * float64(failureEvery))
}

// fail spends one of addr's budget at now.
func (f *failures) fail(addr string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.clients[addr]
	if !ok {
		if len(f.clients) >= maxTrackedClients {
			f.forgetIdle(now)
		}
		b = &clientBudget{lim: rate.NewLimiter(rate.Every(failureEvery), failureBurst)}
		f.clients[addr] = b
	}
	b.seen = now
	b.lim.AllowN(now, 1)
}

// forgetIdle drops the budgets that have refilled; if none has, the oldest
// half, so that a flood of addresses cannot grow the map without bound.
func (f *failures) forgetIdle(now time.Time) {
	full := failureEvery * failureBurst
	for addr, b := range f.clients {
		if now.Sub(b.seen) > full {
			delete(f.clients, addr)
		}
	}
	if len(f.clients) < maxTrackedClients {
		return
	}
	n := 0
	for addr := range f.clients {
		if n >= maxTrackedClients/2 {
			break
		}
		delete(f.clients, addr)
		n++
	}
}

// clientAddr is the address failures are counted by: the TCP peer. Behind a
// reverse proxy every client shares the proxy's budget; a forwarded header
// is not trusted, since any client could set it.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
