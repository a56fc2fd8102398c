package discordtest_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/newsbot/newsbot/bot/discord/discordtest"
)

// botWith opens a gateway session whose interaction handler is fn, with the
// fixture's commands registered.
func (f *fixture) botWith(t *testing.T, fn func(s *discordgo.Session, i *discordgo.InteractionCreate)) *discordgo.Session {
	t.Helper()
	s := f.session(t)
	s.AddHandler(fn)
	f.open(t, s)
	registerCommands(t, s, f)
	return s
}

func TestGatewayInteractionAnsweredInTime(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	seen := make(chan *discordgo.InteractionCreate, 1)
	f.botWith(t, func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		seen <- i
		topic := i.ApplicationCommandData().GetOption("topic").StringValue()
		if err := s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{
				Content:         "Briefing on " + topic,
				Embeds:          []*discordgo.MessageEmbed{{Title: "Headline"}},
				AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}},
			},
		}); err != nil {
			t.Errorf("InteractionRespond: %v", err)
		}
	})
	h, err := f.srv.Interact(ctxT(t), discordtest.Interaction{
		GuildID: f.guildID, ChannelID: f.channelID, UserID: f.userID, Name: "brief",
		Options: []discordtest.Option{{Name: "topic", Value: "space"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.Await(ctxT(t))
	if err != nil {
		t.Fatalf("Await: %v", err)
	}
	if r.CallbackType != discordtest.CallbackChannelMessage || r.Content != "Briefing on space" || len(r.Embeds) != 1 || !r.Pings.Nobody() {
		t.Errorf("reply = %+v", r)
	}
	if r.AcknowledgedAfter <= 0 || r.AcknowledgedAfter >= discordtest.InteractionResponseDeadline {
		t.Errorf("acknowledged after %v, want inside the window", r.AcknowledgedAfter)
	}

	i := waitFor(t, seen, "INTERACTION_CREATE")
	if i.Type != discordgo.InteractionApplicationCommand || i.GuildID != f.guildID || i.ChannelID != f.channelID ||
		i.AppID != f.srv.ApplicationID() || i.Token == "" || i.Locale != discordgo.EnglishUS {
		t.Errorf("interaction = %+v", i.Interaction)
	}
	if i.Member == nil || i.Member.User.ID != f.userID || i.Member.Permissions&discordgo.PermissionManageGuild != 0 ||
		i.Member.Permissions&discordgo.PermissionSendMessages == 0 {
		t.Errorf("member = %+v, want the user with @everyone's permissions", i.Member)
	}
	if i.AppPermissions&discordgo.PermissionEmbedLinks == 0 {
		t.Errorf("app_permissions = %b, want Embed Links", i.AppPermissions)
	}
	if msgs := f.srv.Messages(f.channelID); len(msgs) != 1 || msgs[0].InteractionID != h.ID() {
		t.Errorf("channel messages = %+v, want the visible reply", msgs)
	}
}

func TestInteractionOptionsAndResolvedChannel(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	admin := f.srv.NewID()
	must(t, f.srv.AddMember(f.guildID, admin, discordtest.PermissionManageGuild))
	seen := make(chan *discordgo.InteractionCreate, 1)
	f.botWith(t, func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		seen <- i
		_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
	})
	_, err := f.srv.Interact(ctxT(t), discordtest.Interaction{
		GuildID: f.guildID, ChannelID: f.channelID, UserID: admin, Name: "subscribe",
		Options: []discordtest.Option{{Name: "channel", Value: f.channelID}, {Name: "time", Value: "07:30"}, {Name: "timezone", Value: "Europe/Paris"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	i := waitFor(t, seen, "INTERACTION_CREATE")
	data := i.ApplicationCommandData()
	if data.Name != "subscribe" || data.GetOption("channel").Value != f.channelID || data.GetOption("time").StringValue() != "07:30" {
		t.Errorf("options = %+v", data.Options)
	}
	ch := data.Resolved.Channels[f.channelID]
	if ch == nil || ch.Name != "news" || ch.Type != discordgo.ChannelTypeGuildText {
		t.Errorf("resolved channel = %+v", ch)
	}
	if i.Member.Permissions&discordgo.PermissionManageGuild == 0 {
		t.Errorf("admin member permissions = %b, want Manage Server", i.Member.Permissions)
	}
}

func TestSubCommandAndAutocomplete(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	admin := f.srv.NewID()
	must(t, f.srv.AddMember(f.guildID, admin, discordtest.PermissionManageGuild))
	f.botWith(t, func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		data := i.ApplicationCommandData()
		switch i.Type {
		case discordgo.InteractionApplicationCommandAutocomplete:
			typed := ""
			for _, o := range data.Options {
				if o.Focused {
					typed = o.StringValue()
				}
			}
			_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
				Type: discordgo.InteractionApplicationCommandAutocompleteResult,
				Data: &discordgo.InteractionResponseData{Choices: []*discordgo.ApplicationCommandOptionChoice{
					{Name: typed + "/Paris", Value: typed + "/Paris"},
				}},
			})
		default:
			sub := data.Options[0]
			_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
				Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{Content: sub.Name + " " + sub.GetOption("topic").StringValue()},
			})
		}
	})
	h, err := f.srv.Interact(ctxT(t), discordtest.Interaction{
		GuildID: f.guildID, ChannelID: f.channelID, UserID: admin, Name: "topics",
		Options: []discordtest.Option{{Name: "add", Options: []discordtest.Option{{Name: "topic", Value: "climate"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := h.Await(ctxT(t)); err != nil || r.Content != "add climate" {
		t.Errorf("sub-command reply = %+v, %v", r, err)
	}
	h, err = f.srv.Interact(ctxT(t), discordtest.Interaction{
		Kind: discordtest.InteractionAutocomplete, GuildID: f.guildID, ChannelID: f.channelID, UserID: admin, Name: "subscribe",
		Options: []discordtest.Option{{Name: "channel", Value: f.channelID}, {Name: "timezone", Value: "Europe", Focused: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.Await(ctxT(t))
	if err != nil || r.CallbackType != discordtest.CallbackAutocompleteResult || len(r.Choices) != 1 || r.Choices[0].Value != "Europe/Paris" {
		t.Errorf("autocomplete reply = %+v, %v", r, err)
	}
}

func TestInteractRefusesWhatTheClientCannotSend(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	f.botWith(t, func(*discordgo.Session, *discordgo.InteractionCreate) {})
	tests := []struct {
		name string
		in   discordtest.Interaction
		want error
	}{
		{"unregistered command", discordtest.Interaction{Name: "weather"}, discordtest.ErrInvalidInteraction},
		{"member lacks default_member_permissions", discordtest.Interaction{Name: "topics",
			Options: []discordtest.Option{{Name: "list"}}}, discordtest.ErrInvalidInteraction},
		{"unknown option", discordtest.Interaction{Name: "brief", Options: []discordtest.Option{{Name: "colour", Value: "red"}}}, discordtest.ErrInvalidInteraction},
		{"wrong value type", discordtest.Interaction{Name: "brief", Options: []discordtest.Option{{Name: "topic", Value: 3}}}, discordtest.ErrInvalidInteraction},
		{"below min_length", discordtest.Interaction{Name: "brief", Options: []discordtest.Option{{Name: "topic", Value: ""}}}, discordtest.ErrInvalidInteraction},
		{"unknown guild", discordtest.Interaction{GuildID: "1", Name: "brief"}, discordtest.ErrUnknownEntity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.GuildID == "" {
				in.GuildID = f.guildID
			}
			in.ChannelID, in.UserID = f.channelID, f.userID
			if _, err := f.srv.Interact(ctxT(t), in); !errors.Is(err, tc.want) {
				t.Errorf("Interact = %v, want %v", err, tc.want)
			}
		})
	}
	// A server admin can grant the command to the member anyway.
	in := discordtest.Interaction{GuildID: f.guildID, ChannelID: f.channelID, UserID: f.userID, Name: "topics",
		Options: []discordtest.Option{{Name: "list"}}, OverrideCommandPermissions: true}
	if _, err := f.srv.Interact(ctxT(t), in); err != nil {
		t.Errorf("with the override: %v", err)
	}
}

func TestInteractWithoutGatewayFails(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	registerCommands(t, f.session(t), f)
	_, err := f.srv.Interact(ctxT(t), discordtest.Interaction{GuildID: f.guildID, ChannelID: f.channelID, UserID: f.userID, Name: "brief"})
	if !errors.Is(err, discordtest.ErrGatewayNotConnected) {
		t.Errorf("Interact = %v, want ErrGatewayNotConnected", err)
	}
}

func TestLateAnswerIsUnknownInteraction(t *testing.T) {
	f := newFixture(t, discordtest.Options{InteractionDeadline: 100 * time.Millisecond})
	handles := make(chan *discordtest.InteractionHandle, 1)
	respondErr := make(chan error, 1)
	f.botWith(t, func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		h := <-handles
		<-h.ResponseWindowClosed() // answer only once the window has passed
		respondErr <- s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: "too late"},
		})
	})
	h, err := f.srv.Interact(ctxT(t), discordtest.Interaction{GuildID: f.guildID, ChannelID: f.channelID, UserID: f.userID, Name: "brief"})
	if err != nil {
		t.Fatal(err)
	}
	handles <- h
	if _, err := h.Await(ctxT(t)); !errors.Is(err, discordtest.ErrNotAcknowledged) {
		t.Errorf("Await = %v, want ErrNotAcknowledged", err)
	}
	status, code := restCode(t, waitFor(t, respondErr, "late response"))
	if status != http.StatusNotFound || code != discordtest.CodeUnknownInteraction {
		t.Errorf("late callback: HTTP %d code %d, want 404 10062", status, code)
	}
	if msgs := f.srv.Messages(f.channelID); len(msgs) != 0 {
		t.Errorf("a late answer appeared in the channel: %+v", msgs)
	}
}

func TestDeferredThenEditedIsFinal(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	f.botWith(t, func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		if err := s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		}); err != nil {
			t.Errorf("defer: %v", err)
			return
		}
		go func() { // the slow part, after the acknowledgement
			content := "Your briefing"
			if _, err := s.InteractionResponseEdit(i.Interaction, &discordgo.WebhookEdit{
				Content: &content, Embeds: &[]*discordgo.MessageEmbed{{Title: "Headline", Description: "Summary"}},
			}); err != nil {
				t.Errorf("edit: %v", err)
			}
		}()
	})
	h, err := f.srv.Interact(ctxT(t), discordtest.Interaction{GuildID: f.guildID, ChannelID: f.channelID, UserID: f.userID, Name: "brief"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.Await(ctxT(t))
	if err != nil {
		t.Fatalf("Await: %v", err)
	}
	if r.CallbackType != discordtest.CallbackDeferredChannelMessage || r.Content != "Your briefing" || r.Edits != 1 ||
		len(r.Embeds) != 1 || r.Embeds[0].Description != "Summary" {
		t.Errorf("reply = %+v", r)
	}
	if msgs := f.srv.Messages(f.channelID); len(msgs) != 1 || msgs[0].Content != "Your briefing" {
		t.Errorf("channel = %+v", msgs)
	}
}

func TestDeferredThenFollowUpCompletesTheOriginal(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	f.botWith(t, func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
		go func() {
			if _, err := s.FollowupMessageCreate(i.Interaction, true, &discordgo.WebhookParams{Content: "part 1"}); err != nil {
				t.Errorf("follow-up 1: %v", err)
			}
			if _, err := s.FollowupMessageCreate(i.Interaction, true, &discordgo.WebhookParams{Content: "part 2"}); err != nil {
				t.Errorf("follow-up 2: %v", err)
			}
		}()
	})
	h, err := f.srv.Interact(ctxT(t), discordtest.Interaction{GuildID: f.guildID, ChannelID: f.channelID, UserID: f.userID, Name: "brief"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.AwaitFunc(ctxT(t), func(r discordtest.Reply) bool { return len(r.Followups) == 1 })
	if err != nil {
		t.Fatal(err)
	}
	if r.Content != "part 1" || r.Followups[0].Content != "part 2" {
		t.Errorf("reply = %+v", r)
	}
}

func TestSecondAcknowledgementIsRefused(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	second := make(chan error, 1)
	f.botWith(t, func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
		second <- s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: "again"},
		})
	})
	if _, err := f.srv.Interact(ctxT(t), discordtest.Interaction{GuildID: f.guildID, ChannelID: f.channelID, UserID: f.userID, Name: "brief"}); err != nil {
		t.Fatal(err)
	}
	err := waitFor(t, second, "second callback")
	if status, code := restCode(t, err); status != http.StatusBadRequest || code != discordtest.CodeAlreadyAcknowledged {
		t.Errorf("second callback: HTTP %d code %d, want 400 40060", status, code)
	}
}

func TestInteractionResponseLimits(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	results := make(chan error, 4)
	f.botWith(t, func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		long := make([]byte, 2001)
		for j := range long {
			long[j] = 'a'
		}
		results <- s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: string(long)},
		})
		results <- s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource, Data: &discordgo.InteractionResponseData{},
		})
		results <- s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult})
	})
	if _, err := f.srv.Interact(ctxT(t), discordtest.Interaction{GuildID: f.guildID, ChannelID: f.channelID, UserID: f.userID, Name: "brief"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{discordtest.CodeInvalidFormBody, discordtest.CodeEmptyMessage, discordtest.CodeInvalidFormBody} {
		if status, code := restCode(t, waitFor(t, results, "callback")); status != http.StatusBadRequest || code != want {
			t.Errorf("HTTP %d code %d, want 400 %d", status, code, want)
		}
	}
}

func TestExpiredTokenCannotEdit(t *testing.T) {
	f := newFixture(t, discordtest.Options{InteractionTokenLifetime: 500 * time.Millisecond})
	interactions := make(chan *discordgo.Interaction, 1)
	s := f.botWith(t, func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
		interactions <- i.Interaction
	})
	h, err := f.srv.Interact(ctxT(t), discordtest.Interaction{GuildID: f.guildID, ChannelID: f.channelID, UserID: f.userID, Name: "brief"})
	if err != nil {
		t.Fatal(err)
	}
	i := waitFor(t, interactions, "interaction")
	if _, err := h.Await(ctxT(t)); !errors.Is(err, discordtest.ErrTokenExpired) {
		t.Fatalf("Await = %v, want ErrTokenExpired", err)
	}
	content := "too late"
	_, err = s.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &content})
	if status, code := restCode(t, err); status != http.StatusUnauthorized || code != discordtest.CodeInvalidWebhookToken {
		t.Errorf("edit after expiry: HTTP %d code %d, want 401 50027", status, code)
	}
}
