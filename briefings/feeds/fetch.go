package feeds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// Defaults for the zero values of Options.
const (
	DefaultTimeout      = 20 * time.Second
	DefaultMaxBodyBytes = 5 << 20
	DefaultUserAgent    = "newsbot/1.0 (+https://github.com/newsbot/newsbot)"
	DefaultMaxRedirects = 5

	defaultKeepAlive = 30 * time.Second
)

var (
	// ErrTooLarge is wrapped by the error for a feed body (counted after
	// decompression) or an OPML document over its size limit.
	ErrTooLarge = errors.New("too large")
	// ErrTooManyRedirects is wrapped by the error for a fetch that was
	// redirected more than Options.MaxRedirects times.
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrUnsupportedScheme is wrapped by the error for a feed URL, or a
	// redirect, that is not http or https.
	ErrUnsupportedScheme = errors.New("unsupported URL scheme")
	// ErrHTTPStatus is wrapped by the error for an answer that is neither
	// 2xx nor 304; the FetchError carries the status code.
	ErrHTTPStatus = errors.New("unexpected HTTP status")
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
	opts   Options
	client *http.Client
}

var _ briefings.Fetcher = (*Fetcher)(nil)

// NewFetcher returns a Fetcher with opts, zero values replaced by defaults.
func NewFetcher(opts Options) *Fetcher {
	var check func(netip.AddrPort) error
	if !opts.AllowPrivate {
		check = checkPublicAddress
	}
	return newFetcher(opts, check)
}

// newFetcher takes the address check separately so that tests can stand a
// local server in for a public host.
func newFetcher(opts Options, check func(netip.AddrPort) error) *Fetcher {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	switch {
	case opts.MaxRedirects == 0:
		opts.MaxRedirects = DefaultMaxRedirects
	case opts.MaxRedirects < 0:
		opts.MaxRedirects = 0
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &Fetcher{opts: opts}
	rt := opts.Transport
	if rt == nil {
		rt = &http.Transport{
			// An environment proxy would make the connection, out of reach
			// of the address check.
			Proxy:                  nil,
			DialContext:            newDialer(check).DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           64,
			MaxIdleConnsPerHost:    2,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    10 * time.Second,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: 256 << 10,
		}
	}
	f.client = &http.Client{Transport: rt, CheckRedirect: f.checkRedirect}
	return f
}

// CloseIdleConnections closes the connections kept open for reuse.
func (f *Fetcher) CloseIdleConnections() { f.client.CloseIdleConnections() }

func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > f.opts.MaxRedirects {
		return fmt.Errorf("feeds: %w: stopped after %d, next was %s", ErrTooManyRedirects, f.opts.MaxRedirects, req.URL.Redacted())
	}
	if !isHTTP(req.URL) {
		return fmt.Errorf("feeds: %w: redirected to %q", ErrUnsupportedScheme, req.URL.Scheme+":")
	}
	return nil
}

