package briefings

import (
	"context"
	"fmt"
	"time"
)

// Fetcher reads one feed over the network, conditionally on the validators in
// src, and returns its items.
type Fetcher interface {
	Fetch(ctx context.Context, src Source) (FetchResult, error)
}

// FetchResult is what one fetch of a feed found.
type FetchResult struct {
	NotModified  bool   // the server answered 304: nothing to parse
	Title        string // the feed's title
	Items        []Item
	ETag         string
	LastModified string
}

// FetchError is a failed fetch the server told us something about.
type FetchError struct {
	URL        string
	StatusCode int           // 0 when no HTTP answer was read
	RetryAfter time.Duration // from a Retry-After header; 0 when absent
	Err        error
}

func (e *FetchError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("fetch %s: HTTP %d: %v", e.URL, e.StatusCode, e.Err)
	}
	return fmt.Sprintf("fetch %s: %v", e.URL, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }
