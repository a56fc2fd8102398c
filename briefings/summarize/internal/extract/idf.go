package extract

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
)

// IDF is what the training articles say about each word: how common it is
// (inverse document frequency) and how likely it is, when an article has it,
// to be in the article's highlights (salience, as log-odds against the
// average word). It is keyed by a 32-bit hash of the word, so the table holds
// no text. A word it does not know is rare and of average salience.
type IDF struct {
	docs int
	q    map[uint32]entry
}

type entry struct {
	idf      uint8 // idf × idfScale, rounded
	salience int8  // log-odds × salienceScale, rounded
}

const (
	idfScale      = 20
	salienceScale = 32
)

//go:embed idf.bin
var idfData []byte

// DefaultIDF returns the table learned with the default model, decoded on
// first use (the trainer, which writes it, never reads it).
var DefaultIDF = sync.OnceValue(func() *IDF {
	t, err := DecodeIDF(idfData)
	if err != nil {
		panic(err) // the embedded table is generated with the code that reads it
	}
	return t
})

const idfMagic = "IDF2"

// WordStats are one word's counts over the training articles.
type WordStats struct {
	Docs        int // articles that have the word
	InHighlight int // of those, articles whose highlights have it too
}

// salienceSmoothing is how many articles' worth of the average rate a
// word's own rate is blended with, so a word seen a few times stays near
// average.
const salienceSmoothing = 20

// EncodeIDF serializes word statistics over docs documents, keeping the
// words found in at least minDF of them.
func EncodeIDF(docs int, stats map[uint64]WordStats, minDF int) []byte {
	type row struct {
		h uint32
		e entry
	}
	merged := map[uint32]WordStats{}
	var all WordStats
	for h, st := range stats {
		all.Docs += st.Docs
		all.InHighlight += st.InHighlight
		if st.Docs >= minDF {
			m := merged[uint32(h)]
			m.Docs += st.Docs
			m.InHighlight += st.InHighlight
			merged[uint32(h)] = m
		}
	}
	base := float64(all.InHighlight+1) / float64(all.Docs+2)
	rows := make([]row, 0, len(merged))
	for h, st := range merged {
		p := (float64(st.InHighlight) + salienceSmoothing*base) / (float64(st.Docs) + salienceSmoothing)
		lo := math.Log(p/(1-p)) - math.Log(base/(1-base))
		rows = append(rows, row{h, entry{
			idf:      quantize(idfOf(docs, st.Docs)),
			salience: int8(max(-127, min(127, math.Round(lo*salienceScale)))),
		}})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].h < rows[j].h })
	b := make([]byte, 0, 8+6*len(rows))
	b = append(b, idfMagic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(docs))
	for _, r := range rows {
		b = binary.LittleEndian.AppendUint32(b, r.h)
		b = append(b, r.e.idf, byte(r.e.salience))
	}
	return b
}

// DecodeIDF reads a table written by EncodeIDF.
func DecodeIDF(b []byte) (*IDF, error) {
	if len(b) < 8 || string(b[:4]) != idfMagic || (len(b)-8)%6 != 0 {
		return nil, errors.New("extract: idf table: bad format")
	}
	docs := int(binary.LittleEndian.Uint32(b[4:]))
	if docs <= 0 {
		return nil, fmt.Errorf("extract: idf table: %d documents", docs)
	}
	t := &IDF{docs: docs, q: make(map[uint32]entry, (len(b)-8)/6)}
	for p := 8; p < len(b); p += 6 {
		t.q[binary.LittleEndian.Uint32(b[p:])] = entry{idf: b[p+4], salience: int8(b[p+5])}
	}
	return t, nil
}

func idfOf(docs, df int) float64 { return math.Log(float64(docs+1) / float64(df+1)) }

func quantize(v float64) uint8 { return uint8(min(255, math.Round(v*idfScale))) }

// of returns the word's idf; an unknown word gets the idf of a word seen
// once.
func (t *IDF) of(h uint64) float64 {
	if e, ok := t.q[uint32(h)]; ok {
		return float64(e.idf) / idfScale
	}
	return idfOf(t.docs, 1)
}

// lookup returns the word's idf and salience.
func (t *IDF) lookup(h uint64) (idf, salience float64) {
	if e, ok := t.q[uint32(h)]; ok {
		return float64(e.idf) / idfScale, float64(e.salience) / salienceScale
	}
	return idfOf(t.docs, 1), 0
}

// salience returns the word's log-odds of reaching the highlights against
// the average word's; 0 for a word the table does not know.
func (t *IDF) salience(h uint64) float64 {
	return float64(t.q[uint32(h)].salience) / salienceScale
}

// max is the largest idf a word can have.
func (t *IDF) max() float64 { return idfOf(t.docs, 0) }

// DistinctWords returns the hashes of the distinct content words of a
// document, for counting document frequencies.
func DistinctWords(sentences ...string) []uint64 {
	seen := map[uint64]bool{}
	var out []uint64
	var toks []token
	for _, s := range sentences {
		toks = appendTokens(toks[:0], s)
		for _, t := range toks {
			if !t.stop && !t.digit && !seen[t.hash] {
				seen[t.hash] = true
				out = append(out, t.hash)
			}
		}
	}
	return out
}
