package discordtest_test

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/newsbot/newsbot/bot/discord/discordtest"
)

func TestChannelMessageLimits(t *testing.T) {
	field := func(name, value string) *discordgo.MessageEmbedField {
		return &discordgo.MessageEmbedField{Name: name, Value: value}
	}
	fields := func(n int) []*discordgo.MessageEmbedField {
		var out []*discordgo.MessageEmbedField
		for range n {
			out = append(out, field("n", "v"))
		}
		return out
	}
	embeds := func(n int, e discordgo.MessageEmbed) []*discordgo.MessageEmbed {
		var out []*discordgo.MessageEmbed
		for range n {
			c := e
			out = append(out, &c)
		}
		return out
	}
	tests := []struct {
		name     string
		msg      discordgo.MessageSend
		wantCode int    // 0: accepted
		wantPath string // for 50035
	}{
		{"content at the limit", discordgo.MessageSend{Content: strings.Repeat("a", 2000)}, 0, ""},
		{"2000 astral characters count as 2000", discordgo.MessageSend{Content: strings.Repeat("📰", 2000)}, 0, ""},
		{"content over the limit", discordgo.MessageSend{Content: strings.Repeat("a", 2001)}, discordtest.CodeInvalidFormBody, "content"},
		{"empty message", discordgo.MessageSend{}, discordtest.CodeEmptyMessage, ""},
		{"whitespace only", discordgo.MessageSend{Content: " \n\t"}, discordtest.CodeEmptyMessage, ""},
		{"embed title at the limit", discordgo.MessageSend{Embeds: embeds(1, discordgo.MessageEmbed{Title: strings.Repeat("t", 256)})}, 0, ""},
		{"embed title over", discordgo.MessageSend{Embeds: embeds(1, discordgo.MessageEmbed{Title: strings.Repeat("t", 257)})}, discordtest.CodeInvalidFormBody, "embeds.0.title"},
		{"description over", discordgo.MessageSend{Embeds: embeds(1, discordgo.MessageEmbed{Description: strings.Repeat("d", 4097)})}, discordtest.CodeInvalidFormBody, "embeds.0.description"},
		{"11 embeds", discordgo.MessageSend{Embeds: embeds(11, discordgo.MessageEmbed{Title: "t"})}, discordtest.CodeInvalidFormBody, "embeds"},
		{"26 fields", discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Fields: fields(26)}}}, discordtest.CodeInvalidFormBody, "embeds.0.fields"},
		{"field name over", discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Fields: []*discordgo.MessageEmbedField{field(strings.Repeat("n", 257), "v")}}}}, discordtest.CodeInvalidFormBody, "embeds.0.fields.0.name"},
		{"field value over", discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Fields: []*discordgo.MessageEmbedField{field("n", strings.Repeat("v", 1025))}}}}, discordtest.CodeInvalidFormBody, "embeds.0.fields.0.value"},
		{"empty field value", discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Fields: []*discordgo.MessageEmbedField{field("n", "")}}}}, discordtest.CodeInvalidFormBody, "embeds.0.fields.0.value"},
		{"footer over", discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Footer: &discordgo.MessageEmbedFooter{Text: strings.Repeat("f", 2049)}}}}, discordtest.CodeInvalidFormBody, "embeds.0.footer.text"},
		{"author over", discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Author: &discordgo.MessageEmbedAuthor{Name: strings.Repeat("a", 257)}}}}, discordtest.CodeInvalidFormBody, "embeds.0.author.name"},
		{"6000 characters across embeds", discordgo.MessageSend{Embeds: embeds(2, discordgo.MessageEmbed{Description: strings.Repeat("d", 3000)})}, 0, ""},
		{"6001 characters across embeds", discordgo.MessageSend{Embeds: append(embeds(2, discordgo.MessageEmbed{Description: strings.Repeat("d", 3000)}),
			&discordgo.MessageEmbed{Title: "x"})}, discordtest.CodeInvalidFormBody, "embeds"},
		{"title link not a URL", discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Title: "t", URL: "example.com/story"}}}, discordtest.CodeInvalidFormBody, "embeds.0.url"},
		{"javascript link", discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Title: "t", URL: "javascript:alert(1)"}}}, discordtest.CodeInvalidFormBody, "embeds.0.url"},
		{"color out of range", discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Title: "t", Color: 0x1000000}}}, discordtest.CodeInvalidFormBody, "embeds.0.color"},
		{"bad timestamp", discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Title: "t", Timestamp: "yesterday"}}}, discordtest.CodeInvalidFormBody, "embeds.0.timestamp"},
		{"briefing-shaped embed", discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{
			Title: "Headline", URL: "https://example.com/a?b=c", Description: "Summary", Timestamp: "2026-11-25T08:00:00Z", Color: 0x3366ff,
			Fields: []*discordgo.MessageEmbedField{field("Source", "[Example](https://example.com)")},
			Footer: &discordgo.MessageEmbedFooter{Text: "newsbot"},
		}}}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, discordtest.Options{})
			s := f.session(t)
			msg := tc.msg
			got, err := s.ChannelMessageSendComplex(f.channelID, &msg)
			stored := f.srv.Messages(f.channelID)
			if tc.wantCode == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.ID == "" || len(stored) != 1 || stored[0].ID != got.ID || stored[0].Content != tc.msg.Content {
					t.Errorf("returned %+v, stored %+v", got, stored)
				}
				return
			}
			status, code := restCode(t, err)
			if status != http.StatusBadRequest || code != tc.wantCode {
				t.Fatalf("HTTP %d code %d, want 400 %d", status, code, tc.wantCode)
			}
			if tc.wantPath != "" && !slices.Contains(formErrorPaths(t, err), tc.wantPath) {
				t.Errorf("error paths %v, want %q", formErrorPaths(t, err), tc.wantPath)
			}
			if len(stored) != 0 {
				t.Errorf("a refused message was stored: %+v", stored)
			}
		})
	}
}

