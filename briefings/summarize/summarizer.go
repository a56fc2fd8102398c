// Package summarize turns an article into a short summary: an extractive
// summarizer (sentences taken from the article, picked by a scorer learned on
// news highlights), an optional LLM summarizer grounded in the article that
// falls back to it, and the evaluation that measures both against Lead-3.
package summarize

//go:generate go run ./internal/train -data ../../../shared/eval/train.jsonl.gz -out internal/extract/weights.go

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/summarize/internal/extract"
)

// MaxSentences is the most sentences a summary has.
const MaxSentences = 3

// Options shape the extractive summaries. The zero value gives the defaults.
type Options struct {
	// MaxSentences caps the summary; 0 or more than MaxSentences means
	// MaxSentences.
	MaxSentences int
	// MaxWords caps the length budget: sentences are added, best first,
	// while the summary stays within the length of the article's own first
	// three sentences, at least 50 and at most MaxWords words (80 when 0);
	// the best sentence is always taken.
	MaxWords int
}

// Extractive is a deterministic summarizer that picks up to three sentences
// of the article: it splits the text into sentences, drops headings and
// boilerplate, strips datelines, bylines and photo pointers, scores every
// sentence with a linear model of its position, length and content, and takes
// the best ones that fit the length budget without repeating each other, in
// article order. It is safe for concurrent use.
type Extractive struct {
	params extract.Params
	model  extract.Model
	words  *extract.IDF
}

var _ briefings.Summarizer = (*Extractive)(nil)

// New returns an extractive summarizer.
func New(opts Options) *Extractive {
	p := extract.DefaultParams
	if opts.MaxSentences > 0 && opts.MaxSentences < MaxSentences {
		p.MaxSentences = opts.MaxSentences
	}
	if opts.MaxWords > 0 {
		p.MaxWords = opts.MaxWords
		p.MinWords = min(p.MinWords, p.MaxWords)
	}
	return &Extractive{params: p, model: extract.DefaultModel(), words: extract.DefaultIDF()}
}

// Summarize returns at most three sentences of a.Text, in article order; none
// when the text has no sentence worth showing. It fails only when ctx is done.
func (e *Extractive) Summarize(ctx context.Context, a briefings.Article) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("summarize: %w", err)
	}
	return e.summarize(a), nil
}

func (e *Extractive) summarize(a briefings.Article) []string {
	sents := SplitSentences(a.Text)
	texts := make([]string, 0, len(sents))
	title := normalizeForCompare(a.Title)
	for _, s := range sents {
		if s.Heading {
			continue
		}
		if len(texts) == 0 && title != "" && normalizeForCompare(s.Text) == title {
			continue // the headline repeated as the first line of the text
		}
		texts = append(texts, s.Text)
	}
	cands := extract.Prepare(texts, true, e.words)
	e.model.Score(cands)
	extract.DemoteSoftLead(cands, extract.SoftLeadMargin)
	picked := extract.Select(cands, e.params)
	if len(picked) == 0 {
		return nil
	}
	out := make([]string, len(picked))
	for k, i := range picked {
		out[k] = cands[i].Text
		if first, _, _ := strings.Cut(out[k], " "); !strings.HasPrefix(texts[i], first) {
			out[k] = capitalizeFirst(out[k])
		}
	}
	return out
}

// capitalizeFirst restores the capital a sentence lost when its opening (a
// dateline, an attribution) was cut.
func capitalizeFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if !unicode.IsLower(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func normalizeForCompare(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}
