// Command train learns the extractive summarizer's sentence scorer from
// ../shared/eval/train.jsonl.gz (CNN/DailyMail training articles with their
// highlights) and writes it as Go source. Run it through go generate in
// briefings/summarize; it never copies any training text into its output.
//
// Each sentence of an article is labelled 1 when it belongs to the greedy
// oracle summary (the sentences that, added one at a time, most raise
// ROUGE-1 + ROUGE-2 against the highlights), and a logistic regression on the
// case-blind features of package extract is fitted by Newton's method with an
// L2 penalty. One article in ten is held out: the trainer reports ROUGE of
// the learned summarizer against Lead-3 on it, and optionally on an
// evaluation set given with -eval (reported only, never used to fit).
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/newsbot/newsbot/briefings/summarize/internal/extract"
	"github.com/newsbot/newsbot/briefings/summarize/rouge"
)

type article struct {
	Lines     []string `json:"article_lines"`
	Reference []string `json:"reference"`
}

func main() {
	data := flag.String("data", "../../../shared/eval/train.jsonl.gz", "training set (gzipped JSON lines)")
	out := flag.String("out", "internal/extract/weights.go", "Go file to write")
	lambda := flag.Float64("l2", 1.0, "L2 penalty")
	holdout := flag.Int("holdout", 10, "hold out one article in this many")
	flag.Parse()
	if err := run(*data, *out, *lambda, *holdout); err != nil {
		log.Fatal(err)
	}
}

func run(dataPath, outPath string, lambda float64, holdout int) error {
	arts, err := readTrain(dataPath)
	if err != nil {
		return err
	}
	var fit, held []article
	for i, a := range arts {
		if holdout > 0 && i%holdout == holdout-1 {
			held = append(held, a)
		} else {
			fit = append(fit, a)
		}
	}
	log.Printf("train: %d articles to fit, %d held out", len(fit), len(held))

	// The word table used for the features of an article is built from the
	// other half of the articles: a word's salience, learned from an
	// article's own highlights, would otherwise leak its label.
	var halves [2][]article
	for i, a := range fit {
		halves[i%2] = append(halves[i%2], a)
	}
	var crossIDF [2]*extract.IDF
	for h := range halves {
		t, _, err := wordTable(halves[1-h])
		if err != nil {
			return err
		}
		crossIDF[h] = t
	}
	idf, idfBytes, err := wordTable(fit)
	if err != nil {
		return err
	}
	log.Printf("train: word table of %d bytes", len(idfBytes))

	stemmer := newCachedStemmer()
	var xs [][extract.NumFeatures]float64
	var ys []float64
	for i, a := range fit {
		cands := extract.Prepare(a.Lines, false, crossIDF[i%2])
		labels := oracleLabels(cands, a.Reference, stemmer)
		for i := range cands {
			if cands[i].Junk {
				continue
			}
			xs = append(xs, cands[i].Features)
			ys = append(ys, labels[i])
		}
	}
	log.Printf("train: %d sentences", len(xs))
	w, err := fitLogistic(xs, ys, lambda)
	if err != nil {
		return err
	}
	model := extract.Model{Weights: w}
	report("held out", held, model, idf, extract.DefaultParams)
	src, err := render(model, len(fit), lambda)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(outPath), "idf.bin"), idfBytes, 0o644); err != nil {
		return err
	}
	return os.WriteFile(outPath, src, 0o644)
}

// wordTable counts, for each word, the articles that have it and those whose
// highlights have it too.
func wordTable(arts []article) (*extract.IDF, []byte, error) {
	stats := map[uint64]extract.WordStats{}
	for _, a := range arts {
		inRef := map[uint64]bool{}
		for _, h := range extract.DistinctWords(a.Reference...) {
			inRef[h] = true
		}
		for _, h := range extract.DistinctWords(a.Lines...) {
			st := stats[h]
			st.Docs++
			if inRef[h] {
				st.InHighlight++
			}
			stats[h] = st
		}
	}
	b := extract.EncodeIDF(len(arts), stats, minDF)
	t, err := extract.DecodeIDF(b)
	return t, b, err
}

func readTrain(path string) ([]article, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("train: %s: %w", path, err)
	}
	var arts []article
	dec := json.NewDecoder(bufio.NewReader(zr))
	for {
		var a article
		if err := dec.Decode(&a); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("train: %s: article %d: %w", path, len(arts)+1, err)
		}
		if len(a.Lines) > 0 && len(a.Reference) > 0 {
			arts = append(arts, a)
		}
	}
	return arts, nil
}

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

const nf = extract.NumFeatures

// minDF is the fewest training articles a word must appear in to get its own
// entry in the idf table; rarer words share the idf of a word seen once,
// which keeps the table small.
const minDF = 3

