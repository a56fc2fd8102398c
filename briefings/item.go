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

// ItemKeys are the identities a store knows an item by. A key is "" when the
// item lacks it: no link, or a title and text without a word (whose hash every
// such item would share, so it identifies nothing).
type ItemKeys struct {
	Link, Content string
}

// emptyContentKey is the content key of an item with no words.
var emptyContentKey = ContentHash("", "")

// Keys returns the item's keys.
func (it Item) Keys() ItemKeys {
	k := ItemKeys{Link: it.LinkKey(), Content: it.ContentKey()}
	if k.Content == emptyContentKey {
		k.Content = ""
	}
	return k
}

// Known reports whether the item has any key at all. One without is dropped
// by every store: nothing could ever tell it was seen before.
func (k ItemKeys) Known() bool { return k.Link != "" || k.Content != "" }

// BatchKeys returns each item's keys, and the batch's link and content keys
// for a store to look up in one query.
func BatchKeys(items []Item) (keys []ItemKeys, links, contents []string) {
	keys = make([]ItemKeys, len(items))
	for i, it := range items {
		keys[i] = it.Keys()
		if keys[i].Link != "" {
			links = append(links, keys[i].Link)
		}
		if keys[i].Content != "" {
			contents = append(contents, keys[i].Content)
		}
	}
	return keys, links, contents
}

// FilterUnseen is the rule every store's UnseenItems applies once it has
// looked the batch's keys up: it keeps the items, in order, that have a key,
// none of whose keys is stored (seenLink, seenContent), and that share no key
// with an earlier item of the batch. It adds the kept items' keys to the maps.
func FilterUnseen(items []Item, keys []ItemKeys, seenLink, seenContent map[string]bool) []Item {
	var out []Item
	for i, it := range items {
		k := keys[i]
		if !k.Known() || k.Link != "" && seenLink[k.Link] || k.Content != "" && seenContent[k.Content] {
			continue
		}
		out = append(out, it)
		if k.Link != "" {
			seenLink[k.Link] = true
		}
		if k.Content != "" {
			seenContent[k.Content] = true
		}
	}
	return out
}
