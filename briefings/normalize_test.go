package briefings

import (
	"net/url"
	"strings"
	"testing"
)

func TestNormalizeLinkSameArticle(t *testing.T) {
	base := "https://www.example.com/world/2025/07/10/rubio-lavrov"
	same := []string{
		base,
		"https://example.com/world/2025/07/10/rubio-lavrov",
		"http://www.example.com/world/2025/07/10/rubio-lavrov/",
		"https://WWW.EXAMPLE.COM/world/2025/07/10/rubio-lavrov#comments",
		"https://www.example.com/world/2025/07/10/rubio-lavrov?utm_source=rss&utm_medium=feed&utm_campaign=x",
		"https://www.example.com/world/2025/07/10/rubio-lavrov?fbclid=abc123",
		"https://www.example.com:443/world/2025/07/10/rubio-lavrov?UTM_Source=twitter",
		"  https://www.example.com/world/2025/07/10/rubio-lavrov  ",
	}
	want := NormalizeLink(base)
	for _, l := range same {
		if got := NormalizeLink(l); got != want {
			t.Errorf("NormalizeLink(%q) = %q, want %q", l, got, want)
		}
	}
}

func TestNormalizeLinkDifferentArticles(t *testing.T) {
	pairs := [][2]string{
		{"https://example.com/story?id=1", "https://example.com/story?id=2"},
		{"https://example.com/a", "https://example.com/b"},
		{"https://example.com/a", "https://example.org/a"},
		{"https://example.com:8080/a", "https://example.com/a"},
		{"https://example.com/A", "https://example.com/a"}, // paths are case-sensitive
	}
	for _, p := range pairs {
		if NormalizeLink(p[0]) == NormalizeLink(p[1]) {
			t.Errorf("%q and %q normalize alike: %q", p[0], p[1], NormalizeLink(p[0]))
		}
	}
	if NormalizeLink("https://example.com/s?b=2&a=1") != NormalizeLink("https://example.com/s?a=1&b=2") {
		t.Error("query parameter order should not matter")
	}
}

func TestContentHash(t *testing.T) {
	a := ContentHash("Rubio meets Lavrov", "The two met for about 50 minutes in Kuala Lumpur.")
	if b := ContentHash("  RUBIO meets   Lavrov! ", "The two met for about 50 minutes in Kuala Lumpur"); a != b {
		t.Error("case, spacing and punctuation should not change the content hash")
	}
	if b := ContentHash("Rubio meets Lavrov", "The two met for about 40 minutes in Kuala Lumpur."); a == b {
		t.Error("a different lead must give a different hash")
	}
	if b := ContentHash("Rubio meets Wang", "The two met for about 50 minutes in Kuala Lumpur."); a == b {
		t.Error("a different title must give a different hash")
	}
}

func TestContentHashIgnoresAppendedText(t *testing.T) {
	lead := "The European Central Bank kept its deposit rate at 2% on Thursday, pausing after eight cuts in a year, as inflation in the euro zone settled near its target, and said it was well placed to wait."
	for len(lead) < 400 {
		lead += " More."
	}
	if ContentHash("ECB holds", lead) != ContentHash("ECB holds", lead+" Read more at example.com") {
		t.Error("text appended after the lead made an old item look new")
	}
}

func FuzzNormalizeLink(f *testing.F) {
	for _, s := range []string{"https://example.com/a?utm_source=x#f", "http://[::1]:80/", "%zz", "//host", "mailto:x@y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Any input, however hostile, gives a key; a link with tracking
		// parameters and one without give the same key.
		n := NormalizeLink(s)
		if u, err := url.Parse(s); err == nil && s == strings.TrimSpace(s) && u.Host != "" && u.RawQuery == "" && u.Fragment == "" && !strings.Contains(s, "?") {
			tracked := s + "?utm_source=newsletter"
			if got := NormalizeLink(tracked); got != n {
				t.Errorf("NormalizeLink(%q) = %q, but %q gives %q", s, n, tracked, got)
			}
		}
	})
}

// TestFilterUnseen is the dedup rule both stores apply after their look-up:
// stored keys drop an item, so does a key an earlier item of the batch has,
// and an item with no key at all.
func TestFilterUnseen(t *testing.T) {
	items := []Item{
		{Link: "https://a.example/1", Title: "One", Text: "First story."},
		{Link: "https://a.example/1?utm_source=rss", Title: "One again", Text: "Retitled."}, // same link as #0
		{Link: "https://b.example/x", Title: "One", Text: "First story."},                   // same content as #0
		{Link: "https://c.example/stored", Title: "Two", Text: "Stored before."},
		{Title: "   ", Text: "!!!"},                                        // no link, no words: no key
		{Title: "Three", Text: "Only content, no link."},                   // content key only
		{Link: "https://d.example/3", Title: "Four", Text: "A new story."}, // new
	}
	keys, links, contents := BatchKeys(items)
	if !keys[5].Known() || keys[5].Link != "" || keys[4].Known() {
		t.Errorf("keys: %+v", keys)
	}
	if len(links) != 5 || len(contents) != 6 {
		t.Errorf("batch keys: %d links, %d contents", len(links), len(contents))
	}
	seenLink := map[string]bool{NormalizeLink("https://c.example/stored"): true}
	got := FilterUnseen(items, keys, seenLink, map[string]bool{})
	var titles []string
	for _, it := range got {
		titles = append(titles, it.Title)
	}
	if want := "One,Three,Four"; strings.Join(titles, ",") != want {
		t.Errorf("kept %q, want %s", titles, want)
	}
}
