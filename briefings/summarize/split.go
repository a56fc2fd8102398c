package summarize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentence is one sentence of an article as the splitter found it.
type Sentence struct {
	Text      string // as it appears in the article, trimmed
	Paragraph int    // index of the paragraph (block of lines) it came from
	// Heading is true for a line that stands alone without end punctuation
	// (a headline, a section heading, a caption or a "Read more" line) and,
	// in text of several paragraphs, for a paragraph's last words without
	// it. It is never a sentence of a summary.
	Heading bool
}

// SplitSentences splits plain text into sentences. Blank lines and lines that
// end without punctuation (headings) are hard boundaries; in text of several
// paragraphs, a paragraph's last words without end punctuation are a heading
// too (a long caption, a cut line); a line that wraps in
// the middle of a sentence is joined to the next. Within a paragraph a
// sentence ends at ".", "!", "?" or an ellipsis (with any closing quotes or
// brackets after it) followed by a capital, a digit or an opening quote, except
// after a title (Mr.), an initial (J. K.), a dotted acronym (U.S.) or a
// number-taking abbreviation (No. 2, Jan. 5) unless the next word is one that
// starts sentences. It also splits run-on photo captions, where a caption
// without punctuation runs into the next sentence ("... a colleague The cost").
func SplitSentences(text string) []Sentence {
	var out []Sentence
	paras := paragraphs(text)
	for i, p := range paras {
		start := len(out)
		for _, s := range splitParagraph(p.text, nil) {
			out = append(out, Sentence{Text: s, Paragraph: i})
		}
		if len(out) > start && (p.heading || len(paras) > 1 && !endsSentence(p.text)) {
			// A heading, or a paragraph of page text that stops without
			// end punctuation: its last words are a heading, a caption, a
			// credit or a cut line, not a sentence. Whole sentences before
			// them ("The storm moved north. Forecasters expect") stay.
			out[len(out)-1].Heading = true
		}
	}
	return out
}

// maxHeadingWords is the longest line without end punctuation taken for a
// heading; a longer one is text whose punctuation was lost or cut off.
const maxHeadingWords = 20

// headingLength reports whether lines hold few enough words for a heading.
func headingLength(lines []string) bool {
	n := 0
	for _, l := range lines {
		n += strings.Count(l, " ") + 1
	}
	return n <= maxHeadingWords
}

type paragraph struct {
	text    string
	heading bool
}

// paragraphs groups lines: a blank line ends a paragraph; a line without end
// punctuation followed by a line starting with a capital stands alone (a
// heading); a line followed by one starting in lower case is a hard wrap.
func paragraphs(text string) []paragraph {
	var out []paragraph
	var cur []string
	lines := strings.Split(text, "\n")
	flush := func() {
		if len(cur) == 0 {
			return
		}
		out = append(out, paragraph{text: strings.Join(cur, " ")})
		cur = cur[:0]
	}
	for i, line := range lines {
		line = cleanSpaces(line)
		if line == "" {
			flush()
			continue
		}
		if h, ok := markdownHeading(line); ok {
			flush()
			out = append(out, paragraph{text: h, heading: true})
			continue
		}
		cur = append(cur, line)
		next := ""
		if i+1 < len(lines) {
			next = strings.TrimSpace(lines[i+1])
		}
		if next != "" && startsLower(next) && !endsSentence(line) {
			continue // a hard wrap inside a sentence
		}
		if !endsSentence(line) && headingLength(cur) {
			// A line (or wrapped lines) without end punctuation standing
			// alone: a heading, a caption, a credit.
			out = append(out, paragraph{text: strings.Join(cur, " "), heading: true})
			cur = cur[:0]
			continue
		}
		flush()
	}
	flush()
	return out
}

// markdownHeading recognizes "**Heading**" and "# Heading" lines, which a
// feed's plain text keeps when its source was markdown.
func markdownHeading(line string) (string, bool) {
	if len(line) > 4 && strings.HasPrefix(line, "**") && strings.HasSuffix(line, "**") && !strings.Contains(line[2:len(line)-2], "**") {
		return strings.TrimSpace(line[2 : len(line)-2]), true
	}
	if strings.HasPrefix(line, "#") {
		h := strings.TrimLeft(line, "#")
		if strings.HasPrefix(h, " ") {
			return strings.TrimSpace(h), true
		}
	}
	return "", false
}

