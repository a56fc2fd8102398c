package discord_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/discord"
	"github.com/newsbot/newsbot/bot/discord/discordtest"
	"github.com/newsbot/newsbot/bot/sample"
	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/sqlite"
)

// world is a fake Discord with one server, a #news channel, an ordinary
// member and a member with Manage Server.
type world struct {
	srv       *discordtest.Server
	guildID   string
	channelID string
	memberID  string
	managerID string
}

func newWorld(t testing.TB, opts discordtest.Options) *world {
	t.Helper()
	if opts.HeartbeatInterval == 0 {
		opts.HeartbeatInterval = 500 * time.Millisecond
	}
	srv := discordtest.NewServer(opts)
	t.Cleanup(srv.Close)
	w := &world{srv: srv, guildID: srv.NewID(), channelID: srv.NewID(), memberID: srv.NewID(), managerID: srv.NewID()}
	must(t, srv.AddGuild(w.guildID, "News Club"))
	must(t, srv.AddChannel(w.guildID, w.channelID, "news"))
	must(t, srv.AddMember(w.guildID, w.memberID, 0))
	must(t, srv.AddMember(w.guildID, w.managerID, discordtest.PermissionManageGuild))
	return w
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// adapter builds an adapter wired to the fake through DISCORD_API_BASE,
// as the bot runs it.
func (w *world) adapter(t testing.TB, opts discord.Options) *discord.Adapter {
	t.Helper()
	if opts.Token == "" {
		opts.Token = w.srv.Token()
	}
	opts.APIBase = w.srv.URL()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a, err := discord.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// service is the briefing core on a fresh store, with the sample feeds read.
func service(t testing.TB) *briefings.Service {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "newsbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := briefings.NewService(db, briefings.Options{Logger: slog.New(slog.DiscardHandler)})
	items, err := sample.Items()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Ingest(ctx, items); err != nil {
		t.Fatal(err)
	}
	return svc
}

// serve runs the adapter until the test ends and waits until its commands
// are registered in the world's guild (or globally when global).
func (w *world) serve(t testing.TB, a *discord.Adapter, svc *briefings.Service, global bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, &bot.Handler{Service: svc, Logger: slog.New(slog.DiscardHandler)}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Serve did not return after its context ended")
		}
	})
	scope := w.guildID
	if global {
		scope = ""
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(w.srv.Commands(scope)) == 0 {
		select {
		case err := <-done:
			t.Fatalf("Serve returned before registering commands: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("commands were not registered")
		}
	}
}

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
