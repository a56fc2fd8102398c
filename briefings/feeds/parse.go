package feeds

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	jsonfeed "github.com/mmcdole/gofeed/json"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/internal/safehttp"
)

// ErrNotAFeed is returned (wrapped) by ParseFeed for a document that is not
// RSS, Atom or JSON Feed, such as a web page given instead of its feed.
var ErrNotAFeed = errors.New("not an RSS, Atom or JSON feed")

// ErrMalformedFeed is returned (wrapped, next to the parser's own error) by
// ParseFeed for a feed that is broken beyond what the parser tolerates.
var ErrMalformedFeed = errors.New("malformed feed")

// Feed is one parsed feed document.
type Feed struct {
	Title   string // plain text; empty when the feed has none
	SiteURL string // the site the feed belongs to, absolute http(s); empty when unknown
	Items   []briefings.Item
}

// ParseFeed parses an RSS 2.0/1.0, Atom or JSON Feed document read from r
// (all of it: the caller bounds its size). baseURL is where the document was
// read from; it becomes each item's FeedURL and resolves relative links.
//
// Titles and texts come out as plain text. An item's Published is zero when
// the feed gives no date; the caller decides what stands in for it.
func ParseFeed(baseURL string, r io.Reader) (Feed, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Feed{}, parseError(baseURL, err)
	}
	data = repairUTF8(data)

	parser := gofeed.NewParser()
	// The JSON original tells content_text (plain) from content_html.
	parser.KeepOriginalFeed = true
	parsed, err := parseGuarded(parser, data)
	switch {
	case errors.Is(err, gofeed.ErrFeedTypeNotDetected):
		if looksLikeHTML(data) {
			return Feed{}, parseError(baseURL, fmt.Errorf("%w: it is an HTML page; subscribe to the feed it links to", ErrNotAFeed))
		}
		return Feed{}, parseError(baseURL, ErrNotAFeed)
	case err != nil:
		return Feed{}, parseError(baseURL, fmt.Errorf("%w: %w", ErrMalformedFeed, err))
	}
	original, _ := parsed.OriginalFeed().(*jsonfeed.Feed)
	if original != nil && original.Items == nil && !strings.Contains(original.Version, "jsonfeed.org") {
		// Any JSON object passes gofeed's detection; one with neither a JSON
		// Feed version nor items is some other JSON document.
		return Feed{}, parseError(baseURL, fmt.Errorf("%w: JSON without a JSON Feed version or items", ErrNotAFeed))
	}
	titles := titleCleaner{}
	if original == nil { // JSON Feed titles are plain text by definition
		decoded := []string{parsed.Title}
		for _, in := range parsed.Items {
			if in != nil {
				decoded = append(decoded, in.Title)
			}
		}
		titles = newTitleCleaner(data, parsed.FeedType == "atom", decoded)
	}
	return translate(baseURL, parsed, original, titles), nil
}

// parseGuarded runs the feed parser, turning a panic into an error: gofeed
// v1.4.2 dereferences null JSON Feed items and authors ("items":[null]),
// mmcdole/gofeed#355, fixed upstream by #360 but in no release yet. Found by
// review, confirmed by TestParseFeedRejectsNonFeeds; fuzzing had not hit it.
func parseGuarded(parser *gofeed.Parser, data []byte) (feed *gofeed.Feed, err error) {
	defer func() {
		if p := recover(); p != nil {
			feed, err = nil, fmt.Errorf("the feed parser failed: %v", p)
		}
	}()
	return parser.Parse(bytes.NewReader(data))
}

func parseError(baseURL string, err error) error {
	return fmt.Errorf("feeds: parse %s: %w", briefings.RedactURL(baseURL), err)
}