// cleanSpaces trims a line and turns no-break and other Unicode spaces into
// plain spaces, collapsing runs, so byte offsets below can look for ' '.
func cleanSpaces(s string) string {
	if !needsSpaceCleaning(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		n := 1
		sp := c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
		if c >= utf8.RuneSelf {
			var r rune
			r, n = utf8.DecodeRuneInString(s[i:])
			sp = isSpace(r)
		}
		if sp {
			space = true
		} else {
			if space && len(b) > 0 {
				b = append(b, ' ')
			}
			space = false
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}

func isSpace(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' }

// needsSpaceCleaning reports whether s has leading, trailing or doubled
// spaces, or any space but ' '. Other non-ASCII text (curly quotes, accents)
// takes the fast path.
func needsSpaceCleaning(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			if s[i+1] == ' ' {
				return true
			}
		case c < ' ' || c == 0x7f:
			return true
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			if isSpace(r) || r == utf8.RuneError && n == 1 {
				return true
			}
			i += n - 1
		}
	}
	return false
}

func startsLower(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLower(r)
}

// endsSentence reports whether s ends with end punctuation, possibly followed
// by closing quotes or brackets.
func endsSentence(s string) bool {
	for len(s) > 0 {
		r, n := utf8.DecodeLastRuneInString(s)
		switch {
		case isClosing(r):
			s = s[:len(s)-n]
		case r == '.' || r == '!' || r == '?' || r == '…':
			return true
		default:
			return false
		}
	}
	return false
}

func isClosing(r rune) bool {
	switch r {
	case '"', '\'', ')', ']', '’', '”', '»':
		return true
	}
	return false
}

func isOpening(r rune) bool {
	switch r {
	case '"', '\'', '(', '[', '‘', '“', '«':
		return true
	}
	return false
}

// splitParagraph appends the sentences of one paragraph to out.
func splitParagraph(p string, out []string) []string {
	start := 0
	i := 0
	for i < len(p) {
		c := p[i]
		switch {
		case c == '.' || c == '!' || c == '?' || strings.HasPrefix(p[i:], "…"):
			j := i
			for j < len(p) {
				if p[j] == '.' || p[j] == '!' || p[j] == '?' {
					j++
				} else if strings.HasPrefix(p[j:], "…") {
					j += len("…")
				} else {
					break
				}
			}
			punct := p[i:j]
			for j < len(p) {
				r, n := utf8.DecodeRuneInString(p[j:])
				if !isClosing(r) {
					break
				}
				j += n
			}
			if j >= len(p) {
				i = j
				continue
			}
			if p[j] != ' ' {
				i = j
				continue
			}
			k := j + 1
			if periodBoundary(p[start:i], punct, p[k:]) {
				out = appendSentence(out, p[start:j])
				start = k
			}
			i = k
		case c == ' ':
			if runOnBoundary(p[start:i], p[i+1:]) {
				out = appendSentence(out, p[start:i])
				start = i + 1
			}
			i++
		default:
			i++
		}
	}
	return appendSentence(out, p[start:])
}

func appendSentence(out []string, s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return out
	}
	return append(out, s)
}

// neverEnd are abbreviations that never end a sentence: titles before a
// name ("Mr."), and "vs.", "e.g.", "i.e.".
var neverEnd = map[string]bool{
	"Mr": true, "Mrs": true, "Ms": true, "Dr": true, "Prof": true, "Sen": true, "Rep": true,
	"Gov": true, "Gen": true, "Lt": true, "Col": true, "Capt": true, "Sgt": true, "Rev": true,
	"Fr": true, "St": true, "Mt": true, "Ft": true, "Hon": true, "Pres": true, "Supt": true,
	"Insp": true, "Det": true, "Cpl": true, "Pte": true, "Adm": true, "Maj": true, "Brig": true,
	"Cmdr": true, "Messrs": true, "Mme": true, "Mlle": true, "Spc": true, "Pfc": true,
	"Sens": true, "Reps": true, "Govs": true, "Gens": true, "Atty": true,
	"vs": true, "v": true, "e.g": true, "i.e": true, "cf": true, "approx": true,
}

// numberAbbrevs are abbreviations that precede a number: "No. 10", "Jan. 5".
var numberAbbrevs = map[string]bool{
	"No": true, "Nos": true, "no": true, "Vol": true, "vol": true, "Fig": true, "fig": true,
	"p": true, "pp": true, "Art": true, "Sec": true, "Ch": true, "Op": true, "Rt": true,
	"Jan": true, "Feb": true, "Mar": true, "Apr": true, "Jun": true, "Jul": true, "Aug": true,
	"Sep": true, "Sept": true, "Oct": true, "Nov": true, "Dec": true,
}

