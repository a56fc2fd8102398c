package feeds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	xhtml "golang.org/x/net/html"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/internal/safehttp"
)

var _ briefings.FeedFinder = (*Fetcher)(nil)

// commonFeedPaths are where sites that do not link their feed usually keep
// it, tried in this order at the site's root.
var commonFeedPaths = []string{"/feed", "/rss", "/feed.xml", "/rss.xml", "/atom.xml", "/index.xml"}

// feedLinkTypes are the <link rel="alternate"> types that name a feed.
var feedLinkTypes = map[string]bool{
	"application/rss+xml":   true,
	"application/atom+xml":  true,
	"application/feed+json": true,
	"application/json":      true, // JSON Feed sites that predate feed+json
}

// maxFeedLinks bounds the feed links of one page that are tried.
const maxFeedLinks = 4

// FindFeed implements briefings.FeedFinder: rawURL is fetched with the
// poller's guards (address check at connect time, size, time and redirect
// limits); a feed is taken as it is, a web page by the feeds it links
// (<link rel="alternate" type="application/rss+xml" …>) or, failing those, by
// the common feed paths of its site. Every failure is a
// *briefings.FeedRefusedError whose Reason says what is wrong.
func (f *Fetcher) FindFeed(ctx context.Context, rawURL string) (briefings.FoundFeed, error) {
	u, err := briefings.CheckFeedURL(rawURL)
	if err != nil {
		return briefings.FoundFeed{}, err
	}
	given := briefings.RedactURL(u.String())
	// The whole search, page and candidates, is bounded: a chat waits for it.
	ctx, cancel := context.WithTimeout(ctx, 2*f.client.Timeout())
	defer cancel()

	found, err := f.readFeed(ctx, u.String())
	if err == nil {
		return found, nil
	}
	if !errors.Is(err, ErrNotAFeed) {
		return briefings.FoundFeed{}, &briefings.FeedRefusedError{URL: given, Reason: f.refusalReason(err), Err: err}
	}
	page, final, err := f.getPage(ctx, u.String())
	if err != nil {
		return briefings.FoundFeed{}, &briefings.FeedRefusedError{URL: given, Reason: f.refusalReason(err), Err: err}
	}
	if page == nil {
		return briefings.FoundFeed{}, &briefings.FeedRefusedError{URL: given,
			Reason: "it is neither a feed (RSS, Atom or JSON Feed) nor a web page", Err: ErrNotAFeed}
	}
	candidates := feedLinks(page, final)
	for _, p := range commonFeedPaths {
		candidates = append(candidates, final.ResolveReference(&url.URL{Path: p}).String())
	}
	var lastErr error
	tried := map[string]bool{u.String(): true, final.String(): true}
	for _, c := range candidates {
		if tried[c] || ctx.Err() != nil {
			continue
		}
		tried[c] = true
		found, err := f.readFeed(ctx, c)
		if err == nil {
			return found, nil
		}
		lastErr = err
	}
	if ctx.Err() != nil && lastErr != nil {
		return briefings.FoundFeed{}, &briefings.FeedRefusedError{URL: given, Reason: f.refusalReason(lastErr), Err: lastErr}
	}
	return briefings.FoundFeed{}, &briefings.FeedRefusedError{URL: given,
		Reason: "the page links no feed, and its site has none at " + strings.Join(commonFeedPaths, ", "), Err: lastErr}
}

// readFeed fetches and parses one candidate address as a feed.
func (f *Fetcher) readFeed(ctx context.Context, addr string) (briefings.FoundFeed, error) {
	res, err := f.Fetch(ctx, briefings.Source{URL: addr})
	if err != nil {
		return briefings.FoundFeed{}, err
	}
	return briefings.FoundFeed{URL: addr, Title: res.Title, Items: res.Items}, nil
}

// getPage fetches a web page with the fetcher's client and limits. page is
// nil when the answer is not HTML.
func (f *Fetcher) getPage(ctx context.Context, addr string) (page []byte, final *url.URL, err error) {
	resp, err := f.client.Get(ctx, safehttp.Request{URL: addr, Accept: "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"})
	if err != nil {
		return nil, nil, err
	}
	if final, err = url.Parse(resp.URL); err != nil || resp.URL == "" {
		final, _ = url.Parse(addr)
	}
	media, _, _ := mime.ParseMediaType(resp.ContentType)
	if media != "text/html" && media != "application/xhtml+xml" && !looksLikeHTML(resp.Body) {
		return nil, final, nil
	}
	return resp.Body, final, nil
}

