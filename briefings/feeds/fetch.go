package feeds

import (
	"bytes"
	"context"
	"net/http"
	"net/netip"
	"time"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/internal/safehttp"
)

// Defaults for the zero values of Options: the guarded client's, shared with
// article pages.
const (
	DefaultTimeout      = safehttp.DefaultTimeout
	DefaultMaxBodyBytes = safehttp.DefaultMaxBodyBytes
	DefaultUserAgent    = safehttp.DefaultUserAgent
	DefaultMaxRedirects = safehttp.DefaultMaxRedirects
)

var (
	// ErrTooLarge is wrapped by the error for a feed body (counted after
	// decompression) or an OPML document over its size limit.
	ErrTooLarge = safehttp.ErrTooLarge
	// ErrTooManyRedirects is wrapped by the error for a fetch that was
	// redirected more than Options.MaxRedirects times.
	ErrTooManyRedirects = safehttp.ErrTooManyRedirects
	// ErrUnsupportedScheme is wrapped by the error for a feed URL, or a
	// redirect, that is not http or https.
	ErrUnsupportedScheme = safehttp.ErrUnsupportedScheme
	// ErrHTTPStatus is wrapped by the error for an answer that is neither
	// 2xx nor 304; the FetchError carries the status code.
	ErrHTTPStatus = safehttp.ErrHTTPStatus
	// ErrPrivateAddress is wrapped by the error of a fetch that would have
	// connected to an address outside the public internet.
	ErrPrivateAddress = safehttp.ErrPrivateAddress
)

// Options configure a Fetcher. The zero value is ready to use.
type Options struct {
	Timeout      time.Duration // per request, body included; DefaultTimeout when 0
	MaxBodyBytes int64         // limit on the decompressed body; DefaultMaxBodyBytes when 0
	UserAgent    string        // DefaultUserAgent when empty
	// AllowPrivate lets feeds live on loopback, private and other non-public
	// addresses (NEWSBOT_ALLOW_PRIVATE_FEEDS=true).
	AllowPrivate bool
	// MaxRedirects is how many redirects one fetch follows; DefaultMaxRedirects
	// when 0, none when negative.
	MaxRedirects int
	Now          func() time.Time // reads Retry-After dates; time.Now when nil
	// Transport replaces the whole network stack, address checks included.
	// For tests; nil means the fetcher's own checked transport.
	Transport http.RoundTripper
}

// Fetcher reads feeds over HTTP with conditional GET, size and time limits,
// and address checks. It is safe for concurrent use.
type Fetcher struct {
	client *safehttp.Client
}

var _ briefings.Fetcher = (*Fetcher)(nil)

// NewFetcher returns a Fetcher with opts, zero values replaced by defaults.
func NewFetcher(opts Options) *Fetcher { return newFetcher(opts, nil) }

// newFetcher takes the address check separately so that tests can stand a
// local server in for a public host; nil means the configured one.
func newFetcher(opts Options, check func(netip.AddrPort) error) *Fetcher {
	return &Fetcher{client: safehttp.New(safehttp.Options{
		Timeout:      opts.Timeout,
		MaxBodyBytes: opts.MaxBodyBytes,
		UserAgent:    opts.UserAgent,
		What:         "feed",
		AllowPrivate: opts.AllowPrivate,
		CheckAddress: check,
		MaxRedirects: opts.MaxRedirects,
		Now:          opts.Now,
		Transport:    opts.Transport,
	})}
}

// CloseIdleConnections closes the connections kept open for reuse.
func (f *Fetcher) CloseIdleConnections() { f.client.CloseIdleConnections() }

// feedAccept asks for a feed, and takes whatever comes: many servers label
// feeds text/html or text/plain.
const feedAccept = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"

// Fetch reads src.URL, conditionally on src.ETag and src.LastModified.
//
// A 304 answer gives NotModified with the validators (the old ones where the
// answer leaves them out). A 2xx answer is parsed; its items carry
// src.URL as FeedURL, while relative links resolve against the address the
// feed was finally read from. Every failure to get a feed body is a
// *briefings.FetchError (StatusCode 0 when no answer was read); a body that
// is not a feed is ParseFeed's error.
func (f *Fetcher) Fetch(ctx context.Context, src briefings.Source) (briefings.FetchResult, error) {
	resp, err := f.client.Get(ctx, safehttp.Request{
		URL: src.URL, Accept: feedAccept, ETag: src.ETag, LastModified: src.LastModified,
	})
	if err != nil {
		return briefings.FetchResult{}, err
	}
	if resp.NotModified {
		return briefings.FetchResult{NotModified: true, ETag: resp.ETag, LastModified: resp.LastModified}, nil
	}
	feed, err := ParseFeed(resp.URL, bytes.NewReader(resp.Body))
	if err != nil {
		return briefings.FetchResult{}, err
	}
	for i := range feed.Items {
		feed.Items[i].FeedURL = src.URL
	}
	return briefings.FetchResult{
		Title:        feed.Title,
		Items:        feed.Items,
		ETag:         resp.ETag,
		LastModified: resp.LastModified,
	}, nil
}