// maybeEnd are abbreviations that often sit mid-sentence but can end one:
// they end it only when the next word is one that starts sentences.
var maybeEnd = map[string]bool{
	"Inc": true, "Ltd": true, "Co": true, "Corp": true, "Jr": true, "Sr": true, "etc": true,
	"al": true, "Bros": true, "Plc": true, "plc": true, "Ave": true, "Blvd": true, "Rd": true,
	"Jan": true, "Feb": true, "Mar": true, "Apr": true, "Jun": true, "Jul": true, "Aug": true,
	"Sep": true, "Sept": true, "Oct": true, "Nov": true, "Dec": true, "No": true,
}

// starters are words that begin sentences far more often than they follow an
// abbreviation inside one.
var starters = map[string]bool{
	"The": true, "A": true, "An": true, "He": true, "She": true, "It": true, "They": true,
	"We": true, "I": true, "You": true, "But": true, "And": true, "In": true, "On": true,
	"At": true, "This": true, "That": true, "These": true, "Those": true, "His": true,
	"Her": true, "Their": true, "Its": true, "Our": true, "There": true, "Police": true,
	"However": true, "After": true, "When": true, "While": true, "As": true, "If": true,
	"Now": true, "Then": true, "So": true, "Yet": true, "Meanwhile": true, "Officials": true,
	"One": true, "Some": true, "Many": true, "Last": true, "Earlier": true, "Later": true,
	"According": true, "Both": true, "Since": true, "Despite": true, "Although": true,
}

// runOnStarters are the words that, capitalized after a lower-case word with
// no punctuation between, mark a caption running into the next sentence.
var runOnStarters = map[string]bool{
	"The": true, "He": true, "She": true, "They": true, "His": true, "Her": true, "Their": true,
	"This": true, "These": true, "But": true, "It": true, "We": true,
}

// periodBoundary decides whether the end punctuation punct, closing the
// text before, ends a sentence given the text after (which starts right
// after the space).
func periodBoundary(before, punct, after string) bool {
	// Skip opening quotes and brackets to find the first letter or digit.
	rest := after
	for len(rest) > 0 {
		r, n := utf8.DecodeRuneInString(rest)
		if !isOpening(r) {
			break
		}
		rest = rest[n:]
	}
	first, _ := utf8.DecodeRuneInString(rest)
	if !(unicode.IsUpper(first) || unicode.IsDigit(first)) {
		// A lower-case continuation, or punctuation such as a dash: the
		// sentence goes on.
		return false
	}
	if punct != "." {
		return true // "!", "?", "...", "…": end unless followed by lower case
	}
	word := lastWord(before)
	nextWord := firstWord(rest)
	switch {
	case word == "":
		return true
	case neverEnd[word]:
		return false
	case numberAbbrevs[word] && unicode.IsDigit(first):
		return false
	case isInitial(word):
		return starters[nextWord]
	case maybeEnd[word] || strings.Contains(word, "."):
		// U.S., a.m., D.C., Inc.: end only before a sentence-starting word.
		return starters[nextWord]
	}
	return true
}

// runOnBoundary finds a caption without punctuation running into the next
// sentence: a lower-case word or a closing quote, a space, then a capitalized
// starter word followed by a lower-case word ("a colleague The cost of").
func runOnBoundary(before, after string) bool {
	if len(after) == 0 || after[0] < 'A' || after[0] > 'Z' || len(before) < 12 {
		return false
	}
	w := firstWord(after)
	if !runOnStarters[w] {
		return false
	}
	rest := strings.TrimPrefix(after[len(w):], " ")
	if len(rest) == len(after[len(w):]) || !startsLower(rest) {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(before)
	if last == '’' || last == '”' {
		// A closing curly quote after a letter: a quoted title ending the caption.
		b := before[:len(before)-len(string(last))]
		r, _ := utf8.DecodeLastRuneInString(b)
		return unicode.IsLetter(r) || r == '.' || r == '!' || r == '?'
	}
	return unicode.IsLower(last) || unicode.IsDigit(last)
}

// lastWord is the word right before the end of s, without any opening quote
// or bracket: "(Mr" → "Mr".
func lastWord(s string) string {
	i := strings.LastIndexByte(s, ' ')
	w := s[i+1:]
	for len(w) > 0 {
		r, n := utf8.DecodeRuneInString(w)
		if !isOpening(r) {
			break
		}
		w = w[n:]
	}
	return w
}

// firstWord is the run of letters at the start of s.
func firstWord(s string) string {
	for i, r := range s {
		if !unicode.IsLetter(r) {
			return s[:i]
		}
	}
	return s
}

// isInitial is a single capital letter: "J" of "J. K. Rowling".
func isInitial(w string) bool {
	r, n := utf8.DecodeRuneInString(w)
	return n == len(w) && unicode.IsUpper(r)
}
