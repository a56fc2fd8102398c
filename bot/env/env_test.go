package env

import (
	"strings"
	"testing"
	"time"
)

func TestReader(t *testing.T) {
	r := NewReader(map[string]string{
		"S": "  padded  ", "I": "7", "F": "2.5", "B": "true", "D": "90s",
		"BAD_I": "seven", "BAD_F": "lots", "BAD_B": "maybe", "BAD_D": strings.Repeat("x", 100),
	})
	if got := r.String("S"); got != "padded" {
		t.Errorf("String = %q", got)
	}
	if r.Int("I", 1) != 7 || r.Int("UNSET", 3) != 3 || r.Float("F", 1) != 2.5 || r.Float("UNSET", 1) != 1 ||
		!r.Bool("B", false) || !r.Bool("UNSET", true) || r.Duration("D", time.Minute) != 90*time.Second || r.Duration("UNSET", time.Minute) != time.Minute {
		t.Error("values or defaults misread")
	}
	if err := r.Err(); err != nil {
		t.Fatalf("good values: %v", err)
	}
	r.Int("BAD_I", 0)
	r.Float("BAD_F", 0)
	r.Bool("BAD_B", false)
	r.Duration("BAD_D", 0)
	err := r.Err()
	if err == nil {
		t.Fatal("bad values: no error")
	}
	lines := strings.Split(err.Error(), "\n")
	for i, name := range []string{"BAD_I", "BAD_F", "BAD_B", "BAD_D"} {
		if i >= len(lines) || !strings.HasPrefix(lines[i], name+"=") {
			t.Errorf("line %d of %q does not name %s", i, err, name)
		}
	}
	if strings.Contains(err.Error(), strings.Repeat("x", 30)) {
		t.Errorf("a long value is quoted whole: %v", err)
	}
}

func TestHTTPURL(t *testing.T) {
	for s, want := range map[string]bool{
		"https://a.example/feed": true, "http://127.0.0.1:8080": true,
		"ftp://a.example": false, "a.example/feed": false, "http:///nohost": false, "http://[::1": false, "": false,
	} {
		if HTTPURL(s) != want {
			t.Errorf("HTTPURL(%q) = %v, want %v", s, !want, want)
		}
	}
}
