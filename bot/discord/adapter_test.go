package discord_test

import (
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/discord"
	"github.com/newsbot/newsbot/bot/discord/discordtest"
	"github.com/newsbot/newsbot/briefings"
)

func (w *world) interact(t *testing.T, in discordtest.Interaction) discordtest.Reply {
	t.Helper()
	if in.GuildID == "" {
		in.GuildID = w.guildID
	}
	if in.ChannelID == "" {
		in.ChannelID = w.channelID
	}
	h, err := w.srv.Interact(ctxT(t), in)
	if err != nil {
		t.Fatalf("Interact /%s: %v", in.Name, err)
	}
	r, err := h.Await(ctxT(t))
	if err != nil {
		t.Fatalf("Await /%s: %v (reply so far %+v)", in.Name, err, r)
	}
	return r
}

func TestBriefAnsweredAtOnceOrDeferred(t *testing.T) {
	for _, tc := range []struct {
		name       string
		deferAfter time.Duration
		wantType   int
	}{
		{"at once", 0, discordtest.CallbackChannelMessage},
		{"deferred then edited", -1, discordtest.CallbackDeferredChannelMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, discordtest.Options{})
			w.serve(t, w.adapter(t, discord.Options{GuildID: w.guildID, DeferAfter: tc.deferAfter}), service(t), false)
			r := w.interact(t, discordtest.Interaction{UserID: w.memberID, Name: "brief"})
			if r.CallbackType != tc.wantType {
				t.Errorf("callback type %d, want %d", r.CallbackType, tc.wantType)
			}
			if r.AcknowledgedAfter >= discordtest.InteractionResponseDeadline {
				t.Errorf("acknowledged after %v", r.AcknowledgedAfter)
			}
			if text := r.EmbedText(); !strings.Contains(text, "Lavrov") || !strings.Contains(text, "](http") {
				t.Errorf("the briefing lacks the sample story or its links:\n%s", text)
			}
			if r.AllowedMentions == nil || r.AllowedMentions.Parse == nil || len(r.AllowedMentions.Parse) != 0 || !r.Pings.Nobody() {
				t.Errorf("allowed_mentions %+v, pings %+v: want parse [] and nobody pinged", r.AllowedMentions, r.Pings)
			}
		})
	}
}

func TestBriefWithTopicAndBadTopic(t *testing.T) {
	w := newWorld(t, discordtest.Options{})
	w.serve(t, w.adapter(t, discord.Options{GuildID: w.guildID}), service(t), false)
	r := w.interact(t, discordtest.Interaction{UserID: w.memberID, Name: "brief", Options: []discordtest.Option{{Name: "topic", Value: "zzqxunheardof"}}})
	if !strings.HasPrefix(r.Content, "No current stories about zzqxunheardof") {
		t.Errorf("reply = %q", r.Content)
	}
	r = w.interact(t, discordtest.Interaction{UserID: w.memberID, Name: "brief", Options: []discordtest.Option{{Name: "topic", Value: "***"}}})
	if !strings.Contains(r.Content, "is not a topic word") || !r.Ephemeral {
		t.Errorf("reply = %q (ephemeral %v), want the grammar's complaint, only to the sender", r.Content, r.Ephemeral)
	}
}

func subscribeOpts(channelID, at, zone string) []discordtest.Option {
	return []discordtest.Option{{Name: "channel", Value: channelID}, {Name: "time", Value: at}, {Name: "timezone", Value: zone}}
}

