// Command train learns the extractive summarizer's sentence scorer from
// ../shared/eval/train.jsonl.gz (CNN/DailyMail training articles with their
// highlights) and writes it as Go source. Run it through go generate in
// briefings/summarize; it never copies any training text into its output.
//
// Each sentence of an article is labelled 1 when it belongs to the greedy
// oracle summary (the sentences that, added one at a time, most raise
// ROUGE-1 + ROUGE-2 against the highlights), and a logistic regression on the
// case-blind features of package extract is fitted by Newton's method with an
// L2 penalty.
//
// The gain must hold on other outlets' writing, so the trainer validates
// across outlets: it fits on CNN's own datelined stories and tests on the
// rest of the file (partner outlets and undated features), and the reverse,
// with word tables built from the fitting side only, and prints that table.
// -search tries the hyper-parameter grid that way and prints every row; the
// defaults are the grid's choice. The evaluation sets are never read.
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
	"os"
	"path/filepath"
	"strings"

	"github.com/newsbot/newsbot/briefings/summarize/internal/extract"
)

type article struct {
	Lines     []string `json:"article_lines"`
	Reference []string `json:"reference"`
}

// ownOutlet tells CNN's own stories, which open with the "(cnn)" dateline,
// from the rest of the training file: stories CNN ran from partner outlets
// ("(mental floss)", "(oprah.com)", "(reuters)", "(wired)", ...) and undated
// features, which are written in other house styles.
func ownOutlet(a article) bool {
	first := a.Lines[0]
	return strings.Contains(first[:min(len(first), 120)], "(cnn)")
}

func main() {
	data := flag.String("data", "../../../shared/eval/train.jsonl.gz", "training set (gzipped JSON lines)")
	out := flag.String("out", "internal/extract/weights.go", "Go file to write")
	search := flag.Bool("search", false, "print the cross-outlet validation of the hyper-parameter grid and write nothing")
	flag.Parse()
	if err := run(*data, *out, *search); err != nil {
		log.Fatal(err)
	}
}

func run(dataPath, outPath string, search bool) error {
	arts, err := readTrain(dataPath)
	if err != nil {
		return err
	}
	var own, other []article
	for _, a := range arts {
		if ownOutlet(a) {
			own = append(own, a)
		} else {
			other = append(other, a)
		}
	}
	log.Printf("train: %d articles: %d CNN, %d from other outlets or undated", len(arts), len(own), len(other))
	st := newCachedStemmer()
	cv := newCrossValidation([2]group{{"CNN", own}, {"other", other}}, st)
	if search {
		var best hyper
		bestScore := -1.0
		for _, h := range grid() {
			t, err := cv.table(h)
			if err != nil {
				return err
			}
			fmt.Printf("%s\n%s\n", h, t)
			if s := t.worst(); s > bestScore {
				best, bestScore = h, s
			}
		}
		fmt.Printf("best by the worse direction's mean R-1 and R-Lsum ratio (%.4f): %s\n", bestScore, best)
		return nil
	}
	h := chosen
	t, err := cv.table(h)
	if err != nil {
		return err
	}
	fmt.Printf("cross-outlet validation, %s\n%s\n", h, t)

	// The shipped model is fitted on every training article.
	all := group{"all", arts}
	set, err := featurize(all.arts, st)
	if err != nil {
		return err
	}
	w, err := fitLogistic(set.xs, set.ys, h.lambda, h.use)
	if err != nil {
		return err
	}
	_, idfBytes, err := wordTable(arts)
	if err != nil {
		return err
	}
	log.Printf("train: %d sentences; word table of %d bytes", len(set.xs), len(idfBytes))
	src, err := render(extract.Model{Weights: w}, len(arts), h)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(outPath), "idf.bin"), idfBytes, 0o644); err != nil {
		return err
	}
	return os.WriteFile(outPath, src, 0o644)
}

// labelled are the features and oracle labels of a set's sentences.
type labelled struct {
	xs [][nf]float64
	ys []float64
}

// featurize describes every sentence of arts with word tables that never saw
// the article: those of one half are built from the other half, since a
// word's salience, learned from an article's own highlights, would leak its
// label.
func featurize(arts []article, st *cachedStemmer) (labelled, error) {
	var halves [2][]article
	for i, a := range arts {
		halves[i%2] = append(halves[i%2], a)
	}
	var tables [2]*extract.IDF
	for h := range halves {
		t, _, err := wordTable(halves[1-h])
		if err != nil {
			return labelled{}, err
		}
		tables[h] = t
	}
	var set labelled
	for i, a := range arts {
		cands := extract.Prepare(a.Lines, false, tables[i%2])
		labels := oracleLabels(cands, a.Reference, st)
		for k := range cands {
			if cands[k].Junk {
				continue
			}
			set.xs = append(set.xs, cands[k].Features)
			set.ys = append(set.ys, labels[k])
		}
	}
	return set, nil
}

// minDF is the fewest training articles a word must appear in to get its own
// entry in the idf table; rarer words share the idf of a word seen once,
// which keeps the table small.
const minDF = 3

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

func render(m extract.Model, articles int, h hyper) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/train from ../shared/eval/train.jsonl.gz; DO NOT EDIT.\n\n")
	fmt.Fprintf(&b, "package extract\n\n")
	fmt.Fprintf(&b, "// trainedWeights are the sentence scorer's: logistic regression (L2 %.3g)\n", h.lambda)
	fmt.Fprintf(&b, "// on %d training articles' greedy-oracle labels, one weight per feature\n", articles)
	fmt.Fprintf(&b, "// (0 for a feature the cross-outlet validation left out).\n")
	fmt.Fprintf(&b, "var trainedWeights = []float64{\n")
	for j, w := range m.Weights {
		fmt.Fprintf(&b, "\t%.6f, // %s\n", w, extract.FeatureNames[j])
	}
	fmt.Fprintf(&b, "}\n")
	return format.Source(b.Bytes())
}