func translate(baseURL string, parsed *gofeed.Feed, original *jsonfeed.Feed, titles titleCleaner) Feed {
	base := httpURL(nil, baseURL)
	site := httpURL(base, parsed.Link)
	feed := Feed{Title: titles.clean(parsed.Title)}
	if site != nil {
		feed.SiteURL = site.String()
	}

	outlet := feed.Title
	if outlet == "" {
		outlet = hostName(site)
	}
	if outlet == "" {
		outlet = hostName(base)
	}

	// Relative item links (xml:base already applied by the parser) are read
	// against the site, like miniflux does: a feed served from a feed host
	// writes its links relative to the site it describes. The document's
	// own address is the fallback.
	linkBase := site
	if linkBase == nil {
		linkBase = base
	}

	for i, in := range parsed.Items {
		if in == nil {
			continue
		}
		item := briefings.Item{
			FeedURL: baseURL,
			GUID:    collapseSpace(in.GUID, 0),
			Title:   titles.clean(in.Title),
			Outlet:  outlet,
		}
		item.Link = firstHTTPLink(linkBase, append([]string{in.Link}, in.Links...))
		if item.Link == "" {
			// An RSS guid is a permalink unless it says otherwise; feeds that
			// forget <link> usually have one.
			if u := httpURL(nil, item.GUID); u != nil {
				item.Link = u.String()
			}
		}
		if item.Title == "" && item.Link == "" {
			continue
		}
		if item.GUID == "" {
			item.GUID = item.Link
		}
		var jsonItem *jsonfeed.Item
		if original != nil && len(original.Items) == len(parsed.Items) {
			jsonItem = original.Items[i]
		}
		item.Text = itemText(in, jsonItem)
		switch {
		case in.PublishedParsed != nil:
			item.Published = in.PublishedParsed.UTC()
		case in.UpdatedParsed != nil:
			item.Published = in.UpdatedParsed.UTC()
		}
		feed.Items = append(feed.Items, item)
	}
	return feed
}

// itemText is the richer of the item's full content and its description:
// some feeds put the article in content:encoded and a teaser in
// description, others the reverse, others a one-line content.
func itemText(in *gofeed.Item, jsonItem *jsonfeed.Item) string {
	var content, description string
	if jsonItem != nil {
		// JSON Feed says exactly which fields are HTML.
		if jsonItem.ContentHTML != "" {
			content = htmlToText(jsonItem.ContentHTML, maxTextRunes)
		} else {
			content = plainToText(jsonItem.ContentText, maxTextRunes)
		}
		description = plainToText(jsonItem.Summary, maxTextRunes)
	} else {
		content = htmlToText(in.Content, maxTextRunes)
		description = htmlToText(in.Description, maxTextRunes)
	}
	if utf8.RuneCountInString(description) > utf8.RuneCountInString(content) {
		return description
	}
	return content
}

func firstHTTPLink(base *url.URL, links []string) string {
	for _, link := range links {
		if u := httpURL(base, link); u != nil {
			return u.String()
		}
	}
	return ""
}

// httpURL resolves ref against base (which may be nil) and returns it,
// without user information, when the result is an absolute http or https
// URL; nil otherwise.
func httpURL(base *url.URL, ref string) *url.URL {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if !safehttp.IsHTTP(u) {
		return nil
	}
	// A relative link inherits the base's user information, and a feed
	// fetched with a password must not hand it out in every item link.
	u.User = nil
	// url.Parse accepts hosts it cannot print back ("https://::0"); keep
	// only what survives the trip through a string, as the link will.
	again, err := url.Parse(u.String())
	if err != nil || !safehttp.IsHTTP(again) {
		return nil
	}
	return again
}

func hostName(u *url.URL) string {
	if u == nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}

var xmlEncodingPattern = regexp.MustCompile(`^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']`)

// repairUTF8 replaces invalid UTF-8 (and the non-characters U+FFFE and
// U+FFFF, which XML forbids) with U+FFFD in a document that is meant to be
// UTF-8, so that one bad byte does not make the XML parser reject the whole
// feed. A document that declares another encoding is left to the parser's
// charset conversion.
func repairUTF8(data []byte) []byte {
	if len(data) >= 2 && (data[0] == 0xFE && data[1] == 0xFF || data[0] == 0xFF && data[1] == 0xFE) {
		return data // UTF-16
	}
	if m := xmlEncodingPattern.FindSubmatch(bytes.TrimPrefix(data[:min(len(data), 512)], []byte("\uFEFF"))); m != nil {
		if label := strings.ToLower(string(m[1])); label != "utf-8" && label != "utf8" {
			return data
		}
	}
	if utf8.Valid(data) && !bytes.Contains(data, []byte("\uFFFE")) && !bytes.Contains(data, []byte("\uFFFF")) {
		return data
	}
	repaired := bytes.ToValidUTF8(data, []byte("\uFFFD"))
	repaired = bytes.ReplaceAll(repaired, []byte("\uFFFE"), []byte("\uFFFD"))
	return bytes.ReplaceAll(repaired, []byte("\uFFFF"), []byte("\uFFFD"))
}

var htmlStartPattern = regexp.MustCompile(`(?i)^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b`)

func looksLikeHTML(data []byte) bool {
	return htmlStartPattern.Match(bytes.TrimPrefix(data[:min(len(data), 1024)], []byte("\uFEFF")))
}