func TestDeadChannelsAnswerWithDiscordCodes(t *testing.T) {
	tests := []struct {
		name       string
		prepare    func(f *fixture) string // returns the channel to post to
		wantStatus int
		wantCode   int
	}{
		{"no View Channel", func(f *fixture) string {
			must(t, f.srv.SetBotPermissions(f.channelID, 0, discordtest.PermissionViewChannel))
			return f.channelID
		}, http.StatusForbidden, discordtest.CodeMissingAccess},
		{"no Send Messages", func(f *fixture) string {
			must(t, f.srv.SetBotPermissions(f.channelID, 0, discordtest.PermissionSendMessages))
			return f.channelID
		}, http.StatusForbidden, discordtest.CodeMissingPermissions},
		{"@everyone denied, bot role allowed by a role overwrite", func(f *fixture) string {
			must(t, f.srv.SetOverwrite(f.channelID, discordtest.Overwrite{ID: f.guildID, Type: discordtest.OverwriteRole, Deny: discordtest.PermissionSendMessages}))
			return f.channelID
		}, http.StatusForbidden, discordtest.CodeMissingPermissions},
		{"channel deleted", func(f *fixture) string {
			must(t, f.srv.RemoveChannel(f.channelID))
			return f.channelID
		}, http.StatusNotFound, discordtest.CodeUnknownChannel},
		{"never existed", func(f *fixture) string { return f.srv.NewID() }, http.StatusNotFound, discordtest.CodeUnknownChannel},
		{"bot kicked from the guild", func(f *fixture) string {
			must(t, f.srv.RemoveGuild(f.guildID))
			return f.channelID
		}, http.StatusForbidden, discordtest.CodeMissingAccess},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, discordtest.Options{})
			s := f.session(t)
			channelID := tc.prepare(f)
			_, err := s.ChannelMessageSend(channelID, "morning briefing")
			if status, code := restCode(t, err); status != tc.wantStatus || code != tc.wantCode {
				t.Fatalf("HTTP %d code %d, want %d %d", status, code, tc.wantStatus, tc.wantCode)
			}
			st := f.srv.Stats()
			if wantForbidden := tc.wantStatus == http.StatusForbidden; (st.Forbidden == 1) != wantForbidden || (st.InvalidRequests == 1) != wantForbidden {
				t.Errorf("stats = %+v: 403s count as invalid requests, 404s do not", st)
			}
		})
	}
}

