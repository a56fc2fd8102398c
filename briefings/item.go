package briefings

import (
	"time"
)

// Item is one entry of one feed, as an outlet published it.
type Item struct {
	FeedURL   string    // the feed it was read from
	GUID      string    // the feed's own id for the entry; may change when a feed is rewritten
	Link      string    // the article's address as published (absolute)
	Title     string    // plain text
	Text      string    // plain text body or description, markup removed
	Outlet    string    // who published it: the feed's title, or the link's host
	Published time.Time // when the outlet says it published; the fetch time when it does not
}

// LinkKey is the item's identity by address: the same article reached through
// a rewritten GUID or a link with tracking parameters has the same LinkKey.
func (it Item) LinkKey() string { return NormalizeLink(it.Link) }

// ContentKey is the item's identity by content: a hash of its normalized title
// and lead, so an item re-published under a new address is still recognized.
func (it Item) ContentKey() string { return ContentHash(it.Title, it.Text) }
