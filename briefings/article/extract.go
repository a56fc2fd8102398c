package article

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	trafilatura "github.com/markusmobius/go-trafilatura"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/transform"

	"github.com/newsbot/newsbot/briefings/internal/htmltext"
)

// Page is what an article page says, by its main text and metadata.
type Page struct {
	Title     string    // from the page's metadata; "" when it has none
	Text      string    // the main text: paragraphs separated by a blank line
	Published time.Time // the page's publication date; zero when it states none
	Language  string    // ISO 639-1, from the markup or the text; "" when unknown
}

// ErrNoText is wrapped by the error for a page with no main text to find: an
// empty page, a page of links, or markup the parser cannot read.
var ErrNoText = errors.New("no main text found")

// Caps on what one page may bring in, the same as one feed item's: the
// summarizer reads the start of a text anyway.
const (
	maxTitleRunes = 500
	maxTextRunes  = 50_000
)

// Extract reads an HTML page and finds its main text and metadata. baseURL
// is where the page was read from (it may be ""); the encoding is taken from
// a byte-order mark or the page's <meta> declaration, else UTF-8 when the
// bytes are UTF-8, else Windows-1252.
func Extract(baseURL string, r io.Reader) (Page, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return Page{}, fmt.Errorf("article: read page: %w", err)
	}
	return ExtractBytes(baseURL, "", body)
}

// ExtractBytes is Extract on a page already read, with the Content-Type it
// was served with (its charset parameter wins over the page's declaration;
// it may be "").
//
// go-trafilatura and its date and language detectors were not written for
// hostile input; a panic in them is recovered and reported as an error
// wrapping ErrNoText, so a page can cost its own extraction and nothing more.
func ExtractBytes(baseURL, contentType string, body []byte) (page Page, err error) {
	defer func() {
		if p := recover(); p != nil {
			page, err = Page{}, fmt.Errorf("article: %w: the extractor panicked on this page: %v\n%s", ErrNoText, p, firstFrames(debug.Stack()))
		}
	}()
	enc, _, _ := charset.DetermineEncoding(body, contentType)
	doc, err := html.Parse(transform.NewReader(bytes.NewReader(body), enc.NewDecoder()))
	if err != nil {
		// The parser repairs any markup but refuses to nest deeper than 512
		// elements.
		return Page{}, fmt.Errorf("article: %w: %w", ErrNoText, err)
	}
	pruneAfterText(doc, maxPageTextBytes)
	opts := trafilatura.Options{
		ExcludeComments: true,
		// The library's defaults otherwise: its fallbacks (readability, DOM
		// distiller) and focus settings score no better on the benchmark
		// (F1 0.959 with fallbacks against 0.961 without) and cost time.
		// Dates from the page's metadata and markup, without the
		// multilingual date parser's hundreds of regular expressions.
		HtmlDateMode: trafilatura.Fast,
	}
	if u, err := url.Parse(baseURL); err == nil && u.IsAbs() {
		opts.OriginalURL = u
	}
	res, err := trafilatura.ExtractDocument(doc, opts)
	if err != nil {
		return Page{}, fmt.Errorf("article: %w: %w", ErrNoText, err)
	}
	page = Page{
		Title:     htmltext.Line(res.Metadata.Title, maxTitleRunes),
		Text:      mainText(res.ContentNode),
		Published: res.Metadata.Date,
		Language:  strings.ToLower(htmltext.Line(res.Metadata.Language, 16)),
	}
	// With nothing else on the page, trafilatura's last resort gives back
	// its title: a headline is not an article.
	if page.Text == "" || htmltext.Line(page.Text, 0) == page.Title {
		return Page{}, fmt.Errorf("article: %w", ErrNoText)
	}
	return page, nil
}

// maxPageTextBytes is how much visible text of a page is read. go-trafilatura
// builds its text by repeated concatenation, so its time grows with the square
// of a page's text: a 5 MiB page of dense paragraphs took two minutes. News
// pages carry 10–100 KiB of text, and the main text kept is capped at
// maxTextRunes anyway.
const maxPageTextBytes = 256 << 10

// pruneAfterText removes everything after the point where the document's
// visible text (script and style aside) passes budget bytes.
func pruneAfterText(doc *html.Node, budget int) {
	seen := 0
	var cut *html.Node
	for n := range doc.Descendants() {
		if n.Type != html.TextNode || n.Parent == nil || invisible[n.Parent.DataAtom] {
			continue
		}
		if seen += len(n.Data); seen > budget {
			cut = n
			break
		}
	}
	for ; cut != nil && cut != doc; cut = cut.Parent {
		for cut.NextSibling != nil {
			cut.Parent.RemoveChild(cut.NextSibling)
		}
	}
}

// invisible are the elements whose text is never a page's text.
var invisible = map[atom.Atom]bool{atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true}

// firstFrames keeps the top of a stack trace: enough to find the bug in a
// log line, not a screenful.
func firstFrames(stack []byte) string {
	lines := strings.SplitN(string(stack), "\n", 16)
	return strings.Join(lines[:min(len(lines), 15)], "\n")
}

// mainText renders trafilatura's output tree as text. The tree's elements
// are renamed or made without their atom (a <div> turned into Data "p", a
// new "td"), and the renderer goes by the atom, so each gets the atom of its
// name first.
func mainText(root *html.Node) string {
	if root == nil {
		return ""
	}
	for n := range root.Descendants() {
		if n.Type == html.ElementNode {
			n.DataAtom = atom.Lookup([]byte(n.Data))
		}
	}
	return htmltext.Node(root, maxTextRunes)
}