func TestRoleOverwriteCanGrantWhatEveryoneIsDenied(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	s := f.session(t)
	must(t, f.srv.SetOverwrite(f.channelID, discordtest.Overwrite{ID: f.guildID, Type: discordtest.OverwriteRole, Deny: discordtest.PermissionSendMessages}))
	g, err := s.Guild(f.guildID)
	if err != nil {
		t.Fatal(err)
	}
	var botRole string
	for _, r := range g.Roles {
		if r.Managed {
			botRole = r.ID
		}
	}
	must(t, f.srv.SetOverwrite(f.channelID, discordtest.Overwrite{ID: botRole, Type: discordtest.OverwriteRole, Allow: discordtest.PermissionSendMessages}))
	if _, err := s.ChannelMessageSend(f.channelID, "allowed by the bot's role"); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func TestChannelAndGuildReadsCarryPermissions(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	s := f.session(t)
	must(t, f.srv.SetBotPermissions(f.channelID, 0, discordtest.PermissionEmbedLinks))
	ch, err := s.Channel(f.channelID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.PermissionOverwrites) != 1 || ch.PermissionOverwrites[0].ID != f.srv.BotUserID() ||
		ch.PermissionOverwrites[0].Deny != discordtest.PermissionEmbedLinks || ch.GuildID != f.guildID {
		t.Errorf("channel = %+v overwrites %+v", ch, ch.PermissionOverwrites)
	}
	roles, err := s.GuildRoles(f.guildID)
	if err != nil || len(roles) < 2 || roles[0].Permissions != discordtest.DefaultEveryonePermissions {
		t.Fatalf("roles = %+v, %v", roles, err)
	}
	m, err := s.GuildMember(f.guildID, f.srv.BotUserID())
	if err != nil || m.User.ID != f.srv.BotUserID() || len(m.Roles) != 1 {
		t.Fatalf("bot member = %+v, %v", m, err)
	}
	_, err = s.GuildMember(f.guildID, f.srv.NewID())
	if status, code := restCode(t, err); status != http.StatusNotFound || code != discordtest.CodeUnknownMember {
		t.Errorf("unknown member: HTTP %d code %d", status, code)
	}
	_, err = s.Guild(f.srv.NewID())
	if status, code := restCode(t, err); status != http.StatusNotFound || code != discordtest.CodeUnknownGuild {
		t.Errorf("unknown guild: HTTP %d code %d", status, code)
	}
	if me, err := s.User("@me"); err != nil || me.ID != f.srv.BotUserID() || !me.Bot {
		t.Errorf("users/@me = %+v, %v", me, err)
	}
	gb, err := s.GatewayBot()
	if err != nil || strings.TrimSuffix(gb.URL, "/") != f.srv.GatewayURL() || gb.Shards != 1 ||
		gb.SessionStartLimit.Total != discordtest.IdentifiesPerDay || gb.SessionStartLimit.MaxConcurrency != 1 {
		t.Errorf("gateway/bot = %+v, %v", gb, err)
	}
}

func TestMentionsPingOnlyWhatAllowedMentionsAllows(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	s := f.session(t)
	user := f.userID
	content := "@everyone breaking: <@" + user + "> was quoted"
	tests := []struct {
		name      string
		allowed   *discordgo.MessageAllowedMentions
		wantPings discordtest.Pings
	}{
		{"no allowed_mentions pings everything", nil, discordtest.Pings{Everyone: true, Users: []string{user}}},
		{"parse [] pings nobody", &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}, discordtest.Pings{}},
		// discordgo sends a nil Parse as "parse": null; Discord leaves that
		// undocumented, so the fake reads it as the default and pings.
		{"parse null is not relied on", &discordgo.MessageAllowedMentions{}, discordtest.Pings{Everyone: true, Users: []string{user}}},
		{"explicit user only", &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}, Users: []string{user}}, discordtest.Pings{Users: []string{user}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sent, err := s.ChannelMessageSendComplex(f.channelID, &discordgo.MessageSend{Content: content, AllowedMentions: tc.allowed})
			if err != nil {
				t.Fatal(err)
			}
			msgs := f.srv.Messages(f.channelID)
			got := msgs[len(msgs)-1]
			if got.Pings.Everyone != tc.wantPings.Everyone || !slices.Equal(got.Pings.Users, tc.wantPings.Users) || got.Pings.Nobody() != tc.wantPings.Nobody() {
				t.Errorf("pings = %+v, want %+v", got.Pings, tc.wantPings)
			}
			if sent.MentionEveryone != tc.wantPings.Everyone {
				t.Errorf("returned mention_everyone = %v, want %v", sent.MentionEveryone, tc.wantPings.Everyone)
			}
			if (tc.allowed == nil) != (got.AllowedMentions == nil) {
				t.Errorf("recorded allowed_mentions %+v for sent %+v", got.AllowedMentions, tc.allowed)
			}
		})
	}
	_, err := s.ChannelMessageSendComplex(f.channelID, &discordgo.MessageSend{Content: content, AllowedMentions: &discordgo.MessageAllowedMentions{
		Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeUsers}, Users: []string{user}}})
	if status, code := restCode(t, err); status != http.StatusBadRequest || code != discordtest.CodeInvalidFormBody {
		t.Errorf("parse users together with a users list: HTTP %d code %d, want 400 50035", status, code)
	}
}

