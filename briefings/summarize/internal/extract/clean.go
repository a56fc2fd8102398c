package extract

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Cleaned is a sentence after cleaning: the words that stay in a summary, and
// what was found about it on the way.
type Cleaned struct {
	Text    string
	Junk    bool // boilerplate, a byline, a credit: never in a summary
	Caption bool // a photo caption ("Flying high: Half of the kite ...")
}

// datelines open wire and network stories: "LONDON, England (CNN) -- ",
// "(CNN)", "WASHINGTON (Reuters) - ", "PARIS — ". The known agencies are
// matched case-blind with or without a dash; any other short parenthetical
// after a place is a dateline when a dash follows ("NEW YORK (Mental Floss)
// -- "); a bare place only in capitals, so an ordinary opening clause is kept.
var (
	datelineAgency = regexp.MustCompile(`^(?i:[\p{L}.,' /-]{0,60}?\((?:cnn|ap|reuters|afp|upi|ew\.com|cnn student news|mashable|cnnmoney|ccn|the conversation|bloomberg|xinhua|dpa|ians|pti)\)\s*(?:--|—|–|-|:)?\s*)`)
	datelineWire   = regexp.MustCompile(`^(?i:[\p{L}.,' /-]{0,60}?\([\p{L}.&' ]{2,30}\)\s*(?:--|—|–|-)\s*)`)
	datelineCaps   = regexp.MustCompile(`^\p{Lu}[\p{Lu} .,'/]{2,40}(?:,\s*\p{Lu}[\p{L}.]+(?:\s\d{1,2})?)?\s*(?:--|—|–)\s+`)
	bylineLead     = regexp.MustCompile(`^(?i:by\s.{0,80}?(?:published|last updated):?.{0,60}?\d{4}\s*\.?\s*(?:\|\s*\.?\s*updated:?.{0,60}?\d{4}\s*\.?\s*)?)`)
)

// photoWords are the words of a parenthetical that only points into a photo:
// "(left)", "(pictured, centre)", "(file picture)".
var photoWords = map[string]bool{
	"pictured": true, "picture": true, "left": true, "right": true, "above": true, "below": true,
	"centre": true, "center": true, "top": true, "bottom": true, "inset": true, "far": true,
	"second": true, "third": true, "front": true, "back": true, "middle": true, "and": true,
	"file": true, "photo": true, "stock": true, "image": true, "main": true, "circled": true,
	"from": true, "with": true, "the": true, "in": true, "red": true, "foreground": true,
	"background": true, "both": true, "also": true, "here": true, "pic": true, "clockwise": true,
	"l": true, "r": true, "c": true,
}

// phraseTable indexes phrases by the hash of their first word.
func phraseTable(phrases ...string) map[uint64][][]uint64 {
	m := map[uint64][][]uint64{}
	for _, p := range phrases {
		var hs []uint64
		for _, t := range appendTokens(nil, p) {
			hs = append(hs, t.hash)
		}
		m[hs[0]] = append(m[hs[0]], hs)
	}
	return m
}

// hasPhrase reports whether toks contain one of the phrases as a run.
func hasPhrase(toks []token, table map[uint64][][]uint64) bool {
	for i, t := range toks {
	phrases:
		for _, p := range table[t.hash] {
			if i+len(p) > len(toks) {
				continue
			}
			for k := 1; k < len(p); k++ {
				if toks[i+k].hash != p[k] {
					continue phrases
				}
			}
			return true
		}
	}
	return false
}

// Clean strips what a summary never carries from one sentence: a dateline or
// byline (first sentence only), "Scroll down for video", photo-pointing
// parentheticals, and a caption's label; and flags what is too short or has
// a boilerplate mark (Prepare also flags boilerplate phrases).
//
// cased says the text keeps its capitals (the product's input; the training
// text is lower-case), which lets a caption's label be told from a clause by
// the capital after the colon.
func Clean(s string, first, cased bool) Cleaned {
	s = strings.TrimSpace(s)
	var c Cleaned
	if first {
		if m := bylineLead.FindStringIndex(s); m != nil {
			s = s[m[1]:]
		}
		if m := datelineAgency.FindStringIndex(s); m != nil {
			s = s[m[1]:]
		} else if m := datelineWire.FindStringIndex(s); m != nil {
			s = s[m[1]:]
		} else if m := datelineCaps.FindStringIndex(s); m != nil {
			s = s[m[1]:]
		}
	}
	if furnitureLabel(s) {
		return Cleaned{Text: s, Junk: true}
	}
	s = removeVideoPrompts(s)
	s = strings.TrimLeft(s, " .…")
	s = dropPhotoParentheticals(s)
	if rest, ok := captionLabel(s, cased); ok {
		c.Caption = true
		s = rest
	}
	s = strings.TrimSpace(s)
	s = compress(s)
	c.Text = s
	c.Junk = len(s) < 12 || hasJunkMark(s)
	return c
}

