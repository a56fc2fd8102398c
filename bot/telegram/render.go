package telegram

import (
	"fmt"
	"html"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
)

// MaxMessageLength is the longest message text Telegram takes, counted after
// entity parsing (the text a user reads, not the tags). Telegram's server
// counts code points; we count UTF-16 code units, which are never fewer, so a
// message within this limit is within the server's.
// Source: https://core.telegram.org/bots/api#sendmessage, via
// /work/shared/platform-limits.md ("Text").
const MaxMessageLength = 4096

// Message is one rendered Telegram message: HTML for parse mode HTML, and the
// same text as a user reads it, for the one plain-text retry after the server
// could not parse the HTML.
type Message struct {
	HTML  string
	Plain string
}

// Summary describes the message for logs without its text.
func (m Message) Summary() string {
	return fmt.Sprintf("telegram message, %d characters", utf16Len(m.Plain))
}

// span is a run of text read by the user, wrapped in markup that is balanced
// on its own (open is the start tags, close the matching end tags). A span
// cut in two stays balanced: both halves get the same markup.
type span struct {
	open, close string
	text        string // raw, unescaped: escaped when rendered
	link        string // the href in open, unescaped ("" for none)
}

// budget is what a message spends of Telegram's limits: visible length
// (UTF-16 units), entities, and link bytes.
type budget struct{ length, entities, links int }

func (b budget) plus(c budget) budget {
	return budget{b.length + c.length, b.entities + c.entities, b.links + c.links}
}

// fits tells whether b is within every limit of a message of limit units.
func (b budget) fits(limit int) bool {
	return b.length <= limit && b.entities <= maxEntitiesPerMessage && b.links <= maxLinkBytesPerMessage
}

// markupCost is what a span's markup spends, whatever its text: one entity
// per tag, and its link's bytes.
func (s span) markupCost() budget {
	return budget{entities: strings.Count(s.open, "<"), links: len(s.link)}
}

func (s span) cost() budget {
	c := s.markupCost()
	c.length = utf16Len(s.text)
	return c
}

func plainSpan(s string) span { return span{text: s} }

// block is what the splitter keeps together when it can: the header, or one
// entry.
type block []span

func (b block) cost() budget {
	var c budget
	for _, s := range b {
		c = c.plus(s.cost())
	}
	return c
}

// RenderBriefing renders a briefing in HTML parse mode and splits it into
// messages of at most MaxMessageLength visible characters, 100 entities and
// 8,000 bytes of link URLs, at entry boundaries; an entry too long for one message is cut at a sentence or word
// boundary inside its own markup. Every string from a feed is escaped, and
// only http(s) URLs become links. The same briefing always renders the same.
func RenderBriefing(b briefings.Briefing) []Message {
	return renderBlocks(briefingBlocks(b), MaxMessageLength)
}

// RenderText renders a reply's text as escaped plain text, split like a
// briefing when it is too long.
func RenderText(s string) []Message {
	var blk block
	for i, line := range strings.Split(sanitize(s, true), "\n") {
		if i > 0 {
			blk = append(blk, plainSpan("\n"))
		}
		blk = append(blk, plainSpan(line))
	}
	return renderBlocks([]block{blk}, MaxMessageLength)
}

// RenderBriefing is the Platform method: see the package function.
func (a *Adapter) RenderBriefing(b briefings.Briefing) ([]bot.OutMessage, error) {
	msgs := RenderBriefing(b)
	if len(msgs) == 0 {
		return nil, fmt.Errorf("telegram: render briefing: nothing to send")
	}
	out := make([]bot.OutMessage, len(msgs))
	for i, m := range msgs {
		out[i] = m
	}
	return out, nil
}

func briefingBlocks(b briefings.Briefing) []block {
	title := "News briefing"
	if !b.Topics.IsZero() {
		title += " (" + b.Topics.String() + ")"
	}
	stories := "stories"
	if len(b.Entries) == 1 {
		stories = "story"
	}
	header := block{
		{open: "<b>", close: "</b>", text: sanitize(title, false)},
		plainSpan(fmt.Sprintf(" — %d %s", len(b.Entries), stories)),
	}
	blocks := []block{header}
	for i, e := range b.Entries {
		blocks = append(blocks, entryBlock(i+1, e))
	}
	return blocks
}

