package briefings

import "time"

// Source is a feed newsbot reads, and what it remembers about fetching it.
type Source struct {
	URL   string
	Title string // the feed's own title, once it has been fetched

	// Conditional GET validators from the last successful fetch.
	ETag         string
	LastModified string

	LastFetchedAt time.Time
	LastError     string // empty after a successful fetch
	Failures      int    // consecutive failed fetches, for back-off
	NextFetchAt   time.Time
}
