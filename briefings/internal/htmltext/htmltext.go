// Package htmltext renders HTML as plain text for summaries: markup removed,
// whitespace collapsed, paragraphs and lines kept, what a reader of a summary
// never wants (scripts, styling, media, figure captions) left out. Feeds'
// descriptions and article pages are rendered by the same rules.
package htmltext

import (
	"strings"
	"unicode"

	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Break levels a textBuilder can hold pending between two runs of text.
const (
	noBreak        = 0
	lineBreak      = 1 // "\n"
	paragraphBreak = 2 // "\n\n"
)

// textBuilder collects plain text: whitespace collapsed to single spaces,
// line and paragraph breaks kept, control characters dropped, invalid UTF-8
// replaced, and at most limit runes (0 means no limit). Separators are only
// written in front of a visible rune, so the result never starts or ends
// with whitespace.
type textBuilder struct {
	b            strings.Builder
	limit        int
	runes        int
	pendingSpace bool
	pendingBreak int
	full         bool
}

func (t *textBuilder) writeText(s string) {
	for _, r := range s { // invalid UTF-8 arrives here as utf8.RuneError, i.e. U+FFFD
		if t.full {
			return
		}
		switch {
		case unicode.IsSpace(r):
			t.pendingSpace = true
		case unicode.IsControl(r), r == '\uFEFF':
			// Control characters and stray byte-order marks are never content.
		default:
			t.writeVisible(r)
		}
	}
}

func (t *textBuilder) writeVisible(r rune) {
	sep := ""
	if t.runes > 0 {
		switch {
		case t.pendingBreak == lineBreak:
			sep = "\n"
		case t.pendingBreak >= paragraphBreak:
			sep = "\n\n"
		case t.pendingSpace:
			sep = " "
		}
	}
	if t.limit > 0 && t.runes+len(sep)+1 > t.limit {
		t.full = true
		return
	}
	t.b.WriteString(sep)
	t.b.WriteRune(r)
	t.runes += len(sep) + 1
	t.pendingSpace = false
	t.pendingBreak = noBreak
}

// space asks for a separator between the text before and after, as between
// two table cells.
func (t *textBuilder) space() { t.pendingSpace = true }

// breakAtLeast asks for at least the given break before the next text.
func (t *textBuilder) breakAtLeast(level int) { t.pendingBreak = max(t.pendingBreak, level) }

// addLineBreak adds one line break, so that two in a row (<br><br>, or a
// blank line in plain text) make a paragraph break.
func (t *textBuilder) addLineBreak() { t.pendingBreak = min(t.pendingBreak+1, paragraphBreak) }

func (t *textBuilder) String() string { return t.b.String() }

// skippedElements hold nothing a reader of a summary wants: code, styling,
// embedded media and their fallbacks, form controls, and figure captions
// (photo credits and alt-like blurbs that pollute summaries).
var skippedElements = map[atom.Atom]bool{
	atom.Head: true, atom.Title: true, atom.Script: true, atom.Style: true, atom.Noscript: true,
	atom.Template: true, atom.Figcaption: true, atom.Iframe: true, atom.Object: true, atom.Embed: true,
	atom.Svg: true, atom.Math: true, atom.Canvas: true, atom.Audio: true, atom.Video: true,
	atom.Select: true, atom.Textarea: true, atom.Button: true, atom.Noembed: true, atom.Noframes: true,
}

// rawTextSkipped are the skipped elements whose content the tokenizer reads
// as one raw text token rather than as markup.
var rawTextSkipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Iframe: true, atom.Title: true,
	atom.Textarea: true, atom.Noembed: true, atom.Noframes: true,
}

// elementBreaks is the break an element puts before and after its content.
var elementBreaks = map[atom.Atom]int{
	atom.P: paragraphBreak, atom.Div: paragraphBreak, atom.Blockquote: paragraphBreak,
	atom.Pre: paragraphBreak, atom.H1: paragraphBreak, atom.H2: paragraphBreak,
	atom.H3: paragraphBreak, atom.H4: paragraphBreak, atom.H5: paragraphBreak,
	atom.H6: paragraphBreak, atom.Ul: paragraphBreak, atom.Ol: paragraphBreak,
	atom.Dl: paragraphBreak, atom.Table: paragraphBreak, atom.Section: paragraphBreak,
	atom.Article: paragraphBreak, atom.Header: paragraphBreak, atom.Footer: paragraphBreak,
	atom.Aside: paragraphBreak, atom.Nav: paragraphBreak, atom.Main: paragraphBreak,
	atom.Figure: paragraphBreak, atom.Figcaption: paragraphBreak, atom.Address: paragraphBreak,
	atom.Hr: paragraphBreak, atom.Details: paragraphBreak, atom.Summary: paragraphBreak,
	atom.Fieldset: paragraphBreak, atom.Form: paragraphBreak, atom.Hgroup: paragraphBreak,
	atom.Center: paragraphBreak,
	atom.Li:     lineBreak, atom.Dt: lineBreak, atom.Dd: lineBreak, atom.Tr: lineBreak,
	atom.Caption: lineBreak,
}

// HTML renders an HTML fragment as plain text of at most limit runes:
// markup removed, entities decoded, whitespace collapsed, paragraphs
// separated by "\n\n" and lines (<br>, list items, table rows) by "\n".
func HTML(s string, limit int) string {
	doc, err := xhtml.Parse(strings.NewReader(s))
	if err != nil {
		// The parser repairs any markup but refuses to nest deeper than 512
		// elements; the tokenizer has no such limit.
		return Tokens(s, limit)
	}
	return Node(doc, limit)
}

// Node renders the tree under root as HTML renders a fragment.
func Node(root *xhtml.Node, limit int) string {
	t := textBuilder{limit: limit}
	// Walk the tree through its parent and sibling links rather than by
	// recursion: a hostile page can nest elements deeply.
	n := root
	for n != nil && !t.full {
		descend := true
		switch n.Type {
		case xhtml.TextNode:
			t.writeText(n.Data)
		case xhtml.ElementNode:
			openElement(&t, n)
			descend = !skippedElements[n.DataAtom]
		}
		if descend && n.FirstChild != nil {
			n = n.FirstChild
			continue
		}
		for n != nil {
			if n.Type == xhtml.ElementNode {
				closeElement(&t, n)
			}
			if n == root {
				n = nil
				break
			}
			if n.NextSibling != nil {
				n = n.NextSibling
				break
			}
			n = n.Parent
		}
	}
	return t.String()
}

func openElement(t *textBuilder, n *xhtml.Node) {
	switch n.DataAtom {
	case atom.Br:
		t.addLineBreak()
	case atom.Td, atom.Th, atom.Img:
		t.space()
	default:
		t.breakAtLeast(elementBreaks[n.DataAtom])
	}
}

func closeElement(t *textBuilder, n *xhtml.Node) {
	switch n.DataAtom {
	case atom.Td, atom.Th:
		t.space()
	default:
		t.breakAtLeast(elementBreaks[n.DataAtom])
	}
}

// Tokens is HTML without a document tree: text tokens are
// kept except the raw text of <script>, <style> and the like, and tags
// break lines as they would in the tree. Without the tree it cannot tell
// where an unclosed element ends, so it drops only raw-text elements
// (figure captions stay).
func Tokens(s string, limit int) string {
	t := textBuilder{limit: limit}
	z := xhtml.NewTokenizer(strings.NewReader(s))
	skipText := false
	for !t.full {
		switch z.Next() {
		case xhtml.ErrorToken:
			return t.String() // io.EOF: the string reader has no other error
		case xhtml.TextToken:
			if !skipText {
				t.writeText(string(z.Text()))
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, _ := z.TagName()
			n := &xhtml.Node{Type: xhtml.ElementNode, DataAtom: atom.Lookup(name)}
			openElement(&t, n)
			skipText = rawTextSkipped[n.DataAtom]
			continue
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			closeElement(&t, &xhtml.Node{Type: xhtml.ElementNode, DataAtom: atom.Lookup(name)})
		}
		skipText = false
	}
	return t.String()
}

// Plain tidies text that is plain by its format's definition (a JSON
// Feed's content_text and summary): a blank line separates paragraphs, a
// single newline separates lines.
func Plain(s string, limit int) string {
	t := textBuilder{limit: limit}
	for line := range strings.Lines(s) {
		if strings.TrimSpace(line) == "" {
			t.addLineBreak()
			t.addLineBreak()
			continue
		}
		t.breakAtLeast(lineBreak)
		t.writeText(line)
	}
	return t.String()
}

// Line makes s one line: whitespace collapsed, control characters dropped,
// invalid UTF-8 replaced, at most limit runes.
func Line(s string, limit int) string {
	t := textBuilder{limit: limit}
	t.writeText(s)
	return t.String()
}
