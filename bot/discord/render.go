package discord

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/newsbot/newsbot/briefings"
)

// Message is one Discord message: content and embeds, sent with
// allowed_mentions that ping nobody.
type Message struct {
	Content string
	Embeds  []*discordgo.MessageEmbed
	// Ephemeral marks an interaction reply only the person who asked sees.
	// Channel messages ignore it.
	Ephemeral bool
	// Text is the message's text form for a channel where the bot lacks
	// Embed Links: its content and stories as plain messages of at most
	// 2000 characters, split between stories. Empty for a message without
	// embeds.
	Text []string
	// Files are attachments (an exported feed list); sent as a follow-up.
	Files []*discordgo.File
}

// Summary describes the message for logs without its text.
func (m *Message) Summary() string {
	first := ""
	if len(m.Embeds) > 0 {
		first = m.Embeds[0].Title
	} else {
		first = m.Content
	}
	if runes(first) > 40 {
		first = string([]rune(first)[:40]) + "…"
	}
	return fmt.Sprintf("discord message: %d embed(s), %d content chars, starting %q", len(m.Embeds), runes(m.Content), first)
}

// noMentions is the allowed_mentions every message carries: parse nothing,
// so "@everyone", role and user mentions in feed text ping nobody. Parse
// must be an empty slice: a nil slice is sent as null, which Discord reads
// as the default (ping everything).
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// embedColor is newsbot's accent on every briefing embed.
const embedColor = 0x2b6cb0

// RenderBriefing turns a briefing into Discord messages: one embed per story
// (headline as the linked title, summary as the description, each source as
// a field), packed into as few messages as Discord's limits allow, each with
// the text form of its stories for channels without Embed Links. All feed
// text is cleaned and escaped. The same briefing always renders the same
// messages.
func RenderBriefing(b briefings.Briefing) []*Message {
	header := "**Top stories**"
	if !b.Topics.IsZero() {
		header = escapeClip("Top stories: "+cleanText(b.Topics.String(), false), maxContent)
	}
	if len(b.Entries) == 0 {
		return []*Message{{Content: header + "\nNothing new to report."}}
	}
	msgs := []*Message{{Content: header}}
	texts := [][]string{{textHeader(header)}} // each message's text items
	total := 0
	for i, e := range b.Entries {
		em := entryEmbed(e)
		size := embedSize(em)
		cur := msgs[len(msgs)-1]
		if len(cur.Embeds) == maxEmbedsPerMessage || total+size > maxEmbedTotal {
			cur = &Message{}
			msgs = append(msgs, cur)
			texts = append(texts, nil)
			total = 0
		}
		cur.Embeds = append(cur.Embeds, em)
		texts[len(texts)-1] = append(texts[len(texts)-1], entryText(i+1, e))
		total += size
	}
	for i, m := range msgs {
		m.Text = textParts(texts[i])
	}
	return msgs
}

// entryEmbed renders one story within the per-embed limits, and small
// enough (≤ maxEmbedTotal) to travel alone in a message.
func entryEmbed(e briefings.Entry) *discordgo.MessageEmbed {
	em := &discordgo.MessageEmbed{
		Type:  discordgo.EmbedTypeRich,
		Title: escapeClip(cleanText(e.Headline, false), maxEmbedTitle),
		Color: embedColor,
	}
	if em.Title == "" {
		em.Title = "(untitled story)"
	}
	var lines []string
	for _, l := range e.Summary {
		if l = cleanText(l, false); l != "" {
			lines = append(lines, l)
		}
	}
	em.Description = escapeClip(strings.Join(lines, "\n"), maxEmbedDescription)
	if y := e.Published.Year(); !e.Published.IsZero() && y >= 1970 && y <= 9999 {
		em.Timestamp = e.Published.UTC().Format(time.RFC3339)
	}
	for _, s := range e.Sources {
		if em.URL == "" {
			em.URL = linkURL(s.URL)
		}
	}
	sources := e.Sources
	more := 0
	if len(sources) > maxEmbedFields {
		more = len(sources) - (maxEmbedFields - 1)
		sources = sources[:maxEmbedFields-1]
	}
	for _, s := range sources {
		em.Fields = append(em.Fields, sourceField(s))
	}
	// Title and description together stay under the message budget, so
	// dropping sources from the end always makes the embed fit.
	for embedSize(em) > maxEmbedTotal-moreFieldSize && len(em.Fields) > 0 {
		em.Fields = em.Fields[:len(em.Fields)-1]
		more++
	}
	if more > 0 {
		em.Fields = append(em.Fields, moreField(more))
	}
	return em
}

// moreFieldSize bounds the size of the "More sources" field.
const moreFieldSize = 40

func moreField(n int) *discordgo.MessageEmbedField {
	return &discordgo.MessageEmbedField{Name: "More sources", Value: strconv.Itoa(n) + " more"}
}

// sourceField shows one outlet's article: the outlet as the field name, the
// article's title as a masked link.
func sourceField(s briefings.SourceLink) *discordgo.MessageEmbedField {
	link := linkURL(s.URL)
	name := outletName(s, link)
	text := cleanText(s.Title, false)
	if text == "" {
		text = "Read the article"
	}
	value := escapeClip(text, maxEmbedFieldValue)
	// A masked link needs room for "[", "](", the URL and ")".
	if link != "" && runes(link)+5 < maxEmbedFieldValue {
		value = "[" + escapeClip(text, maxEmbedFieldValue-runes(link)-4) + "](" + link + ")"
	}
	return &discordgo.MessageEmbedField{Name: escapeClip(name, maxEmbedFieldName), Value: value}
}

// outletName names a source's outlet for people: the feed's name for it,
// else the link's host, else "Source". link is linkURL(s.URL).
func outletName(s briefings.SourceLink, link string) string {
	name := cleanText(s.Outlet, false)
	if name == "" && link != "" {
		if u, err := url.Parse(link); err == nil {
			name = u.Hostname()
		}
	}
	if name == "" {
		name = "Source"
	}
	return name
}

// embedSize is what counts towards the 6000-character budget of a message.
func embedSize(e *discordgo.MessageEmbed) int {
	n := runes(e.Title) + runes(e.Description)
	for _, f := range e.Fields {
		n += runes(f.Name) + runes(f.Value)
	}
	if e.Footer != nil {
		n += runes(e.Footer.Text)
	}
	if e.Author != nil {
		n += runes(e.Author.Name)
	}
	return n
}

// linkURL returns a feed's link in a form that is safe inside a masked link
// and an embed URL: http(s) only, with a plain-ASCII host, no credentials,
// and the characters that would end a masked link (or a line) escaped. It
// returns "" for anything else.
func linkURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return ""
	}
	u.Scheme = scheme
	u.User = nil
	for _, r := range u.Host {
		if r > 0x7e || r <= ' ' {
			return ""
		}
	}
	var b strings.Builder
	for _, c := range []byte(u.String()) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>\"\\`|[]{}^", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	out := b.String()
	if runes(out) > maxEmbedURL {
		return ""
	}
	if check, err := url.Parse(out); err != nil || check.Hostname() == "" {
		return ""
	}
	return out
}
