package discordtest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/bot/discord/discordtest"
)

func TestBulkOverwriteRegistersAndListsCommands(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	s := f.session(t)
	created := registerCommands(t, s, f)
	if len(created) != 3 {
		t.Fatalf("created %d commands, want 3", len(created))
	}
	ids := map[string]string{}
	for _, c := range created {
		if c.ID == "" || c.ApplicationID != f.srv.ApplicationID() || c.GuildID != f.guildID {
			t.Errorf("command %q came back as %+v, want id, application and guild filled", c.Name, c)
		}
		ids[c.Name] = c.ID
	}
	sub := created[1]
	if sub.DefaultMemberPermissions == nil || *sub.DefaultMemberPermissions != discordgo.PermissionManageGuild {
		t.Errorf("subscribe default_member_permissions = %v, want Manage Server", sub.DefaultMemberPermissions)
	}

	listed, err := s.ApplicationCommands(f.srv.ApplicationID(), f.guildID)
	if err != nil {
		t.Fatalf("ApplicationCommands: %v", err)
	}
	var names []string
	for _, c := range listed {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"brief", "subscribe", "topics"}, names); diff != "" {
		t.Errorf("listed commands (-want +got):\n%s", diff)
	}
	if global := f.srv.Commands(""); len(global) != 0 {
		t.Errorf("guild overwrite leaked %d global commands", len(global))
	}

	// Overwriting again keeps the ids of commands that survive, and drops the rest.
	again, err := s.ApplicationCommandBulkOverwrite(f.srv.ApplicationID(), f.guildID, []*discordgo.ApplicationCommand{
		{Name: "brief", Description: "The news, now"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0].ID != ids["brief"] {
		t.Errorf("re-overwrite = %+v, want only brief with id %s", again, ids["brief"])
	}
	if got := f.srv.Commands(f.guildID); len(got) != 1 || got[0].Description != "The news, now" {
		t.Errorf("stored commands = %+v", got)
	}
}

func TestBulkOverwriteRejectsInvalidCommands(t *testing.T) {
	str := discordgo.ApplicationCommandOptionString
	opt := func(name string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: str, Name: name, Description: "d"}
	}
	many := func(n int, mk func(i int) *discordgo.ApplicationCommandOption) []*discordgo.ApplicationCommandOption {
		var out []*discordgo.ApplicationCommandOption
		for i := range n {
			out = append(out, mk(i))
		}
		return out
	}
	tests := []struct {
		name     string
		cmd      *discordgo.ApplicationCommand
		wantPath string
	}{
		{"uppercase name", &discordgo.ApplicationCommand{Name: "Brief", Description: "d"}, "0.name"},
		{"space in name", &discordgo.ApplicationCommand{Name: "news brief", Description: "d"}, "0.name"},
		{"name too long", &discordgo.ApplicationCommand{Name: strings.Repeat("a", 33), Description: "d"}, "0.name"},
		{"missing description", &discordgo.ApplicationCommand{Name: "brief"}, "0.description"},
		{"description too long", &discordgo.ApplicationCommand{Name: "brief", Description: strings.Repeat("d", 101)}, "0.description"},
		{"26 options", &discordgo.ApplicationCommand{Name: "brief", Description: "d",
			Options: many(26, func(i int) *discordgo.ApplicationCommandOption { return opt("o" + strings.Repeat("x", i)) })}, "0.options"},
		{"unknown option type", &discordgo.ApplicationCommand{Name: "brief", Description: "d",
			Options: []*discordgo.ApplicationCommandOption{{Type: 12, Name: "x", Description: "d"}}}, "0.options.0.type"},
		{"uppercase option name", &discordgo.ApplicationCommand{Name: "brief", Description: "d",
			Options: []*discordgo.ApplicationCommandOption{opt("Topic")}}, "0.options.0.name"},
		{"26 choices", &discordgo.ApplicationCommand{Name: "brief", Description: "d",
			Options: []*discordgo.ApplicationCommandOption{{Type: str, Name: "topic", Description: "d",
				Choices: func() []*discordgo.ApplicationCommandOptionChoice {
					var cs []*discordgo.ApplicationCommandOptionChoice
					for i := range 26 {
						cs = append(cs, &discordgo.ApplicationCommandOptionChoice{Name: "c" + strings.Repeat("x", i), Value: "v"})
					}
					return cs
				}()}}}, "0.options.0.choices"},
		{"required after optional", &discordgo.ApplicationCommand{Name: "brief", Description: "d",
			Options: []*discordgo.ApplicationCommandOption{opt("a"), {Type: str, Name: "b", Description: "d", Required: true}}}, "0.options"},
		{"autocomplete with choices", &discordgo.ApplicationCommand{Name: "brief", Description: "d",
			Options: []*discordgo.ApplicationCommandOption{{Type: str, Name: "tz", Description: "d", Autocomplete: true,
				Choices: []*discordgo.ApplicationCommandOptionChoice{{Name: "UTC", Value: "UTC"}}}}}, "0.options.0.autocomplete"},
		{"over 8000 characters", &discordgo.ApplicationCommand{Name: "brief", Description: "d",
			Options: many(25, func(i int) *discordgo.ApplicationCommandOption {
				o := opt("o" + strings.Repeat("x", i))
				o.Description = strings.Repeat("d", 100)
				for j := range 25 {
					o.Choices = append(o.Choices, &discordgo.ApplicationCommandOptionChoice{Name: strings.Repeat("n", 10) + strings.Repeat("x", j), Value: "v"})
				}
				return o
			})}, "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, discordtest.Options{})
			s := f.session(t)
			_, err := s.ApplicationCommandBulkOverwrite(f.srv.ApplicationID(), f.guildID, []*discordgo.ApplicationCommand{tc.cmd})
			status, code := restCode(t, err)
			if status != http.StatusBadRequest || code != discordtest.CodeInvalidFormBody {
				t.Fatalf("got HTTP %d code %d, want 400 50035", status, code)
			}
			paths := formErrorPaths(t, err)
			found := false
			for _, p := range paths {
				found = found || p == tc.wantPath
			}
			if !found {
				t.Errorf("error paths %v, want %q among them", paths, tc.wantPath)
			}
			if got := f.srv.Commands(f.guildID); len(got) != 0 {
				t.Errorf("a refused overwrite stored %d commands", len(got))
			}
		})
	}
}

