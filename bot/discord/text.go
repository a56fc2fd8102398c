package discord

import (
	"strconv"
	"strings"
	"sync"

	"github.com/newsbot/newsbot/briefings"
)

// The text form of a briefing, for channels where the bot lacks Embed
// Links: Discord refuses an embed-only message there (403, 50013) and posts
// a message with content with its embeds hidden, so the stories must travel
// in the content. Each story is a numbered bold headline, its summary, and
// its sources with their links in angle brackets (which suppresses link
// previews); all feed text is escaped like the embeds'.
const (
	// textNote tells the channel why the briefing looks plain, and its
	// admins what to grant.
	textNote = "(Posted as text: newsbot lacks the Embed Links permission in this channel.)"
	// maxTextSources are the sources listed under a story; the rest are
	// counted.
	maxTextSources = 5
	// textSourceBudget bounds a story's source lines, leaving the rest of a
	// message's content for its headline and summary.
	textSourceBudget = maxContent / 2
	textOutletLimit  = 100
	textTitleLimit   = 150
)

// textParts renders items (each at most maxContent long) into as few
// messages as fit, split only between items.
func textParts(items []string) []string {
	var parts []string
	var cur strings.Builder
	n := 0
	for _, it := range items {
		size := runes(it)
		if n > 0 && n+2+size > maxContent {
			parts = append(parts, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteString("\n\n")
			n += 2
		}
		cur.WriteString(it)
		n += size
	}
	if n > 0 {
		parts = append(parts, cur.String())
	}
	return parts
}

// textHeader is the first item of a briefing's text form.
func textHeader(header string) string {
	return escapeClipEscaped(header, maxContent-runes(textNote)-1) + "\n" + textNote
}

// escapeClipEscaped shortens text that is already escaped without cutting
// an escape from the character it protects.
func escapeClipEscaped(s string, limit int) string {
	if runes(s) <= limit {
		return s
	}
	r := []rune(s)[:limit-1]
	for len(r) > 0 && r[len(r)-1] == '\\' {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// entryText renders story number n in at most maxContent characters.
func entryText(n int, e briefings.Entry) string {
	headline := escapeClip(cleanText(e.Headline, false), maxEmbedTitle)
	if headline == "" {
		headline = "(untitled story)"
	}
	title := "**" + strconv.Itoa(n) + ". " + headline + "**"

	var sources []string
	used, more := 0, 0
	for i, s := range e.Sources {
		if i >= maxTextSources {
			more = len(e.Sources) - i
			break
		}
		line := sourceLine(s, e.Headline, true)
		if line == "" {
			continue
		}
		if runes(line) > textSourceBudget-used-1 {
			line = sourceLine(s, e.Headline, false)
		}
		if runes(line) > textSourceBudget-used-1 {
			more++
			continue
		}
		sources = append(sources, line)
		used += runes(line) + 1
	}
	if more > 0 {
		sources = append(sources, "and "+strconv.Itoa(more)+" more")
	}
	block := strings.Join(sources, "\n")

	var lines []string
	for _, l := range e.Summary {
		if l = cleanText(l, false); l != "" {
			lines = append(lines, l)
		}
	}
	room := maxContent - runes(title) - runes(block) - 2
	summary := escapeClip(strings.Join(lines, "\n"), max(room, 0))

	out := title
	for _, part := range []string{summary, block} {
		if part != "" {
			out += "\n" + part
		}
	}
	return out
}

// sourceLine is one source of a story: the outlet, the article's title
// (unless it repeats the story's headline), and (withLink) its link in
// angle brackets; "" for a source with neither a title nor a usable link,
// which would tell a reader nothing.
func sourceLine(s briefings.SourceLink, headline string, withLink bool) string {
	link := linkURL(s.URL)
	title := cleanText(s.Title, false)
	if title == cleanText(headline, false) && link != "" {
		title = ""
	}
	if link == "" && title == "" {
		return ""
	}
	line := escapeClip(outletName(s, link), textOutletLimit)
	if title != "" {
		line += ": " + escapeClip(title, textTitleLimit)
	}
	if withLink && link != "" {
		line += " <" + link + ">"
	}
	return line
}

// textProgress remembers how many parts of a message's text form went out
// to a channel, so that a retried send resumes after them. A delivery
// resumed after a restart starts the message's parts afresh: at most that
// message's parts are posted twice, once per restart.
type textProgress struct {
	mu   sync.Mutex
	sent map[textKey]int
}

type textKey struct {
	channelID string
	msg       *Message
}

func (p *textProgress) next(k textKey) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent[k]
}

// record notes that n parts went out; done forgets the message.
func (p *textProgress) record(k textKey, n int, done bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done {
		delete(p.sent, k)
		return
	}
	if p.sent == nil || len(p.sent) >= maxGoneEntries {
		p.sent = make(map[textKey]int)
	}
	p.sent[k] = n
}

func (p *textProgress) forgetChannel(channelID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range p.sent {
		if k.channelID == channelID {
			delete(p.sent, k)
		}
	}
}
