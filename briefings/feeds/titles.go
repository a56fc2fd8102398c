package feeds

import (
	"bytes"
	"encoding/xml"
	"html"
	"strings"

	"golang.org/x/net/html/charset"
)

// Titles are where feeds are least consistent about markup. The feed parser
// decodes a title's escaping once, which is right for the usual
// "Tom &amp; Jerry" and for "&lt;b&gt;Breaking&lt;/b&gt;" (a title that
// mentions a tag: after decoding, "<b>Breaking</b>" is its text). But
// "<![CDATA[<b>Breaking</b>]]>" and an Atom title of type html decode to the
// same characters, and there the tags are markup to remove. Only the title
// element as written tells the two apart, so titleCleaner reads the raw
// elements again, for the rare feed where a decoded title contains '<'.

// titleCleaner turns the titles the feed parser decoded into plain text.
type titleCleaner struct {
	// markup holds the plain text of every title whose '<' were markup, as
	// titleFromHTML renders it; nil when no title needs the distinction.
	markup map[string]bool
}

func newTitleCleaner(data []byte, isAtom bool, decoded []string) titleCleaner {
	for _, title := range decoded {
		if strings.Contains(title, "<") {
			return titleCleaner{markup: markupTitles(data, isAtom)}
		}
	}
	return titleCleaner{}
}

// clean returns title as plain text: markup removed when the feed wrote it
// as markup, kept as text when the feed escaped it. (An escaped title whose
// text equals a markup title's loses its tags too; no feed does that on
// purpose.)
func (c titleCleaner) clean(title string) string {
	if c.markup != nil && strings.Contains(title, "<") {
		if text := titleFromHTML(title); c.markup[text] {
			return text
		}
	}
	return cleanTitle(title)
}

// titleFromHTML renders a title that is HTML as one line of plain text.
// Entities left after the HTML's own are decoded once more, as cleanTitle
// does, for feeds that escape twice.
func titleFromHTML(s string) string {
	return cleanTitle(htmlToText(s, 0))
}

// rawTitle is a title element as written in the document.
type rawTitle struct {
	Type  string `xml:"type,attr"`
	Mode  string `xml:"mode,attr"` // Atom 0.3
	Inner string `xml:",innerxml"`
}

// markupTitles finds the title elements (of the feed and of its items, in
// any namespace) whose content is markup, and returns their plain text.
// RSS has no rule; a title is markup there when it holds tags literally, in
// CDATA or as child elements, rather than escaped. Atom says it with the
// type attribute (RFC 4287 section 3.1), text by default.
func markupTitles(data []byte, isAtom bool) map[string]bool {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	dec.CharsetReader = charset.NewReaderLabel
	markup := make(map[string]bool)
	for {
		tok, err := dec.Token()
		if err != nil {
			// io.EOF, or a fault the lenient feed parser got past: titles
			// this reading cannot reach keep the plain-text treatment.
			return markup
		}
		start, ok := tok.(xml.StartElement)
		if !ok || !strings.EqualFold(start.Name.Local, "title") {
			continue
		}
		var raw rawTitle
		if err := dec.DecodeElement(&raw, &start); err != nil {
			return markup
		}
		if source, ok := raw.markupSource(isAtom); ok {
			markup[titleFromHTML(source)] = true
		}
	}
}

// markupSource returns the HTML a title element holds, and whether it holds
// markup at all.
func (t rawTitle) markupSource(isAtom bool) (string, bool) {
	kind := strings.ToLower(strings.TrimSpace(t.Type))
	switch {
	case strings.Contains(kind, "xhtml"):
		return t.Inner, strings.Contains(t.Inner, "<")
	case kind == "html", kind == "text/html", isAtom && kind == "" && strings.EqualFold(t.Mode, "escaped"):
		decoded := xmlText(t.Inner)
		return decoded, strings.Contains(decoded, "<")
	case isAtom || kind != "":
		return "", false // Atom text, or an explicit type that is not HTML
	}
	// RSS: CDATA content is taken as written and the rest stays escaped, so
	// the only '<' left are the feed's literal tags.
	source := unwrapCDATA(t.Inner, func(s string) string { return s })
	return source, strings.Contains(source, "<")
}

// xmlText is the character data of raw inner XML: CDATA sections as
// written, the rest with its references decoded.
func xmlText(inner string) string {
	return unwrapCDATA(inner, html.UnescapeString)
}

// unwrapCDATA replaces each CDATA section of inner XML with its content and
// passes the text between sections through outside.
func unwrapCDATA(inner string, outside func(string) string) string {
	const open, end = "<![CDATA[", "]]>"
	var b strings.Builder
	for {
		i := strings.Index(inner, open)
		if i < 0 {
			b.WriteString(outside(inner))
			return b.String()
		}
		b.WriteString(outside(inner[:i]))
		inner = inner[i+len(open):]
		j := strings.Index(inner, end)
		if j < 0 {
			b.WriteString(inner)
			return b.String()
		}
		b.WriteString(inner[:j])
		inner = inner[j+len(end):]
	}
}
