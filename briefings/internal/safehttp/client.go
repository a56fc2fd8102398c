// Package safehttp is the one guarded HTTP client newsbot reads the internet
// with, for feeds and article pages alike: a check at connect time that
// refuses non-public addresses, a per-request timeout, a cap on the
// decompressed body, a redirect limit, http and https only, a polite
// User-Agent, conditional GET, an optional whitelist of media types and an
// optional cap on requests at once to one host. Every failure to get a body
// is a *briefings.FetchError wrapping one of the sentinels below.
package safehttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	// ErrTooLarge is wrapped by the error for a body (counted after
	// decompression) over its size limit.
	ErrTooLarge = errors.New("too large")
	// ErrTooManyRedirects is wrapped by the error for a fetch that was
	// redirected more than Options.MaxRedirects times.
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrUnsupportedScheme is wrapped by the error for a URL, or a redirect,
	// that is not http or https.
	ErrUnsupportedScheme = errors.New("unsupported URL scheme")
	// ErrHTTPStatus is wrapped by the error for an answer that is neither
	// 2xx nor 304; the FetchError carries the status code.
	ErrHTTPStatus = errors.New("unexpected HTTP status")
	// ErrContentType is wrapped by the error for a body whose media type is
	// not one the Request accepts (a PDF where a web page was expected).
	ErrContentType = errors.New("unsupported content type")
)

// MaxRetryAfter caps a Retry-After, so a hostile one cannot overflow a Duration.
const MaxRetryAfter = time.Duration(int64(1<<63-1) / int64(time.Second) * int64(time.Second))

// Options configure a Client. The zero value is ready to use.
type Options struct {
	Timeout      time.Duration // per request, body included, from when it may start; DefaultTimeout when 0
	MaxBodyBytes int64         // limit on the decompressed body; DefaultMaxBodyBytes when 0
	UserAgent    string        // DefaultUserAgent when empty
	// What names the thing fetched in error messages ("feed", "page").
	What string
	// AllowPrivate lets the client reach loopback, private and other
	// non-public addresses (NEWSBOT_ALLOW_PRIVATE_FEEDS=true).
	AllowPrivate bool
	// CheckAddress, when set, replaces the public-address check (tests
	// standing a local server in for a public host).
	CheckAddress func(netip.AddrPort) error
	// MaxRedirects is how many redirects one fetch follows; DefaultMaxRedirects
	// when 0, none when negative.
	MaxRedirects int
	// MaxPerHost is how many requests may be in flight to one host at once;
	// further ones wait their turn (their timeout starts when it comes).
	// No limit when 0.
	MaxPerHost int
	Now        func() time.Time // reads Retry-After dates; time.Now when nil
	// Transport replaces the whole network stack, address checks included.
	// For tests; nil means the client's own checked transport.
	Transport http.RoundTripper
}

// Client is safe for concurrent use.
type Client struct {
	opts   Options
	client *http.Client
	hosts  hostSlots
}

// New returns a Client with opts, zero values replaced by defaults.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.What == "" {
		opts.What = "body"
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
	check := opts.CheckAddress
	if check == nil && !opts.AllowPrivate {
		check = CheckPublicAddress
	}
	c := &Client{opts: opts, hosts: hostSlots{max: opts.MaxPerHost}}
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
	c.client = &http.Client{Transport: rt, CheckRedirect: c.checkRedirect}
	return c
}

// Timeout is the per-request timeout in force.
func (c *Client) Timeout() time.Duration { return c.opts.Timeout }

// MaxRedirects is how many redirects a request follows.
func (c *Client) MaxRedirects() int { return c.opts.MaxRedirects }

// MaxBodyBytes is the limit on a decompressed body.
func (c *Client) MaxBodyBytes() int64 { return c.opts.MaxBodyBytes }

// CloseIdleConnections closes the connections kept open for reuse.
func (c *Client) CloseIdleConnections() { c.client.CloseIdleConnections() }

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > c.opts.MaxRedirects {
		return fmt.Errorf("%w: stopped after %d, next was %s", ErrTooManyRedirects, c.opts.MaxRedirects, req.URL.Redacted())
	}
	if !IsHTTP(req.URL) {
		return fmt.Errorf("%w: redirected to %q", ErrUnsupportedScheme, req.URL.Scheme+":")
	}
	return nil
}