func isHTTP(u *url.URL) bool { return (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" }

// Fetch reads src.URL, conditionally on src.ETag and src.LastModified.
//
// A 304 answer gives NotModified with the validators (the old ones where the
// answer leaves them out). A 2xx answer is parsed; its items carry
// src.URL as FeedURL, while relative links resolve against the address the
// feed was finally read from. Every failure to get a feed body is a
// *briefings.FetchError (StatusCode 0 when no answer was read); a body that
// is not a feed is ParseFeed's error.
func (f *Fetcher) Fetch(ctx context.Context, src briefings.Source) (briefings.FetchResult, error) {
	fail := func(status int, retryAfter time.Duration, err error) (briefings.FetchResult, error) {
		return briefings.FetchResult{}, &briefings.FetchError{URL: briefings.RedactURL(src.URL), StatusCode: status, RetryAfter: retryAfter, Err: err}
	}
	u, err := url.Parse(src.URL)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // its message repeats the URL, password and all
		}
		return fail(0, 0, fmt.Errorf("feeds: invalid feed URL: %w", err))
	}
	if !isHTTP(u) {
		return fail(0, 0, fmt.Errorf("feeds: %w %q: feeds are fetched over http and https only", ErrUnsupportedScheme, u.Scheme+":"))
	}

	reqCtx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(0, 0, fmt.Errorf("feeds: %w", err))
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5")
	if src.ETag != "" {
		req.Header.Set("If-None-Match", src.ETag)
	}
	if src.LastModified != "" {
		req.Header.Set("If-Modified-Since", src.LastModified)
	}

	resp, err := f.client.Do(req)
	if err != nil {
		status := 0
		if resp != nil { // a redirect that was refused
			status = resp.StatusCode
		}
		return fail(status, 0, f.transportError(ctx, reqCtx, err))
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusNotModified:
		return briefings.FetchResult{
			NotModified:  true,
			ETag:         headerOr(resp.Header, "ETag", src.ETag),
			LastModified: headerOr(resp.Header, "Last-Modified", src.LastModified),
		}, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		// Read a little, so a short error page does not cost the connection.
		_, _ = io.CopyN(io.Discard, resp.Body, 16<<10)
		retryAfter := parseRetryAfter(resp.Header.Get("Retry-After"), f.opts.Now())
		return fail(resp.StatusCode, retryAfter, fmt.Errorf("feeds: %w %q", ErrHTTPStatus, resp.Status))
	}

	body, err := f.readBody(resp)
	if errors.Is(err, ErrTooLarge) {
		return fail(resp.StatusCode, 0, err)
	}
	if err != nil {
		return fail(0, 0, f.transportError(ctx, reqCtx, err))
	}
	feed, err := ParseFeed(resp.Request.URL.String(), bytes.NewReader(body))
	if err != nil {
		return briefings.FetchResult{}, err
	}
	for i := range feed.Items {
		feed.Items[i].FeedURL = src.URL
	}
	return briefings.FetchResult{
		Title:        feed.Title,
		Items:        feed.Items,
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
	}, nil
}

// readBody reads at most MaxBodyBytes of the body. When the transport asked
// for gzip it decompresses transparently, so the limit applies to what is
// decompressed and a small compressed body cannot expand without bound.
func (f *Fetcher) readBody(resp *http.Response) ([]byte, error) {
	limit := f.opts.MaxBodyBytes
	what := "the feed"
	if resp.Uncompressed {
		what = "the decompressed feed"
	}
	tooLarge := fmt.Errorf("feeds: %w: %s is larger than %s", ErrTooLarge, what, formatBytes(limit))
	if !resp.Uncompressed && resp.ContentLength > limit {
		return nil, tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, tooLarge
	}
	return body, nil
}

// transportError describes a failure to get an answer, naming our own
// timeout when it was the cause.
func (f *Fetcher) transportError(parent, reqCtx context.Context, err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err // the FetchError names the URL already
	}
	if parent.Err() == nil && errors.Is(reqCtx.Err(), context.DeadlineExceeded) {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("feeds: no complete answer within %s: %w", f.opts.Timeout, err)
		}
		return fmt.Errorf("feeds: no complete answer within %s: %w: %w", f.opts.Timeout, context.DeadlineExceeded, err)
	}
	return err
}

func headerOr(h http.Header, key, fallback string) string {
	if v := h.Get(key); v != "" {
		return v
	}
	return fallback
}

// maxRetryAfterSeconds keeps a hostile Retry-After from overflowing a Duration.
const maxRetryAfterSeconds = int64(1<<63-1) / int64(time.Second)

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP-date.
// It is 0 when absent, unreadable or in the past.
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if seconds, err := strconv.ParseInt(value, 10, 64); err == nil {
		if seconds <= 0 {
			return 0
		}
		return time.Duration(min(seconds, maxRetryAfterSeconds)) * time.Second
	}
	if at, err := http.ParseTime(value); err == nil {
		if d := at.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
