package briefings

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/feed.xml", "https://example.com/feed.xml"},
		{"https://reader:s3cret@private.example/feed", "https://reader:xxxxx@private.example/feed"},
		{"postgres://bot:s3cret@db:5432/newsbot?sslmode=disable", "postgres://bot:xxxxx@db:5432/newsbot?sslmode=disable"},
		{"http://user:s3cret@[::1", "(unparseable URL)"},
		{"newsbot.db", "newsbot.db"},
	}
	for _, tt := range tests {
		got := RedactURL(tt.in)
		if got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(got, "s3cret") {
			t.Errorf("RedactURL(%q) shows the password", tt.in)
		}
	}
}