func TestSubscribe(t *testing.T) {
	for _, mode := range []string{"gateway", "http"} {
		t.Run(mode, func(t *testing.T) {
			w := newWorld(t, discordtest.Options{})
			svc := service(t)
			opts := discord.Options{GuildID: w.guildID}
			if mode == "http" {
				opts.PublicKey = hexKey(w)
			}
			a := w.adapter(t, opts)
			w.serve(t, a, svc, false)
			if mode == "http" {
				w.serveHTTP(t, a)
			}
			other := w.srv.NewID()
			must(t, w.srv.AddChannel(w.guildID, other, "briefings"))
			must(t, w.srv.SetBotPermissions(other, 0, discordtest.PermissionEmbedLinks))
			chat := func(id string) briefings.ChatRef {
				return briefings.ChatRef{Platform: briefings.PlatformDiscord, ID: id}
			}

			// Discord hides the command from a member without Manage Server…
			_, err := w.srv.Interact(ctxT(t), discordtest.Interaction{GuildID: w.guildID, ChannelID: w.channelID, UserID: w.memberID,
				Name: "subscribe", Options: subscribeOpts(w.channelID, "07:30", "Europe/Berlin")})
			if !errors.Is(err, discordtest.ErrInvalidInteraction) {
				t.Fatalf("a member without Manage Server could invoke /subscribe: %v", err)
			}
			// …and when a server grants it anyway, the bot still refuses.
			r := w.interact(t, discordtest.Interaction{UserID: w.memberID, Name: "subscribe", OverrideCommandPermissions: true,
				Options: subscribeOpts(w.channelID, "07:30", "Europe/Berlin")})
			if !strings.Contains(r.Content, "Manage Server") || !r.Ephemeral {
				t.Errorf("refusal = %q (ephemeral %v)", r.Content, r.Ephemeral)
			}
			if st, _ := svc.Status(ctxT(t), chat(w.channelID)); st.Subscribed() {
				t.Error("the refused member subscribed the channel")
			}

			// A channel where the bot lacks Embed Links is refused with the reason.
			r = w.interact(t, discordtest.Interaction{UserID: w.managerID, Name: "subscribe", Options: subscribeOpts(other, "07:30", "Europe/Berlin")})
			if !strings.Contains(r.Content, "lacks Embed Links") || !strings.Contains(r.Content, "#briefings") {
				t.Errorf("refusal = %q, want it to name the missing Embed Links in #briefings", r.Content)
			}
			if st, _ := svc.Status(ctxT(t), chat(other)); st.Subscribed() {
				t.Error("subscribed a channel the bot cannot post embeds in")
			}

			// Bad values get the text grammar's friendly line.
			r = w.interact(t, discordtest.Interaction{UserID: w.managerID, Name: "subscribe", Options: subscribeOpts(w.channelID, "25:00", "Europe/Berlin")})
			_, grammarErr := bot.ParseCommand("/subscribe 25:00", "")
			if r.Content != discord.EscapeMarkdown(grammarErr.Error()) {
				t.Errorf("bad time: %q, want the grammar's %q", r.Content, grammarErr.Error())
			}

			// A manager subscribes #news, per channel.
			r = w.interact(t, discordtest.Interaction{UserID: w.managerID, Name: "subscribe", Options: subscribeOpts(w.channelID, "07:30", "Europe/Berlin")})
			if !strings.HasPrefix(r.Content, "Subscribed: a briefing every day at 07:30 Europe/Berlin") {
				t.Errorf("reply = %q", r.Content)
			}
			st, err := svc.Status(ctxT(t), chat(w.channelID))
			if err != nil || !st.Subscribed() || st.Subscription.At.String() != "07:30" || st.Subscription.Zone.String() != "Europe/Berlin" {
				t.Errorf("status = %+v, %v", st.Subscription, err)
			}
			r = w.interact(t, discordtest.Interaction{UserID: w.memberID, Name: "status"})
			if !strings.Contains(r.Content, "Daily briefing at 07:30 Europe/Berlin") {
				t.Errorf("/status = %q", r.Content)
			}
			r = w.interact(t, discordtest.Interaction{UserID: w.managerID, Name: "topics",
				Options: []discordtest.Option{{Name: "add", Options: []discordtest.Option{{Name: "words", Value: "climate -football"}}}}})
			if !strings.Contains(r.Content, "stories about climate; none about football") {
				t.Errorf("/topics add = %q", r.Content)
			}
			r = w.interact(t, discordtest.Interaction{UserID: w.managerID, Name: "unsubscribe", Options: []discordtest.Option{{Name: "channel", Value: w.channelID}}})
			if !strings.HasPrefix(r.Content, "Unsubscribed") {
				t.Errorf("/unsubscribe = %q", r.Content)
			}
		})
	}
}

func TestTimezoneAutocomplete(t *testing.T) {
	w := newWorld(t, discordtest.Options{})
	w.serve(t, w.adapter(t, discord.Options{GuildID: w.guildID}), service(t), false)
	for _, tc := range []struct{ typed, want string }{{"berl", "Europe/Berlin"}, {"new y", "America/New_York"}, {"", "UTC"}, {"Kathm", "Asia/Kathmandu"}} {
		h, err := w.srv.Interact(ctxT(t), discordtest.Interaction{Kind: discordtest.InteractionAutocomplete, GuildID: w.guildID,
			ChannelID: w.channelID, UserID: w.managerID, Name: "subscribe",
			Options: []discordtest.Option{{Name: "channel", Value: w.channelID}, {Name: "timezone", Value: tc.typed, Focused: true}}})
		if err != nil {
			t.Fatal(err)
		}
		r, err := h.Await(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range r.Choices {
			names = append(names, c.Name)
		}
		if !slices.Contains(names, tc.want) || len(names) > 25 {
			t.Errorf("typed %q: choices %v, want ≤ 25 including %s", tc.typed, names, tc.want)
		}
	}
}

func TestCommandsRegisteredGloballyWithoutGuild(t *testing.T) {
	w := newWorld(t, discordtest.Options{})
	w.serve(t, w.adapter(t, discord.Options{}), service(t), true)
	cmds := w.srv.Commands("")
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
		manage := c.DefaultMemberPermissions != nil && *c.DefaultMemberPermissions == discordtest.PermissionManageGuild
		if wantManage := slices.Contains([]string{"subscribe", "unsubscribe", "topics"}, c.Name); manage != wantManage {
			t.Errorf("/%s default_member_permissions = %v", c.Name, c.DefaultMemberPermissions)
		}
	}
	slices.Sort(names)
	if want := []string{"brief", "help", "sources", "status", "subscribe", "topics", "unsubscribe"}; !slices.Equal(names, want) {
		t.Errorf("global commands %v, want %v", names, want)
	}
	if len(w.srv.Commands(w.guildID)) != 0 {
		t.Error("commands registered in the guild too")
	}
}

