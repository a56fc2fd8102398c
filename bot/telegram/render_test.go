package telegram

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/bot/telegram/telegramtest"
	"github.com/newsbot/newsbot/briefings"
)

// parsed is a rendered message as Telegram reads it.
type parsed struct {
	plain    string
	entities []telegramtest.Entity
}

// parseAll parses every message as the server would and checks what every
// message must satisfy: valid HTML, not empty, within the length limit, and
// a plain-text fallback that reads the same.
func parseAll(t testing.TB, msgs []Message) []parsed {
	t.Helper()
	var out []parsed
	for i, m := range msgs {
		plain, entities, err := telegramtest.ParseHTML(m.HTML)
		if err != nil {
			t.Fatalf("message %d of %d does not parse: %v\n%s", i+1, len(msgs), err, m.HTML)
		}
		trimmed := strings.TrimSpace(plain)
		if trimmed == "" {
			t.Fatalf("message %d of %d is empty once parsed: %q", i+1, len(msgs), m.HTML)
		}
		if n := telegramtest.UTF16Length(trimmed); n > telegramtest.MaxMessageLength {
			t.Fatalf("message %d of %d has %d characters, over %d", i+1, len(msgs), n, telegramtest.MaxMessageLength)
		}
		links := 0
		for _, e := range entities {
			links += len(e.URL)
		}
		if len(entities) > telegramtest.MaxEntities || links > telegramtest.MaxEntityURLBytes {
			t.Fatalf("message %d of %d has %d entities and %d bytes of links, over the fake's %d and %d",
				i+1, len(msgs), len(entities), links, telegramtest.MaxEntities, telegramtest.MaxEntityURLBytes)
		}
		if plain != m.Plain {
			t.Fatalf("message %d of %d: plain-text fallback differs from what the HTML reads (-html +plain):\n%s", i+1, len(msgs), cmp.Diff(plain, m.Plain))
		}
		out = append(out, parsed{plain: plain, entities: entities})
	}
	return out
}

func linksOf(p parsed) map[string]string { // text → URL
	out := map[string]string{}
	for _, e := range p.entities {
		if e.Type == "text_link" {
			out[utf16Slice(p.plain, e.Offset, e.Length)] = e.URL
		}
	}
	return out
}

// utf16Slice cuts s by UTF-16 offsets, as entities address text.
func utf16Slice(s string, offset, length int) string {
	var b strings.Builder
	pos := 0
	for _, r := range s {
		if pos >= offset && pos < offset+length {
			b.WriteRune(r)
		}
		pos += runeUnits(r)
	}
	return b.String()
}

var published = time.Date(2025, 7, 11, 9, 0, 0, 0, time.UTC)

func TestRenderBriefingEscapesFeedText(t *testing.T) {
	b := briefings.Briefing{Entries: []briefings.Entry{
		{
			Headline: `<b>Breaking</b> & "more"`,
			Summary:  []string{`Tom's "quote" <i>not italic</i> & AT&T; &amp; stays literal.`},
			Sources: []briefings.SourceLink{
				{Outlet: `Wire <script>`, URL: `https://wire.example/a?x=1&y="2"`},
				{Outlet: "Evil", URL: "javascript:alert(1)"},
			},
			Published: published,
		},
		{
			Headline: `@everyone <script>`,
			Summary:  []string{"\u202eevil\u202c bidi and \x1b[31m escape"},
			Sources:  []briefings.SourceLink{{Outlet: "No scheme", URL: "wire.example/b"}},
		},
	}}
	msgs := RenderBriefing(b)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	p := parseAll(t, msgs)[0]
	for _, literal := range []string{
		`<b>Breaking</b> & "more"`,
		`Tom's "quote" <i>not italic</i> & AT&T; &amp; stays literal.`,
		`@everyone <script>`,
		`Wire <script>`,
		"evil bidi and [31m escape",
	} {
		if !strings.Contains(p.plain, literal) {
			t.Errorf("the reader does not see %q literally:\n%s", literal, p.plain)
		}
	}
	want := map[string]string{
		`<b>Breaking</b> & "more"`: `https://wire.example/a?x=1&y="2"`,
		`Wire <script>`:            `https://wire.example/a?x=1&y="2"`,
	}
	if diff := cmp.Diff(want, linksOf(p)); diff != "" {
		t.Errorf("links (text → URL) differ (-want +got); only http(s) URLs may be linked:\n%s", diff)
	}
	for _, e := range p.entities {
		if e.Type == "bold" && utf16Slice(p.plain, e.Offset, e.Length) == "Breaking" {
			t.Error("the feed's <b> became bold text")
		}
	}
}

