package summarize

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/summarize/rouge"
)

// EvalArticle is one article of an evaluation set with its human reference
// summary (the JSON lines of ../shared/eval/cnndm-dev.jsonl).
type EvalArticle struct {
	ID        json.RawMessage `json:"id"`
	Article   string          `json:"article"`
	Lines     []string        `json:"article_lines"` // the set's own sentence split
	Reference []string        `json:"reference"`     // one sentence per element
}

// ReadEvalSet reads an evaluation set: one JSON object per line, blank lines
// skipped. A line that is not such an object, or has no reference, is an
// error naming its line number.
func ReadEvalSet(r io.Reader) ([]EvalArticle, error) {
	var set []EvalArticle
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), maxLineBytes)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var a EvalArticle
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, fmt.Errorf("eval set: line %d: %w", line, err)
		}
		if len(a.Reference) == 0 {
			return nil, fmt.Errorf("eval set: line %d: no reference summary", line)
		}
		set = append(set, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("eval set: after line %d: %w", line, err)
	}
	return set, nil
}

// maxLineBytes bounds one JSON line: a long article is well under 1 MB.
const maxLineBytes = 16 << 20

// Figures are the mean ROUGE F1 (× 100) of a set of summaries and their mean
// length in words (whitespace-separated).
type Figures struct {
	R1, R2, RLsum float64
	MeanWords     float64
	MeanSentences float64
}

// EvalReport compares a summarizer with Lead-3 (the first three of the set's
// own article_lines) on one set.
type EvalReport struct {
	Articles int
	Stemmed  bool
	Ours     Figures
	Lead3    Figures
}

// Ratio of ours to Lead-3 for each measure.
func (r EvalReport) Ratio() (r1, r2, rlsum float64) {
	return ratio(r.Ours.R1, r.Lead3.R1), ratio(r.Ours.R2, r.Lead3.R2), ratio(r.Ours.RLsum, r.Lead3.RLsum)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Lead3 is the baseline: the first three of the set's own sentences.
func Lead3(a EvalArticle) []string {
	return a.Lines[:min(3, len(a.Lines))]
}

// Evaluate summarizes every article's raw text with s and scores the result,
// and Lead-3, against the references. stem selects Porter stemming, as the
// published figures use.
func Evaluate(ctx context.Context, s briefings.Summarizer, set []EvalArticle, stem bool) (EvalReport, error) {
	scorer := rouge.New(stem)
	var ours, lead rouge.Mean
	var oursWords, leadWords, oursSents, leadSents int
	for i, a := range set {
		sum, err := s.Summarize(ctx, briefings.Article{Text: a.Article})
		if err != nil {
			return EvalReport{}, fmt.Errorf("evaluate: article %d: %w", i+1, err)
		}
		l3 := Lead3(a)
		so, err := scorer.Score(sum, a.Reference)
		if err != nil {
			return EvalReport{}, fmt.Errorf("evaluate: article %d: %w", i+1, err)
		}
		sl, err := scorer.Score(l3, a.Reference)
		if err != nil {
			return EvalReport{}, fmt.Errorf("evaluate: article %d: Lead-3: %w", i+1, err)
		}
		ours.Add(so)
		lead.Add(sl)
		oursWords += words(sum)
		leadWords += words(l3)
		oursSents += len(sum)
		leadSents += len(l3)
	}
	n := float64(max(len(set), 1))
	rep := EvalReport{Articles: len(set), Stemmed: stem}
	rep.Ours.R1, rep.Ours.R2, rep.Ours.RLsum = ours.F1()
	rep.Lead3.R1, rep.Lead3.R2, rep.Lead3.RLsum = lead.F1()
	rep.Ours.MeanWords, rep.Lead3.MeanWords = float64(oursWords)/n, float64(leadWords)/n
	rep.Ours.MeanSentences, rep.Lead3.MeanSentences = float64(oursSents)/n, float64(leadSents)/n
	return rep, nil
}

func words(sents []string) int {
	n := 0
	for _, s := range sents {
		n += len(strings.Fields(s))
	}
	return n
}
