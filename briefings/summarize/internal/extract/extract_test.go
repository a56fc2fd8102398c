package extract

import (
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		first bool
		want  Cleaned
	}{
		{"CNN dateline", "LONDON, England (CNN) -- Police arrested three men on Monday.", true,
			Cleaned{Text: "Police arrested three men on Monday."}},
		{"bare CNN dateline", "(CNN)They may not be aliens, but we may be close.", true,
			Cleaned{Text: "They may not be aliens, but we may be close."}},
		{"wire dateline", "WASHINGTON (Reuters) - The Senate passed the bill late on Friday.", true,
			Cleaned{Text: "The Senate passed the bill late on Friday."}},
		{"capitals dateline", "PARIS — The museum reopened its doors to visitors on Monday.", true,
			Cleaned{Text: "The museum reopened its doors to visitors on Monday."}},
		{"dateline only in the first sentence", "LONDON (CNN) -- Police said so on Monday.", false,
			Cleaned{Text: "LONDON (CNN) -- Police said so on Monday."}},
		{"Daily Mail byline", "By . Daily Mail Reporter . PUBLISHED: . 12:34 EST, 3 April 2013 . | . UPDATED: . 14:02 EST, 3 April 2013 . A dog saved its owner from a river.", true,
			Cleaned{Text: "A dog saved its owner from a river."}},
		{"video prompt and caption label", "Scroll down for video Flying high: Half of the 6,000-metre kite took to the sky in Chongqing.", false,
			Cleaned{Text: "Half of the 6,000-metre kite took to the sky in Chongqing.", Caption: true}},
		{"speaker is not a caption label", "He said: 'We will win this election.'", false,
			Cleaned{Text: "He said: 'We will win this election.'"}},
		{"photo pointers", "Abase Hussen (left) took his daughter Amira (pictured, right) to a rally.", false,
			Cleaned{Text: "Abase Hussen took his daughter Amira to a rally."}},
		{"other parentheticals go, acronyms stay", "The kite measured 6,000 metres (3.7 miles) at the Association of South East Asian Nations (ASEAN) Summit.", false,
			Cleaned{Text: "The kite measured 6,000 metres at the Association of South East Asian Nations (ASEAN) Summit."}},
		{"linking adverbial", "Against this backdrop, Marco Rubio held a meeting with Sergey Lavrov.", false,
			Cleaned{Text: "Marco Rubio held a meeting with Sergey Lavrov."}},
		{"according-to lead-in", "According to reports from the ministry, they discussed Ukraine, Iran and Syria.", false,
			Cleaned{Text: "they discussed Ukraine, Iran and Syria."}},
		{"according-to tail", "The cost of divorce can wreck retirement many years later, according to research.", false,
			Cleaned{Text: "The cost of divorce can wreck retirement many years later."}},
		{"said tail", "Three men were arrested at the scene on Monday night, police said.", false,
			Cleaned{Text: "Three men were arrested at the scene on Monday night."}},
		{"quotation keeps its speaker", "'We were lucky to get out alive,' the driver said.", false,
			Cleaned{Text: "'We were lucky to get out alive,' the driver said."}},
		{"quotation keeps its speaker after an aside", "'It has been hard for her over the years,' Julia, who is on the cover, explained.", false,
			Cleaned{Text: "'It has been hard for her over the years,' Julia, who is on the cover, explained."}},
		{"apostrophes are not quotes", "The players' union met Locke's lawyers on Monday, officials said.", false,
			Cleaned{Text: "The players' union met Locke's lawyers on Monday."}},
		{"junk mark", "© 2015 Daily Mail and General Trust, all reserved.", false,
			Cleaned{Text: "© 2015 Daily Mail and General Trust, all reserved.", Junk: true}},
		{"too short", "Scroll down for video", false, Cleaned{Junk: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Clean(tt.in, tt.first, true)); diff != "" {
				t.Errorf("Clean(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestPrepareMarksJunk(t *testing.T) {
	sents := []string{
		"Click here to read more about the story.",
		"Share this article with a friend by e-mail to a friend today.",
		"Police arrested three men on Monday after a raid.",
		"Too short.",
		"Last updated at 10:31 AM on 3rd April 2011",
	}
	var junk []bool
	for _, c := range Prepare(sents, true, DefaultIDF()) {
		junk = append(junk, c.Junk)
	}
	if diff := cmp.Diff([]bool{true, true, false, true, true}, junk); diff != "" {
		t.Errorf("junk flags (-want +got):\n%s", diff)
	}
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// isSubsequence reports whether every word of part occurs in whole, in order.
func isSubsequence(part, whole []string) bool {
	i := 0
	for _, w := range part {
		for i < len(whole) && whole[i] != w {
			i++
		}
		if i == len(whole) {
			return false
		}
		i++
	}
	return true
}

// FuzzClean holds cleaning to "never invent": what it keeps of a sentence is
// the sentence's own words, in order.
func FuzzClean(f *testing.F) {
	for _, s := range []string{
		"LONDON, England (CNN) -- Police arrested three men (left) on Monday, police said.",
		"According to reports, they met (ASEAN) in (Kuala Lumpur.",
		"Scroll down for video Label: Caption here.", "By . Daily Mail Reporter . PUBLISHED: . 1 . A b c d.",
		"", "(", ")(", ": ", "but ", "Notably, x",
	} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, first bool) {
		for _, cased := range []bool{true, false} {
			c := Clean(s, first, cased)
			if !isSubsequence(words(c.Text), words(s)) {
				t.Fatalf("Clean(%q) = %q: words not taken in order from the sentence", s, c.Text)
			}
		}
	})
}

func TestSelect(t *testing.T) {
	text := []string{
		"The council approved the new bridge over the river on Monday after a long debate.", // 15 words
		"The new bridge over the river was approved by the council on Monday night.",        // repeats the first
		"Construction will start in May and cost about 40 million pounds, officials said.",
		"It will carry trams as well as cars and bicycles between the two halves of the town.",
		"Residents have waited twenty years for a second crossing.",
	}
	cands := Prepare(text, true, DefaultIDF())
	for i := range cands {
		cands[i].Score = float64(10 - i) // best first, in article order
	}
	tests := []struct {
		name string
		p    Params
		want []int
	}{
		{"repetition skipped", Params{MaxSentences: 3, MaxWords: 1000, MaxOverlap: 0.5}, []int{0, 2, 3}},
		{"repetition allowed", Params{MaxSentences: 3, MaxWords: 1000, MaxOverlap: 1}, []int{0, 1, 2}},
		{"budget skips a long sentence for a short one", Params{MaxSentences: 3, MaxWords: 38, MaxOverlap: 0.5}, []int{0, 2, 4}},
		{"best sentence taken over budget", Params{MaxSentences: 3, MaxWords: 5, MaxOverlap: 0.5}, []int{0}},
		{"one sentence", Params{MaxSentences: 1, MaxWords: 1000, MaxOverlap: 0.5}, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Select(cands, tt.p)); diff != "" {
				t.Errorf("Select (-want +got):\n%s", diff)
			}
		})
	}

	// Scores in reverse: the summary still comes out in article order.
	for i := range cands {
		cands[i].Score = float64(i)
	}
	if got := Select(cands, Params{MaxSentences: 3, MaxWords: 1000, MaxOverlap: 1}); !cmp.Equal(got, []int{2, 3, 4}) {
		t.Errorf("Select with reversed scores = %v, want [2 3 4]", got)
	}
}