func entryBlock(n int, e briefings.Entry) block {
	blk := block{plainSpan(fmt.Sprintf("%d. ", n))}
	headline := sanitize(e.Headline, false)
	if strings.TrimSpace(headline) == "" {
		headline = "(untitled)"
	}
	link := ""
	for _, s := range e.Sources {
		if u, ok := httpURL(s.URL); ok {
			link = u
			break
		}
	}
	if link != "" {
		blk = append(blk, span{open: `<a href="` + html.EscapeString(link) + `"><b>`, close: "</b></a>", text: headline, link: link})
	} else {
		blk = append(blk, span{open: "<b>", close: "</b>", text: headline})
	}
	if !e.Published.IsZero() {
		blk = append(blk, plainSpan("\n"), span{open: "<i>", close: "</i>", text: e.Published.UTC().Format("Mon 2 Jan 2006 15:04 UTC")})
	}
	for _, line := range e.Summary {
		if line = sanitize(line, false); strings.TrimSpace(line) != "" {
			blk = append(blk, plainSpan("\n"), plainSpan(line))
		}
	}
	if len(e.Sources) > 0 {
		label := "Source: "
		if len(e.Sources) > 1 {
			label = "Sources: "
		}
		blk = append(blk, plainSpan("\n"), span{open: "<i>", close: "</i>", text: label})
		for i, s := range e.Sources {
			if i > 0 {
				blk = append(blk, plainSpan(" · "))
			}
			name := sanitize(s.Outlet, false)
			if strings.TrimSpace(name) == "" {
				name = "link"
			}
			if u, ok := httpURL(s.URL); ok {
				blk = append(blk, span{open: `<a href="` + html.EscapeString(u) + `">`, close: "</a>", text: name, link: u})
			} else {
				blk = append(blk, plainSpan(name))
			}
		}
	}
	return blk
}

// httpURL returns the URL to link to when s is an absolute http(s) URL; any
// other scheme (javascript:, tg:, data:) is shown as text or not at all.
func httpURL(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	if out := u.String(); len(out) <= maxLinkBytes {
		return out, true
	}
	return "", false
}

// sanitize makes feed text safe to show: valid UTF-8, no control characters
// or bidirectional overrides (which disguise text), and, unless keepLines,
// on one line.
func sanitize(s string, keepLines bool) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' && keepLines:
			return r
		case r == '\n' || r == '\t' || r == '\r':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			return -1
		}
		return r
	}, s)
}

