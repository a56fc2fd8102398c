package extract

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The features describing a sentence. All are case-blind, so a scorer learned
// on the lower-case training text applies to cased articles.
const (
	fBias = iota
	fPos0 // position among the article's sentences, one-hot
	fPos1
	fPos2
	fPos3
	fPos4
	fPos5to6
	fPos7to9
	fPos10to14
	fPos15up
	fRelPos     // position / number of sentences
	fLogWords   // ln(words)
	fWords      // words / 25
	fWordsSq    // (words / 25)²
	fShort      // fewer than 10 words
	fLong       // more than 45 words
	fDigit      // a number
	fDigitFrac  // share of words with digits
	fDate       // a day or month name
	fQuoted     // share of the sentence inside quotation marks
	fQuoteStart // opens with a quotation mark
	fQuestion   // ends with "?"
	fExclaim    // ends with "!"
	fPronoun    // opens with a pronoun: leans on an earlier sentence
	fConnective // opens with "But", "And", "However"...
	fFirstPerson
	fAttribution // "said", "told", "according to"
	fCentral     // cosine with the rest of the article's content words
	fShared      // share of content words found in other sentences
	fLeadSim     // cosine with the first sentence (the second's, for the first)
	fCaption     // a photo caption
	fColon       // a colon: a quotation's lead-in or a label
	fContentFrac // share of words that are content words
	fLogSents    // ln(number of sentences in the article)
	fIDFMean     // mean idf of the content words / the largest idf: specificity
	fRare        // share of content words seen in at most rareDF training articles: names
	fRareCount   // ln(1 + number of such words)
	fCentralIDF  // tf-idf cosine with the rest of the article
	fSalience    // mean salience of the content words
	fSalienceMax // mean salience of the three most salient content words
	fSoftLead    // the first sentence, with no number, date or rare word: a scene-setter
	fSoftLeadSal // salience, for the first sentence only
	fLeadIDF     // idf mean, for the first sentence only
	fAfterSoft   // the second sentence, after a soft first one: the real lead
	NumFeatures
)

// FeatureNames are the features' names, for the trainer's generated file.
var FeatureNames = [NumFeatures]string{
	"bias", "pos0", "pos1", "pos2", "pos3", "pos4", "pos5-6", "pos7-9", "pos10-14", "pos15+",
	"relpos", "logwords", "words", "words²", "short", "long", "digit", "digitfrac", "date",
	"quoted", "quotestart", "question", "exclaim", "pronoun", "connective", "firstperson",
	"attribution", "central", "shared", "leadsim", "caption", "colon", "contentfrac",
	"logsents", "idfmean", "rare", "rarecount", "centralidf", "salience", "saliencemax", "softlead", "leadsalience", "leadidf", "aftersoft",
}

// Candidate is one sentence of an article, cleaned and described.
type Candidate struct {
	Index    int    // position in the article's list of sentences
	Text     string // cleaned text, what a summary would show
	Words    int    // words in Text, counted as whitespace-separated fields
	Junk     bool
	Features [NumFeatures]float64
	Score    float64
	// Specific is set for a sentence that names a time, a number or
	// someone: a digit, a day or month, or, in cased text, two capitalized
	// words in a row after the first word ("Marco Rubio"); in lower-case
	// text, a rare word stands for the name.
	Specific bool
	toks     []token
}

// rareDF is the most training articles a word may appear in and count as
// rare: mostly names of people and places.
const rareDF = 10

// Prepare cleans and describes an article's sentences (already split, in
// order). cased says whether the text has its capitals; idf is the table of
// word rarity (DefaultIDF). Junk sentences are kept, marked, so indices stay
// aligned with the input.
func Prepare(sentences []string, cased bool, idf *IDF) []Candidate {
	cands := make([]Candidate, len(sentences))
	total := 0
	for _, s := range sentences {
		total += len(s)/5 + 1
	}
	toks := make([]token, 0, total)
	first := true
	for i, s := range sentences {
		cl := Clean(s, first, cased)
		c := &cands[i]
		c.Index = i
		c.Text = cl.Text
		c.Junk = cl.Junk
		if cl.Caption {
			c.Features[fCaption] = 1
		}
		start := len(toks)
		toks = appendTokens(toks, cl.Text)
		c.toks = toks[start:len(toks):len(toks)]
		c.Words = countFields(cl.Text)
		if c.Words < 4 || len(c.toks) < 4 || isBoilerplate(cl.Text, c.toks, cased) {
			c.Junk = true
		}
		if !c.Junk {
			first = false
		}
		if cased {
			c.Specific = specific(cl.Text, c.toks)
		}
	}
	describe(cands, idf)
	if !cased {
		for i := range cands {
			f := &cands[i].Features
			cands[i].Specific = f[fDigit] > 0 || f[fDate] > 0 || f[fRare] > 0
		}
	}
	return cands
}

