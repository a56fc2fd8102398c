package briefings

import "time"

// Story is one event as told by one or more outlets: the items grouped together,
// with a headline and a short summary composed from them.
type Story struct {
	ID        int64
	Headline  string
	Summary   []string // at most three sentences, each taken from an item's text
	Items     []Item   // every outlet's telling, earliest first
	FirstSeen time.Time
	Updated   time.Time // the latest Published among Items
}

// Outlets is the number of distinct outlets that told the story (see
// outletKey: one outlet's several feeds are one outlet).
func (s Story) Outlets() int {
	seen := make(map[string]bool, len(s.Items))
	for _, it := range s.Items {
		seen[outletKey(it)] = true
	}
	return len(seen)
}
