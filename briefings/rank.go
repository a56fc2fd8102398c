package briefings

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Ranking puts first the stories most outlets tell, and the newer among
// equals: each outlet beyond the first is worth a day of age. Outlets are
// counted once each, by the site their links point to, so one outlet's
// several feeds or several items do not make a story look widely told; and
// grouping decides which outlets tell the same event, so a story's rank
// comes from the event, not from items about its topic. A story's age comes
// from its dated items; Ingest dates an undated one no newer than the dated
// news it knows (see undatedStamp), so an item is never ranked up for lacking
// a date. Advertisements and promotions that feeds carry never lead: a
// story that is only promotions comes after every other.

// rankStories orders stories best first; ties go to the newer story, then
// to the earlier ID.
func rankStories(stories []Story) {
	var newest time.Time
	for _, st := range stories {
		if st.Updated.After(newest) {
			newest = st.Updated
		}
	}
	type ranked struct {
		promo bool
		score float64
	}
	keys := make(map[int64]ranked, len(stories))
	for _, st := range stories {
		keys[st.ID] = ranked{
			promo: isPromotion(st),
			score: float64(st.Outlets()) - newest.Sub(st.Updated).Hours()/24,
		}
	}
	slices.SortStableFunc(stories, func(a, b Story) int {
		ka, kb := keys[a.ID], keys[b.ID]
		if ka.promo != kb.promo {
			if ka.promo {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(kb.score, ka.score); c != 0 {
			return c
		}
		if c := b.Updated.Compare(a.Updated); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// isPromotion reports whether every telling of the story is an
// advertisement or a promotion.
func isPromotion(st Story) bool {
	if len(st.Items) == 0 {
		return false
	}
	for _, it := range st.Items {
		if !isPromotionItem(it) {
			return false
		}
	}
	return true
}

// promotionLabels are how feeds label paid items, at the start of a title
// or of a text.
var promotionLabels = []string{
	"sponsored", "promoted", "advertisement", "advertorial", "partner content", "paid content",
	"paid post", "paid partnership", "ad:", "[ad]", "(ad)", "presented by", "brought to you by",
}

// isPromotionItem reports whether an item is an advertisement: labelled as
// one, or a headline with no text whose link leaves the site of the feed
// it came in (a sponsor's address).
func isPromotionItem(it Item) bool {
	for _, s := range []string{it.Title, it.Text} {
		s = strings.ToLower(strings.TrimLeft(s, " \t\n|•-–—"))
		for _, label := range promotionLabels {
			if rest, ok := strings.CutPrefix(s, label); ok && (rest == "" || !isWordRune(rest[0])) {
				return true
			}
		}
	}
	if strings.TrimSpace(it.Text) != "" || it.FeedURL == "" || it.Link == "" {
		return false
	}
	feedSite, linkSite := siteOf(it.FeedURL), siteOf(it.Link)
	return feedSite != "" && linkSite != "" && feedSite != linkSite
}

func isWordRune(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9'
}

// siteOf is the registrable part of a URL's host, as near as a rule of thumb
// gets without the public suffix list: "www.bbc.co.uk" and "feeds.bbc.co.uk"
// are both "bbc.co.uk", "edition.cnn.com" is "cnn.com".
func siteOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")), ".")
	keep := 2
	if n := len(labels); n >= 3 && len(labels[n-1]) == 2 && secondLevel[labels[n-2]] {
		keep = 3 // bbc.co.uk, abc.net.au
	}
	if len(labels) <= keep {
		return strings.Join(labels, ".")
	}
	return strings.Join(labels[len(labels)-keep:], ".")
}

var secondLevel = map[string]bool{"co": true, "com": true, "net": true, "org": true, "ac": true, "gov": true, "edu": true, "ne": true, "or": true}

// outletKey is who told an item: the site its link points to, or else its
// outlet's name, or else its feed.
func outletKey(it Item) string {
	if site := siteOf(it.Link); site != "" {
		return site
	}
	if it.Outlet != "" {
		return it.Outlet
	}
	return it.FeedURL
}
