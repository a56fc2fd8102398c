package discord

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/briefings"
)

func TestEscapeMarkdown(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain words stay", "plain words stay"},
		{"**bold** _it_ ~~s~~ `code` ||spoiler||", `\*\*bold\*\* \_it\_ \~\~s\~\~ \` + "`" + `code\` + "`" + ` \|\|spoiler\|\|`},
		{"[click](http://evil.example)", `\[click\]\(http://evil.example\)`},
		{"<@123> <@&456> <t:1:R>", `\<@123\> \<@&456\> \<t:1:R\>`},
		{"# Heading\n> quote\n- item\n+ item\n-# small", "\\# Heading\n\\> quote\n\\- item\n\\+ item\n\\-# small"},
		{"Rubio-Lavrov talks #2", "Rubio-Lavrov talks #2"},
		{"1. first\n12. twelfth\n3.5 stays", "1\\. first\n12\\. twelfth\n3\\.5 stays"},
		{`back\slash`, `back\\slash`},
	}
	for _, tc := range tests {
		if got := EscapeMarkdown(tc.in); got != tc.want {
			t.Errorf("EscapeMarkdown(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEscapeClipNeverEndsInALoneBackslash(t *testing.T) {
	s := strings.Repeat("*", 300)
	got := escapeClip(s, maxEmbedTitle)
	if runes(got) > maxEmbedTitle || strings.HasSuffix(strings.TrimSuffix(got, "…"), `\`) && !strings.HasSuffix(strings.TrimSuffix(got, "…"), `\*`) {
		t.Errorf("clipped to %d code points ending %q", runes(got), got[len(got)-6:])
	}
	if n := strings.Count(got, `\*`); n != (maxEmbedTitle-1)/2 {
		t.Errorf("%d escaped stars, want %d", n, (maxEmbedTitle-1)/2)
	}
	if got := escapeClip("héllo wörld", 11); got != "héllo wörld" {
		t.Errorf("a string at the limit was clipped: %q", got)
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct {
		in       string
		newlines bool
		want     string
	}{
		{"  a\tb \u200b c\x00d  ", false, "a b c d"},
		{"line one  \n\n\n\nline two\r\n", true, "line one\n\nline two"},
		{"evil\u202eexe.txt", false, "evil exe.txt"},
		{"bad \xff byte", false, "bad \uFFFD byte"},
		{"a\nb", false, "a b"},
	}
	for _, tc := range tests {
		if got := cleanText(tc.in, tc.newlines); got != tc.want {
			t.Errorf("cleanText(%q, %v) = %q, want %q", tc.in, tc.newlines, got, tc.want)
		}
	}
}

func TestRenderBriefing(t *testing.T) {
	published := time.Date(2025, 7, 11, 9, 0, 0, 0, time.UTC)
	b := briefings.Briefing{Entries: []briefings.Entry{{
		Headline:  "@everyone Bridge *reopens*",
		Summary:   []string{"The bridge reopened.", "Traffic flows from Monday."},
		Published: published,
		Sources: []briefings.SourceLink{
			{Outlet: "Test Outlet", Title: "Bridge [reopens]", URL: "http://outlet.test/bridge?q=(1)"},
			{Outlet: "", Title: "", URL: "javascript:alert(1)"},
		},
	}}}
	got := RenderBriefing(b)
	want := []*Message{{
		Content: "**Top stories**",
		Embeds: []*discordgo.MessageEmbed{{
			Type: discordgo.EmbedTypeRich, Color: embedColor, Timestamp: "2025-07-11T09:00:00Z",
			Title:       `@everyone Bridge \*reopens\*`,
			URL:         "http://outlet.test/bridge?q=%281%29",
			Description: "The bridge reopened.\nTraffic flows from Monday.",
			Fields: []*discordgo.MessageEmbedField{
				{Name: "Test Outlet", Value: `[Bridge \[reopens\]](http://outlet.test/bridge?q=%281%29)`},
				{Name: "Source", Value: "Read the article"},
			},
		}},
		Text: []string{"**Top stories**\n" + textNote + "\n\n" +
			"**1. @everyone Bridge \\*reopens\\***\n" +
			"The bridge reopened.\nTraffic flows from Monday.\n" +
			`Test Outlet: Bridge \[reopens\] <http://outlet.test/bridge?q=%281%29>`},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RenderBriefing (-want +got):\n%s", diff)
	}
	topics := RenderBriefing(briefings.Briefing{Topics: briefings.Topics{Include: []string{"climate"}, Exclude: []string{"sport"}}, Entries: b.Entries})
	if topics[0].Content != "Top stories: +climate -sport" {
		t.Errorf("header with topics = %q", topics[0].Content)
	}
}

func TestRenderSplitsWithinMessageLimits(t *testing.T) {
	long := strings.Repeat("word ", 2000) // 10,000 characters
	var b briefings.Briefing
	for i := range 20 {
		e := briefings.Entry{Headline: strings.Repeat("H", 400), Summary: []string{long}}
		for j := range 40 {
			e.Sources = append(e.Sources, briefings.SourceLink{Outlet: strings.Repeat("O", 300), Title: long, URL: fmt.Sprintf("https://o.example/%d/%d", i, j)})
		}
		b.Entries = append(b.Entries, e)
	}
	msgs := RenderBriefing(b)
	embeds := 0
	for i, m := range msgs {
		checkMessage(t, fmt.Sprint("message ", i), m)
		embeds += len(m.Embeds)
	}
	if embeds != 20 {
		t.Errorf("%d embeds over %d messages, want one per story (20)", embeds, len(msgs))
	}
	if len(msgs) < 20 {
		t.Errorf("%d messages: each embed this large needs its own", len(msgs))
	}
	last := msgs[0].Embeds[0].Fields
	if f := last[len(last)-1]; f.Name != "More sources" {
		t.Errorf("dropped sources are not counted: last field %+v", f)
	}
	if again := RenderBriefing(b); !cmp.Equal(again, msgs) {
		t.Error("the same briefing rendered differently")
	}
}

// checkMessage fails unless m is within every limit Discord enforces.
func checkMessage(t testing.TB, name string, m *Message) {
	t.Helper()
	if runes(m.Content) > maxContent {
		t.Errorf("%s: content %d > %d", name, runes(m.Content), maxContent)
	}
	if m.Content == "" && len(m.Embeds) == 0 {
		t.Errorf("%s: empty message", name)
	}
	if len(m.Embeds) > maxEmbedsPerMessage {
		t.Errorf("%s: %d embeds", name, len(m.Embeds))
	}
	total := 0
	for i, e := range m.Embeds {
		total += embedSize(e)
		where := fmt.Sprintf("%s embed %d", name, i)
		if runes(e.Title) > maxEmbedTitle || runes(e.Description) > maxEmbedDescription || len(e.Fields) > maxEmbedFields {
			t.Errorf("%s: title %d, description %d, fields %d", where, runes(e.Title), runes(e.Description), len(e.Fields))
		}
		for j, f := range e.Fields {
			if f.Name == "" || f.Value == "" || runes(f.Name) > maxEmbedFieldName || runes(f.Value) > maxEmbedFieldValue {
				t.Errorf("%s field %d: name %d, value %d code points", where, j, runes(f.Name), runes(f.Value))
			}
		}
		if e.URL != "" {
			u, err := url.Parse(e.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || runes(e.URL) > maxEmbedURL {
				t.Errorf("%s: url %q is not one Discord accepts", where, e.URL)
			}
		}
		if e.Timestamp != "" {
			if _, err := time.Parse(time.RFC3339Nano, e.Timestamp); err != nil {
				t.Errorf("%s: timestamp %q", where, e.Timestamp)
			}
		}
	}
	if total > maxEmbedTotal {
		t.Errorf("%s: embeds total %d > %d", name, total, maxEmbedTotal)
	}
	if len(m.Embeds) > 0 && len(m.Text) == 0 {
		t.Errorf("%s: embeds without a text form", name)
	}
	for i, part := range m.Text {
		if strings.TrimSpace(part) == "" || runes(part) > maxContent {
			t.Errorf("%s text part %d: %d code points", name, i, runes(part))
		}
	}
}

// TestRenderTextForm: without Embed Links the stories travel as text —
// every story once, in order, in parts of at most 2000 characters split
// between stories, links in angle brackets, feed markup escaped.
func TestRenderTextForm(t *testing.T) {
	long := strings.Repeat("word ", 2000)
	var b briefings.Briefing
	for i := range 30 {
		e := briefings.Entry{Headline: fmt.Sprintf("Story %d **big** <@&1>", i+1), Summary: []string{long, "# not a heading"}}
		for j := range 8 {
			e.Sources = append(e.Sources, briefings.SourceLink{Outlet: "Wire", Title: "Read [more](javascript:x)",
				URL: fmt.Sprintf("https://o.example/%d/%d?utm=%s", i, j, strings.Repeat("x", 200))})
		}
		b.Entries = append(b.Entries, e)
	}
	next := 1
	for i, m := range RenderBriefing(b) {
		checkMessage(t, fmt.Sprint("message ", i), m)
		for k, part := range m.Text {
			if i+k > 0 && !strings.HasPrefix(part, fmt.Sprintf("**%d. ", next)) {
				t.Errorf("message %d part %d does not start at story %d:\n%.80s", i, k, next, part)
			}
			for strings.Contains(part, fmt.Sprintf("**%d. Story %d \\*\\*big\\*\\* \\<@&1\\>**", next, next)) {
				next++
			}
			for _, bad := range []string{"](", "\n# not", "<@&1>"} {
				if strings.Contains(part, bad) {
					t.Errorf("message %d part %d has unescaped %q", i, k, bad)
				}
			}
			if strings.Contains(part, ". Story ") && !strings.Contains(part, " <https://o.example/") {
				t.Errorf("message %d part %d lists no link in angle brackets", i, k)
			}
		}
	}
	if next != 31 {
		t.Errorf("the text form lists stories 1 to %d in order, want 1 to 30", next-1)
	}
}

func FuzzRenderBriefing(f *testing.F) {
	f.Add("@everyone headline", "summary *one*\nline two", "Outlet", "Title [x](y)", "https://example.com/a?b=(c)", uint8(3), uint8(2))
	f.Add(strings.Repeat("\\*", 200), strings.Repeat("|", 5000), strings.Repeat("<", 300), strings.Repeat("]", 1100), "http://[::1]/x", uint8(12), uint8(30))
	f.Fuzz(func(t *testing.T, headline, summary, outlet, title, link string, entries, sources uint8) {
		var b briefings.Briefing
		for i := range int(entries % 25) {
			e := briefings.Entry{Headline: headline, Summary: strings.Split(summary, "\n"), Published: time.Unix(int64(i)*1e9, 0)}
			for j := range int(sources % 40) {
				e.Sources = append(e.Sources, briefings.SourceLink{Outlet: outlet, Title: title, URL: link + fmt.Sprint(j)})
			}
			b.Entries = append(b.Entries, e)
		}
		msgs := RenderBriefing(b)
		if len(msgs) == 0 {
			t.Fatal("no messages")
		}
		embeds := 0
		for i, m := range msgs {
			checkMessage(t, fmt.Sprint("message ", i), m)
			embeds += len(m.Embeds)
		}
		if embeds != len(b.Entries) {
			t.Errorf("%d embeds for %d entries", embeds, len(b.Entries))
		}
	})
}
