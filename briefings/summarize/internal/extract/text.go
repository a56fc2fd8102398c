// Package extract is the extractive summarizer's core, shared by the product
// (package summarize) and the trainer that learns its sentence scorer: it
// cleans sentences, describes each by case-blind features (the training text
// is lower-case), scores them with a linear model and picks a summary.
package extract

import (
	"unicode"
	"unicode/utf8"
)

// token is one word of a sentence, identified by the FNV-1a hash of its
// lower-cased letters and digits, so comparing words allocates nothing.
type token struct {
	hash  uint64
	id    int32  // the content word's index in its article (describe); -1 for a stop word
	class uint16 // wordClass bits
	stop  bool   // a function word ("the", "said")
	digit bool   // contains a digit
}

// Word classes, looked up once per token.
const (
	classStop uint16 = 1 << iota
	classDate
	classPronoun
	classConnective
	classAttribution
	classFirstPerson
	classAction       // opens a call to action ("sign", "follow")
	classActionObject // what a call to action points at ("newsletter", "here")
	classSiteVoice    // the page speaking ("we", "our", "you")
	classPageWord     // the page's own business ("cookies", "subscribe")
	classSiteWe       // the site speaking of itself ("we", "our")
	classProductWord  // the site's products ("app", "podcast")
)

// wordClasses maps a word's hash to its class bits.
var wordClasses = func() map[uint64]uint16 {
	m := map[uint64]uint16{}
	for _, set := range []struct {
		words map[uint64]bool
		class uint16
	}{
		{stopWords, classStop}, {dateWords, classDate}, {pronounStarts, classPronoun},
		{connectiveStarts, classConnective}, {attributionWords, classAttribution}, {firstPerson, classFirstPerson},
		{actionVerbs, classAction}, {actionObjects, classActionObject}, {siteVoice, classSiteVoice},
		{pageWords, classPageWord}, {siteWe, classSiteWe}, {productWords, classProductWord},
	} {
		for h := range set.words {
			m[h] |= set.class
		}
	}
	return m
}()

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// appendTokens appends the words of s: runs of letters and digits, lower-cased.
// Apostrophes inside a word ("don't", "Kilmarnock’s") end the word, as ROUGE's
// tokenizer does.
func appendTokens(dst []token, s string) []token {
	h := uint64(fnvOffset)
	n := 0
	digit := false
	emit := func() {
		if n > 0 {
			class := wordClasses[h]
			dst = append(dst, token{hash: h, id: -1, class: class, stop: class&classStop != 0, digit: digit})
		}
		h, n, digit = fnvOffset, 0, false
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			default:
				emit()
				continue
			}
			if c <= '9' {
				digit = true
			}
			h = (h ^ uint64(c)) * fnvPrime
			n++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			emit()
			continue
		}
		var buf [utf8.UTFMax]byte
		m := utf8.EncodeRune(buf[:], unicode.ToLower(r))
		for _, b := range buf[:m] {
			h = (h ^ uint64(b)) * fnvPrime
		}
		n++
	}
	emit()
	return dst
}

func hashWord(w string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(w); i++ {
		h = (h ^ uint64(w[i])) * fnvPrime
	}
	return h
}

func hashSet(words ...string) map[uint64]bool {
	m := make(map[uint64]bool, len(words))
	for _, w := range words {
		m[hashWord(w)] = true
	}
	return m
}

// stopWords are function words and the verbs of attribution: they say little
// about what a sentence is about.
var stopWords = hashSet(
	"a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are",
	"as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by",
	"can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from",
	"further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him",
	"himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me",
	"more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only",
	"or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so",
	"some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there",
	"these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was",
	"we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with",
	"would", "you", "your", "yours", "yourself", "s", "t", "d", "ll", "m", "re", "ve", "said", "says",
	"say", "told", "one", "two", "new", "like", "get", "got", "may", "might", "must", "us", "per",
	"cent", "year", "years", "mr", "mrs", "ms", "many", "much", "last", "first", "according", "since",
)

// dateWords name days and months: a sentence with them says when.
var dateWords = hashSet(
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
	"january", "february", "march", "april", "june", "july", "august", "september",
	"october", "november", "december", "jan", "feb", "aug", "sept", "oct", "nov", "dec",
	"yesterday", "today", "tonight", "tomorrow", "weekend",
)

var pronounStarts = hashSet("he", "she", "it", "they", "his", "her", "their", "its", "this", "these",
	"those", "that", "there", "him", "them", "we", "i", "you")

var connectiveStarts = hashSet("but", "and", "so", "however", "also", "meanwhile", "still", "yet",
	"then", "instead", "indeed", "moreover", "furthermore", "or", "now", "even", "because", "although")

var attributionWords = hashSet("said", "says", "told", "according", "added", "explained", "claimed",
	"reported", "announced", "confirmed", "revealed", "stated")

var firstPerson = hashSet("i", "me", "my", "we", "our", "us", "you", "your")
