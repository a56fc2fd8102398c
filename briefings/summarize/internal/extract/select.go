package extract

import (
	"fmt"
	"sort"
	"sync"
)

// Model is a linear sentence scorer: the log-odds that a sentence belongs in
// a summary.
type Model struct {
	Weights [NumFeatures]float64
}

// DefaultModel returns the trained scorer (weights.go, written by
// internal/train). It panics if that file is stale, a build defect every
// test of the summarizer catches.
var DefaultModel = sync.OnceValue(func() Model {
	if len(trainedWeights) != NumFeatures {
		panic(fmt.Sprintf("extract: weights.go has %d weights for %d features: run go generate", len(trainedWeights), NumFeatures))
	}
	var m Model
	copy(m.Weights[:], trainedWeights)
	return m
})

// Score sets each non-junk candidate's Score.
func (m *Model) Score(cands []Candidate) {
	for i := range cands {
		c := &cands[i]
		if c.Junk {
			continue
		}
		s := 0.0
		for j, w := range m.Weights {
			s += w * c.Features[j]
		}
		c.Score = s
	}
}

// SoftLeadMargin is how far, in log-odds, DemoteSoftLead lowers a
// scene-setting opening: enough to move near-ties only. The cross-outlet
// validation on the training file finds it neutral (±0.1%) there; it keeps
// openings such as "The world is watching closely as tensions rise" out of
// summaries of cased text, where the scorer, learned on lower-case text,
// cannot see names.
const SoftLeadMargin = 0.5

// DemoteSoftLead lowers the first sentence below the best of the next two
// when it is not specific and one of them is: a scene-setting opening ("The
// world is watching closely as tensions rise") before the news.
func DemoteSoftLead(cands []Candidate, margin float64) {
	first := -1
	seen := 0
	best := -1
	for i := range cands {
		c := &cands[i]
		if c.Junk {
			continue
		}
		if first < 0 {
			if c.Specific {
				return
			}
			first = i
			continue
		}
		if c.Specific && (best < 0 || c.Score > cands[best].Score) {
			best = i
		}
		if seen++; seen == 2 {
			break
		}
	}
	if best >= 0 {
		cands[first].Score -= margin
	}
}

// Params shape the summary picked from scored candidates.
type Params struct {
	MaxSentences int // at most this many sentences
	// MaxWords is the length budget: sentences are added, best first, while
	// the summary stays within it (the best one is always taken).
	MaxWords int
	// MaxOverlap is the largest share of a sentence's content words that may
	// already be in the summary: more is a repetition.
	MaxOverlap float64
	// LeadBudget, when set, makes the budget the length of the article's
	// first three sentences, between MinWords and MaxWords.
	LeadBudget bool
	MinWords   int
}

// Select picks the summary: the best-scored candidates that fit the budget
// and do not repeat one already picked. It returns their indices in article
// order.
func Select(cands []Candidate, p Params) []int {
	order := make([]int, 0, len(cands))
	for i := range cands {
		if !cands[i].Junk {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return cands[order[a]].Score > cands[order[b]].Score })
	var picked []int
	words := 0
	budget := p.MaxWords
	if p.LeadBudget {
		lead, n := 0, 0
		for i := range cands {
			if !cands[i].Junk && n < 3 {
				lead += cands[i].Words
				n++
			}
		}
		budget = max(p.MinWords, min(lead, p.MaxWords))
	}
	for _, i := range order {
		if len(picked) >= p.MaxSentences {
			break
		}
		c := &cands[i]
		if len(picked) > 0 && words+c.Words > budget {
			continue
		}
		if repeats(c, cands, picked, p.MaxOverlap) {
			continue
		}
		picked = append(picked, i)
		words += c.Words
	}
	sort.Ints(picked)
	return picked
}

// repeats reports whether too much of c's content is already in the picked
// sentences.
func repeats(c *Candidate, cands []Candidate, picked []int, maxOverlap float64) bool {
	content, covered := 0, 0
	for _, t := range c.toks {
		if t.stop {
			continue
		}
		content++
	search:
		for _, j := range picked {
			for _, u := range cands[j].toks {
				if u.hash == t.hash {
					covered++
					break search
				}
			}
		}
	}
	return content > 0 && float64(covered) > maxOverlap*float64(content)
}