func TestRejectedTokenStopsServe(t *testing.T) {
	w := newWorld(t, discordtest.Options{})
	for _, publicKey := range []string{"", hexKey(w)} {
		a := w.adapter(t, discord.Options{Token: "not-the-token", PublicKey: publicKey})
		err := a.Serve(ctxT(t), &bot.Handler{Service: service(t)})
		if !errors.Is(err, discord.ErrUnauthorized) {
			t.Errorf("Serve with a bad token (public key %q) = %v, want ErrUnauthorized", publicKey, err)
		}
		if err != nil && strings.Contains(err.Error(), "not-the-token") {
			t.Errorf("the error shows the token: %v", err)
		}
	}
}

// serveHTTP puts the adapter's HTTP routes on a test server and tells the
// fake to deliver interactions there, after Discord's signature checks.
func (w *world) serveHTTP(t *testing.T, a *discord.Adapter) string {
	t.Helper()
	mux := http.NewServeMux()
	a.RegisterHTTP(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	endpoint := hs.URL + "/discord/interactions"
	if err := w.srv.VerifyInteractionsEndpoint(ctxT(t), endpoint); err != nil {
		t.Fatal(err)
	}
	return endpoint
}

func TestHTTPInteractions(t *testing.T) {
	w := newWorld(t, discordtest.Options{})
	a := w.adapter(t, discord.Options{GuildID: w.guildID, PublicKey: hexKey(w)})
	w.serve(t, a, service(t), false)
	if n := w.srv.ConnectedSessions(); n != 0 {
		t.Errorf("%d gateway sessions in HTTP mode, want none", n)
	}
	endpoint := w.serveHTTP(t, a)
	for _, how := range []discordtest.BadSignature{discordtest.SignatureWrongKey, discordtest.SignatureTamperedBody, discordtest.SignatureMissing} {
		status, err := w.srv.SendBadlySignedInteraction(ctxT(t), endpoint, how)
		if err != nil || status != http.StatusUnauthorized {
			t.Errorf("bad signature %d: HTTP %d, %v; want 401", how, status, err)
		}
	}
	r := w.interact(t, discordtest.Interaction{UserID: w.memberID, Name: "brief"})
	if r.CallbackType != discordtest.CallbackChannelMessage || !strings.Contains(r.EmbedText(), "Lavrov") || !r.Pings.Nobody() {
		t.Errorf("reply = type %d, pings %+v:\n%s", r.CallbackType, r.Pings, r.EmbedText())
	}
}

func TestHTTPInteractionDeferred(t *testing.T) {
	w := newWorld(t, discordtest.Options{})
	a := w.adapter(t, discord.Options{GuildID: w.guildID, PublicKey: hexKey(w), DeferAfter: -1})
	w.serve(t, a, service(t), false)
	w.serveHTTP(t, a)
	r := w.interact(t, discordtest.Interaction{UserID: w.memberID, Name: "brief"})
	if r.CallbackType != discordtest.CallbackDeferredChannelMessage || r.Edits == 0 || !strings.Contains(r.EmbedText(), "Lavrov") {
		t.Errorf("reply = type %d after %d edits:\n%s", r.CallbackType, r.Edits, r.EmbedText())
	}
}

func hexKey(w *world) string { return hex.EncodeToString(w.srv.PublicKey()) }

// TestReadyFollowsTheGateway: on the gateway the adapter is ready once
// connected and not after the connection drops; in HTTP interactions mode it
// needs no connection.
func TestReadyFollowsTheGateway(t *testing.T) {
	w := newWorld(t, discordtest.Options{})
	a := w.adapter(t, discord.Options{GuildID: w.guildID})
	if a.Ready() == nil {
		t.Error("ready before connecting")
	}
	w.serve(t, a, service(t), false)
	waitReady := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for (a.Ready() == nil) != want {
			if time.Now().After(deadline) {
				t.Fatalf("Ready() = %v, want ready=%v", a.Ready(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitReady(true)
	a.Session().Close()
	waitReady(false)
}