func countFields(s string) int {
	n := 0
	in := false
	for i := 0; i < len(s); i++ {
		sp := s[i] == ' '
		if !sp && !in {
			n++
		}
		in = !sp
	}
	return n
}

// describe fills in the features of the non-junk candidates.
func describe(cands []Candidate, idf *IDF) {
	n := 0
	for i := range cands {
		if !cands[i].Junk {
			n++
		}
	}
	if n == 0 {
		return
	}
	// Number the article's content words, and count them: over the article
	// (tf) and in how many sentences (sentFreq).
	ids := make(map[uint64]int32, 256)
	var tf []float64
	var sentFreq []int32
	var lastSeen []int32 // the sentence a word was last counted in, +1
	for i := range cands {
		c := &cands[i]
		if c.Junk {
			continue
		}
		for k := range c.toks {
			t := &c.toks[k]
			if t.stop {
				continue
			}
			id, ok := ids[t.hash]
			if !ok {
				id = int32(len(tf))
				ids[t.hash] = id
				tf = append(tf, 0)
				sentFreq = append(sentFreq, 0)
				lastSeen = append(lastSeen, 0)
			}
			t.id = id
			tf[id]++
			if lastSeen[id] != int32(i+1) {
				lastSeen[id] = int32(i + 1)
				sentFreq[id]++
			}
		}
	}
	idfs := make([]float64, len(tf))
	sals := make([]float64, len(tf))
	for h, id := range ids {
		idfs[id], sals[id] = idf.lookup(h)
	}
	var docNormSq, docNormSqIDF float64
	for id, v := range tf {
		docNormSq += v * v
		docNormSqIDF += v * v * idfs[id] * idfs[id]
	}
	rareIDF := idfOf(idf.docs, rareDF)
	maxIDF := idf.max()
	lead, second := -1, -1
	for i := range cands {
		if cands[i].Junk {
			continue
		}
		if lead < 0 {
			lead = i
		} else if second < 0 {
			second = i
			break
		}
	}
	own := make([]float64, len(tf))      // the current sentence's counts, by word id
	inSentence := make([]uint8, len(tf)) // scratch for cosine
	var touched []int32
	pos := 0
	softLead := false
	for i := range cands {
		c := &cands[i]
		if c.Junk {
			continue
		}
		f := &c.Features
		f[fBias] = 1
		f[positionFeature(pos)] = 1
		if n > 1 {
			f[fRelPos] = float64(pos) / float64(n-1)
		}
		pos++
		w := float64(max(c.Words, 1))
		f[fLogWords] = math.Log(w)
		f[fWords] = w / 25
		f[fWordsSq] = (w / 25) * (w / 25)
		f[fShort] = b2f(c.Words < 10)
		f[fLong] = b2f(c.Words > 45)
		f[fLogSents] = math.Log(float64(n))

		digits, content, attribution, firstPers, date := 0, 0, 0, 0, false
		touched = touched[:0]
		for _, t := range c.toks {
			if t.digit {
				digits++
			}
			date = date || t.class&classDate != 0
			if t.class&classAttribution != 0 {
				attribution++
			}
			if t.class&classFirstPerson != 0 {
				firstPers++
			}
			if !t.stop {
				content++
				if own[t.id] == 0 {
					touched = append(touched, t.id)
				}
				own[t.id]++
			}
		}
		nt := float64(len(c.toks))
		f[fDigit] = b2f(digits > 0)
		f[fDigitFrac] = float64(digits) / nt
		f[fDate] = b2f(date)
		f[fAttribution] = b2f(attribution > 0)
		f[fFirstPerson] = float64(firstPers) / nt
		f[fContentFrac] = float64(content) / nt
		if len(c.toks) > 0 {
			f[fPronoun] = b2f(c.toks[0].class&classPronoun != 0)
			f[fConnective] = b2f(c.toks[0].class&classConnective != 0)
		}
		f[fQuoted] = quotedShare(c.Text)
		r, _ := utf8.DecodeRuneInString(c.Text)
		f[fQuoteStart] = b2f(isQuote(r))
		last, _ := utf8.DecodeLastRuneInString(strings.TrimRight(c.Text, "\"'’”)"))
		f[fQuestion] = b2f(last == '?')
		f[fExclaim] = b2f(last == '!')
		f[fColon] = b2f(strings.IndexByte(c.Text, ':') >= 0)

		// Centrality: cosine of the sentence's content words with the rest
		// of the article's, plain and idf-weighted, and the share of its
		// words used elsewhere.
		var dot, ownSq, shared, dotIDF, ownSqIDF float64
		restSq, restSqIDF := docNormSq, docNormSqIDF
		for _, id := range touched {
			v, d := own[id], tf[id]
			w2 := idfs[id] * idfs[id]
			dot += v * (d - v)
			ownSq += v * v
			dotIDF += v * (d - v) * w2
			ownSqIDF += v * v * w2
			restSq += (d-v)*(d-v) - d*d
			restSqIDF += ((d-v)*(d-v) - d*d) * w2
			if sentFreq[id] > 1 {
				shared++
			}
			own[id] = 0
		}
		if ownSq > 0 && restSq > 1e-9 {
			f[fCentral] = dot / math.Sqrt(ownSq*restSq)
		}
		if ownSqIDF > 0 && restSqIDF > 1e-9 {
			f[fCentralIDF] = dotIDF / math.Sqrt(ownSqIDF*restSqIDF)
		}
		if len(touched) > 0 {
			f[fShared] = shared / float64(len(touched))
		}

		// Specificity and salience of the content words.
		nContent := 0
		var idfSum, rare, sal float64
		top := [3]float64{-9, -9, -9}
		for _, t := range c.toks {
			if t.stop || t.digit {
				continue
			}
			nContent++
			wi := idfs[t.id]
			idfSum += wi
			if wi >= rareIDF {
				rare++
			}
			v := sals[t.id]
			sal += v
			switch {
			case v > top[0]:
				top[0], top[1], top[2] = v, top[0], top[1]
			case v > top[1]:
				top[1], top[2] = v, top[1]
			case v > top[2]:
				top[2] = v
			}
		}
		if nContent > 0 {
			f[fIDFMean] = idfSum / float64(nContent) / maxIDF
			f[fRare] = rare / float64(nContent)
			f[fSalience] = sal / float64(nContent)
			k := min(nContent, 3)
			for _, v := range top[:k] {
				f[fSalienceMax] += v / float64(k)
			}
		}
		f[fRareCount] = math.Log1p(rare)
		if f[fPos0] == 1 {
			f[fSoftLead] = b2f(digits == 0 && !date && rare == 0)
			f[fSoftLeadSal] = f[fSalience]
			f[fLeadIDF] = f[fIDFMean]
			softLead = f[fSoftLead] == 1
		} else if f[fPos1] == 1 {
			f[fAfterSoft] = b2f(softLead)
		}

		other := lead
		if i == lead {
			other = second
		}
		if other >= 0 {
			f[fLeadSim] = cosine(c.toks, cands[other].toks, inSentence)
		}
	}
}