func TestRenderTextEscapes(t *testing.T) {
	msgs := RenderText("Use /brief <topic> & \"words\"\nsecond line")
	p := parseAll(t, msgs)
	if len(p) != 1 || p[0].plain != "Use /brief <topic> & \"words\"\nsecond line" || len(p[0].entities) != 0 {
		t.Errorf("got %+v", p)
	}
}

// longEntry is an entry whose text is about n characters of sentences.
func longEntry(i, n int) briefings.Entry {
	var s strings.Builder
	for k := 0; s.Len() < n; k++ {
		fmt.Fprintf(&s, "Sentence %d of story %d says something about the news. ", k, i)
	}
	return briefings.Entry{
		Headline:  fmt.Sprintf("Story %d: a long headline about a matter of public interest", i),
		Summary:   []string{strings.TrimSpace(s.String())},
		Sources:   []briefings.SourceLink{{Outlet: "Outlet", URL: fmt.Sprintf("https://outlet.example/%d", i)}},
		Published: published,
	}
}

func TestRenderBriefingSplitsAtEntryBoundaries(t *testing.T) {
	var b briefings.Briefing
	for i := 1; i <= 20; i++ {
		b.Entries = append(b.Entries, longEntry(i, 700))
	}
	msgs := RenderBriefing(b)
	if len(msgs) < 4 {
		t.Fatalf("20 entries of ~800 characters fit in %d messages of 4096", len(msgs))
	}
	next := 1
	for i, p := range parseAll(t, msgs) {
		lines := strings.Split(strings.TrimSpace(p.plain), "\n\n")
		for k, entry := range lines {
			if i == 0 && k == 0 {
				if !strings.HasPrefix(entry, "News briefing — 20 stories") {
					t.Errorf("first message starts %q", entry[:40])
				}
				continue
			}
			prefix := fmt.Sprintf("%d. Story %d:", next, next)
			if !strings.HasPrefix(entry, prefix) {
				t.Fatalf("message %d: entry starts %q, want %q (entries cut or out of order)", i+1, entry[:min(40, len(entry))], prefix)
			}
			if !strings.HasSuffix(entry, "Source: Outlet") {
				t.Errorf("message %d: entry %d is cut before its source", i+1, next)
			}
			next++
		}
	}
	if next != 21 {
		t.Errorf("saw entries up to %d, want all 20", next-1)
	}
	// The same briefing renders to the same messages.
	if diff := cmp.Diff(msgs, RenderBriefing(b)); diff != "" {
		t.Errorf("rendering is not deterministic:\n%s", diff)
	}
}

func TestRenderBriefingCutsAnOversizedEntry(t *testing.T) {
	e := longEntry(1, 10_000)
	e.Headline = strings.Repeat("Headline words ", 400) // 6000 characters, in a link
	msgs := RenderBriefing(briefings.Briefing{Entries: []briefings.Entry{longEntry(0, 100), e, longEntry(2, 100)}})
	ps := parseAll(t, msgs)
	if len(ps) < 5 {
		t.Fatalf("an entry of ~16000 characters went into %d messages", len(ps))
	}
	var all strings.Builder
	for i, p := range ps {
		text := strings.TrimSpace(p.plain)
		all.WriteString(text + " ")
		last := []rune(text)[len([]rune(text))-1]
		if i < len(ps)-1 && !(last == '.' || unicode.IsLetter(last) || unicode.IsDigit(last)) {
			t.Errorf("message %d ends in %q, not at a sentence or word end", i+1, text[len(text)-20:])
		}
		for _, e := range p.entities {
			if e.Type == "text_link" && e.URL != "https://outlet.example/1" && strings.HasPrefix(utf16Slice(p.plain, e.Offset, e.Length), "Headline") {
				t.Errorf("message %d: a piece of the headline links to %q", i+1, e.URL)
			}
		}
	}
	// Cutting loses no word and adds none.
	words := strings.Fields(all.String())
	var wantWords []string
	for _, m := range RenderBriefing(briefings.Briefing{Entries: []briefings.Entry{longEntry(0, 100), e, longEntry(2, 100)}}) {
		wantWords = append(wantWords, strings.Fields(m.Plain)...)
	}
	if diff := cmp.Diff(wantWords, words); diff != "" {
		t.Errorf("words differ:\n%s", diff)
	}
	if got := strings.Count(all.String(), "Headline words"); got != 400 {
		t.Errorf("the headline's words appear %d times, want 400", got)
	}
}

