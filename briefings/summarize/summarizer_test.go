package summarize

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/briefings"
)

// devSetPath is the evaluation set, beside the repository (CI has it).
var devSetPath = filepath.Join("..", "..", "..", "shared", "eval", "cnndm-dev.jsonl")

func loadDevSet(tb testing.TB) []EvalArticle {
	tb.Helper()
	f, err := os.Open(devSetPath)
	if errors.Is(err, os.ErrNotExist) {
		tb.Skipf("skipping: the evaluation set %s is absent (CI has it beside the repository)", devSetPath)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	set, err := ReadEvalSet(f)
	if err != nil {
		tb.Fatal(err)
	}
	return set
}

// words is a case-blind list of the letters-and-digits words of s.
func wordsOf(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// position returns where in the article the words of sentence occur in
// order, starting at from: the index after its last word, or -1 when they do
// not all occur in order (the sentence would not be the article's words).
func position(article []string, sentence string, from int) int {
	i := from
	for _, w := range wordsOf(sentence) {
		for i < len(article) && article[i] != w {
			i++
		}
		if i == len(article) {
			return -1
		}
		i++
	}
	return i
}

// checkExtractive fails unless summary has at most three sentences, each
// made of the article's words in the article's order (whole or shortened),
// the sentences in article order.
func checkExtractive(t *testing.T, article string, summary []string) {
	t.Helper()
	if len(summary) > MaxSentences {
		t.Errorf("summary has %d sentences, want at most %d: %q", len(summary), MaxSentences, summary)
	}
	words := wordsOf(article)
	at := 0
	for _, s := range summary {
		if strings.TrimSpace(s) == "" {
			t.Errorf("empty sentence in summary %q", summary)
			continue
		}
		next := position(words, s, at)
		if next < 0 {
			if position(words, s, 0) < 0 {
				t.Errorf("sentence %q is not made of the article's words", s)
			} else {
				t.Errorf("sentence %q is out of article order in %q", s, summary)
			}
			continue
		}
		at = next
	}
}

// referenceStory is the reference story as a feed item: the bold first line
// is the title, the rest the text with its section headings as lines.
func referenceStory(t *testing.T) briefings.Article {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "rubio-lavrov-kuala-lumpur.md"))
	if err != nil {
		t.Fatal(err)
	}
	title, text, _ := strings.Cut(string(b), "\n")
	return briefings.Article{Title: strings.Trim(title, "*"), Text: strings.ReplaceAll(text, "**", "")}
}

func TestReferenceStory(t *testing.T) {
	plain := referenceStory(t)
	markdown, err := os.ReadFile(filepath.Join("testdata", "rubio-lavrov-kuala-lumpur.md"))
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]briefings.Article{
		"feed item with headings as lines": plain,
		"markdown as published":            {Text: string(markdown)},
		"paragraph text without headings":  {Title: plain.Title, Text: paragraphsOnly(plain.Text)},
	} {
		t.Run(name, func(t *testing.T) {
			sum, err := New(Options{}).Summarize(context.Background(), a)
			if err != nil {
				t.Fatal(err)
			}
			checkExtractive(t, a.Text, sum)
			text := strings.Join(sum, " ")
			for _, fact := range []struct{ what, words string }{
				{"who", "Rubio"}, {"whom", "Lavrov"}, {"where", "Kuala Lumpur"}, {"when", "July 10"},
				{"for how long", "50 minutes"}, {"at which meeting", "ASEAN"},
				{"what about", "Ukraine"}, {"what about", "Iran"}, {"what about", "Syria"},
			} {
				if !strings.Contains(text, fact.words) {
					t.Errorf("summary does not say %s (%q):\n%s", fact.what, fact.words, strings.Join(sum, "\n"))
				}
			}
			for _, skip := range []string{"The world is watching closely", "Coming Soon", "Read More", "Brief but Crucial"} {
				if strings.Contains(text, skip) {
					t.Errorf("summary has %q, the scene-setting opening or a heading:\n%s", skip, strings.Join(sum, "\n"))
				}
			}
		})
	}
}

// paragraphsOnly drops the lines without end punctuation (the headings).
func paragraphsOnly(text string) string {
	var keep []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); strings.HasSuffix(line, ".") || strings.HasSuffix(line, "?") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

