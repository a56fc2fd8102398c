package article

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/internal/safehttp"
)

// DefaultMaxPerHost is how many pages of one site are fetched at once, at
// most: an outlet's whole feed of teasers must not land on its server at once.
const DefaultMaxPerHost = 2

// ErrReservedName is wrapped by the error for a link to a host under a
// top-level domain reserved for documentation and testing (RFC 6761: .example,
// .invalid, .test), which names no page anyone published: it is refused
// without a DNS query.
var ErrReservedName = errors.New("host name is reserved for documentation and testing")

func reservedName(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, tld := range []string{"example", "invalid", "test"} {
		if host == tld || strings.HasSuffix(host, "."+tld) {
			return true
		}
	}
	return false
}

// ErrPaywalled is wrapped by the error for a page whose text stands behind a
// paywall or a login wall.
var ErrPaywalled = errors.New("behind a paywall or login wall")

// Options configure a Fetcher. The zero value is ready to use; its guards
// are the feeds' (see briefings/feeds).
type Options struct {
	Timeout      time.Duration // per page, body included; safehttp's 20 s when 0
	MaxBodyBytes int64         // limit on the decompressed page; 5 MiB when 0
	UserAgent    string        // newsbot's when empty
	// AllowPrivate lets pages live on loopback, private and other non-public
	// addresses (NEWSBOT_ALLOW_PRIVATE_FEEDS=true).
	AllowPrivate bool
	MaxRedirects int // 5 when 0, none when negative
	MaxPerHost   int // pages of one host fetched at once; DefaultMaxPerHost when 0
	// MaxExtracting is how many pages are parsed at once, whatever the
	// number of fetches under way; DefaultMaxExtracting when 0.
	MaxExtracting int
	// Transport replaces the whole network stack, address checks included.
	// For tests; nil means the fetcher's own checked transport.
	Transport http.RoundTripper
}

// Fetcher reads article pages with the feeds' guards and extracts their main
// text. It implements briefings.ArticleFetcher and is safe for concurrent use.
type Fetcher struct {
	client *safehttp.Client
	// extracting holds a slot per page being parsed: parsing is the CPU-
	// and memory-heavy part (a page's tree is several times its bytes), and
	// more of it at once than there are cores only costs memory.
	extracting chan struct{}
}

// DefaultMaxExtracting is how many pages are parsed at once by default: one
// core parses 18–32 pages/s, far more than feeds publish, and each parse
// at once adds its tree to the peak memory.
const DefaultMaxExtracting = 1

var _ briefings.ArticleFetcher = (*Fetcher)(nil)

// NewFetcher returns a Fetcher with opts, zero values replaced by defaults.
func NewFetcher(opts Options) *Fetcher { return newFetcher(opts, nil) }

// newFetcher takes the address check separately so that tests can stand a
// local server in for a public host; nil means the configured one.
func newFetcher(opts Options, check func(netip.AddrPort) error) *Fetcher {
	if opts.MaxPerHost <= 0 {
		opts.MaxPerHost = DefaultMaxPerHost
	}
	if opts.MaxExtracting <= 0 {
		opts.MaxExtracting = DefaultMaxExtracting
	}
	return &Fetcher{extracting: make(chan struct{}, opts.MaxExtracting), client: safehttp.New(safehttp.Options{
		Timeout:      opts.Timeout,
		MaxBodyBytes: opts.MaxBodyBytes,
		UserAgent:    opts.UserAgent,
		What:         "page",
		AllowPrivate: opts.AllowPrivate,
		CheckAddress: check,
		MaxRedirects: opts.MaxRedirects,
		MaxPerHost:   opts.MaxPerHost,
		Transport:    opts.Transport,
	})}
}

// CloseIdleConnections closes the connections kept open for reuse.
func (f *Fetcher) CloseIdleConnections() { f.client.CloseIdleConnections() }

// pageTypes are the only media types read as article pages.
var pageTypes = []string{"text/html", "application/xhtml+xml"}

