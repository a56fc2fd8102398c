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
}

func plainSpan(s string) span { return span{text: s} }

// block is what the splitter keeps together when it can: the header, or one
// entry.
type block []span

func (b block) length() int {
	n := 0
	for _, s := range b {
		n += utf16Len(s.text)
	}
	return n
}

// RenderBriefing renders a briefing in HTML parse mode and splits it into
// messages of at most MaxMessageLength visible characters, at entry
// boundaries; an entry too long for one message is cut at a sentence or word
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
		blk = append(blk, span{open: `<a href="` + html.EscapeString(link) + `"><b>`, close: "</b></a>", text: headline})
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
				blk = append(blk, span{open: `<a href="` + html.EscapeString(u) + `">`, close: "</a>", text: name})
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
	return u.String(), true
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

// renderBlocks packs blocks into messages of at most limit visible
// characters, separated by a blank line; a block longer than limit is cut.
func renderBlocks(blocks []block, limit int) []Message {
	var parts [][]span
	var cur []span
	curLen := 0
	flush := func() {
		if len(cur) > 0 {
			parts = append(parts, cur)
		}
		cur, curLen = nil, 0
	}
	for _, blk := range blocks {
		n := blk.length()
		if n == 0 {
			continue
		}
		sep := 0
		if len(cur) > 0 {
			sep = 2
		}
		switch {
		case curLen+sep+n <= limit:
			if sep > 0 {
				cur = append(cur, plainSpan("\n\n"))
			}
			cur = append(cur, blk...)
			curLen += sep + n
		case n <= limit:
			flush()
			cur, curLen = append(cur, blk...), n
		default:
			flush()
			chunks := cutBlock(blk, limit)
			for _, c := range chunks[:len(chunks)-1] {
				parts = append(parts, c)
			}
			last := chunks[len(chunks)-1]
			cur, curLen = last, block(last).length()
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

// cutBlock cuts a block longer than limit into pieces of at most limit
// visible characters: between its lines when they fit, else inside a span at
// a sentence end, else at a word boundary, else between characters.
func cutBlock(blk block, limit int) [][]span {
	var chunks [][]span
	var cur []span
	curLen := 0
	flush := func() {
		for len(cur) > 0 && strings.TrimSpace(cur[len(cur)-1].text) == "" {
			curLen -= utf16Len(cur[len(cur)-1].text)
			cur = cur[:len(cur)-1]
		}
		if curLen > 0 {
			chunks = append(chunks, cur)
		}
		cur, curLen = nil, 0
	}
	queue := append([]span(nil), blk...)
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if curLen == 0 {
			// A piece starts with what the reader sees, not with the line
			// break or the space it was cut after.
			s.text = strings.TrimLeftFunc(s.text, unicode.IsSpace)
			if s.text == "" {
				continue
			}
		}
		n := utf16Len(s.text)
		if curLen+n <= limit {
			cur = append(cur, s)
			curLen += n
			continue
		}
		if n <= limit || curLen > limit/2 {
			// It fits a message of its own, or too little room is left
			// here to be worth cutting into.
			flush()
			queue = append([]span{s}, queue...)
			continue
		}
		head, tail := cutText(s.text, limit-curLen)
		if head != "" {
			cur = append(cur, span{open: s.open, close: s.close, text: head})
			curLen += utf16Len(head)
		}
		flush()
		queue = append([]span{{open: s.open, close: s.close, text: tail}}, queue...)
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
