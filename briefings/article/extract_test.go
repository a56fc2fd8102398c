package article

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExtractArticle(t *testing.T) {
	page, err := Extract("https://eastern-monitor.example/2025/07/10/rubio-lavrov", strings.NewReader(string(readTestdata(t, "article.html"))))
	if err != nil {
		t.Fatal(err)
	}
	if page.Title != "Rubio and Lavrov meet in Kuala Lumpur" {
		t.Errorf("Title = %q", page.Title)
	}
	if want := time.Date(2025, 7, 10, 0, 0, 0, 0, time.UTC); !sameDay(page.Published, want) {
		t.Errorf("Published = %v, want %v", page.Published, want)
	}
	if page.Language != "en" {
		t.Errorf("Language = %q, want en", page.Language)
	}
	paragraphs := strings.Split(page.Text, "\n\n")
	for _, want := range []string{
		"US Secretary of State Marco Rubio met Russian Foreign Minister Sergei Lavrov on Thursday",
		"a record 728 drones",
		"Neither side announced a date for another meeting.",
	} {
		if !strings.Contains(page.Text, want) {
			t.Errorf("Text lacks %q:\n%s", want, page.Text)
		}
	}
	for _, junk := range []string{"Most read", "All rights reserved", "Privacy policy", "Photo: Agency", "Business"} {
		if strings.Contains(page.Text, junk) {
			t.Errorf("Text holds page furniture %q:\n%s", junk, page.Text)
		}
	}
	var body []string
	for _, p := range paragraphs {
		if len(strings.Fields(p)) > 20 {
			body = append(body, p)
		}
	}
	if len(body) != 5 {
		t.Errorf("got %d body paragraphs separated by blank lines, want 5:\n%s", len(body), page.Text)
	}
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}

func TestExtractEncodings(t *testing.T) {
	para := func(s string) string { return "<html><body><article><p>" + s + "</p></article></body></html>" }
	tests := []struct {
		name, contentType string
		body              []byte
		want              string
	}{
		{"header charset wins", "text/html; charset=windows-1251", []byte(para("\xcc\xee\xf1\xea\xe2\xe0 \xe8 \xca\xe8\xe5\xe2")), "Москва и Киев"},
		{"meta charset", "text/html", []byte("<meta charset=\"iso-8859-1\">" + para("Caf\xe9 cr\xe8me")), "Café crème"},
		{"undeclared UTF-8", "", []byte(para("Zürich und Genf")), "Zürich und Genf"},
		{"unknown charset falls back", "text/html; charset=x-martian", []byte(para("Plain words here")), "Plain words here"},
		{"invalid UTF-8 is replaced, not fatal", "text/html; charset=utf-8", []byte(para("ok \xff\xfe bytes")), "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := ExtractBytes("", tt.contentType, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(page.Text, tt.want) || !utf8.ValidString(page.Text) {
				t.Errorf("Text = %q, want it to hold %q as valid UTF-8", page.Text, tt.want)
			}
		})
	}
}

func TestExtractNoText(t *testing.T) {
	for name, body := range map[string]string{
		"empty":       "",
		"only markup": "<html><head><title>x</title></head><body><script>var a=1</script></body></html>",
		"too deep":    strings.Repeat("<div>", 600) + "text" + strings.Repeat("</div>", 600),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ExtractBytes("", "text/html", []byte(body))
			if !errors.Is(err, ErrNoText) {
				t.Errorf("err = %v, want ErrNoText", err)
			}
		})
	}
}

// checkPage is what every extraction promises, whatever the input.
func checkPage(p Page) string {
	for _, s := range []string{p.Title, p.Text, p.Language} {
		if !utf8.ValidString(s) {
			return "invalid UTF-8"
		}
		for _, r := range s {
			if r != '\n' && unicode.IsControl(r) {
				return "a control character"
			}
		}
	}
	switch {
	case strings.Contains(p.Title, "\n"):
		return "a title of several lines"
	case utf8.RuneCountInString(p.Title) > maxTitleRunes, utf8.RuneCountInString(p.Text) > maxTextRunes:
		return "over its length cap"
	case p.Text != strings.TrimSpace(p.Text), strings.Contains(p.Text, "\n\n\n"):
		return "stray blank lines"
	}
	return ""
}

func FuzzExtract(f *testing.F) {
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		page, err := ExtractBytes("https://news.example/a", contentType, body)
		if err != nil {
			if !errors.Is(err, ErrNoText) {
				t.Fatalf("err = %v, want only ErrNoText failures", err)
			}
			if page != (Page{}) {
				t.Fatalf("a failed extraction returned %+v", page)
			}
			return
		}
		if problem := checkPage(page); problem != "" {
			t.Fatalf("page %+v: %s", page, problem)
		}
		if page.Text == "" {
			t.Fatal("a successful extraction with no text")
		}
	})
}

// TestExtractHugeDensePage: a page of 4 MiB of paragraphs is read up to its
// first maxPageTextBytes of text, so it costs seconds, not the minutes the
// extractor's quadratic text building would take on all of it.
func TestExtractHugeDensePage(t *testing.T) {
	var b strings.Builder
	b.WriteString("<html><body><article>")
	for i := 0; b.Len() < 4<<20; i++ {
		fmt.Fprintf(&b, "<div><p>Paragraph %d: the council approved the harbour plan after a debate that lasted all night, <a href=\"/x\">officials</a> said.</p></div>\n", i)
	}
	b.WriteString("<p>The very last paragraph.</p></article></body></html>")
	page, err := ExtractBytes("", "text/html", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(page.Text, "Paragraph 0:") || strings.Contains(page.Text, "The very last paragraph") {
		t.Errorf("Text starts %.40q and holds the page's end: want only its first part", page.Text)
	}
	if problem := checkPage(page); problem != "" {
		t.Errorf("page: %s", problem)
	}
}
