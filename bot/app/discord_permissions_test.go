package app_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/newsbot/newsbot/bot/discord/discordtest"
)

// revoke takes a permission from the bot in #news after /subscribe, and
// makes sure the bot has heard: an interaction dispatched after the
// gateway's CHANNEL_UPDATE is answered after the State took it in.
func (d *scheduledDiscord) revoke(t *testing.T, permission int64) {
	t.Helper()
	if err := d.w.srv.SetBotPermissions(d.w.newsID, 0, permission); err != nil {
		t.Fatal(err)
	}
	d.w.interact(t, discordtest.Interaction{UserID: d.w.memberID, Name: "help"})
}

// Embed Links revoked after /subscribe: Discord would post the briefing's
// embeds hidden (members would see "Top stories" and nothing else), so the
// daily briefing arrives as readable text listing every story.
func TestDiscordBriefingWithoutEmbedLinksArrivesAsText(t *testing.T) {
	d := startScheduledDiscord(t)
	d.revoke(t, discordtest.PermissionEmbedLinks)
	d.passDueTime(t, "Last delivery: today")

	got := d.scheduled()
	if len(got) == 0 {
		t.Fatal("no briefing posted")
	}
	var seen strings.Builder
	for i, m := range got {
		if len(m.Embeds) > 0 || m.EmbedsHidden {
			t.Errorf("message %d carries embeds members cannot see: %q", i, m.Seen())
		}
		if n := utf8.RuneCountInString(m.Content); n > discordtest.MaxContentLength {
			t.Errorf("message %d: %d characters", i, n)
		}
		if !m.Pings.Nobody() {
			t.Errorf("message %d pings %+v", i, m.Pings)
		}
		seen.WriteString(m.Seen() + "\n")
	}
	text := seen.String()
	for _, want := range []string{"Top stories", "Embed Links",
		". @everyone @here \\<@&123\\> Harbour plan approved**", "The council approved the new harbour plan",
		". Volunteers plant four hundred trees**", "@everyone Wire <http://wire.test/harbour>", "<http://wire.test/trees>"} {
		if !strings.Contains(text, want) {
			t.Errorf("members do not see %q in:\n%s", want, text)
		}
	}
}

// Send Messages revoked after /subscribe: nothing can be posted, so the
// deliveries stop and /status says why.
func TestDiscordBriefingWithoutSendMessagesStopsWithAReason(t *testing.T) {
	d := startScheduledDiscord(t)
	d.revoke(t, discordtest.PermissionSendMessages)
	d.passDueTime(t, "Deliveries stopped because: the bot lacks Send Messages and Embed Links in #news.")
	if got := d.scheduled(); len(got) != 0 {
		t.Errorf("%d messages posted in a channel the bot may not post in", len(got))
	}
	if st := d.w.srv.Stats(); st.Forbidden != 0 {
		t.Errorf("%d requests refused: the permissions read should have spared them", st.Forbidden)
	}
}
