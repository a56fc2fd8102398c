package bot

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/briefings"
)

func tod(s string) *briefings.TimeOfDay {
	t, err := briefings.ParseTimeOfDay(s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in   string
		want Command
	}{
		{"/brief", Command{Name: CmdBrief}},
		{"  /brief  Ukraine  drones ", Command{Name: CmdBrief, Words: []string{"ukraine", "drones"}}},
		{"/BRIEF", Command{Name: CmdBrief}},
		{"/brief@newsbot", Command{Name: CmdBrief}},
		{"/subscribe", Command{Name: CmdSubscribe}},
		{"/subscribe 07:30", Command{Name: CmdSubscribe, At: tod("07:30")}},
		{"/subscribe 7:30 Europe/Berlin", Command{Name: CmdSubscribe, At: tod("07:30"), Zone: "Europe/Berlin"}},
		{"/subscribe UTC", Command{Name: CmdSubscribe, Zone: "UTC"}},
		{"/subscribe America/New_York", Command{Name: CmdSubscribe, Zone: "America/New_York"}},
		{"/unsubscribe", Command{Name: CmdUnsubscribe}},
		{"/stop", Command{Name: CmdUnsubscribe}},
		{"/topics", Command{Name: CmdTopics}},
		{"/topics +Climate -football !ukraine tennis", Command{Name: CmdTopics, Include: []string{"climate", "tennis"}, Exclude: []string{"football"}, Remove: []string{"ukraine"}}},
		{"/status", Command{Name: CmdStatus}},
		{"/sources", Command{Name: CmdSources}},
		{"/help", Command{Name: CmdHelp}},
		{"/start", Command{Name: CmdHelp, Start: true}},
	}
	for _, tt := range tests {
		got, err := ParseCommand(tt.in, "newsbot")
		if err != nil {
			t.Errorf("ParseCommand(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseCommand(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestParseCommandBadInput checks that every bad input gets one friendly line
// that shows the right form with an example, and never echoes a wall of text.
func TestParseCommandBadInput(t *testing.T) {
	garbage := strings.Repeat("\x00\xff<script>alert(1)</script>\u202e", 200)
	tests := []struct {
		in       string
		mentions []string // what the message must say
	}{
		{"/subscribe 25:00", []string{"25:00", "/subscribe [HH:MM] [zone]", "/subscribe 07:30 Europe/Berlin"}},
		{"/subscribe 07:30 Mars/Olympus", []string{"Mars/Olympus", "IANA", "Europe/Berlin"}},
		{"/subscribe Local", []string{"Local", "IANA"}},
		{"/subscribe ../../etc/passwd", []string{"not a time zone"}},
		{"/subscribe 07:30 UTC extra", []string{"extra", "/subscribe 07:30 Europe/Berlin"}},
		{"/subscribe 12:60", []string{"12:60", "00:00 to 23:59"}},
		{"/frobnicate", []string{"/frobnicate", "/help"}},
		{"hello there", []string{"start with /", "/help"}},
		{"", []string{"empty", "/help"}},
		{"/status now", []string{"no arguments", "/status"}},
		{"/topics +!!!", []string{"not a topic word", "/topics +climate -football"}},
		{"/brief@otherbot", []string{"another bot"}},
		{garbage, []string{"too long", "/help"}},
		{"/" + strings.Repeat("x", 400), []string{"don't know", "/help"}},
		{"/brief " + strings.Repeat("w ", 11), []string{"too many words", "/brief ukraine"}},
		{"/brief \xff\xfe", []string{"not valid text"}},
	}
	for _, tt := range tests {
		_, err := ParseCommand(tt.in, "newsbot")
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("ParseCommand(%.40q) = %v, want a *UsageError", tt.in, err)
			continue
		}
		msg := err.Error()
		for _, m := range tt.mentions {
			if !strings.Contains(msg, m) {
				t.Errorf("ParseCommand(%.40q) says %q; want it to mention %q", tt.in, msg, m)
			}
		}
		if strings.Contains(msg, "\n") || len(msg) > 300 {
			t.Errorf("ParseCommand(%.40q): want one short line, got %d bytes: %q", tt.in, len(msg), msg)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/brief", "/subscribe 07:30 Europe/Berlin", "/topics +a -b !c", "/subscribe 25:00", "/x@y", "/subscribe 0:00 Etc/GMT+14",
		"/sources add https://example.com/feed.xml", "/sources remove 3", "/sources default off", "/sources export"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmd, err := ParseCommand(s, "newsbot")
		if err != nil {
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("ParseCommand(%q) returned %T, want *UsageError", s, err)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || len(msg) > 400 {
				t.Fatalf("error is not one short line: %q", msg)
			}
			return
		}
		if cmd.Name == "" {
			t.Fatalf("ParseCommand(%q) gave no command and no error", s)
		}
		if cmd.Zone != "" {
			if _, err := briefings.LoadZone(cmd.Zone); err != nil {
				t.Fatalf("accepted zone %q that does not load", cmd.Zone)
			}
		}
	})
}
