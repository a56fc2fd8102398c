package telegramtest

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParseHTMLAccepts(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantPlain string
		want      []Entity
	}{
		{"bold", "<b>bold</b> plain", "bold plain", []Entity{{Type: "bold", Offset: 0, Length: 4}}},
		{"strong and em", "<strong>a</strong><em>b</em>", "ab", []Entity{{Type: "bold", Length: 1}, {Type: "italic", Offset: 1, Length: 1}}},
		{"offsets count UTF-16 units", "😀<i>x</i>", "😀x", []Entity{{Type: "italic", Offset: 2, Length: 1}}},
		{"entities decode to one character each", "&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42;", `<b> & "q" AB`, nil},
		{"nested, outer first", "<b>a<i>b</i></b>", "ab", []Entity{{Type: "bold", Length: 2}, {Type: "italic", Offset: 1, Length: 1}}},
		{"tag names are case-insensitive", "<B>x</B>", "x", []Entity{{Type: "bold", Length: 1}}},
		{"empty tag makes no entity", "<b></b>x", "x", nil},
		{"literal > is accepted", "a > b", "a > b", nil},
		{"link with escaped ampersand", `<a href="https://example.com/?a=1&amp;b=2">link</a>`, "link",
			[]Entity{{Type: "text_link", Length: 4, URL: "https://example.com/?a=1&b=2"}}},
		{"single-quoted unquoted-free href", `<a href='https://x.org'>y</a>`, "y", []Entity{{Type: "text_link", Length: 1, URL: "https://x.org"}}},
		{"unusable link keeps its text", `<a href="javascript:alert(1)">x</a>`, "x", nil},
		{"pre with language", `<pre><code class="language-go">x := 1</code></pre>`, "x := 1",
			[]Entity{{Type: "pre", Length: 6, Language: "go"}}},
		{"code has no language", `<code class="language-go">c</code>`, "c", []Entity{{Type: "code", Length: 1}}},
		{"expandable blockquote", "<blockquote expandable>q</blockquote>", "q", []Entity{{Type: "expandable_blockquote", Length: 1}}},
		{"blockquote", "<blockquote>q</blockquote>", "q", []Entity{{Type: "blockquote", Length: 1}}},
		{"span spoiler", `<span class="tg-spoiler">s</span>`, "s", []Entity{{Type: "spoiler", Length: 1}}},
		{"tg-spoiler", `<tg-spoiler>s</tg-spoiler>`, "s", []Entity{{Type: "spoiler", Length: 1}}},
		{"underline and strike", "<u>u</u><ins>i</ins><s>s</s><strike>k</strike><del>d</del>", "uiskd", []Entity{
			{Type: "underline", Length: 1}, {Type: "underline", Offset: 1, Length: 1},
			{Type: "strikethrough", Offset: 2, Length: 1}, {Type: "strikethrough", Offset: 3, Length: 1}, {Type: "strikethrough", Offset: 4, Length: 1},
		}},
		{"custom emoji", `<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>`, "👍",
			[]Entity{{Type: "custom_emoji", Length: 2, CustomEmojiID: "5368324170671202286"}}},
		{"date time", `<tg-time unix="1647531900" format="wDT">x</tg-time>`, "x",
			[]Entity{{Type: "date_time", Length: 1, UnixTime: 1647531900, DateTimeFormat: "wDT"}}},
		{"anonymous end tag", "<b>x</>", "x", []Entity{{Type: "bold", Length: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain, entities, err := ParseHTML(tt.in)
			if err != nil {
				t.Fatalf("ParseHTML(%q): %v", tt.in, err)
			}
			if plain != tt.wantPlain {
				t.Errorf("plain = %q, want %q", plain, tt.wantPlain)
			}
			if diff := cmp.Diff(tt.want, entities); diff != "" {
				t.Errorf("entities (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseHTMLRejects(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string
		offset int
	}{
		{"unclosed tag", "<b>x", `Can't find end tag corresponding to start tag "b"`, -1},
		{"unknown tag", "<x>y</x>", `Unsupported start tag "x" at byte offset 0`, 0},
		{"br is not supported", "a<br>b", `Unsupported start tag "br" at byte offset 1`, 1},
		{"bare less-than", "a < b", `Unsupported start tag "" at byte offset 2`, 2},
		{"less-than at the end", "a <", "Unclosed start tag at byte offset 2", 2},
		{"bare ampersand", "AT&T", `Character "&" must be escaped as "&amp;" at byte offset 2`, 2},
		{"entity without semicolon", "&amp x", `Character "&" must be escaped as "&amp;" at byte offset 0`, 0},
		{"unknown named entity", "a&nbsp;b", `Character "&" must be escaped as "&amp;" at byte offset 1`, 1},
		{"numeric zero", "&#0;", `Character "&" must be escaped as "&amp;" at byte offset 0`, 0},
		{"surrogate", "&#xD800;", `Character "&" must be escaped as "&amp;" at byte offset 0`, 0},
		{"bare ampersand in href", `<a href="https://x.org/?a=1&b=2">y</a>`, `Character "&" must be escaped as "&amp;" at byte offset 27`, 27},
		{"misnested", "<b><i>x</b></i>", `Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`, 7},
		{"end tag without start", "x</b>", "Unexpected end tag at byte offset 1", 1},
		{"span without class", "<span>x</span>", `Tag "span" must have class "tg-spoiler" at byte offset 0`, 0},
		{"attribute without value", "<a href>x</a>", `Expected equal sign in declaration of an attribute of the tag "a" at byte offset 0`, 0},
		{"start tag cut off", "x<b", "Unclosed start tag at byte offset 1", 1},
		{"end tag cut off", "<b>x</b", "Unclosed end tag at byte offset 4", 4},
		{"bad custom emoji", `<tg-emoji emoji-id="abc">x</tg-emoji>`, "Invalid custom emoji identifier specified", -1},
		{"invalid UTF-8", "\xff", "Strings must be encoded in UTF-8", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseHTML(tt.in)
			var perr *ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("ParseHTML(%q) = %v, want a *ParseError", tt.in, err)
			}
			if perr.Message != tt.want || perr.ByteOffset != tt.offset {
				t.Errorf("ParseHTML(%q) = %q at %d, want %q at %d", tt.in, perr.Message, perr.ByteOffset, tt.want, tt.offset)
			}
		})
	}
}

var escapeHTML = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// FuzzParseHTML checks that no input makes the parser panic or return
// entities outside the text, that errors are *ParseErrors pointing inside
// the input, and that any parsed text survives escaping and parsing again.
func FuzzParseHTML(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		plain, entities, err := ParseHTML(in)
		if err != nil {
			var perr *ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("ParseHTML(%q) error %T is not a *ParseError", in, err)
			}
			if perr.ByteOffset > len(in) {
				t.Fatalf("ParseHTML(%q): offset %d beyond the input", in, perr.ByteOffset)
			}
			if perr.ByteOffset >= 0 && !strings.Contains(perr.Message, "at byte offset "+strconv.Itoa(perr.ByteOffset)) {
				t.Fatalf("ParseHTML(%q): message %q does not name offset %d", in, perr.Message, perr.ByteOffset)
			}
			return
		}
		if !utf8.ValidString(plain) {
			t.Fatalf("ParseHTML(%q) = %q, not UTF-8", in, plain)
		}
		length := UTF16Length(plain)
		for _, e := range entities {
			if e.Offset < 0 || e.Length <= 0 || e.Offset+e.Length > length {
				t.Fatalf("ParseHTML(%q): entity %+v outside text of %d units", in, e, length)
			}
		}
		again, againEntities, err := ParseHTML(escapeHTML.Replace(plain))
		if err != nil || again != plain || len(againEntities) != 0 {
			t.Fatalf("escaped %q parsed as %q, %v, %v", plain, again, againEntities, err)
		}
	})
}