func TestSummarizeCleansSentences(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{
			name: "CNN dateline",
			text: `LONDON, England (CNN) -- Police arrested three men on Monday after a raid on a warehouse in east London. The men, aged 20 to 35, were held on suspicion of fraud.`,
			want: []string{"Police arrested three men on Monday after a raid on a warehouse in east London.",
				"The men, aged 20 to 35, were held on suspicion of fraud."},
		},
		{
			name: "photo pointers, attribution and video prompt",
			text: `Manchester City have apologised to supporters after coaches they laid on were delayed and missed the kick-off at Crystal Palace, the club said. Scroll down for video Fans (pictured) waited for three hours at the ground before the coaches finally arrived in south London.`,
			want: []string{"Manchester City have apologised to supporters after coaches they laid on were delayed and missed the kick-off at Crystal Palace.",
				"Fans waited for three hours at the ground before the coaches finally arrived in south London."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(Options{}).Summarize(context.Background(), briefings.Article{Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSummarizeSkipsRepeatedTitle(t *testing.T) {
	a := briefings.Article{
		Title: "Floods close the Rhine to shipping",
		Text: "Floods close the Rhine to shipping\n" +
			"Barges stopped near Cologne on Tuesday as the river rose above the 8-metre mark. " +
			"Authorities expect the water to fall by the weekend.",
	}
	sum, err := New(Options{}).Summarize(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum) == 0 || strings.Contains(strings.Join(sum, " "), "Floods close") {
		t.Errorf("summary %q repeats the title or is empty", sum)
	}
}

func TestSummarizeEdgeCases(t *testing.T) {
	s := New(Options{})
	for _, text := range []string{"", "   \n\n", "Read more", "Scroll down for video", "***", "Click here to subscribe."} {
		sum, err := s.Summarize(context.Background(), briefings.Article{Text: text})
		if err != nil || len(sum) != 0 {
			t.Errorf("Summarize(%q) = %q, %v; want no sentences and no error", text, sum, err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Summarize(ctx, referenceStory(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("Summarize with a cancelled context: err = %v, want context.Canceled", err)
	}

	one, err := New(Options{MaxSentences: 1}).Summarize(context.Background(), referenceStory(t))
	if err != nil || len(one) != 1 {
		t.Errorf("MaxSentences 1: got %q, %v; want one sentence", one, err)
	}
	capped, err := New(Options{MaxSentences: 10}).Summarize(context.Background(), referenceStory(t))
	if err != nil || len(capped) > MaxSentences {
		t.Errorf("MaxSentences 10: got %d sentences, %v; want at most %d", len(capped), err, MaxSentences)
	}
}

func TestDevSetSummariesAreExtractiveAndDeterministic(t *testing.T) {
	set := loadDevSet(t)
	s := New(Options{})
	for _, a := range set {
		sum, err := s.Summarize(context.Background(), briefings.Article{Text: a.Article})
		if err != nil {
			t.Fatal(err)
		}
		if len(sum) == 0 {
			t.Errorf("article %s: empty summary", a.ID)
		}
		checkExtractive(t, a.Article, sum)
		again, _ := s.Summarize(context.Background(), briefings.Article{Text: a.Article})
		if diff := cmp.Diff(sum, again); diff != "" {
			t.Errorf("article %s: a second run differs:\n%s", a.ID, diff)
		}
	}
}

// TestDevSetBeatsLead3 holds the summarizer to issue 3's bar on the dev set:
// ROUGE-1 and ROUGE-Lsum at least 1.02 × Lead-3's, summaries no longer on
// average than Lead-3's.
func TestDevSetBeatsLead3(t *testing.T) {
	set := loadDevSet(t)
	rep, err := Evaluate(context.Background(), New(Options{}), set, true)
	if err != nil {
		t.Fatal(err)
	}
	r1, r2, rl := rep.Ratio()
	t.Logf("dev (%d articles): ours %.2f/%.2f/%.2f in %.1f words; Lead-3 %.2f/%.2f/%.2f in %.1f words; ratio %.3f/%.3f/%.3f",
		rep.Articles, rep.Ours.R1, rep.Ours.R2, rep.Ours.RLsum, rep.Ours.MeanWords,
		rep.Lead3.R1, rep.Lead3.R2, rep.Lead3.RLsum, rep.Lead3.MeanWords, r1, r2, rl)
	if r1 < 1.02 || rl < 1.02 {
		t.Errorf("ROUGE-1 ratio %.4f and ROUGE-Lsum ratio %.4f: want both at least 1.02", r1, rl)
	}
	if rep.Ours.MeanWords > rep.Lead3.MeanWords {
		t.Errorf("mean summary length %.1f words, longer than Lead-3's %.1f", rep.Ours.MeanWords, rep.Lead3.MeanWords)
	}
	if rep.Ours.MeanSentences > MaxSentences {
		t.Errorf("mean sentences %.2f over %d", rep.Ours.MeanSentences, MaxSentences)
	}
}

// FuzzSummarize holds the summarizer to its promise on any input: no panic,
// at most three sentences, each the article's own words in its order.
func FuzzSummarize(f *testing.F) {
	for _, s := range []string{
		"LONDON (CNN) -- Police arrested three men (left) on Monday, police said. The men, aged 20, were held.",
		"**Headline**\nThe world is watching. Against this backdrop, Mr. Rubio met Mr. Lavrov on July 10.\n\nRead More @ x.com",
		"Scroll down for video Label: A caption The cost of it rose 3.7 per cent, according to research.",
		"", "...", "‘’“”", "a\nb\nc", "By . Daily Mail Reporter . PUBLISHED: . 1 2013 . A b c d e f.",
	} {
		f.Add("", s)
	}
	f.Fuzz(func(t *testing.T, title, text string) {
		sum, err := New(Options{}).Summarize(context.Background(), briefings.Article{Title: title, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		checkExtractive(t, text, sum)
	})
}
