package console

import (
	"strings"
	"testing"
	"time"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
)

// TestRenderBriefingHostileText: feed text cannot move the cursor, clear the
// screen or reverse the line on a terminal.
func TestRenderBriefingHostileText(t *testing.T) {
	b := briefings.Briefing{Entries: []briefings.Entry{{
		Headline:  "Breaking\x1b[2J\x1b[H\u202enews",
		Summary:   []string{"line\rwith carriage return", "bell\a and tab\tand NUL\x00"},
		Sources:   []briefings.SourceLink{{Outlet: "Out\x1b]0;pwned\x07let", URL: "https://x.example/a"}},
		Published: time.Date(2025, 7, 10, 12, 0, 0, 0, time.UTC),
	}}}
	out := RenderBriefing(b)
	for _, bad := range []string{"\x1b", "\u202e", "\r", "\a", "\x00", "\t"} {
		if strings.Contains(out, bad) {
			t.Errorf("rendered briefing contains %q:\n%q", bad, out)
		}
	}
	for _, want := range []string{"1. Breaking[2J[Hnews", "Source:", "https://x.example/a", "Thu 10 Jul 2025 12:00 UTC"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered briefing lacks %q:\n%s", want, out)
		}
	}
}

func TestRenderReplyText(t *testing.T) {
	if got := Render(bot.Reply{Text: "a\x1b[31mb"}); got != "a[31mb" {
		t.Errorf("Render = %q", got)
	}
	b := briefings.Briefing{Topics: briefings.Topics{Include: []string{"ukraine"}}}
	if got := Render(bot.Reply{Briefing: &b}); !strings.HasPrefix(got, "News briefing (+ukraine) — 0 stories") {
		t.Errorf("Render = %q", got)
	}
}