// IsHTTP reports whether u is an absolute http or https URL with a host.
func IsHTTP(u *url.URL) bool { return (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" }

// Request is one GET.
type Request struct {
	URL    string
	Accept string // the Accept header
	// ETag and LastModified, when set, make the request conditional.
	ETag, LastModified string
	// MediaTypes, when set, are the only media types a 2xx body may have;
	// any other is ErrContentType, refused before the body is read. A body
	// without a Content-Type is judged by its first bytes.
	MediaTypes []string
}

// Response is what a GET brought back.
type Response struct {
	NotModified bool   // a 304: no body, validators as the server gave them or as they were
	URL         string // where the body was finally read from, after redirects
	ContentType string // the Content-Type header (or the sniffed type)
	ETag        string
	// LastModified is the Last-Modified header as sent.
	LastModified string
	Body         []byte
}

// Get fetches req.URL within the client's limits.
func (c *Client) Get(ctx context.Context, req Request) (Response, error) {
	fail := func(status int, retryAfter time.Duration, err error) (Response, error) {
		return Response{}, &briefings.FetchError{URL: briefings.RedactURL(req.URL), StatusCode: status, RetryAfter: retryAfter, Err: err}
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // its message repeats the URL, password and all
		}
		return fail(0, 0, fmt.Errorf("invalid URL: %w", err))
	}
	if !IsHTTP(u) {
		return fail(0, 0, fmt.Errorf("%w %q: only http and https are fetched", ErrUnsupportedScheme, u.Scheme+":"))
	}

	release, err := c.hosts.acquire(ctx, u.Hostname())
	if err != nil {
		return fail(0, 0, err)
	}
	defer release()

	reqCtx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(reqCtx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(0, 0, err)
	}
	hreq.Header.Set("User-Agent", c.opts.UserAgent)
	if req.Accept != "" {
		hreq.Header.Set("Accept", req.Accept)
	}
	if req.ETag != "" {
		hreq.Header.Set("If-None-Match", req.ETag)
	}
	if req.LastModified != "" {
		hreq.Header.Set("If-Modified-Since", req.LastModified)
	}

	resp, err := c.client.Do(hreq)
	if err != nil {
		status := 0
		if resp != nil { // a redirect that was refused
			status = resp.StatusCode
		}
		return fail(status, 0, c.transportError(ctx, reqCtx, err))
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusNotModified:
		return Response{
			NotModified:  true,
			URL:          resp.Request.URL.String(),
			ETag:         headerOr(resp.Header, "ETag", req.ETag),
			LastModified: headerOr(resp.Header, "Last-Modified", req.LastModified),
		}, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		// Read a little, so a short error page does not cost the connection.
		_, _ = io.CopyN(io.Discard, resp.Body, 16<<10)
		retryAfter := parseRetryAfter(resp.Header.Get("Retry-After"), c.opts.Now())
		return fail(resp.StatusCode, retryAfter, fmt.Errorf("%w %q", ErrHTTPStatus, resp.Status))
	}

	contentType := resp.Header.Get("Content-Type")
	if contentType != "" && !acceptsMediaType(req.MediaTypes, contentType) {
		return fail(resp.StatusCode, 0, fmt.Errorf("%w %q: want %s", ErrContentType, contentType, strings.Join(req.MediaTypes, " or ")))
	}
	body, err := c.readBody(resp)
	if errors.Is(err, ErrTooLarge) {
		return fail(resp.StatusCode, 0, err)
	}
	if err != nil {
		return fail(0, 0, c.transportError(ctx, reqCtx, err))
	}
	if contentType == "" && len(req.MediaTypes) > 0 {
		contentType = http.DetectContentType(body)
		if !acceptsMediaType(req.MediaTypes, contentType) {
			return fail(resp.StatusCode, 0, fmt.Errorf("%w: no Content-Type, and the body looks like %q", ErrContentType, contentType))
		}
	}
	return Response{
		URL:          resp.Request.URL.String(),
		ContentType:  contentType,
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		Body:         body,
	}, nil
}

// acceptsMediaType reports whether contentType's media type is one of
// accepted; every type is when accepted is empty.
func acceptsMediaType(accepted []string, contentType string) bool {
	if len(accepted) == 0 {
		return true
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return slices.Contains(accepted, mediaType)
}

// readBody reads at most MaxBodyBytes of the body. When the transport asked
// for gzip it decompresses transparently, so the limit applies to what is
// decompressed and a small compressed body cannot expand without bound.
func (c *Client) readBody(resp *http.Response) ([]byte, error) {
	limit := c.opts.MaxBodyBytes
	what := "the " + c.opts.What
	if resp.Uncompressed {
		what = "the decompressed " + c.opts.What
	}
	tooLarge := fmt.Errorf("%w: %s is larger than %s", ErrTooLarge, what, FormatBytes(limit))
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
func (c *Client) transportError(parent, reqCtx context.Context, err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err // the FetchError names the URL already
	}
	if parent.Err() == nil && errors.Is(reqCtx.Err(), context.DeadlineExceeded) {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no complete answer within %s: %w", c.opts.Timeout, err)
		}
		return fmt.Errorf("no complete answer within %s: %w: %w", c.opts.Timeout, context.DeadlineExceeded, err)
	}
	return err
}

// hostSlots lets at most max requests at once reach one host. A host's slots
// exist only while someone holds or waits for one, so a crawl of many hosts
// leaves nothing behind.
type hostSlots struct {
	max   int
	mu    sync.Mutex
	hosts map[string]*slots
}

type slots struct {
	sem   chan struct{}
	users int
}

func (h *hostSlots) acquire(ctx context.Context, host string) (release func(), err error) {
	if h.max <= 0 {
		return func() {}, nil
	}
	host = strings.ToLower(host)
	h.mu.Lock()
	if h.hosts == nil {
		h.hosts = make(map[string]*slots)
	}
	s := h.hosts[host]
	if s == nil {
		s = &slots{sem: make(chan struct{}, h.max)}
		h.hosts[host] = s
	}
	s.users++
	h.mu.Unlock()
	done := func() {
		h.mu.Lock()
		if s.users--; s.users == 0 {
			delete(h.hosts, host)
		}
		h.mu.Unlock()
	}
	select {
	case s.sem <- struct{}{}:
		return func() { <-s.sem; done() }, nil
	case <-ctx.Done():
		done()
		return nil, fmt.Errorf("waiting for a turn at %s: %w", host, ctx.Err())
	}
}

func headerOr(h http.Header, key, fallback string) string {
	if v := h.Get(key); v != "" {
		return v
	}
	return fallback
}

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
		return time.Duration(min(seconds, int64(MaxRetryAfter/time.Second))) * time.Second
	}
	if at, err := http.ParseTime(value); err == nil {
		if d := at.Sub(now); d > 0 {
			return min(d, MaxRetryAfter)
		}
	}
	return 0
}

// FormatBytes writes a size the way limits are configured: "5 MiB".
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
