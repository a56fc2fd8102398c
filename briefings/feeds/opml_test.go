package feeds

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseOPML(t *testing.T) {
	got, err := ParseOPML(openTestdata(t, "subscriptions.opml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []OPMLFeed{
		{Title: "World Desk & Wire", URL: "https://feeds.worlddesk.example/rss"}, // title preferred to text
		{Title: "Le Monde Latin", URL: "http://latin.example/index.rdf"},         // nested, xmlURL spelling, trimmed
		// The bookmark has no xmlUrl; the duplicate URL keeps its first title.
		{Title: "Wire & Cable", URL: "https://www.wire.example/feed.json"}, // HTML entity in a lenient file
		{Title: "", URL: "https://untitled.example/atom"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseOPML mismatch (-want +got):\n%s", diff)
	}
}

func TestParseOPMLRejects(t *testing.T) {
	tests := []struct {
		name    string
		in      io.Reader
		wantErr error
	}{
		{"HTML page", strings.NewReader("<!DOCTYPE html><html><body><outline xmlUrl='https://x.example/'/></body></html>"), ErrInvalidOPML},
		{"RSS feed", openTestdata(t, "rss2.xml"), ErrInvalidOPML},
		{"empty", strings.NewReader(""), ErrInvalidOPML},
		{"not XML", strings.NewReader("https://x.example/feed\nhttps://y.example/feed\n"), ErrInvalidOPML},
		{"too large", io.MultiReader(strings.NewReader("<opml><body>"), strings.NewReader(strings.Repeat(" ", maxOPMLBytes))), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feeds, err := ParseOPML(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseOPML = %v, %v; want error %v", feeds, err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "feeds: ") {
				t.Errorf("error %q does not say where it comes from", err)
			}
		})
	}
}

func TestWriteOPMLRoundTrip(t *testing.T) {
	feeds := []OPMLFeed{
		{Title: `Quotes "double" & 'single' <angle> brackets`, URL: "https://q.example/feed?a=1&b=2"},
		{Title: "Ünïcödé — 日本語ニュース 🗞", URL: "https://xn--nicd-6qa.example/rss"},
		{Title: "", URL: "https://untitled.example/atom"},
		{Title: "Looks like a URL", URL: "https://other.example/feed"},
	}
	var buf bytes.Buffer
	if err := WriteOPML(&buf, `Newsbot & "friends"`, feeds); err != nil {
		t.Fatal(err)
	}

	// The document is well-formed OPML 2.0 with the title escaped.
	var doc struct {
		XMLName  xml.Name
		Version  string `xml:"version,attr"`
		Title    string `xml:"head>title"`
		Outlines []struct {
			Type string `xml:"type,attr"`
			Text string `xml:"text,attr"`
		} `xml:"body>outline"`
	}
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("WriteOPML wrote malformed XML: %v\n%s", err, buf.String())
	}
	if doc.XMLName.Local != "opml" || doc.Version != "2.0" || doc.Title != `Newsbot & "friends"` || len(doc.Outlines) != len(feeds) {
		t.Fatalf("document = %+v, want opml 2.0 titled %q with %d outlines", doc, `Newsbot & "friends"`, len(feeds))
	}
	for i, o := range doc.Outlines {
		if o.Type != "rss" || o.Text == "" {
			t.Errorf("outline %d: type %q text %q, want type rss and a text", i, o.Type, o.Text)
		}
	}

	got, err := ParseOPML(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(feeds, got); diff != "" {
		t.Errorf("round trip mismatch (-wrote +read):\n%s", diff)
	}
}