// leadAdverbials open a sentence by linking it to the one before; a summary
// reads as well without them.
var leadAdverbials = []string{
	"against this backdrop, ", "notably, ", "meanwhile, ", "furthermore, ", "however, ",
	"indeed, ", "in addition, ", "moreover, ", "additionally, ", "also, ", "but ", "and ",
	"now, ", "still, ", "instead, ", "in fact, ", "as a result, ", "at the same time, ",
	"in the meantime, ", "separately, ", "similarly, ", "likewise, ", "nevertheless, ",
	"nonetheless, ", "however ", "so ", "yet ",
}

// attributionVerbs end a trailing attribution: "..., police said."
var attributionVerbs = map[string]bool{
	"said": true, "says": true, "reported": true, "reports": true, "added": true,
	"announced": true, "confirmed": true, "revealed": true, "claimed": true, "explained": true,
	"stated": true, "told": true, "insisted": true, "warned": true, "emerged": true,
}

// compress shortens a sentence by dropping what highlights leave out: a
// linking adverbial at its start, an "According to ..., " lead-in, a trailing
// attribution (", police said."), and parentheticals.
func compress(s string) string {
	{
		for _, a := range leadAdverbials {
			if len(s) > len(a)+20 && asciiEqualFold(s[:len(a)], a) {
				s = s[len(a):]
				break
			}
		}
	}
	{
		if asciiEqualFold(s[:min(len(s), 13)], "according to ") {
			if i := strings.Index(s, ", "); i > 0 && i < 80 && len(s)-i > 30 {
				s = s[i+2:]
			}
		} else if i := indexFold(s, ", according to "); i > 20 && !hasQuote(s[i:], true) {
			if j := strings.IndexAny(s[i+2:], ",;"); j < 0 {
				s = s[:i] + trailingPunct(s)
			}
		}
	}
	{
		s = dropTrailingAttribution(s)
	}
	{
		s = dropParentheticals(s)
	}
	return s
}

// hasQuote reports whether s has a double quotation mark or an opening
// single one (and, with closingSingle, a closing curly one, which is also an
// apostrophe). A straight single quote is a quotation mark where it cannot be
// an apostrophe: opening a word after a space, or closing after punctuation
// (",' he said").
func hasQuote(s string, closingSingle bool) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			return true
		case '\'':
			opening := (i == 0 || s[i-1] == ' ' || s[i-1] == '(') && i+1 < len(s) && isWordByte(s[i+1])
			closing := i > 0 && strings.IndexByte(",.!?", s[i-1]) >= 0
			if opening || closing {
				return true
			}
		case 0xE2: // “ ” ‘ ’ are E2 80 9C, 9D, 98, 99
			if i+2 < len(s) && s[i+1] == 0x80 {
				switch s[i+2] {
				case 0x9C, 0x9D, 0x98:
					return true
				case 0x99:
					if closingSingle {
						return true
					}
				}
			}
		}
	}
	return false
}

// trailingPunct is the end punctuation of s with any closing quotes.
func trailingPunct(s string) string {
	i := len(s)
	for i > 0 && strings.ContainsRune(".!?\"'’”", rune(s[i-1])) {
		i--
	}
	if i < len(s) {
		return s[i:]
	}
	return ""
}

// dropTrailingAttribution removes ", police said." and the like from a
// sentence that is not itself a quotation: a comma, at most five words, one
// of them an attribution verb, then the end.
func dropTrailingAttribution(s string) string {
	if hasQuote(s, false) {
		return s
	}
	end := strings.TrimRight(s, ".!?")
	if len(end) == len(s) || !strings.HasSuffix(s, ".") {
		return s
	}
	i := strings.LastIndex(end, ", ")
	if i < 20 {
		return s
	}
	tail := strings.Fields(end[i+2:])
	if len(tail) == 0 || len(tail) > 5 {
		return s
	}
	for _, w := range tail {
		if attributionVerbs[strings.ToLower(w)] {
			return end[:i] + "."
		}
	}
	return s
}

// dropParentheticals removes every "( ... )" aside but an acronym, which
// is how the rest of the story names something: "(ASEAN)". A sentence that
// is one aside ("(Watergate, remember, took two years.)") is the story's,
// and keeps its words.
func dropParentheticals(s string) string {
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") && strings.IndexByte(s[1:], ')') == len(s)-2 {
		s = s[1 : len(s)-1]
	}
	for from := 0; ; {
		i := strings.IndexByte(s[from:], '(')
		if i < 0 {
			return s
		}
		i += from
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return s
		}
		j += i
		if isAcronym(s[i+1 : j]) {
			from = j
			continue
		}
		s, from = cut(s, i, j+1)
	}
}

// isAcronym is a word of two to six capitals (digits and "&" allowed after
// the first).
func isAcronym(w string) bool {
	if len(w) < 2 || len(w) > 6 || w[0] < 'A' || w[0] > 'Z' {
		return false
	}
	for i := 1; i < len(w); i++ {
		c := w[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '&') {
			return false
		}
	}
	return true
}

