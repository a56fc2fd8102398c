package app_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsbot/newsbot/bot/app"
	"github.com/newsbot/newsbot/bot/app/config"
	"github.com/newsbot/newsbot/bot/discord/discordtest"
)

// discordWorld is a fake Discord with a server, a #news channel, a #quiet
// channel where the bot lacks Embed Links, a member and a manager.
type discordWorld struct {
	srv                      *discordtest.Server
	guildID, newsID, quietID string
	memberID, managerID      string
}

func newDiscordWorld(t *testing.T) *discordWorld {
	t.Helper()
	srv := discordtest.NewServer(discordtest.Options{HeartbeatInterval: time.Second})
	t.Cleanup(srv.Close)
	w := &discordWorld{srv: srv, guildID: srv.NewID(), newsID: srv.NewID(), quietID: srv.NewID(), memberID: srv.NewID(), managerID: srv.NewID()}
	for _, err := range []error{
		srv.AddGuild(w.guildID, "News Club"),
		srv.AddChannel(w.guildID, w.newsID, "news"),
		srv.AddChannel(w.guildID, w.quietID, "quiet"),
		srv.SetBotPermissions(w.quietID, 0, discordtest.PermissionEmbedLinks),
		srv.AddMember(w.guildID, w.memberID, 0),
		srv.AddMember(w.guildID, w.managerID, discordtest.PermissionManageGuild),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// startDiscordBot runs the whole bot on the fake Discord until the test
// ends, and waits until its slash commands are registered.
func startDiscordBot(t *testing.T, w *discordWorld, env map[string]string) *app.Main {
	t.Helper()
	env["DISCORD_BOT_TOKEN"] = w.srv.Token()
	env["DISCORD_API_BASE"] = w.srv.URL()
	env["DISCORD_GUILD_ID"] = w.guildID
	cfg, err := config.Parse(env)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	m := app.NewMain(cfg, strings.NewReader(""), io.Discard, logs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return after its context ended")
		}
		m.Close()
		if strings.Contains(logs.String(), w.srv.Token()) {
			t.Error("the logs show the bot token")
		}
	})
	deadline := time.After(30 * time.Second)
	for len(w.srv.Commands(w.guildID)) == 0 {
		select {
		case err := <-done:
			t.Fatalf("Run returned before registering commands: %v\nlogs:\n%s", err, logs.String())
		case <-deadline:
			t.Fatalf("slash commands not registered\nlogs:\n%s", logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return m
}

func (w *discordWorld) interact(t *testing.T, in discordtest.Interaction) discordtest.Reply {
	t.Helper()
	in.GuildID = w.guildID
	if in.ChannelID == "" {
		in.ChannelID = w.newsID
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := w.srv.Interact(ctx, in)
	if err != nil {
		t.Fatalf("/%s: %v", in.Name, err)
	}
	r, err := h.Await(ctx)
	if err != nil {
		t.Fatalf("/%s: %v (reply so far %+v)", in.Name, err, r)
	}
	return r
}

func discordPingsNobody(t *testing.T, what string, r discordtest.Reply) {
	t.Helper()
	if r.AllowedMentions == nil || r.AllowedMentions.Parse == nil || len(r.AllowedMentions.Parse) != 0 || !r.Pings.Nobody() {
		t.Errorf("%s: allowed_mentions %+v, pings %+v; want parse [] and nobody pinged", what, r.AllowedMentions, r.Pings)
	}
}

func TestDiscordSlashCommands(t *testing.T) {
	w := newDiscordWorld(t)
	startDiscordBot(t, w, dbEnv(t))

	var names []string
	for _, c := range w.srv.Commands(w.guildID) {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	if want := []string{"brief", "help", "sources", "status", "subscribe", "topics", "unsubscribe"}; !slices.Equal(names, want) {
		t.Errorf("registered %v, want %v", names, want)
	}

	r := w.interact(t, discordtest.Interaction{UserID: w.memberID, Name: "brief"})
	if text := r.EmbedText(); !strings.Contains(text, "Lavrov") || !strings.Contains(text, "eastern-monitor.example") {
		t.Errorf("/brief lacks the sample story and its links:\n%s", text)
	}
	discordPingsNobody(t, "/brief", r)

	subscribe := func(user, channel string, override bool) discordtest.Reply {
		return w.interact(t, discordtest.Interaction{UserID: user, Name: "subscribe", OverrideCommandPermissions: override,
			Options: []discordtest.Option{{Name: "channel", Value: channel}, {Name: "time", Value: "07:30"}, {Name: "timezone", Value: "Europe/Berlin"}}})
	}
	if r := subscribe(w.memberID, w.newsID, true); !strings.Contains(r.Content, "Manage Server") {
		t.Errorf("/subscribe by a member without Manage Server: %q", r.Content)
	}
	if r := subscribe(w.managerID, w.quietID, false); !strings.Contains(r.Content, "the bot lacks Embed Links there") || !strings.Contains(r.Content, "#quiet") {
		t.Errorf("/subscribe #quiet: %q, want the missing Embed Links named", r.Content)
	}
	if r := subscribe(w.managerID, w.newsID, false); !strings.HasPrefix(r.Content, "Subscribed: a briefing every day at 07:30 Europe/Berlin") {
		t.Errorf("/subscribe #news: %q", r.Content)
	}
	r = w.interact(t, discordtest.Interaction{UserID: w.memberID, Name: "status"})
	if !strings.Contains(r.Content, "Daily briefing at 07:30 Europe/Berlin") {
		t.Errorf("/status in #news: %q", r.Content)
	}
	r = w.interact(t, discordtest.Interaction{UserID: w.memberID, Name: "status", ChannelID: w.quietID})
	if !strings.Contains(r.Content, "No daily briefing here") {
		t.Errorf("/status in #quiet: %q", r.Content)
	}
}

const hostileDiscordFeed = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>@everyone Wire</title><link>http://wire.test/</link>
<item><title>@everyone @here &lt;@&amp;123&gt; Breaking: bridge **reopens**</title><link>http://wire.test/bridge</link>
<pubDate>Fri, 11 Jul 2025 09:00:00 +0000</pubDate>
<description>&lt;@456&gt; The city bridge reopened on Friday after six months of repairs, the mayor said. [Click](javascript:alert(1)) for more.</description></item>
</channel></rss>`

func TestDiscordHostileHeadlinePingsNobody(t *testing.T) {
	feedURL := serveFeed(t, hostileDiscordFeed)
	w := newDiscordWorld(t)
	env := dbEnv(t)
	env["NEWSBOT_FEEDS"] = feedURL
	env["NEWSBOT_ALLOW_PRIVATE_FEEDS"] = "true"
	startDiscordBot(t, w, env)

	r := w.interact(t, discordtest.Interaction{UserID: w.memberID, Name: "brief"})
	if len(r.Embeds) == 0 || !strings.Contains(r.Embeds[0].Title, "@everyone") {
		t.Fatalf("the hostile headline is not shown: %+v", r.Embeds)
	}
	if title := r.Embeds[0].Title; !strings.Contains(title, `\*\*reopens\*\*`) || !strings.Contains(title, `\<@&123\>`) {
		t.Errorf("headline markdown not escaped: %q", title)
	}
	if strings.Contains(r.EmbedText(), "(javascript:") && !strings.Contains(r.EmbedText(), `\(javascript:`) {
		t.Errorf("a javascript: masked link survived:\n%s", r.EmbedText())
	}
	discordPingsNobody(t, "/brief with @everyone in the headline", r)
}

func TestDiscordHTTPInteractions(t *testing.T) {
	w := newDiscordWorld(t)
	env := dbEnv(t)
	env["DISCORD_PUBLIC_KEY"] = hex.EncodeToString(w.srv.PublicKey())
	env["NEWSBOT_HTTP_ADDR"] = "127.0.0.1:0"
	m := startDiscordBot(t, w, env)
	endpoint := "http://" + m.HTTPAddr() + "/discord/interactions"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// What the Developer Portal does on saving the URL: a good PING and a
	// badly signed one.
	if err := w.srv.VerifyInteractionsEndpoint(ctx, endpoint); err != nil {
		t.Fatal(err)
	}
	for _, how := range []discordtest.BadSignature{discordtest.SignatureWrongKey, discordtest.SignatureTamperedBody, discordtest.SignatureMissing} {
		status, err := w.srv.SendBadlySignedInteraction(ctx, endpoint, how)
		if err != nil || status != http.StatusUnauthorized {
			t.Errorf("bad signature %d: HTTP %d, %v; want 401", how, status, err)
		}
	}
	r := w.interact(t, discordtest.Interaction{UserID: w.memberID, Name: "brief"})
	if !strings.Contains(r.EmbedText(), "Lavrov") {
		t.Errorf("/brief over HTTP:\n%s", r.EmbedText())
	}
	discordPingsNobody(t, "/brief over HTTP", r)
	if r := w.interact(t, discordtest.Interaction{UserID: w.managerID, Name: "subscribe",
		Options: []discordtest.Option{{Name: "channel", Value: w.quietID}, {Name: "time", Value: "07:30"}, {Name: "timezone", Value: "UTC"}}}); !strings.Contains(r.Content, "lacks Embed Links") {
		t.Errorf("/subscribe #quiet over HTTP (permissions from REST): %q", r.Content)
	}
	if n := w.srv.ConnectedSessions(); n != 0 {
		t.Errorf("%d gateway sessions in HTTP interactions mode, want 0", n)
	}
}

func TestDiscordRejectedTokenStopsTheBot(t *testing.T) {
	w := newDiscordWorld(t)
	env := dbEnv(t)
	env["DISCORD_BOT_TOKEN"] = "definitely-wrong"
	env["DISCORD_API_BASE"] = w.srv.URL()
	cfg, err := config.Parse(env)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	m := app.NewMain(cfg, strings.NewReader(""), io.Discard, &logs)
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = m.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "DISCORD_BOT_TOKEN was rejected") {
		t.Errorf("Run = %v, want the rejected token named", err)
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error()+logs.String(), "definitely-wrong") {
		t.Errorf("Run = %v; logs:\n%s", err, logs.String())
	}
}