func TestDefaultMemberPermissionsMustBeAString(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	s := f.session(t)
	endpoint := discordgo.EndpointApplicationGuildCommands(f.srv.ApplicationID(), f.guildID)
	raw := json.RawMessage(`[{"name":"subscribe","description":"d","default_member_permissions":32}]`)
	_, err := s.RequestWithBucketID(http.MethodPut, endpoint, raw, endpoint)
	if status, code := restCode(t, err); status != http.StatusBadRequest || code != discordtest.CodeInvalidFormBody {
		t.Fatalf("numeric default_member_permissions: HTTP %d code %d, want 400 50035", status, code)
	}
	raw = json.RawMessage(`[{"name":"subscribe","description":"d","default_member_permissions":"32"}]`)
	if _, err := s.RequestWithBucketID(http.MethodPut, endpoint, raw, endpoint); err != nil {
		t.Fatalf("string default_member_permissions refused: %v", err)
	}
	got := f.srv.Commands(f.guildID)
	if len(got) != 1 || got[0].DefaultMemberPermissions == nil || *got[0].DefaultMemberPermissions != discordtest.PermissionManageGuild {
		t.Errorf("stored = %+v, want Manage Server", got)
	}
}

func TestCommandsForAnotherApplicationOrGuildAreMissingAccess(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	s := f.session(t)
	cmds := []*discordgo.ApplicationCommand{{Name: "brief", Description: "d"}}
	for name, call := range map[string]func() error{
		"other application": func() error {
			_, err := s.ApplicationCommandBulkOverwrite(f.srv.NewID(), f.guildID, cmds)
			return err
		},
		"guild without the bot": func() error {
			_, err := s.ApplicationCommandBulkOverwrite(f.srv.ApplicationID(), f.srv.NewID(), cmds)
			return err
		},
	} {
		if status, code := restCode(t, call()); status != http.StatusForbidden || code != discordtest.CodeMissingAccess {
			t.Errorf("%s: HTTP %d code %d, want 403 50001", name, status, code)
		}
	}
	if _, err := s.ApplicationCommandBulkOverwrite(f.srv.ApplicationID(), "", cmds); err != nil {
		t.Fatalf("global overwrite: %v", err)
	}
	if got := f.srv.Commands(""); len(got) != 1 || got[0].GuildID != "" {
		t.Errorf("global commands = %+v", got)
	}
}