func TestEveryoneNeedsMentionEveryonePermission(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	s := f.session(t)
	must(t, f.srv.SetBotPermissions(f.channelID, 0, discordtest.PermissionMentionEveryone))
	if _, err := s.ChannelMessageSend(f.channelID, "@everyone hello"); err != nil {
		t.Fatal(err)
	}
	if p := f.srv.Messages(f.channelID)[0].Pings; p.Everyone {
		t.Errorf("pings = %+v: without Mention Everyone nobody is pinged", p)
	}
}

func TestWithoutEmbedLinks(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	s := f.session(t)
	must(t, f.srv.SetBotPermissions(f.channelID, 0, discordtest.PermissionEmbedLinks))

	// An embed-only message would show nothing: refused.
	_, err := s.ChannelMessageSendEmbed(f.channelID, &discordgo.MessageEmbed{Title: "Headline"})
	if status, code := restCode(t, err); status != http.StatusForbidden || code != discordtest.CodeMissingPermissions {
		t.Errorf("embed-only message: HTTP %d code %d, want 403 50013", status, code)
	}
	if n := len(f.srv.Messages(f.channelID)); n != 0 {
		t.Fatalf("%d messages stored after a refusal", n)
	}

	// With content it is posted, its embeds hidden: members see the content.
	got, err := s.ChannelMessageSendComplex(f.channelID, &discordgo.MessageSend{
		Content: "**Top stories**", Embeds: []*discordgo.MessageEmbed{{Title: "Headline"}}})
	if err != nil {
		t.Fatal(err)
	}
	stored := f.srv.Messages(f.channelID)
	if len(got.Embeds) != 0 || len(stored) != 1 || !stored[0].EmbedsHidden {
		t.Fatalf("embeds shown without Embed Links: %+v", got.Embeds)
	}
	if seen := stored[0].Seen(); seen != "**Top stories**" {
		t.Errorf("a member sees %q, want the content alone", seen)
	}

	// Embed Links given back: the same message shows its embeds.
	must(t, f.srv.SetBotPermissions(f.channelID, 0, 0))
	if _, err := s.ChannelMessageSendEmbed(f.channelID, &discordgo.MessageEmbed{Title: "Headline"}); err != nil {
		t.Fatal(err)
	}
	if seen := f.srv.Messages(f.channelID)[1].Seen(); !strings.Contains(seen, "Headline") {
		t.Errorf("with Embed Links a member sees %q", seen)
	}
}

