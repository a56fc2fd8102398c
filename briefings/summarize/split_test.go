package summarize

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func sentenceTexts(ss []Sentence) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Text)
	}
	return out
}

func TestSplitSentences(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"plain", "The cat sat. The dog ran! Did it? Yes.",
			[]string{"The cat sat.", "The dog ran!", "Did it?", "Yes."}},
		{"titles", "Mr. Smith met Dr. Jones and Mrs. Brown at St. Paul's. They talked.",
			[]string{"Mr. Smith met Dr. Jones and Mrs. Brown at St. Paul's.", "They talked."}},
		{"dotted acronym mid-sentence", "She moved to the U.S. from Ukraine in 2009. She was 17.",
			[]string{"She moved to the U.S. from Ukraine in 2009.", "She was 17."}},
		{"dotted acronym ending a sentence", "He lives in the U.S. He likes it.",
			[]string{"He lives in the U.S.", "He likes it."}},
		{"month and number abbreviations", "It opened on Jan. 5 at No. 10 Downing Street. Crowds came.",
			[]string{"It opened on Jan. 5 at No. 10 Downing Street.", "Crowds came."}},
		{"decimals and prices", "Shares rose 3.7 per cent to $12.50 on Monday. Analysts cheered.",
			[]string{"Shares rose 3.7 per cent to $12.50 on Monday.", "Analysts cheered."}},
		{"initials", "J. K. Rowling and George W. Bush spoke. The crowd listened.",
			[]string{"J. K. Rowling and George W. Bush spoke.", "The crowd listened."}},
		{"times", "The blast came at 9 a.m. Eastern time. Police arrived at 10 p.m. The road closed.",
			[]string{"The blast came at 9 a.m. Eastern time.", "Police arrived at 10 p.m.", "The road closed."}},
		{"closing quote stays with its sentence", `"We won," he said. "It was hard." Then he left.`,
			[]string{`"We won," he said.`, `"It was hard."`, "Then he left."}},
		{"curly quotes", "‘I had a taste of it at Hearts.’ ‘But it’s not about me.’ He smiled.",
			[]string{"‘I had a taste of it at Hearts.’", "‘But it’s not about me.’", "He smiled."}},
		{"opening quote goes with the next sentence", "It’s a fantastic opportunity. ‘But I’ve said all along.",
			[]string{"It’s a fantastic opportunity.", "‘But I’ve said all along."}},
		{"question inside a quote", "‘What now?’ he asked. Nobody knew.",
			[]string{"‘What now?’ he asked.", "Nobody knew."}},
		{"ellipsis", "He waited... and waited. Then… Nothing happened. The end.",
			[]string{"He waited... and waited.", "Then…", "Nothing happened.", "The end."}},
		{"run-on caption", "People who have never been divorced can expect a retirement income 13% higher than a colleague The cost of divorce can wreck retirement. It is high.",
			[]string{"People who have never been divorced can expect a retirement income 13% higher than a colleague", "The cost of divorce can wreck retirement.", "It is high."}},
		{"run-on caption after a quoted title", "Douglas Bader's story is to be told in a film dubbed ‘The First Great Escape’ The story of how he recovered is told.",
			[]string{"Douglas Bader's story is to be told in a film dubbed ‘The First Great Escape’", "The story of how he recovered is told."}},
		{"title-case words are not a run-on", "They sang the song It Must Be Love at the party. Everyone danced.",
			[]string{"They sang the song It Must Be Love at the party.", "Everyone danced."}},
		{"lower case after a period", "The rate is 5 pct. or more, officials said.",
			[]string{"The rate is 5 pct. or more, officials said."}},
		{"non-breaking spaces", "Police arrived.\u00a0The road closed.",
			[]string{"Police arrived.", "The road closed."}},
		{"url", "Read it at kyivindependent.com today. It is free.",
			[]string{"Read it at kyivindependent.com today.", "It is free."}},
		{"empty", "  \n\n ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sentenceTexts(SplitSentences(tt.text))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SplitSentences(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestSplitSentencesLines(t *testing.T) {
	text := "**Headline in Bold**\n" +
		"The first paragraph has a sentence. And a second one that is\n" +
		"wrapped across two lines.\n" +
		"\n" +
		"A Section Heading\n" +
		"The second paragraph follows the heading.\n" +
		"Read More @ example.com"
	want := []Sentence{
		{Text: "Headline in Bold", Paragraph: 0, Heading: true},
		{Text: "The first paragraph has a sentence.", Paragraph: 1},
		{Text: "And a second one that is wrapped across two lines.", Paragraph: 1},
		{Text: "A Section Heading", Paragraph: 2, Heading: true},
		{Text: "The second paragraph follows the heading.", Paragraph: 3},
		{Text: "Read More @ example.com", Paragraph: 4, Heading: true},
	}
	if diff := cmp.Diff(want, SplitSentences(text)); diff != "" {
		t.Errorf("SplitSentences (-want +got):\n%s", diff)
	}
}

func TestLongLineWithoutPunctuationIsText(t *testing.T) {
	// A feed's description cut off mid-sentence is text, not a heading.
	text := "The minister said on Tuesday that the talks would resume next week in Geneva with both delegations and observers from the"
	got := SplitSentences(text)
	if len(got) != 1 || got[0].Heading {
		t.Errorf("SplitSentences(%q) = %+v, want one non-heading sentence", text, got)
	}
}

// nonSpace is s without any whitespace, for comparing texts up to spacing.
func nonSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' {
			return -1
		}
		return r
	}, s)
}

func FuzzSplitSentences(f *testing.F) {
	for _, s := range []string{
		"Mr. Smith went to Washington. He met the U.S. president at 9 a.m. on Jan. 5.",
		"‘Quote?’ he said. “Another one!” … Then: nothing.",
		"**Bold**\n# Title\ntext without end\nNext line.\n\nNew paragraph...",
		"a colleague The cost of it. 3.7 miles (6 km).",
		"", ".", "...", "‘", "A. B. C.", "\u00a0\t\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		sents := SplitSentences(text)
		var joined strings.Builder
		for _, s := range sents {
			if s.Text == "" || s.Text != strings.TrimSpace(s.Text) {
				t.Fatalf("sentence %q is empty or untrimmed", s.Text)
			}
			joined.WriteString(s.Text)
		}
		// Without markdown markers, splitting only decides where sentences
		// end: every character but whitespace is kept, in order.
		if utf8.ValidString(text) && !strings.ContainsAny(text, "*#") {
			if got, want := nonSpace(joined.String()), nonSpace(text); got != want {
				t.Fatalf("sentences of %q lose or add text:\n got %q\nwant %q", text, got, want)
			}
		}
	})
}
