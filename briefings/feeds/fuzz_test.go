package feeds

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// checkPlainText reports what makes s not the plain text the package
// promises: valid UTF-8, no control characters but the allowed newlines, no
// runs of spaces, no whitespace at either end, at most limit runes.
func checkPlainText(s string, limit int, newlines bool) string {
	switch {
	case !utf8.ValidString(s):
		return "invalid UTF-8"
	case utf8.RuneCountInString(s) > limit:
		return "over the limit"
	case strings.TrimSpace(s) != s:
		return "whitespace at an end"
	case strings.Contains(s, "  "), strings.Contains(s, " \n"), strings.Contains(s, "\n "), strings.Contains(s, "\n\n\n"):
		return "whitespace not collapsed"
	case !newlines && strings.Contains(s, "\n"):
		return "a newline in one-line text"
	}
	for _, r := range s {
		if r != '\n' && (unicode.IsControl(r) || (unicode.IsSpace(r) && r != ' ')) {
			return "control or odd whitespace character"
		}
	}
	return ""
}

func isAbsoluteHTTP(link string) bool {
	u, err := url.Parse(link)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func FuzzParseFeed(f *testing.F) {
	const base = "https://fuzz.example/feed"
	f.Fuzz(func(t *testing.T, data []byte) {
		feed, err := ParseFeed(base, bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "feeds: parse "+base+": ") {
				t.Fatalf("error %q does not name the feed", err)
			}
			if !errors.Is(err, ErrNotAFeed) && !errors.Is(err, ErrMalformedFeed) {
				t.Fatalf("error %q is neither ErrNotAFeed nor ErrMalformedFeed", err)
			}
			return
		}
		if problem := checkPlainText(feed.Title, maxTitleRunes, false); problem != "" {
			t.Fatalf("feed title %q: %s", feed.Title, problem)
		}
		if feed.SiteURL != "" && !isAbsoluteHTTP(feed.SiteURL) {
			t.Fatalf("site URL %q is not absolute http(s)", feed.SiteURL)
		}
		for _, it := range feed.Items {
			if problem := checkPlainText(it.Title, maxTitleRunes, false); problem != "" {
				t.Fatalf("title %q: %s", it.Title, problem)
			}
			if problem := checkPlainText(it.Text, maxTextRunes, true); problem != "" {
				t.Fatalf("text %q: %s", it.Text, problem)
			}
			if it.Link != "" && !isAbsoluteHTTP(it.Link) {
				t.Fatalf("link %q is not absolute http(s)", it.Link)
			}
			if it.Title == "" && it.Link == "" {
				t.Fatalf("item with neither title nor link: %+v", it)
			}
			if it.FeedURL != base || it.Outlet == "" {
				t.Fatalf("item FeedURL %q, Outlet %q", it.FeedURL, it.Outlet)
			}
		}
	})
}

func FuzzHTMLToText(f *testing.F) {
	f.Fuzz(func(t *testing.T, html string, limit uint16) {
		got := htmlToText(html, int(limit))
		max := int(limit)
		if max == 0 {
			max = len(html) // no limit: the text cannot outgrow its source
		}
		if problem := checkPlainText(got, max, true); problem != "" {
			t.Fatalf("htmlToText(%q, %d) = %q: %s", html, limit, got, problem)
		}
		// A limit cuts the text short and changes nothing else.
		if full := htmlToText(html, 0); !strings.HasPrefix(full, got) {
			t.Fatalf("htmlToText(%q, %d) = %q is not a prefix of the unlimited %q", html, limit, got, full)
		}
		if tokens := htmlTokensToText(html, int(limit)); checkPlainText(tokens, max, true) != "" {
			t.Fatalf("htmlTokensToText(%q, %d) = %q: %s", html, limit, tokens, checkPlainText(tokens, max, true))
		}
	})
}

func FuzzParseOPML(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		feeds, err := ParseOPML(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrInvalidOPML) {
				t.Fatalf("error %q is not ErrInvalidOPML", err)
			}
			return
		}
		seen := make(map[string]bool)
		for _, feed := range feeds {
			if feed.URL == "" || seen[feed.URL] || strings.TrimSpace(feed.URL) != feed.URL {
				t.Fatalf("feed URL %q empty, repeated or untrimmed", feed.URL)
			}
			seen[feed.URL] = true
			if problem := checkPlainText(feed.Title, maxTitleRunes, false); problem != "" {
				t.Fatalf("title %q: %s", feed.Title, problem)
			}
		}
		// Whatever was read survives being written and read again.
		var buf bytes.Buffer
		if err := WriteOPML(&buf, "fuzz", feeds); err != nil {
			t.Fatal(err)
		}
		again, err := ParseOPML(&buf)
		if err != nil {
			t.Fatalf("reading back what WriteOPML wrote: %v\n%s", err, buf.String())
		}
		if diff := cmp.Diff(feeds, again); diff != "" {
			t.Fatalf("round trip mismatch (-first +second):\n%s", diff)
		}
	})
}