// FetchArticle fetches prev.URL, conditionally on prev's validators, and
// extracts its article. A 304 gives prev back. Every failure wraps a
// *briefings.ArticleFailure naming its reason.
func (f *Fetcher) FetchArticle(ctx context.Context, prev briefings.ArticlePage) (briefings.ArticlePage, error) {
	if u, err := url.Parse(prev.URL); err == nil && reservedName(u.Hostname()) {
		return briefings.ArticlePage{}, &briefings.ArticleFailure{Reason: briefings.ArticleRefused,
			Err: fmt.Errorf("%s: %w", briefings.RedactURL(prev.URL), ErrReservedName)}
	}
	resp, err := f.client.Get(ctx, safehttp.Request{
		URL:          prev.URL,
		Accept:       "text/html, application/xhtml+xml;q=0.9",
		ETag:         prev.ETag,
		LastModified: prev.LastModified,
		MediaTypes:   pageTypes,
	})
	if err != nil {
		return briefings.ArticlePage{}, &briefings.ArticleFailure{Reason: fetchReason(err), Err: err}
	}
	if resp.NotModified {
		prev.ETag, prev.LastModified = resp.ETag, resp.LastModified
		return prev, nil
	}
	select {
	case f.extracting <- struct{}{}:
	case <-ctx.Done():
		return briefings.ArticlePage{}, &briefings.ArticleFailure{Reason: briefings.ArticleError, Err: ctx.Err()}
	}
	page, err := ExtractBytes(resp.URL, resp.ContentType, resp.Body)
	<-f.extracting
	if err == nil {
		err = checkPaywall(prev.URL, resp.URL, resp.Body, page)
	}
	if err != nil {
		reason := briefings.ArticleNoText
		if errors.Is(err, ErrPaywalled) {
			reason = briefings.ArticlePaywalled
		}
		return briefings.ArticlePage{}, &briefings.ArticleFailure{
			Reason: reason,
			Err:    fmt.Errorf("%s: %w", briefings.RedactURL(resp.URL), err),
		}
	}
	return briefings.ArticlePage{
		URL:          prev.URL,
		Title:        page.Title,
		Text:         page.Text,
		Published:    page.Published,
		Language:     page.Language,
		ETag:         resp.ETag,
		LastModified: resp.LastModified,
	}, nil
}

// fetchReason classifies a failure to get a page body.
func fetchReason(err error) string {
	var fe *briefings.FetchError
	switch {
	case errors.Is(err, safehttp.ErrContentType):
		return briefings.ArticleNotHTML
	case errors.Is(err, safehttp.ErrTooLarge):
		return briefings.ArticleTooLarge
	case errors.Is(err, context.DeadlineExceeded):
		return briefings.ArticleTimeout
	case errors.Is(err, safehttp.ErrPrivateAddress), errors.Is(err, safehttp.ErrUnsupportedScheme),
		errors.Is(err, safehttp.ErrTooManyRedirects):
		return briefings.ArticleRefused
	case errors.As(err, &fe) && (fe.StatusCode == http.StatusUnauthorized || fe.StatusCode == http.StatusPaymentRequired):
		return briefings.ArticlePaywalled
	case errors.Is(err, safehttp.ErrHTTPStatus):
		return briefings.ArticleHTTPError
	}
	return briefings.ArticleError
}

var (
	// loginPath is the path of a sign-in, registration or subscription page
	// a link was redirected to.
	loginPath = regexp.MustCompile(`(?i)(^|/)(log-?in|sign-?in|sign_in|auth|sso|register|registration|subscribe|subscription|paywall)(/|\.|$|\?)`)
	// notFree is schema.org's paywall markup, which publishers put on
	// paid articles for search engines: "isAccessibleForFree": false.
	notFree = regexp.MustCompile(`(?i)"isAccessibleForFree"\s*:\s*"?false"?`)
	// passwordField is a sign-in form.
	passwordField = regexp.MustCompile(`(?i)<input[^>]+type\s*=\s*["']?password`)
)

// loginWallWords is how long a page with a sign-in form may be and still be
// a login wall rather than an article with a sign-in box beside it.
const loginWallWords = 150

// checkPaywall is ErrPaywalled for a page behind a wall: redirected to a
// sign-in or subscription page, marked as not free to read, or a short page
// around a password field.
func checkPaywall(requested, final string, body []byte, page Page) error {
	if final != requested {
		if u, err := url.Parse(final); err == nil && loginPath.MatchString(u.Path) {
			return fmt.Errorf("%w: redirected to %s", ErrPaywalled, u.Path)
		}
	}
	if notFree.Match(body) {
		return fmt.Errorf("%w: the page marks itself isAccessibleForFree: false", ErrPaywalled)
	}
	if passwordField.Match(body) && len(strings.Fields(page.Text)) < loginWallWords {
		return fmt.Errorf("%w: a sign-in form and %d words", ErrPaywalled, len(strings.Fields(page.Text)))
	}
	return nil
}
