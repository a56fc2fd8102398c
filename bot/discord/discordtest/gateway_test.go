package discordtest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/newsbot/newsbot/bot/discord/discordtest"
)

func TestOpenReachesReadyAndStateCanComputePermissions(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	s := f.session(t)
	// Synchronous handlers see READY before GUILD_CREATE rewrites its guilds.
	s.SyncEvents = true
	type readySeen struct {
		userID, sessionID string
		bot               bool
		guilds            []discordgo.Guild
	}
	ready := make(chan readySeen, 1)
	s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
		seen := readySeen{userID: r.User.ID, bot: r.User.Bot, sessionID: r.SessionID}
		for _, g := range r.Guilds {
			seen.guilds = append(seen.guilds, discordgo.Guild{ID: g.ID, Unavailable: g.Unavailable})
		}
		ready <- seen
	})
	f.open(t, s)

	r := waitFor(t, ready, "READY")
	if r.userID != f.srv.BotUserID() || !r.bot {
		t.Errorf("READY user = %s (bot %v), want the bot %s", r.userID, r.bot, f.srv.BotUserID())
	}
	if r.sessionID == "" || len(r.guilds) != 1 || r.guilds[0].ID != f.guildID || !r.guilds[0].Unavailable {
		t.Errorf("READY = session %q guilds %+v, want a session id and one unavailable guild", r.sessionID, r.guilds)
	}

	g, err := s.State.Guild(f.guildID)
	if err != nil {
		t.Fatalf("State.Guild: %v", err)
	}
	if len(g.Roles) < 2 || g.Roles[0].ID != f.guildID {
		t.Errorf("guild roles = %+v, want @everyone first and the bot's role", g.Roles)
	}
	ch, err := s.State.Channel(f.channelID)
	if err != nil || ch.GuildID != f.guildID {
		t.Fatalf("State.Channel = %+v, %v", ch, err)
	}
	perms, err := s.State.UserChannelPermissions(f.srv.BotUserID(), f.channelID)
	if err != nil {
		t.Fatalf("UserChannelPermissions: %v", err)
	}
	want := int64(discordgo.PermissionViewChannel | discordgo.PermissionSendMessages | discordgo.PermissionEmbedLinks)
	if perms&want != want {
		t.Errorf("bot permissions %b lack view/send/embed %b", perms, want)
	}

	// Denying Embed Links on the channel reaches the State through
	// CHANNEL_UPDATE, so the adapter can refuse a subscription there.
	updated := make(chan struct{}, 1)
	s.AddHandler(func(_ *discordgo.Session, c *discordgo.ChannelUpdate) {
		if c.ID == f.channelID {
			updated <- struct{}{}
		}
	})
	must(t, f.srv.SetBotPermissions(f.channelID, 0, discordtest.PermissionEmbedLinks))
	waitFor(t, updated, "CHANNEL_UPDATE")
	perms, err = s.State.UserChannelPermissions(f.srv.BotUserID(), f.channelID)
	if err != nil {
		t.Fatal(err)
	}
	if perms&discordgo.PermissionEmbedLinks != 0 || perms&discordgo.PermissionSendMessages == 0 {
		t.Errorf("after the overwrite permissions = %b, want Send Messages without Embed Links", perms)
	}
}

func TestGatewayRefusesWhatDiscordRefuses(t *testing.T) {
	tests := []struct {
		name      string
		configure func(*discordgo.Session)
		wantCode  int
	}{
		{"bad token", func(s *discordgo.Session) { s.Identify.Token = "Bot wrong"; s.Token = "Bot wrong" }, discordtest.CloseAuthenticationFailed},
		{"privileged intents not granted", func(s *discordgo.Session) { s.Identify.Intents = discordgo.IntentsAll }, discordtest.CloseDisallowedIntents},
		{"shard out of range", func(s *discordgo.Session) { s.Identify.Shard = &[2]int{2, 2} }, discordtest.CloseInvalidShard},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, discordtest.Options{})
			s := f.session(t)
			s.ShouldReconnectOnError = false
			tc.configure(s)
			err := s.Open()
			t.Cleanup(func() { closeInBackground(s) })
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != tc.wantCode {
				t.Fatalf("Open() = %v, want close code %d", err, tc.wantCode)
			}
			if n := f.srv.ConnectedSessions(); n != 0 {
				t.Errorf("ConnectedSessions = %d after a refused identify", n)
			}
		})
	}
}

func TestHeartbeatsAreAcknowledged(t *testing.T) {
	// discordgo reconnects when no ACK arrives for five intervals; ten
	// acknowledged heartbeats on one session prove the ACKs reach it.
	f := newFixture(t, discordtest.Options{HeartbeatInterval: 20 * time.Millisecond})
	s := f.session(t)
	f.open(t, s)
	deadline := time.Now().Add(10 * time.Second)
	for f.srv.Stats().Heartbeats < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d heartbeats arrived", f.srv.Stats().Heartbeats)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := f.srv.Stats(); st.Identifies != 1 || st.Resumes != 0 {
		t.Errorf("stats = %+v, want one identify and no reconnects while heartbeats are acknowledged", st)
	}
}

func TestReconnectResumesAndKeepsDeliveringEvents(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	s := f.session(t)
	f.open(t, s)
	resumed := make(chan struct{}, 1)
	s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Resumed) { resumed <- struct{}{} })
	created := make(chan string, 1)
	s.AddHandler(func(_ *discordgo.Session, c *discordgo.ChannelCreate) { created <- c.ID })

	f.srv.RequestReconnect()
	waitFor(t, resumed, "RESUMED")
	newChannel := f.srv.NewID()
	must(t, f.srv.AddChannel(f.guildID, newChannel, "more-news"))
	if got := waitFor(t, created, "CHANNEL_CREATE"); got != newChannel {
		t.Errorf("CHANNEL_CREATE for %s, want %s", got, newChannel)
	}
	if st := f.srv.Stats(); st.Identifies != 1 || st.Resumes != 1 {
		t.Errorf("stats = identifies %d resumes %d, want 1 and 1", st.Identifies, st.Resumes)
	}
}

func TestEventsMissedWhileDisconnectedAreReplayedOnResume(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	s := f.session(t)
	s.ShouldReconnectOnError = false
	f.open(t, s)
	created := make(chan string, 4)
	s.AddHandler(func(_ *discordgo.Session, c *discordgo.ChannelCreate) { created <- c.ID })

	disconnected := make(chan struct{}, 1)
	s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) { disconnected <- struct{}{} })
	f.srv.DropGatewayConnections()
	waitFor(t, disconnected, "disconnect")
	missed := f.srv.NewID()
	must(t, f.srv.AddChannel(f.guildID, missed, "while-away"))

	if err := s.Open(); err != nil { // sends RESUME with the old session and seq
		t.Fatalf("reopen: %v", err)
	}
	if got := waitFor(t, created, "replayed CHANNEL_CREATE"); got != missed {
		t.Errorf("replayed CHANNEL_CREATE for %s, want %s", got, missed)
	}
}