func TestRESTNeedsTheBotToken(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	for name, token := range map[string]string{"wrong token": "Bot nope", "no Bot prefix": f.srv.Token()} {
		s := f.session(t)
		s.Token = token
		_, err := s.ChannelMessageSend(f.channelID, "hi")
		var re *discordgo.RESTError
		if !errors.As(err, &re) || re.Response.StatusCode != http.StatusUnauthorized || string(re.ResponseBody) != `{"code":0,"message":"401: Unauthorized"}` {
			t.Errorf("%s: %v, want 401 {\"message\": \"401: Unauthorized\", \"code\": 0}", name, err)
		}
	}
	if st := f.srv.Stats(); st.Unauthorized != 2 || st.InvalidRequests != 2 || len(f.srv.Messages(f.channelID)) != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestInvalidRequestBudgetEndsInACloudflareBan(t *testing.T) {
	f := newFixture(t, discordtest.Options{InvalidRequestLimit: 3})
	bad := f.sessionWithToken(t, "wrong")
	for range 3 {
		_, _ = bad.User("@me")
	}
	good := f.session(t)
	_, err := good.User("@me")
	var re *discordgo.RESTError
	if errors.As(err, &re) {
		t.Fatalf("after the ban: %v, want a 429 that is not Discord JSON", err)
	}
	resp, err := f.srv.HTTPClient().Get("https://discord.com/api/v9/gateway")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || string(body) != "error code: 1015" || !f.srv.Stats().Banned {
		t.Errorf("banned answer = %d %q", resp.StatusCode, body)
	}
}

func TestTransportOnlyReachesTheFake(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	client := f.srv.HTTPClient()
	if _, err := client.Get("https://example.com/"); err == nil {
		t.Fatal("the rewriting transport let a request to example.com through")
	}
	resp, err := client.Get(discordgo.EndpointGateway)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s = %d", discordgo.EndpointGateway, resp.StatusCode)
	}
	if _, _, err := f.srv.Dialer().Dial("wss://gateway.discord.gg/?v=9&encoding=json", nil); err == nil {
		t.Error("the dialer connected to the real gateway")
	}
}

func TestConcurrentSendersAndDrivers(t *testing.T) {
	f := newFixture(t, discordtest.Options{})
	s := f.session(t)
	channels := []string{f.channelID}
	for range 3 {
		id := f.srv.NewID()
		must(t, f.srv.AddChannel(f.guildID, id, "extra"))
		channels = append(channels, id)
	}
	errs := make(chan error, 64)
	done := make(chan struct{})
	for _, ch := range channels {
		go func() {
			for range 3 {
				_, err := s.ChannelMessageSend(ch, "briefing")
				errs <- err
			}
		}()
	}
	go func() { // the test driving the world while the bot sends
		defer close(done)
		for range 10 {
			_ = f.srv.AddMember(f.guildID, f.srv.NewID(), 0)
			_ = f.srv.Stats()
		}
	}()
	for range 3 * len(channels) {
		if err := <-errs; err != nil {
			t.Errorf("send: %v", err)
		}
	}
	<-done
	for _, ch := range channels {
		if n := len(f.srv.Messages(ch)); n != 3 {
			t.Errorf("channel %s has %d messages, want 3", ch, n)
		}
	}
}
