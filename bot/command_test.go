package bot

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

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
		{"/subscribe 7:30 Europe/Berlin", Command{Name: CmdSubscribe, At: tod("07:30"), Zone: testZone("Europe/Berlin")}},
		{"/subscribe UTC", Command{Name: CmdSubscribe, Zone: briefings.UTC}},
		{"/subscribe America/New_York", Command{Name: CmdSubscribe, Zone: testZone("America/New_York")}},
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
		if !cmd.Zone.IsZero() {
			if _, err := briefings.ParseZone(cmd.Zone.String()); err != nil {
				t.Fatalf("accepted zone %q that does not load", cmd.Zone)
			}
		}
	})
}

// FuzzSubscribeCommand: /subscribe from typed options (Discord) answers as
// the text grammar does for the same time and zone: the same command, or the
// same error line.
func FuzzSubscribeCommand(f *testing.F) {
	for _, s := range [][2]string{{"07:30", "Europe/Berlin"}, {"25:00", "UTC"}, {"07:30", "Mars/Olympus"}, {"7:5", "Local"}, {"0:00", "Etc/GMT+14"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, at, zone string) {
		got, gotErr := SubscribeCommand(at, zone)
		if gotErr != nil {
			var ue *UsageError
			if !errors.As(gotErr, &ue) || strings.Contains(gotErr.Error(), "\n") {
				t.Fatalf("SubscribeCommand(%q, %q) = %v, want one line of *UsageError", at, zone, gotErr)
			}
		} else if got.Name != CmdSubscribe || (at != "") != (got.At != nil) || (zone != "") != !got.Zone.IsZero() {
			t.Fatalf("SubscribeCommand(%q, %q) = %+v", at, zone, got)
		}
		// Where the text grammar reads the same two words, it answers the same.
		text := "/subscribe " + at + " " + zone
		if !strings.Contains(at, ":") || len(strings.Fields(at)) != 1 || len(strings.Fields(zone)) != 1 ||
			strings.TrimSpace(at) != at || strings.TrimSpace(zone) != zone || len(text) > maxCommandBytes || !utf8.ValidString(text) {
			return
		}
		want, wantErr := ParseCommand(text, "")
		if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Fatalf("typed %q %q: %v; text %q: %v", at, zone, gotErr, text, wantErr)
		}
		if gotErr == nil && !cmp.Equal(got, want) {
			t.Fatalf("typed %q %q: %+v; text: %+v", at, zone, got, want)
		}
	})
}

// testZone is a zone the test knows loads.
func testZone(name string) briefings.Zone {
	z, err := briefings.ParseZone(name)
	if err != nil {
		panic(err)
	}
	return z
}
