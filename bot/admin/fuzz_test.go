package admin

import (
	"strings"
	"testing"
	"time"
)

// FuzzSessionCookie: no cookie value but one the key signed is a session,
// and none makes the check panic.
func FuzzSessionCookie(f *testing.F) {
	k := deriveKeys(testToken)
	now := time.Unix(1_800_000_000, 0)
	f.Add(k.newSession(now.Add(time.Hour)))
	f.Add("")
	f.Add(".")
	f.Add("AAAA.BBBB")
	f.Fuzz(func(t *testing.T, value string) {
		if k.validSession(value, now) {
			p, s, _ := strings.Cut(value, ".")
			payload, _ := b64.DecodeString(p)
			sig, _ := b64.DecodeString(s)
			if string(k.sign(payload)) != string(sig) {
				t.Fatalf("%q passed as a session without this key's signature", value)
			}
		}
		if value != "" && k.validCSRF(value, value) {
			t.Fatalf("a session's own value passed as its CSRF token: %q", value)
		}
	})
}