// feedLinks returns the absolute addresses of the feeds a page links with
// <link rel="alternate">, in document order, at most maxFeedLinks. Relative
// addresses resolve against the page's <base href> or its own address.
func feedLinks(page []byte, pageURL *url.URL) []string {
	base := pageURL
	var links []string
	z := xhtml.NewTokenizer(bytes.NewReader(page))
	for len(links) < maxFeedLinks {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		if !hasAttr || (string(name) != "link" && string(name) != "base") {
			continue
		}
		attrs := map[string]string{}
		for {
			k, v, more := z.TagAttr()
			attrs[strings.ToLower(string(k))] = string(v)
			if !more {
				break
			}
		}
		if string(name) == "base" {
			if b, err := pageURL.Parse(attrs["href"]); err == nil && safehttp.IsHTTP(b) {
				base = b
			}
			continue
		}
		rels := strings.Fields(strings.ToLower(attrs["rel"]))
		typ, _, _ := mime.ParseMediaType(attrs["type"])
		if !slices.Contains(rels, "alternate") || !feedLinkTypes[typ] || attrs["href"] == "" {
			continue
		}
		if l, err := base.Parse(strings.TrimSpace(attrs["href"])); err == nil && safehttp.IsHTTP(l) {
			l.Fragment = ""
			links = append(links, l.String())
		}
	}
	return links
}

// refusalReason says in a few words for a chat why a fetch failed.
func (f *Fetcher) refusalReason(err error) string {
	var fe *briefings.FetchError
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(err, ErrPrivateAddress):
		return "it is on a private or local network address, which newsbot does not fetch"
	case errors.Is(err, ErrTooManyRedirects):
		return fmt.Sprintf("it redirects more than %d times (a redirect loop?)", f.client.MaxRedirects())
	case errors.Is(err, ErrTooLarge):
		return "it is larger than the " + safehttp.FormatBytes(f.client.MaxBodyBytes()) + " newsbot reads"
	case errors.Is(err, ErrUnsupportedScheme):
		return "it redirects to an address that is not http or https"
	case errors.As(err, &fe) && fe.StatusCode != 0 && errors.Is(err, ErrHTTPStatus):
		return fmt.Sprintf("the server answered HTTP %d %s", fe.StatusCode, http.StatusText(fe.StatusCode))
	case errors.Is(err, context.DeadlineExceeded):
		return "the server did not answer within " + f.client.Timeout().Round(time.Second).String()
	case errors.As(err, &dnsErr):
		return "its host name does not resolve"
	case errors.Is(err, ErrNotAFeed), errors.Is(err, ErrMalformedFeed):
		return "it is not a feed newsbot can read (RSS, Atom or JSON Feed)"
	case errors.As(err, &opErr):
		return "the server cannot be reached"
	}
	return "it could not be fetched"
}

// FeedLists reads and writes OPML subscription lists for briefings.
type FeedLists struct{}

var _ briefings.FeedListCodec = FeedLists{}

// ReadFeedList implements briefings.FeedListCodec with ParseOPML.
func (FeedLists) ReadFeedList(r io.Reader) ([]briefings.ListedFeed, error) {
	list, err := ParseOPML(r)
	if err != nil {
		return nil, err
	}
	out := make([]briefings.ListedFeed, len(list))
	for i, o := range list {
		out[i] = briefings.ListedFeed{URL: o.URL, Title: o.Title}
	}
	return out, nil
}

// WriteFeedList implements briefings.FeedListCodec with WriteOPML.
func (FeedLists) WriteFeedList(w io.Writer, title string, feeds []briefings.ListedFeed) error {
	list := make([]OPMLFeed, len(feeds))
	for i, f := range feeds {
		list[i] = OPMLFeed{URL: f.URL, Title: f.Title}
	}
	return WriteOPML(w, title, list)
}
