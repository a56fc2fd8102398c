// Package rouge scores summaries against references the way Google's
// rouge_score package does (the figures papers on CNN/DailyMail report):
// ROUGE-1, ROUGE-2 and summary-level ROUGE-Lsum F1, on tokens that are
// lower-cased, split on every run of characters outside [a-z0-9], and
// optionally Porter-stemmed when longer than three characters.
package rouge

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Score is one ROUGE measure of one summary: precision, recall and their
// harmonic mean, each in [0, 1].
type Score struct {
	Precision, Recall, F1 float64
}

func newScore(hits, candidate, reference int) Score {
	p := float64(hits) / float64(max(candidate, 1))
	r := float64(hits) / float64(max(reference, 1))
	var f float64
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return Score{Precision: p, Recall: r, F1: f}
}

// Scores are the three measures for one summary.
type Scores struct {
	R1, R2, RLsum Score
}

// Scorer compares summaries with references. The zero value does not stem;
// use New(true) for the stemmed figures.
type Scorer struct {
	stem bool
}

// New returns a scorer; stem selects Porter stemming of tokens longer than
// three characters, as rouge_score's use_stemmer=True does.
func New(stem bool) Scorer { return Scorer{stem: stem} }

// Tokens splits text into ROUGE tokens: lower-cased runs of [a-z0-9] (every
// other character, including non-ASCII letters, separates tokens), stemmed
// when the scorer stems.
func (s Scorer) Tokens(text string) []string {
	var toks []string
	var cur []byte
	emit := func() {
		if len(cur) == 0 {
			return
		}
		t := string(cur)
		if s.stem && len(t) > 3 {
			t = Stem(t)
		}
		toks = append(toks, t)
		cur = cur[:0]
	}
	for _, r := range text {
		if r >= utf8.RuneSelf {
			// Python's str.lower() maps a few non-ASCII letters to ASCII
			// ones (the Kelvin sign to "k", "İ" to "i" and a combining dot).
			if r == 'İ' {
				cur = append(cur, 'i')
				emit()
				continue
			}
			r = unicode.ToLower(r)
		} else if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			cur = append(cur, byte(r))
			continue
		}
		emit()
	}
	emit()
	return toks
}

// ErrTooLong is returned for a pair of sentences too long to compare: the
// summary-level LCS keeps a table of one sentence's tokens by the other's.
var ErrTooLong = errors.New("rouge: sentences too long to compare")

// maxLCSCells bounds that table (16 MB): a pair of 2,000-token sentences.
const maxLCSCells = 1 << 22

// Score compares a summary with a reference, each given as sentences.
// ROUGE-1 and ROUGE-2 compare the whole texts; ROUGE-Lsum compares them
// sentence by sentence, as rouge_score does for newline-separated texts. It
// fails, with ErrTooLong, only for a pair of sentences no news summary has.
func (s Scorer) Score(summary, reference []string) (Scores, error) {
	cand := make([][]string, 0, len(summary))
	for _, sent := range summary {
		if t := s.Tokens(sent); len(t) > 0 {
			cand = append(cand, t)
		}
	}
	ref := make([][]string, 0, len(reference))
	for _, sent := range reference {
		if t := s.Tokens(sent); len(t) > 0 {
			ref = append(ref, t)
		}
	}
	for _, c := range cand {
		for _, r := range ref {
			if (len(c)+1)*(len(r)+1) > maxLCSCells {
				return Scores{}, fmt.Errorf("%w: %d and %d tokens", ErrTooLong, len(c), len(r))
			}
		}
	}
	candAll := flatten(cand)
	refAll := flatten(ref)
	return Scores{
		R1:    ngramScore(candAll, refAll, 1),
		R2:    ngramScore(candAll, refAll, 2),
		RLsum: summaryLCS(cand, ref),
	}, nil
}

func flatten(sents [][]string) []string {
	var all []string
	for _, s := range sents {
		all = append(all, s...)
	}
	return all
}

// ngramScore is the clipped n-gram overlap of candidate and reference.
func ngramScore(cand, ref []string, n int) Score {
	refCounts := ngrams(ref, n)
	candCounts := ngrams(cand, n)
	hits := 0
	for g, c := range refCounts {
		hits += min(c, candCounts[g])
	}
	return newScore(hits, max(len(cand)-n+1, 0), max(len(ref)-n+1, 0))
}

func ngrams(toks []string, n int) map[string]int {
	m := make(map[string]int, len(toks))
	for i := 0; i+n <= len(toks); i++ {
		m[strings.Join(toks[i:i+n], " ")]++
	}
	return m
}

// summaryLCS is ROUGE-Lsum: for each reference sentence, the union of its
// longest common subsequences with every candidate sentence, each token
// counted at most as often as it occurs on both sides.
func summaryLCS(cand, ref [][]string) Score {
	m, n := 0, 0
	refLeft := map[string]int{}
	candLeft := map[string]int{}
	for _, s := range ref {
		m += len(s)
		for _, t := range s {
			refLeft[t]++
		}
	}
	for _, s := range cand {
		n += len(s)
		for _, t := range s {
			candLeft[t]++
		}
	}
	if m == 0 || n == 0 {
		return Score{}
	}
	hits := 0
	for _, r := range ref {
		union := make([]bool, len(r))
		for _, c := range cand {
			for _, i := range lcsIndices(r, c) {
				union[i] = true
			}
		}
		for i, in := range union {
			if !in {
				continue
			}
			t := r[i]
			if candLeft[t] > 0 && refLeft[t] > 0 {
				hits++
				candLeft[t]--
				refLeft[t]--
			}
		}
	}
	return newScore(hits, n, m)
}

// lcsIndices are the indices into ref of one longest common subsequence of
// ref and cand, chosen by rouge_score's backtracking (prefer moving along
// cand when the table allows).
func lcsIndices(ref, cand []string) []int {
	rows, cols := len(ref), len(cand)
	t := make([]int32, (rows+1)*(cols+1))
	at := func(i, j int) int32 { return t[i*(cols+1)+j] }
	for i := 1; i <= rows; i++ {
		for j := 1; j <= cols; j++ {
			if ref[i-1] == cand[j-1] {
				t[i*(cols+1)+j] = at(i-1, j-1) + 1
			} else {
				t[i*(cols+1)+j] = max(at(i-1, j), at(i, j-1))
			}
		}
	}
	var idx []int
	i, j := rows, cols
	for i > 0 && j > 0 {
		switch {
		case ref[i-1] == cand[j-1]:
			idx = append(idx, i-1)
			i--
			j--
		case at(i, j-1) > at(i-1, j):
			j--
		default:
			i--
		}
	}
	return idx
}

// Mean is the average of per-summary scores, as reported: F1 × 100.
type Mean struct {
	R1, R2, RLsum float64
	N             int
}

// Add accumulates one summary's scores.
func (m *Mean) Add(s Scores) {
	m.R1 += s.R1.F1
	m.R2 += s.R2.F1
	m.RLsum += s.RLsum.F1
	m.N++
}

// F1 returns the mean F1 of each measure × 100.
func (m Mean) F1() (r1, r2, rlsum float64) {
	if m.N == 0 {
		return 0, 0, 0
	}
	n := float64(m.N)
	return 100 * m.R1 / n, 100 * m.R2 / n, 100 * m.RLsum / n
}