func positionFeature(pos int) int {
	switch {
	case pos <= 4:
		return fPos0 + pos
	case pos <= 6:
		return fPos5to6
	case pos <= 9:
		return fPos7to9
	case pos <= 14:
		return fPos10to14
	}
	return fPos15up
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// quotedShare is the share of s's bytes between quotation marks. A straight
// or curly single quote counts only where it cannot be an apostrophe (not
// between two letters).
func quotedShare(s string) float64 {
	if len(s) == 0 {
		return 0
	}
	inside := 0
	open := -1
	prev := ' '
	for i, r := range s {
		q := false
		switch r {
		case '"', '“', '”':
			q = true
		case '\'', '‘', '’':
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			q = !(isWordRune(prev) && isWordRune(next))
		}
		if q {
			if open < 0 {
				open = i
			} else {
				inside += i - open
				open = -1
			}
		}
		prev = r
	}
	if open >= 0 {
		inside += len(s) - open
	}
	return float64(inside) / float64(len(s))
}

func isWordRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r > utf8.RuneSelf && r != '’' && r != '‘' && r != '“' && r != '”'
}

// cosine compares the content words of two sentences: the share of b's
// that a has, against the geometric mean of their counts. mark is scratch
// space indexed by word id, all zero, and left so.
func cosine(a, b []token, mark []uint8) float64 {
	na, nb, both := 0, 0, 0
	for _, t := range a {
		if !t.stop {
			mark[t.id] = 1
			na++
		}
	}
	for _, t := range b {
		if !t.stop {
			nb++
			both += int(mark[t.id])
		}
	}
	for _, t := range a {
		if !t.stop {
			mark[t.id] = 0
		}
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return float64(both) / math.Sqrt(float64(na)*float64(nb))
}

// specific reports whether a cased sentence has a number, a date or a
// multi-word name.
func specific(text string, toks []token) bool {
	for _, t := range toks {
		if t.digit || t.class&classDate != 0 {
			return true
		}
	}
	prevCap := false
	firstWord := true
	found := false
	fieldsFunc(text, func(w string) {
		if found {
			return
		}
		r, _ := utf8.DecodeRuneInString(w)
		capital := unicode.IsUpper(r) && !(firstWord && stopWords[hashWord(strings.ToLower(w))])
		if capital && prevCap {
			found = true
		}
		prevCap = capital
		firstWord = false
	})
	return found
}
