package briefings

import (
	"strings"
	"unicode"
)

// isDateline reports whether a headline says nothing but when: "May 2,
// 2013, 1:12 PM", "Last Updated: Monday, 28 November 2005, 02:24 GMT",
// "Posted 11/27/2005 7:21 AM". Some feeds put the page's timestamp where
// the headline belongs; shown, it tells a reader nothing, and read for
// grouping, it names an event date the story never gave.
func isDateline(title string) bool {
	words := strings.FieldsFunc(strings.ToLower(title), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		if !isCalendarWord(w) && !datelineWords[w] && !isCalendarNumber(w) {
			return false
		}
	}
	return true
}

// datelineWords are the words a timestamp is written with besides months,
// weekdays and numbers.
var datelineWords = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`updated last posted published modified at on by am pm a m p h gmt utc bst cet cest et
	est edt pt pst pdt ct cst cdt ist jst aest mon tue tues wed thu thur thurs fri sat sun st nd rd th`) {
		m[w] = true
	}
	return m
}()

// isCalendarNumber reports whether w is a number a date or time is made of,
// ordinal suffixes and "12pm" included.
func isCalendarNumber(w string) bool {
	digits := strings.TrimRightFunc(w, unicode.IsLetter)
	if digits == "" || len(digits) > 4 || !isNumber(digits) {
		return false
	}
	switch w[len(digits):] {
	case "", "st", "nd", "rd", "th", "am", "pm", "h":
		return true
	}
	return false
}

// headlineOf is the headline a story is shown with: its lead telling's, or
// when that has none, the start of its text, cut at a word.
func headlineOf(lead Item) string {
	if lead.Title != "" {
		return lead.Title
	}
	text := lead.Text
	if i := strings.Index(text, ". "); i > 0 {
		text = text[:i+1]
	}
	if cut := truncateRunes(text, maxGeneratedHeadlineRunes); cut != text {
		if i := strings.LastIndexFunc(cut, unicode.IsSpace); i > 0 {
			cut = cut[:i]
		}
		text = strings.TrimRightFunc(cut, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) }) + "…"
	}
	return text
}

// maxGeneratedHeadlineRunes bounds a headline made from a story's text.
const maxGeneratedHeadlineRunes = 120
