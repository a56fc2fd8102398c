package feeds

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/briefings"
)

func openTestdata(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// rubioArticle is the reference story's body as plain text, derived from the
// Markdown fixture the RSS fixture's content:encoded was written from: the
// headline line dropped, bold markers removed, one paragraph per line.
func rubioArticle(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "rubio-lavrov-kuala-lumpur.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.ReplaceAll(strings.Join(lines[1:], "\n\n"), "**", "")
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseFeed(t *testing.T) {
	tests := []struct {
		file    string
		baseURL string
		want    func(t *testing.T) Feed
	}{
		{
			file:    "rss2.xml",
			baseURL: "https://feeds.worlddesk.example/rss",
			want: func(t *testing.T) Feed {
				const feedURL, outlet = "https://feeds.worlddesk.example/rss", "World Desk & Wire"
				return Feed{
					Title:   "World Desk & Wire",
					SiteURL: "https://www.worlddesk.example/news/",
					Items: []briefings.Item{
						{
							// content:encoded (CDATA HTML) is richer than the
							// description; the figure caption, script and style
							// are left out.
							FeedURL: feedURL, GUID: "worlddesk-48213", Outlet: outlet,
							Link:      "https://www.worlddesk.example/news/2025/07/10/rubio-lavrov-kuala-lumpur",
							Title:     "US Secretary of State Meets Russian Counterpart Amid Escalating Ukraine Conflict",
							Text:      rubioArticle(t),
							Published: date("2025-07-10T14:05:00Z"),
						},
						{
							// A relative link, read against the site; HTML escaped
							// into the description; dc:date with an offset.
							FeedURL: feedURL, GUID: "https://www.worlddesk.example/?p=48190", Outlet: outlet,
							Link:      "https://www.worlddesk.example/news/2025/07/09/record-drone-attack",
							Title:     "Record drone attack on Ukrainian cities",
							Text:      "Russia launched a record 728 drones overnight.\n\nAir defences were stretched.\nOfficials said more was to come.",
							Published: date("2025-07-09T18:30:00Z"),
						},
						{
							// No link: the guid is a URL and stands in. The
							// description is longer than the content. No date.
							FeedURL: feedURL, GUID: "https://www.worlddesk.example/news/2025/07/11/asean-summit-ends", Outlet: outlet,
							Link:  "https://www.worlddesk.example/news/2025/07/11/asean-summit-ends",
							Title: "ASEAN ministers end summit",
							Text:  "Short teaser.",
						},
						{
							// No link and a guid that is not a URL: kept for its
							// title. An unreadable date is no date.
							FeedURL: feedURL, GUID: "tag:worlddesk.example,2025:note-7", Outlet: outlet,
							Title: "Editor\u2019s note: corrections policy",
							Text:  "We correct errors promptly.",
						},
						// The fifth item has neither title nor link.
					},
				}
			},
		},
		{
			file:    "atom.xml",
			baseURL: "https://blog.example.org/diplomacy/feed.atom",
			want: func(t *testing.T) Feed {
				const feedURL, outlet = "https://blog.example.org/diplomacy/feed.atom", "Diplomacy Notes"
				return Feed{
					Title:   "Diplomacy Notes",
					SiteURL: "https://blog.example.org/diplomacy/",
					Items: []briefings.Item{
						{
							// Nested xml:base; an html title; published preferred
							// to updated.
							FeedURL: feedURL, GUID: "tag:blog.example.org,2025:post-101", Outlet: outlet,
							Link:      "https://blog.example.org/archive/2025/07/rubio-lavrov.html",
							Title:     "Talks in Kuala Lumpur & beyond",
							Text:      "The meeting lasted about 50 minutes.\n\nThey discussed Ukraine, Iran and Syria.",
							Published: date("2025-07-10T08:00:00Z"),
						},
						{
							// A text title keeps what looks like markup; the date
							// falls back to updated.
							FeedURL: feedURL, GUID: "tag:blog.example.org,2025:post-102", Outlet: outlet,
							Link:      "https://blog.example.org/diplomacy/posts/breaking",
							Title:     "<b>Breaking</b> & more",
							Text:      "An xhtml body.\n\nSecond paragraph.",
							Published: date("2025-07-11T07:45:00Z"),
						},
						{
							FeedURL: feedURL, GUID: "https://blog.example.org/diplomacy/posts/103", Outlet: outlet,
							Link:  "https://elsewhere.example.net/story?id=7&lang=en",
							Title: "An xhtml title",
							Text:  "Plain text content.",
						},
					},
				}
			},
		},
		{
			file:    "jsonfeed.json",
			baseURL: "https://www.wire.example/feed.json",
			want: func(t *testing.T) Feed {
				const feedURL, outlet = "https://www.wire.example/feed.json", "Wire & Cable"
				return Feed{
					Title:   "Wire & Cable",
					SiteURL: "https://www.wire.example/",
					Items: []briefings.Item{
						{
							FeedURL: feedURL, GUID: "https://www.wire.example/2025/07/10/rubio-lavrov", Outlet: outlet,
							Link:      "https://www.wire.example/2025/07/10/rubio-lavrov",
							Title:     "Rubio meets Lavrov in Kuala Lumpur",
							Text:      "The two met for about 50 minutes.\n\nUkraine, Iran & Syria were discussed.",
							Published: date("2025-07-10T14:05:00Z"),
						},
						{
							// A numeric id, a relative url, and plain text that
							// stays plain, angle brackets included.
							FeedURL: feedURL, GUID: "48190", Outlet: outlet,
							Link:      "https://www.wire.example/2025/07/09/drones",
							Title:     "Why <b> tags & 1 < 2 stay literal in plain-text titles",
							Text:      "First paragraph, with a literal <p> in plain text.\n\nSecond paragraph\nwith a line break.",
							Published: date("2025-07-09T18:30:00Z"),
						},
						{
							FeedURL: feedURL, GUID: "https://www.wire.example/2025/07/11/no-url", Outlet: outlet,
							Link: "https://www.wire.example/2025/07/11/no-url",
							Text: "A microblog post without a title or url: its id is its address.",
						},
					},
				}
			},
		},
		{
			file:    "titles.xml",
			baseURL: "https://titles.example/feed",
			want: func(t *testing.T) Feed {
				item := func(n, title string) briefings.Item {
					link := "https://titles.example/" + n
					return briefings.Item{FeedURL: "https://titles.example/feed", GUID: link, Link: link, Title: title, Outlet: "Titles Weekly"}
				}
				return Feed{
					Title:   "Titles Weekly",
					SiteURL: "https://titles.example/",
					Items: []briefings.Item{
						item("1", "<b>Breaking</b> & more"),             // escaped markup is text
						item("2", "Markup in CDATA & an entity"),        // markup in CDATA is markup
						item("3", "Tom & Jerry\u2019s double escaped"),  // escaped twice, decoded twice
						item("4", "Use the <br> tag, not <br/>"),        // escaped markup is text
						item("5", "AT&T & Verizon: 1 < 2"),              // CDATA without tags
						item("6", "Literal child elements"),             // tags written as elements
						item("7", "R&D costs &copy=2 and &copyx; stay"), // not entities
					},
				}
			},
		},
		{
			file:    "rss1.xml",
			baseURL: "http://latin.example/index.rdf",
			want: func(t *testing.T) Feed {
				return Feed{
					Title:   "Le Monde Latin",
					SiteURL: "http://latin.example/",
					Items: []briefings.Item{{
						FeedURL: "http://latin.example/index.rdf", GUID: "http://latin.example/a", Outlet: "Le Monde Latin",
						Link:      "http://latin.example/a",
						Title:     "Café crème",
						Text:      "Déjà vu à Paris.",
						Published: date("2025-07-10T00:00:00Z"),
					}},
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseFeed(tt.baseURL, openTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want(t), got); diff != "" {
				t.Errorf("ParseFeed(%s) mismatch (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

func TestParseFeedRejectsNonFeeds(t *testing.T) {
	tests := []struct {
		name    string
		in      io.Reader
		wantErr error
		wantMsg string
	}{
		{"not-a-feed.html", openTestdata(t, "not-a-feed.html"), ErrNotAFeed, "feeds: parse https://example.com/x: not an RSS, Atom or JSON feed: it is an HTML page"},
		{"not-a-feed.json", openTestdata(t, "not-a-feed.json"), ErrNotAFeed, "feeds: parse https://example.com/x: not an RSS, Atom or JSON feed"},
		{"truncated.xml", openTestdata(t, "truncated.xml"), ErrMalformedFeed, "feeds: parse https://example.com/x: malformed feed"},
		{"empty", strings.NewReader(""), ErrNotAFeed, "feeds: parse https://example.com/x: not an RSS, Atom or JSON feed"},
		// gofeed v1.4.2 panics on these (mmcdole/gofeed#355).
		{"JSON null item", strings.NewReader(`{"version":"https://jsonfeed.org/version/1.1","items":[null]}`), ErrMalformedFeed, "feeds: parse https://example.com/x: malformed feed"},
		{"JSON null author", strings.NewReader(`{"version":"https://jsonfeed.org/version/1.1","authors":[null],"items":[{"url":"https://x.example/"}]}`), ErrMalformedFeed, "feeds: parse https://example.com/x: malformed feed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFeed("https://example.com/x", tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to start with %q", err, tt.wantMsg)
			}
		})
	}
}

func TestParseFeedKeepsPasswordsOut(t *testing.T) {
	const base = "https://reader:s3cret@private.example/feed"
	_, err := ParseFeed(base, strings.NewReader("hello"))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("err = %v, want an error that does not show the password", err)
	}
	feed := `<rss version="2.0"><channel><title>T</title><item><title>A</title><link>a</link></item></channel></rss>`
	got, err := ParseFeed(base, strings.NewReader(feed))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 1 || got.Items[0].Link != "https://private.example/a" {
		t.Errorf("items = %+v, want one linking to https://private.example/a", got.Items)
	}
}

func TestParseFeedLimitsAndRepairs(t *testing.T) {
	longTitle := strings.Repeat("é", maxTitleRunes+20)
	longText := strings.Repeat("word ", maxTextRunes) // 5 runes per word
	feed := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>T</title>" +
		"<item><title>" + longTitle + "</title><link>https://x.example/1</link><description>" + longText + "</description></item>" +
		"<item><title>Bad \xff byte and \x01control\x7f chars\u0085here</title><link>https://x.example/2</link>" +
		"<description>Tab\there &amp;#1; C1\u0080 &#xFEFF;BOM</description></item>" +
		"</channel></rss>"
	got, err := ParseFeed("https://x.example/feed", strings.NewReader(feed))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 2 {
		t.Fatalf("got %d items, want 2", len(got.Items))
	}
	if want := strings.Repeat("é", maxTitleRunes); got.Items[0].Title != want {
		t.Errorf("long title: got %d runes, want the first %d", utf8.RuneCountInString(got.Items[0].Title), maxTitleRunes)
	}
	if n := utf8.RuneCountInString(got.Items[0].Text); n > maxTextRunes || n < maxTextRunes-5 {
		t.Errorf("long text: got %d runes, want at most %d and not much less", n, maxTextRunes)
	}
	if !strings.HasPrefix(longText, got.Items[0].Text) {
		t.Errorf("long text is not a prefix of the original")
	}
	want := []string{"Bad \uFFFD byte and control chars here", "Tab here C1 BOM"}
	if diff := cmp.Diff(want, []string{got.Items[1].Title, got.Items[1].Text}); diff != "" {
		t.Errorf("control characters and invalid UTF-8 (-want +got):\n%s", diff)
	}
}

func TestParseFeedOutletFallsBackToHost(t *testing.T) {
	tests := []struct {
		name, feed, want string
	}{
		{"site link", `<rss version="2.0"><channel><link>https://www.site.example/</link><item><title>A</title></item></channel></rss>`, "site.example"},
		{"base URL", `<rss version="2.0"><channel><item><title>A</title></item></channel></rss>`, "feeds.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFeed("https://www.feeds.example/rss", strings.NewReader(tt.feed))
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Items) != 1 || got.Items[0].Outlet != tt.want {
				t.Errorf("items = %+v, want one with Outlet %q", got.Items, tt.want)
			}
		})
	}
}

func TestParseFeedDropsNonHTTPLinks(t *testing.T) {
	feed := `<rss version="2.0"><channel><title>T</title>
		<item><title>A</title><link>javascript:alert(1)</link></item>
		<item><title>B</title><link>mailto:desk@x.example</link><guid>ftp://x.example/b</guid></item>
	</channel></rss>`
	got, err := ParseFeed("https://x.example/rss", strings.NewReader(feed))
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range got.Items {
		if it.Link != "" {
			t.Errorf("item %q has link %q, want none", it.Title, it.Link)
		}
	}
}
