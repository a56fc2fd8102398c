package feeds

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "  just   text\n here ", "just text here"},
		{"entities", "Tom &amp; Jerry &lt;3 &eacute;t&eacute; &#8212; &#x263A;&nbsp;!", "Tom & Jerry <3 été — ☺ !"},
		{"inline markup", "<p>A <b>bold</b><i>italic</i> <a href='/x'>link</a>.</p>", "A bolditalic link."},
		{"paragraphs", "<p>One.</p>\n\n<p>Two.</p><div>Three.</div><h2>Four</h2>Five", "One.\n\nTwo.\n\nThree.\n\nFour\n\nFive"},
		{"line breaks", "a<br>b<br/><br />c<br><br><br>d", "a\nb\n\nc\n\nd"},
		{"lists", "<p>Intro</p><ul><li>one</li><li>two</li></ul><p>After</p>", "Intro\n\none\ntwo\n\nAfter"},
		{"table cells", "<table><tr><td>a</td><td>b</td></tr><tr><th>c</th><td>d</td></tr></table>", "a b\nc d"},
		{"dropped", "<p>Keep</p><script>var x = '<p>no</p>';</script><style>p{}</style><noscript>no</noscript>" +
			"<figure><img src=a.jpg alt='no'><figcaption>Photo: credit</figcaption></figure><p>this</p>" +
			"<iframe src=x>no</iframe><template><p>no</p></template><svg><text>no</text></svg>", "Keep\n\nthis"},
		{"unclosed caption", "<p>Lead</p><figure><img src=x><figcaption>Credit: AP</figure><p>Body continues</p>", "Lead\n\nBody continues"},
		{"malformed", "<p>Unclosed <b>bold <i>and</p> more</b> text <", "Unclosed bold and\n\nmore text <"},
		{"full document", "<!DOCTYPE html><html><head><title>Page</title><meta charset=utf-8></head><body><p>Body</p></body></html>", "Body"},
		{"comments", "a<!-- hidden -->b", "ab"},
		{"whitespace only", " <p> </p> <br> ", ""},
		{"unicode spaces", "a\u00a0\u2003b\u2028c", "a b c"},
		{"control characters", "a\x00b\x07c\u0085d\u009fe\ufefff", "abc def"},
		{"invalid UTF-8", "caf\xe9 ok", "caf\uFFFD ok"},
		// Deeper than html.Parse accepts: the tokenizer takes over.
		{"nested deeply", strings.Repeat("<div><b>", 600) + "deep<script>no()</script>" + strings.Repeat("</b></div>", 600) + "<p>after", "deep\n\nafter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, htmlToText(tt.in, 0)); diff != "" {
				t.Errorf("htmlToText(%.200q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestHTMLToTextLimit(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"<p>héllo wörld</p>", 5, "héllo"},
		{"<p>héllo wörld</p>", 6, "héllo"},       // no trailing space
		{"<p>héllo</p><p>wörld</p>", 7, "héllo"}, // no trailing break
		{"<p>héllo</p><p>wörld</p>", 8, "héllo\n\nw"},
		{"<p>日本語のテキスト</p>", 3, "日本語"},
	}
	for _, tt := range tests {
		if got := htmlToText(tt.in, tt.limit); got != tt.want {
			t.Errorf("htmlToText(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
	}
}

func TestPlainToText(t *testing.T) {
	in := "  First line\r\nsecond   line\n\n\n\nNew <p> paragraph &amp; more \n"
	want := "First line\nsecond line\n\nNew <p> paragraph &amp; more"
	if got := plainToText(in, 0); got != want {
		t.Errorf("plainToText = %q, want %q", got, want)
	}
}
