package article

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
)

// PageScore is one page's share of shingles, as the article extraction
// benchmark (scrapinghub/article-extraction-benchmark) counts them: true
// positives, false positives and false negatives, each divided by their
// sum so that a long page weighs no more than a short one.
type PageScore struct {
	TP, FP, FN float64
	// Empty is a prediction without a single token.
	Empty bool
}

// shingleSize is the benchmark's n: texts are compared by 4-token runs.
const shingleSize = 4

// ScorePage compares a predicted main text with the gold one.
func ScorePage(gold, predicted string) PageScore {
	want := shingles(gold)
	got := shingles(predicted)
	var s PageScore
	for key, n := range got {
		m := want[key]
		s.TP += float64(min(n, m))
		s.FP += float64(max(0, n-m))
	}
	for key, m := range want {
		s.FN += float64(max(0, m-got[key]))
	}
	if sum := s.TP + s.FP + s.FN; sum > 0 {
		s.TP, s.FP, s.FN = s.TP/sum, s.FP/sum, s.FN/sum
	}
	s.Empty = len(got) == 0
	return s
}

// Scores are the benchmark's three figures over a set of pages.
type Scores struct {
	F1, Precision, Recall float64
	Pages                 int
}

// Aggregate averages page scores the benchmark's way: precision is the
// mean of TP/(TP+FP) over the pages that predicted something, recall the
// mean of TP/(TP+FN) over the pages with a gold text, a page with neither
// false positives nor false negatives scoring 1 on both; F1 is the harmonic
// mean of the two means. A page with an empty prediction scores precision 0
// (as the shared set's README defines it; the benchmark's script leaves such
// a page out of the precision mean instead, a difference only when an
// extractor gives up on a page).
func Aggregate(pages []PageScore) Scores {
	s := Scores{Pages: len(pages)}
	s.Precision = meanShare(pages, func(p PageScore) (float64, bool) {
		if p.Empty && p.TP+p.FP == 0 && p.FN > 0 {
			return 0, true
		}
		return p.TP, p.TP+p.FP > 0
	}, func(p PageScore) float64 { return p.FP })
	s.Recall = meanShare(pages, func(p PageScore) (float64, bool) { return p.TP, p.TP+p.FN > 0 },
		func(p PageScore) float64 { return p.FN })
	if s.Precision+s.Recall > 0 {
		s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
	}
	return s
}

// meanShare is the mean over the pages counted of TP/(TP+miss), a page
// with neither false positives nor false negatives scoring 1.
func meanShare(pages []PageScore, tp func(PageScore) (float64, bool), miss func(PageScore) float64) float64 {
	var sum float64
	var n int
	for _, p := range pages {
		v, counted := tp(p)
		switch {
		case p.FP == 0 && p.FN == 0:
			sum++
		case !counted:
			continue
		case v > 0:
			sum += v / (v + miss(p))
		}
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// shingles counts the text's runs of shingleSize tokens; a text of fewer
// tokens is one shingle of them all, and a text of none has none.
func shingles(text string) map[string]int {
	tokens := tokenize(text)
	counts := make(map[string]int, len(tokens))
	if len(tokens) == 0 {
		return counts
	}
	for i := 0; i < max(1, len(tokens)-shingleSize+1); i++ {
		counts[strings.Join(tokens[i:min(i+shingleSize, len(tokens))], " ")]++
	}
	return counts
}

// tokenize splits text into the benchmark's tokens, runs of Python's
// Unicode \w: letters, numbers and the underscore. Combining marks are not
// \w there, so they split tokens here too.
func tokenize(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsNumber(r) || r == '_')
	})
}

// BenchmarkPage is one page of the extraction benchmark: its address, the
// page as served, and the gold main text.
type BenchmarkPage struct {
	ID, URL string
	HTML    []byte
	Gold    string
}

// LoadBenchmark reads a benchmark directory laid out as the shared set is:
// ground-truth.json ({id: {"articleBody", "url"}}) and html/<id>.html.gz.
// Pages come in the order of their ids.
func LoadBenchmark(dir string) ([]BenchmarkPage, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "ground-truth.json"))
	if err != nil {
		return nil, fmt.Errorf("article: benchmark: %w", err)
	}
	var truth map[string]struct {
		ArticleBody string `json:"articleBody"`
		URL         string `json:"url"`
	}
	if err := json.Unmarshal(raw, &truth); err != nil {
		return nil, fmt.Errorf("article: benchmark: ground-truth.json: %w", err)
	}
	ids := slices.Sorted(maps.Keys(truth))
	pages := make([]BenchmarkPage, 0, len(ids))
	for _, id := range ids {
		html, err := readGzip(filepath.Join(dir, "html", id+".html.gz"))
		if err != nil {
			return nil, fmt.Errorf("article: benchmark: page %s: %w", id, err)
		}
		pages = append(pages, BenchmarkPage{ID: id, URL: truth[id].URL, HTML: html, Gold: truth[id].ArticleBody})
	}
	return pages, nil
}

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
