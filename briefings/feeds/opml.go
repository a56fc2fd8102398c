package feeds

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/newsbot/newsbot/briefings/internal/safehttp"
	"golang.org/x/net/html/charset"
)

// maxOPMLBytes bounds an imported subscription list: ten megabytes is tens
// of thousands of feeds.
const maxOPMLBytes = 10 << 20

// ErrInvalidOPML is wrapped by ParseOPML's error for a document that is not
// OPML or not well-formed.
var ErrInvalidOPML = errors.New("invalid OPML")

// OPMLFeed is one feed of a subscription list.
type OPMLFeed struct {
	Title string // may be empty
	URL   string
}

// ParseOPML reads the feeds of an OPML 1.0 or 2.0 subscription list: every
// outline with an xmlUrl, at any depth of categories, in document order,
// each URL once (the first title wins). The document may be at most 10 MiB.
func ParseOPML(r io.Reader) ([]OPMLFeed, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxOPMLBytes+1))
	if err != nil {
		return nil, fmt.Errorf("feeds: read OPML: %w", err)
	}
	if len(data) > maxOPMLBytes {
		return nil, fmt.Errorf("feeds: OPML: %w: larger than %s", ErrTooLarge, safehttp.FormatBytes(maxOPMLBytes))
	}

	dec := xml.NewDecoder(bytes.NewReader(repairUTF8(data)))
	// Subscription lists come from many programs, some careless with
	// entities and quoting; the lenient mode reads what they meant.
	dec.Strict = false
	dec.Entity = xml.HTMLEntity
	dec.CharsetReader = charset.NewReaderLabel

	var feeds []OPMLFeed
	seen := make(map[string]bool)
	rootSeen := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("feeds: OPML: %w: %w", ErrInvalidOPML, err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !rootSeen {
			if !strings.EqualFold(start.Name.Local, "opml") {
				return nil, fmt.Errorf("feeds: OPML: %w: the document is <%s>, not <opml>", ErrInvalidOPML, collapseSpace(start.Name.Local, 40))
			}
			rootSeen = true
			continue
		}
		if !strings.EqualFold(start.Name.Local, "outline") {
			continue
		}
		feed := outlineFeed(start.Attr)
		if feed.URL == "" || seen[feed.URL] {
			continue
		}
		seen[feed.URL] = true
		feeds = append(feeds, feed)
	}
	if !rootSeen {
		return nil, fmt.Errorf("feeds: OPML: %w: no <opml> element", ErrInvalidOPML)
	}
	return feeds, nil
}

// outlineFeed reads an outline's attributes, whose names differ in case
// between programs (xmlUrl, xmlURL, xmlurl).
func outlineFeed(attrs []xml.Attr) OPMLFeed {
	var feed OPMLFeed
	var title, text string
	for _, a := range attrs {
		switch strings.ToLower(a.Name.Local) {
		case "xmlurl":
			feed.URL = strings.TrimSpace(a.Value)
		case "title":
			title = collapseSpace(a.Value, maxTitleRunes)
		case "text":
			text = collapseSpace(a.Value, maxTitleRunes)
		}
	}
	feed.Title = title
	// WriteOPML puts the URL in text when there is no title, because OPML
	// requires text; reading that back as a title would invent one.
	if feed.Title == "" && text != feed.URL {
		feed.Title = text
	}
	return feed
}

type opmlDocument struct {
	XMLName xml.Name      `xml:"opml"`
	Version string        `xml:"version,attr"`
	Title   string        `xml:"head>title"`
	Outline []opmlOutline `xml:"body>outline"`
}

type opmlOutline struct {
	Type   string `xml:"type,attr"`
	Text   string `xml:"text,attr"`
	Title  string `xml:"title,attr,omitempty"`
	XMLURL string `xml:"xmlUrl,attr"`
}

// WriteOPML writes feeds as an OPML 2.0 subscription list titled title.
func WriteOPML(w io.Writer, title string, feeds []OPMLFeed) error {
	doc := opmlDocument{Version: "2.0", Title: title, Outline: make([]opmlOutline, 0, len(feeds))}
	for _, feed := range feeds {
		text := feed.Title
		if text == "" {
			text = feed.URL // OPML 2.0 requires text on every outline
		}
		doc.Outline = append(doc.Outline, opmlOutline{Type: "rss", Text: text, Title: feed.Title, XMLURL: feed.URL})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("feeds: write OPML: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("feeds: write OPML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("feeds: write OPML: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("feeds: write OPML: %w", err)
	}
	return nil
}