// removeVideoPrompts removes "Scroll down for video(s)", which is searched
// for by its common spellings: it is in most Daily Mail sentences' way, and
// a case-blind search of every sentence costs more than the rest of cleaning.
func removeVideoPrompts(s string) string {
	if !strings.Contains(s, "croll down for video") && !strings.Contains(s, "CROLL DOWN FOR VIDEO") {
		return s
	}
	return removeFold(removeFold(s, "scroll down for videos"), "scroll down for video")
}

// removeFold removes every occurrence of phrase that is whole words, matched
// case-blind, with the dots after it.
func removeFold(s, phrase string) string {
	for from := 0; from < len(s); {
		i := indexFold(s[from:], phrase)
		if i < 0 {
			return s
		}
		i += from
		j := i + len(phrase)
		if i > 0 && isWordByte(s[i-1]) || j < len(s) && isWordByte(s[j]) {
			from = i + 1
			continue // inside a longer word: "video00"
		}
		for j < len(s) && (s[j] == ' ' || s[j] == '.') {
			j++
		}
		s, from = cut(s, i, j)
	}
	return s
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= utf8.RuneSelf
}

// cut removes s[i:j] and the spaces around it, leaving one space between
// the words on either side (none before punctuation), so no two words are
// ever joined into one. It also returns where the text after the cut starts.
func cut(s string, i, j int) (string, int) {
	left := strings.TrimRight(s[:i], " ")
	right := strings.TrimLeft(s[j:], " ")
	if left == "" || right == "" || strings.ContainsRune(",.;:!?)]’”'\"", rune(right[0])) {
		return left + right, len(left)
	}
	return left + " " + right, len(left) + 1
}

// indexFold is strings.Index for an ASCII lower-case needle, ignoring the
// case of s.
func indexFold(s, needle string) int {
	n := len(needle)
	for i := 0; i+n <= len(s); i++ {
		if asciiEqualFold(s[i:i+n], needle) {
			return i
		}
	}
	return -1
}

func asciiEqualFold(a, lower string) bool {
	if len(a) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		c := a[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// dropPhotoParentheticals removes "(left)", "(pictured)" and the like.
func dropPhotoParentheticals(s string) string {
	for from := 0; ; {
		i := strings.IndexByte(s[from:], '(')
		if i < 0 {
			return s
		}
		i += from
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return s
		}
		j += i
		if !onlyPhotoWords(s[i+1 : j]) {
			from = j
			continue
		}
		s, from = cut(s, i, j+1)
	}
}

func onlyPhotoWords(inner string) bool {
	words := 0
	ok := true
	fieldsFunc(inner, func(w string) {
		words++
		if !photoWords[strings.ToLower(w)] {
			ok = false
		}
	})
	return ok && words > 0 && words <= 5
}

// fieldsFunc calls f with each run of letters in s.
func fieldsFunc(s string, f func(string)) {
	start := -1
	for i, r := range s {
		if unicode.IsLetter(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			f(s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		f(s[start:])
	}
}

// speechVerbs end the lead-in of a quotation, which is not a caption label:
// "He said: ...".
var speechVerbs = map[string]bool{
	"said": true, "says": true, "added": true, "told": true, "explained": true, "wrote": true,
	"tweeted": true, "stated": true, "continued": true, "asked": true, "replied": true,
	"insisted": true, "warned": true, "admitted": true, "claimed": true, "posted": true,
	"commented": true, "revealed": true, "declared": true, "adds": true, "writes": true,
	"reads": true, "read": true, "include": true, "includes": true, "are": true, "is": true,
	"was": true, "were": true, "be": true, "as": true, "follows": true, "saying": true,
}

// captionLabel finds a photo caption's label: up to four words and a colon
// opening the sentence, not a speaker ("He said:") and not followed by a
// quotation; in cased text the caption after it starts with a capital.
// rest is the caption without its label.
func captionLabel(s string, cased bool) (rest string, ok bool) {
	i := strings.IndexByte(s, ':')
	if i <= 0 || i > 40 || i+2 >= len(s) || s[i+1] != ' ' {
		return "", false
	}
	label := s[:i]
	if strings.ContainsAny(label, "\"'‘’“”()") {
		return "", false
	}
	words := strings.Fields(label)
	if len(words) == 0 || len(words) > 4 {
		return "", false
	}
	last := strings.ToLower(strings.Trim(words[len(words)-1], ".,"))
	if speechVerbs[last] {
		return "", false
	}
	rest = s[i+2:]
	r, _ := utf8.DecodeRuneInString(rest)
	if !unicode.IsLetter(r) || cased && !unicode.IsUpper(r) {
		return "", false
	}
	return rest, true
}

func isQuote(r rune) bool {
	switch r {
	case '"', '\'', '‘', '’', '“', '”':
		return true
	}
	return false
}

func hasJunkMark(s string) bool {
	for _, m := range junkMarks {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}