// fitLogistic fits L2-penalized logistic regression by Newton's method on
// standardized features, and returns the weights for the raw features.
func fitLogistic(xs [][nf]float64, ys []float64, lambda float64) ([nf]float64, error) {
	var mean, sd [nf]float64
	n := float64(len(xs))
	for _, x := range xs {
		for j := range nf {
			mean[j] += x[j] / n
		}
	}
	for _, x := range xs {
		for j := range nf {
			d := x[j] - mean[j]
			sd[j] += d * d / n
		}
	}
	for j := range nf {
		sd[j] = math.Sqrt(sd[j])
		if sd[j] < 1e-9 || j == 0 {
			sd[j] = 1 // constant features (the bias) stay as they are
			if j != 0 {
				mean[j] = 0
			}
		}
	}
	mean[0] = 0
	z := func(x [nf]float64) [nf]float64 {
		for j := range nf {
			x[j] = (x[j] - mean[j]) / sd[j]
		}
		return x
	}
	var w [nf]float64
	for iter := range 30 {
		var g [nf]float64
		var h [nf][nf]float64
		loss := 0.0
		for k, x := range xs {
			zx := z(x)
			s := 0.0
			for j := range nf {
				s += w[j] * zx[j]
			}
			p := 1 / (1 + math.Exp(-s))
			y := ys[k]
			loss -= y*math.Log(p+1e-12) + (1-y)*math.Log(1-p+1e-12)
			d := p - y
			v := p * (1 - p)
			for a := range nf {
				g[a] += d * zx[a]
				va := v * zx[a]
				for b := a; b < nf; b++ {
					h[a][b] += va * zx[b]
				}
			}
		}
		for a := range nf {
			for b := 0; b < a; b++ {
				h[a][b] = h[b][a]
			}
			if a != 0 {
				g[a] += lambda * w[a]
				h[a][a] += lambda
			}
			h[a][a] += 1e-9
		}
		step, err := solve(h, g)
		if err != nil {
			return w, err
		}
		change := 0.0
		for j := range nf {
			w[j] -= step[j]
			change = math.Max(change, math.Abs(step[j]))
		}
		log.Printf("train: Newton step %d: loss %.4f, largest change %.2g", iter+1, loss/n, change)
		if change < 1e-6 {
			break
		}
	}
	// Back to raw features: w·z(x) = Σ w_j (x_j - m_j)/s_j.
	var raw [nf]float64
	for j := 1; j < nf; j++ {
		raw[j] = w[j] / sd[j]
		raw[0] -= w[j] * mean[j] / sd[j]
	}
	raw[0] += w[0]
	return raw, nil
}

// solve solves h·x = g by Gaussian elimination with partial pivoting.
func solve(h [nf][nf]float64, g [nf]float64) ([nf]float64, error) {
	for col := range nf {
		pivot := col
		for r := col + 1; r < nf; r++ {
			if math.Abs(h[r][col]) > math.Abs(h[pivot][col]) {
				pivot = r
			}
		}
		if math.Abs(h[pivot][col]) < 1e-15 {
			return g, fmt.Errorf("train: singular Hessian at feature %s", extract.FeatureNames[col])
		}
		h[col], h[pivot] = h[pivot], h[col]
		g[col], g[pivot] = g[pivot], g[col]
		for r := col + 1; r < nf; r++ {
			f := h[r][col] / h[col][col]
			for c := col; c < nf; c++ {
				h[r][c] -= f * h[col][c]
			}
			g[r] -= f * g[col]
		}
	}
	var x [nf]float64
	for r := nf - 1; r >= 0; r-- {
		s := g[r]
		for c := r + 1; c < nf; c++ {
			s -= h[r][c] * x[c]
		}
		x[r] = s / h[r][r]
	}
	return x, nil
}

// report prints ROUGE of the model's summaries and Lead-3's on articles.
func report(name string, arts []article, model extract.Model, idf *extract.IDF, params extract.Params) {
	scorer := rouge.New(true)
	var ours, lead rouge.Mean
	ow, lw := 0, 0
	for _, a := range arts {
		cands := extract.Prepare(a.Lines, false, idf)
		model.Score(cands)
		var sum []string
		for _, i := range extract.Select(cands, params) {
			sum = append(sum, cands[i].Text)
			ow += len(strings.Fields(cands[i].Text))
		}
		l3 := a.Lines[:min(3, len(a.Lines))]
		for _, l := range l3 {
			lw += len(strings.Fields(l))
		}
		so, err := scorer.Score(sum, a.Reference)
		if err != nil {
			log.Fatal(err)
		}
		sl, err := scorer.Score(l3, a.Reference)
		if err != nil {
			log.Fatal(err)
		}
		ours.Add(so)
		lead.Add(sl)
	}
	o1, o2, ol := ours.F1()
	l1, l2, ll := lead.F1()
	n := float64(len(arts))
	log.Printf("%s (%d articles): ours %.2f/%.2f/%.2f %.1f words; Lead-3 %.2f/%.2f/%.2f %.1f words; ratio %.4f/%.4f/%.4f",
		name, len(arts), o1, o2, ol, float64(ow)/n, l1, l2, ll, float64(lw)/n, o1/l1, o2/l2, ol/ll)
}

func render(m extract.Model, articles int, lambda float64) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/train from ../shared/eval/train.jsonl.gz; DO NOT EDIT.\n\n")
	fmt.Fprintf(&b, "package extract\n\n")
	fmt.Fprintf(&b, "// trainedWeights are the sentence scorer's: logistic regression (L2 %.3g)\n", lambda)
	fmt.Fprintf(&b, "// on %d training articles' greedy-oracle labels, one weight per feature.\n", articles)
	fmt.Fprintf(&b, "var trainedWeights = []float64{\n")
	for j, w := range m.Weights {
		fmt.Fprintf(&b, "\t%.6f, // %s\n", w, extract.FeatureNames[j])
	}
	fmt.Fprintf(&b, "}\n")
	return format.Source(b.Bytes())
}