func TestRenderCountsUTF16(t *testing.T) {
	// 3000 emoji are 6000 UTF-16 code units: two messages, not one.
	e := briefings.Entry{Headline: strings.Repeat("😀", 3000)}
	ps := parseAll(t, RenderBriefing(briefings.Briefing{Entries: []briefings.Entry{e}}))
	if len(ps) < 2 {
		t.Fatalf("6000 UTF-16 units went into %d message(s)", len(ps))
	}
	n := 0
	for _, p := range ps {
		n += strings.Count(p.plain, "😀")
	}
	if n != 3000 {
		t.Errorf("%d emoji arrive, want 3000", n)
	}
}

func TestCutText(t *testing.T) {
	tests := []struct {
		name, s    string
		room       int
		head, tail string
	}{
		{"fits", "One. Two.", 20, "One. Two.", ""},
		{"sentence", "First sentence here. Second sentence is longer", 30, "First sentence here.", " Second sentence is longer"},
		{"word when the sentence end is too early", "A. then many more words follow here", 30, "A. then many more words follow", " here"},
		{"word", "no sentence end in this text at all", 20, "no sentence end in", " this text at all"},
		{"characters", "abcdefghijklmnopqrstuvwxyz", 10, "abcdefghij", "klmnopqrstuvwxyz"},
		{"astral", "😀😀😀😀", 5, "😀😀", "😀😀"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head, tail := cutText(tt.s, tt.room)
			if head != tt.head || tail != tt.tail {
				t.Errorf("cutText(%q, %d) = %q, %q; want %q, %q", tt.s, tt.room, head, tail, tt.head, tt.tail)
			}
		})
	}
}

// FuzzRenderBriefing: whatever the feeds say, every message parses, is not
// empty, is within the limit and reads like its plain-text fallback; and a
// short headline reaches the reader whole.
func FuzzRenderBriefing(f *testing.F) {
	f.Add(`<b>Breaking</b> & "more"`, "Summary <i>x</i> & y.", "Outlet & Co", "https://x.example/?a=1&b=2", uint16(1), uint16(1))
	f.Add("@everyone <script>", "", "", "javascript:alert(1)", uint16(3), uint16(0))
	f.Add("😀", strings.Repeat("a ", 3000), "o", "http://x", uint16(20), uint16(2))
	f.Add("Tracked", "s", "o", "https://t.example/?utm="+strings.Repeat("q", 1500), uint16(23), uint16(0))
	f.Fuzz(func(t *testing.T, headline, summary, outlet, link string, entries, repeat uint16) {
		n := int(entries%24) + 1
		summary = strings.Repeat(summary, int(repeat%4)+1)
		var b briefings.Briefing
		for i := range n {
			b.Entries = append(b.Entries, briefings.Entry{
				Headline: headline,
				Summary:  []string{summary, headline},
				Sources:  []briefings.SourceLink{{Outlet: outlet, URL: link}, {Outlet: headline, URL: link + fmt.Sprint(i)}},
			})
		}
		msgs := RenderBriefing(b)
		if len(msgs) == 0 {
			t.Fatal("no message")
		}
		ps := parseAll(t, msgs)
		want := strings.TrimSpace(sanitize(headline, false))
		var all []string
		for _, p := range ps {
			all = append(all, p.plain)
		}
		if want != "" && utf16Len(want) < 1000 && !strings.Contains(strings.Join(all, "\n"), want) {
			t.Errorf("headline %q does not reach the reader", want)
		}
	})
}