func TestIDFRoundTrip(t *testing.T) {
	common, rare, salient := hashWord("said"), hashWord("lavrov"), hashWord("killed")
	stats := map[uint64]WordStats{
		common:  {Docs: 900, InHighlight: 300},
		rare:    {Docs: 4, InHighlight: 3},
		salient: {Docs: 200, InHighlight: 150},
		9:       {Docs: 1}, // under minDF: not kept
	}
	table, err := DecodeIDF(EncodeIDF(1000, stats, 2))
	if err != nil {
		t.Fatal(err)
	}
	if len(table.q) != 3 {
		t.Errorf("table has %d words, want 3", len(table.q))
	}
	if !(table.of(common) < table.of(salient) && table.of(salient) < table.of(rare) && table.of(rare) <= table.of(12345)) {
		t.Errorf("idf not ordered by rarity: common %.2f, salient %.2f, rare %.2f, unknown %.2f",
			table.of(common), table.of(salient), table.of(rare), table.of(12345))
	}
	if !(table.salience(salient) > table.salience(common)) || table.salience(12345) != 0 {
		t.Errorf("salience: salient %.2f, common %.2f, unknown %.2f", table.salience(salient), table.salience(common), table.salience(12345))
	}
	for _, bad := range [][]byte{nil, []byte("IDF2"), []byte("XXXX\x01\x00\x00\x00"), []byte("IDF2\x00\x00\x00\x00"), []byte("IDF2\x01\x00\x00\x00\x01")} {
		if _, err := DecodeIDF(bad); err == nil {
			t.Errorf("DecodeIDF(%q) succeeded, want an error", bad)
		}
	}
}

func TestDefaultModelMatchesFeatures(t *testing.T) {
	m := DefaultModel() // panics if weights.go is stale
	if m.Weights == ([NumFeatures]float64{}) {
		t.Error("default model has no weights")
	}
	if DefaultIDF().docs < 1000 {
		t.Errorf("default word table counts %d articles, want the training set", DefaultIDF().docs)
	}
}
