package main

import (
	"github.com/newsbot/newsbot/briefings/summarize/internal/extract"
	"github.com/newsbot/newsbot/briefings/summarize/rouge"
)

// cachedStemmer tokenizes for ROUGE into word ids, remembering stems: the
// oracle scores millions of tokens drawn from a small vocabulary.
type cachedStemmer struct {
	plain rouge.Scorer
	ids   map[string]uint32
}

func newCachedStemmer() *cachedStemmer {
	return &cachedStemmer{plain: rouge.New(false), ids: map[string]uint32{}}
}

func (c *cachedStemmer) tokens(s string) []uint32 {
	toks := c.plain.Tokens(s)
	out := make([]uint32, len(toks))
	for i, t := range toks {
		id, ok := c.ids[t]
		if !ok {
			st := t
			if len(t) > 3 {
				st = rouge.Stem(t)
			}
			if id, ok = c.ids["\x00"+st]; !ok {
				id = uint32(len(c.ids))
				c.ids["\x00"+st] = id
			}
			c.ids[t] = id
		}
		out[i] = id
	}
	return out
}

// oracleLabels marks the greedy oracle summary: up to three sentences, each
// the one that most raises ROUGE-1 + ROUGE-2 F1 of the summary so far, while
// it still rises.
func oracleLabels(cands []extract.Candidate, reference []string, st *cachedStemmer) []float64 {
	labels := make([]float64, len(cands))
	var ref []uint32
	for _, r := range reference {
		ref = append(ref, st.tokens(r)...)
	}
	ref1, ref2 := counts(ref, 1), counts(ref, 2)
	toks := make([][]uint32, len(cands))
	for i, c := range cands {
		if !c.Junk {
			toks[i] = st.tokens(c.Text)
		}
	}
	var summary []uint32
	best := 0.0
	for range 3 {
		pick := -1
		for i := range cands {
			if cands[i].Junk || labels[i] == 1 {
				continue
			}
			s := append(append([]uint32(nil), summary...), toks[i]...)
			v := f1(counts(s, 1), ref1, len(s), len(ref)) + f1(counts(s, 2), ref2, len(s)-1, len(ref)-1)
			if v > best {
				best, pick = v, i
			}
		}
		if pick < 0 {
			break
		}
		labels[pick] = 1
		summary = append(summary, toks[pick]...)
	}
	return labels
}

func counts(toks []uint32, n int) map[uint64]int {
	m := make(map[uint64]int, len(toks))
	for i := 0; i+n <= len(toks); i++ {
		k := uint64(toks[i])
		if n == 2 {
			k = k<<32 | uint64(toks[i+1])
		}
		m[k]++
	}
	return m
}

func f1(cand, ref map[uint64]int, nc, nr int) float64 {
	if nc <= 0 || nr <= 0 {
		return 0
	}
	hits := 0
	for g, c := range cand {
		hits += min(c, ref[g])
	}
	if hits == 0 {
		return 0
	}
	p, r := float64(hits)/float64(nc), float64(hits)/float64(nr)
	return 2 * p * r / (p + r)
}
