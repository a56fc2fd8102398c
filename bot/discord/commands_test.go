package discord

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
)

func opt(name string, value any, sub ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Value: value, Options: sub}
}

// TestOptionsGiveTheGrammarsCommand checks that typed options produce the
// very Command the text grammar produces for the same request.
func TestOptionsGiveTheGrammarsCommand(t *testing.T) {
	tests := []struct {
		name        string
		data        discordgo.ApplicationCommandInteractionData
		text        string // the same request typed as text
		wantChannel string
	}{
		{"brief", discordgo.ApplicationCommandInteractionData{Name: "brief"}, "/brief", "here"},
		{"brief topic", discordgo.ApplicationCommandInteractionData{Name: "brief", Options: []*discordgo.ApplicationCommandInteractionDataOption{opt("topic", "Climate  ENERGY")}}, "/brief climate energy", "here"},
		{"subscribe", discordgo.ApplicationCommandInteractionData{Name: "subscribe", Options: []*discordgo.ApplicationCommandInteractionDataOption{
			opt("channel", "42"), opt("time", "7:30"), opt("timezone", "Asia/Kathmandu")}}, "/subscribe 7:30 Asia/Kathmandu", "42"},
		{"unsubscribe", discordgo.ApplicationCommandInteractionData{Name: "unsubscribe", Options: []*discordgo.ApplicationCommandInteractionDataOption{opt("channel", "42")}}, "/unsubscribe", "42"},
		{"topics add", discordgo.ApplicationCommandInteractionData{Name: "topics", Options: []*discordgo.ApplicationCommandInteractionDataOption{
			opt("add", nil, opt("words", "climate -football"))}}, "/topics +climate -football", "here"},
		{"topics remove", discordgo.ApplicationCommandInteractionData{Name: "topics", Options: []*discordgo.ApplicationCommandInteractionDataOption{
			opt("remove", nil, opt("words", "-football climate"), opt("channel", "7"))}}, "/topics !football !climate", "7"},
		{"topics list", discordgo.ApplicationCommandInteractionData{Name: "topics", Options: []*discordgo.ApplicationCommandInteractionDataOption{opt("list", nil)}}, "/topics", "here"},
		{"status", discordgo.ApplicationCommandInteractionData{Name: "status"}, "/status", "here"},
		{"sources", discordgo.ApplicationCommandInteractionData{Name: "sources"}, "/sources", "here"},
		{"help", discordgo.ApplicationCommandInteractionData{Name: "help"}, "/help", "here"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, where, err := commandFromInteraction(tc.data, "here")
			if err != nil {
				t.Fatal(err)
			}
			want, err := bot.ParseCommand(tc.text, "")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("command differs from the grammar's for %q (-want +got):\n%s", tc.text, diff)
			}
			if where.ChannelID != tc.wantChannel {
				t.Errorf("channel %q, want %q", where.ChannelID, tc.wantChannel)
			}
		})
	}
}

func TestBadOptionsGetTheGrammarsMessage(t *testing.T) {
	sub := func(at, zone string) discordgo.ApplicationCommandInteractionData {
		return discordgo.ApplicationCommandInteractionData{Name: "subscribe", Options: []*discordgo.ApplicationCommandInteractionDataOption{
			opt("channel", "42"), opt("time", at), opt("timezone", zone)}}
	}
	tests := []struct {
		data discordgo.ApplicationCommandInteractionData
		text string
	}{
		{sub("25:00", "UTC"), "/subscribe 25:00 UTC"},
		{sub("07:30", "Mars/Olympus"), "/subscribe 07:30 Mars/Olympus"},
		{sub("07:30", "Local"), "/subscribe 07:30 Local"},
		{discordgo.ApplicationCommandInteractionData{Name: "brief", Options: []*discordgo.ApplicationCommandInteractionDataOption{opt("topic", "!!!")}}, "/brief !!!"},
	}
	for _, tc := range tests {
		_, _, got := commandFromInteraction(tc.data, "here")
		_, want := bot.ParseCommand(tc.text, "")
		var usage *bot.UsageError
		if !errors.As(got, &usage) || want == nil || got.Error() != want.Error() {
			t.Errorf("%s: %v, want the grammar's %v", tc.text, got, want)
		}
	}
	// A time without a colon: the grammar would read it as a zone; the
	// typed option knows better.
	_, _, err := commandFromInteraction(sub("0730", "UTC"), "here")
	if err == nil || !strings.Contains(err.Error(), `"0730" is not a time of day`) {
		t.Errorf("time 0730: %v", err)
	}
}

func TestApplicationCommandsWithinDiscordsLimits(t *testing.T) {
	for _, c := range ApplicationCommands() {
		if n := utf8.RuneCountInString(c.Description); n < 1 || n > 100 || len(c.Name) > 32 || strings.ToLower(c.Name) != c.Name {
			t.Errorf("/%s: name or description (%d) out of Discord's limits", c.Name, n)
		}
		var walk func(path string, opts []*discordgo.ApplicationCommandOption)
		walk = func(path string, opts []*discordgo.ApplicationCommandOption) {
			optional := false
			for _, o := range opts {
				if n := utf8.RuneCountInString(o.Description); n < 1 || n > 100 {
					t.Errorf("%s %s: description %d", path, o.Name, n)
				}
				if o.Required && optional {
					t.Errorf("%s: required %s after an optional option", path, o.Name)
				}
				optional = optional || !o.Required
				walk(path+" "+o.Name, o.Options)
			}
		}
		walk("/"+c.Name, c.Options)
	}
	if !strings.Contains(HelpText(), "/subscribe channel time timezone") || !strings.Contains(HelpText(), "/topics add|remove|list") {
		t.Errorf("help text:\n%s", HelpText())
	}
}

func TestZoneListLoadsAndMatches(t *testing.T) {
	n := 0
	for name := range strings.SplitSeq(zoneNames, "\n") {
		n++
		if _, err := briefings.ParseZone(name); err != nil {
			t.Errorf("listed zone %q does not load: %v", name, err)
		}
	}
	if n < 400 {
		t.Errorf("only %d zones listed", n)
	}
	tests := []struct {
		typed string
		first string
	}{
		{"europe/ber", "Europe/Berlin"}, {"berlin", "Europe/Berlin"}, {"new york", "America/New_York"},
		{"lord", "Australia/Lord_Howe"}, {"", "UTC"},
	}
	for _, tc := range tests {
		got := matchZones(tc.typed, maxAutocompleteChoices)
		if len(got) == 0 || got[0] != tc.first || len(got) > maxAutocompleteChoices {
			t.Errorf("matchZones(%q) = %v, want %s first", tc.typed, got, tc.first)
		}
	}
	if got := matchZones("a", maxAutocompleteChoices); len(got) != maxAutocompleteChoices {
		t.Errorf("%d choices for a common letter, want %d", len(got), maxAutocompleteChoices)
	}
	if got := matchZones("nowhere-at-all", maxAutocompleteChoices); len(got) != 0 {
		t.Errorf("matches for nonsense: %v", got)
	}
}