// renderBlocks packs blocks into messages within limit visible characters
// and the entity limits, separated by a blank line; a block over them is
// cut.
func renderBlocks(blocks []block, limit int) []Message {
	var parts [][]span
	var cur []span
	var curCost budget
	flush := func() {
		if len(cur) > 0 {
			parts = append(parts, cur)
		}
		cur, curCost = nil, budget{}
	}
	for _, blk := range blocks {
		c := blk.cost()
		if c.length == 0 {
			continue
		}
		sep := budget{}
		if len(cur) > 0 {
			sep.length = 2
		}
		switch {
		case curCost.plus(sep).plus(c).fits(limit):
			if sep.length > 0 {
				cur = append(cur, plainSpan("\n\n"))
			}
			cur = append(cur, blk...)
			curCost = curCost.plus(sep).plus(c)
		case c.fits(limit):
			flush()
			cur, curCost = append(cur, blk...), c
		default:
			flush()
			chunks := cutBlock(blk, limit)
			for _, ch := range chunks[:len(chunks)-1] {
				parts = append(parts, ch)
			}
			last := chunks[len(chunks)-1]
			cur, curCost = last, block(last).cost()
		}
	}
	flush()
	msgs := make([]Message, 0, len(parts))
	for _, p := range parts {
		m := renderSpans(p)
		if strings.TrimSpace(m.Plain) != "" {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// cutBlock cuts a block over a message's limits into pieces within them:
// between its spans when they fit, else inside a span at a sentence end,
// else at a word boundary, else between characters. Every piece of a span
// keeps its markup, and spends its entities again.
func cutBlock(blk block, limit int) [][]span {
	var chunks [][]span
	var cur []span
	var curCost budget
	flush := func() {
		for len(cur) > 0 && strings.TrimSpace(cur[len(cur)-1].text) == "" {
			curCost.length -= utf16Len(cur[len(cur)-1].text)
			cur = cur[:len(cur)-1]
		}
		if curCost.length > 0 {
			chunks = append(chunks, cur)
		}
		cur, curCost = nil, budget{}
	}
	queue := append([]span(nil), blk...)
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if curCost.length == 0 {
			// A piece starts with what the reader sees, not with the line
			// break or the space it was cut after.
			s.text = strings.TrimLeftFunc(s.text, unicode.IsSpace)
			if s.text == "" {
				continue
			}
		}
		c := s.cost()
		if next := curCost.plus(c); next.fits(limit) {
			cur = append(cur, s)
			curCost = next
			continue
		}
		withMarkup := curCost.plus(s.markupCost())
		if !withMarkup.fits(limit) || c.fits(limit) || curCost.length > limit/2 {
			// Its markup does not fit here, it fits a message of its own,
			// or too little room is left here to be worth cutting into.
			if curCost.length == 0 {
				// Even alone it is over: only its length can be, since
				// one span's markup is within the entity limits.
				head, tail := cutText(s.text, limit)
				chunks = append(chunks, []span{{open: s.open, close: s.close, text: head, link: s.link}})
				if tail != "" {
					queue = append([]span{{open: s.open, close: s.close, text: tail, link: s.link}}, queue...)
				}
				continue
			}
			flush()
			queue = append([]span{s}, queue...)
			continue
		}
		head, tail := cutText(s.text, limit-curCost.length)
		if head != "" {
			cur = append(cur, span{open: s.open, close: s.close, text: head, link: s.link})
			curCost = curCost.plus(budget{length: utf16Len(head)}).plus(s.markupCost())
		}
		flush()
		queue = append([]span{{open: s.open, close: s.close, text: tail, link: s.link}}, queue...)
	}
	flush()
	if len(chunks) == 0 {
		chunks = append(chunks, nil)
	}
	return chunks
}

// cutText splits s so that head has at most room UTF-16 units: after the
// last sentence end that fits, else at the last space, else between
// characters. head is never empty when room > 1.
func cutText(s string, room int) (head, tail string) {
	end, units := 0, 0 // byte index of the longest prefix within room
	for i, r := range s {
		if units+runeUnits(r) > room {
			break
		}
		units += runeUnits(r)
		end = i + utf8.RuneLen(r)
	}
	if end == len(s) {
		return s, ""
	}
	if end == 0 { // room for less than one character: take one anyway
		_, end = utf8.DecodeRuneInString(s)
	}
	prefix := s[:end]
	cut := -1
	for i, r := range prefix {
		// A sentence ends at . ! ? … followed by a space.
		if strings.ContainsRune(".!?…", r) {
			next := i + utf8.RuneLen(r)
			if next < len(s) && (s[next] == ' ' || s[next] == '\n') && next <= end {
				cut = next
			}
		}
	}
	if cut <= 0 || cut < end/3 {
		// No sentence end, or one so early that the piece would be mostly
		// empty: a word boundary will do.
		if r, _ := utf8.DecodeRuneInString(s[end:]); unicode.IsSpace(r) {
			cut = end // the prefix ends with a whole word
		} else if i := strings.LastIndexFunc(prefix, unicode.IsSpace); i > 0 && i >= end/3 {
			cut = i
		}
	}
	if cut <= 0 {
		cut = end
	}
	return s[:cut], s[cut:]
}

func renderSpans(spans []span) Message {
	var h, p strings.Builder
	for _, s := range spans {
		if s.text == "" {
			continue
		}
		h.WriteString(s.open)
		h.WriteString(html.EscapeString(s.text))
		h.WriteString(s.close)
		p.WriteString(s.text)
	}
	return Message{HTML: h.String(), Plain: p.String()}
}

// utf16Len is the length of s in UTF-16 code units, the unit of Telegram's
// text limits.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += runeUnits(r)
	}
	return n
}

func runeUnits(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}
