package discordtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/newsbot/newsbot/bot/discord/discordtest"
)

// fixture is a fake with one guild, one text channel and one ordinary member.
type fixture struct {
	srv       *discordtest.Server
	guildID   string
	channelID string
	userID    string
}

func newFixture(t *testing.T, opts discordtest.Options) *fixture {
	t.Helper()
	if opts.HeartbeatInterval == 0 {
		opts.HeartbeatInterval = 200 * time.Millisecond
	}
	srv := discordtest.NewServer(opts)
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, guildID: srv.NewID(), channelID: srv.NewID(), userID: srv.NewID()}
	must(t, srv.AddGuild(f.guildID, "News Club"))
	must(t, srv.AddChannel(f.guildID, f.channelID, "news"))
	must(t, srv.AddMember(f.guildID, f.userID, 0))
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// session is a discordgo client wired to the fake the way the adapter is:
// a host-rewriting transport and a dialer, no retries hiding answers.
func (f *fixture) session(t *testing.T) *discordgo.Session {
	t.Helper()
	return f.sessionWithToken(t, f.srv.Token())
}

func (f *fixture) sessionWithToken(t *testing.T, token string) *discordgo.Session {
	t.Helper()
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		t.Fatal(err)
	}
	s.Client = f.srv.HTTPClient()
	s.Dialer = f.srv.Dialer()
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	s.LogLevel = discordgo.LogError - 1 // silent
	s.ShouldReconnectOnError = true
	return s
}

// open connects a session to the gateway and waits for the guild to arrive.
func (f *fixture) open(t *testing.T, s *discordgo.Session) {
	t.Helper()
	guildCreated := make(chan struct{}, 8)
	remove := s.AddHandler(func(_ *discordgo.Session, g *discordgo.GuildCreate) {
		if g.ID == f.guildID {
			guildCreated <- struct{}{}
		}
	})
	defer remove()
	if err := s.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { closeInBackground(s) })
	waitFor(t, guildCreated, "GUILD_CREATE")
}

// closeInBackground closes a session without waiting out the second
// discordgo's Close sleeps after its close frame, and stops it from
// reconnecting to a fake that is about to shut down.
func closeInBackground(s *discordgo.Session) {
	s.Lock()
	if s.ShouldReconnectOnError { // discordgo reads it unlocked: write only when needed
		s.ShouldReconnectOnError = false
	}
	s.Unlock()
	go func() { _ = s.Close() }()
}

func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second): // an event awaited, not a duration measured: generous for a loaded CI machine
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// restCode extracts Discord's JSON error code from a discordgo error.
func restCode(t *testing.T, err error) (status, code int) {
	t.Helper()
	var re *discordgo.RESTError
	if !errors.As(err, &re) {
		t.Fatalf("want *discordgo.RESTError, got %T: %v", err, err)
	}
	if re.Message == nil {
		t.Fatalf("RESTError without a JSON message: %s", re.ResponseBody)
	}
	return re.Response.StatusCode, re.Message.Code
}

// formErrorPaths lists the field paths of a 50035 answer, e.g. "embeds.0.title".
func formErrorPaths(t *testing.T, err error) []string {
	t.Helper()
	var re *discordgo.RESTError
	if !errors.As(err, &re) {
		t.Fatalf("want *discordgo.RESTError, got %T: %v", err, err)
	}
	var body struct {
		Errors map[string]any `json:"errors"`
	}
	if jerr := json.Unmarshal(re.ResponseBody, &body); jerr != nil {
		t.Fatalf("error body: %v", jerr)
	}
	var paths []string
	var walk func(prefix string, node map[string]any)
	walk = func(prefix string, node map[string]any) {
		for k, v := range node {
			if k == "_errors" {
				paths = append(paths, prefix)
				continue
			}
			child, _ := v.(map[string]any)
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			walk(p, child)
		}
	}
	walk("", body.Errors)
	return paths
}

func registerCommands(t *testing.T, s *discordgo.Session, f *fixture) []*discordgo.ApplicationCommand {
	t.Helper()
	manageGuild := int64(discordgo.PermissionManageGuild)
	minLen := 1
	cmds, err := s.ApplicationCommandBulkOverwrite(f.srv.ApplicationID(), f.guildID, []*discordgo.ApplicationCommand{
		{Name: "brief", Description: "The news now", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: "topic", Description: "Only this topic", MinLength: &minLen},
		}},
		{Name: "subscribe", Description: "Daily briefing in a channel", DefaultMemberPermissions: &manageGuild,
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionChannel, Name: "channel", Description: "Where", Required: true,
					ChannelTypes: []discordgo.ChannelType{discordgo.ChannelTypeGuildText}},
				{Type: discordgo.ApplicationCommandOptionString, Name: "time", Description: "HH:MM", Required: true},
				{Type: discordgo.ApplicationCommandOptionString, Name: "timezone", Description: "IANA zone", Required: true, Autocomplete: true},
			}},
		{Name: "topics", Description: "Manage topics", DefaultMemberPermissions: &manageGuild,
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "add", Description: "Add a topic",
					Options: []*discordgo.ApplicationCommandOption{
						{Type: discordgo.ApplicationCommandOptionString, Name: "topic", Description: "Topic", Required: true},
					}},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "list", Description: "List topics"},
			}},
	})
	if err != nil {
		t.Fatalf("ApplicationCommandBulkOverwrite: %v", err)
	}
	return cmds
}
