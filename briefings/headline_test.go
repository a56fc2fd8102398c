package briefings

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestIsDateline(t *testing.T) {
	tests := []struct {
		title string
		want  bool
	}{
		{"May 2, 2013, 1: 12 PM", true},
		{"Last Updated: Monday, 28 November 2005, 02: 24 GMT", true},
		{"Posted 11/27/2005 7: 21 AM", true},
		{"9: 53 AM, MON 22 JUL 2013", true},
		{"November 28th, 2005, 09: 11 GMT", true},
		{"PUBLISHED FRIDAY, MARCH 8, 2013 AT 12: 46 PM / UPDATED AT 12: 48 PM", true},
		{"3/27/2012 @ 10: 05AM", true},
		{"Updated", true},
		{"Rubio and Lavrov meet in Kuala Lumpur", false},
		{"Monday's vote: what happens next", false},
		{"Markets fall on Friday, May 2", false},
		{"INDONESIA, July 2, 2013", false},
		{"Star Wars Day, May 4th", false},
		{"Apple unveils iPhone 15", false},
		{"", false},
		{"…", false},
	}
	for _, tt := range tests {
		if got := isDateline(tt.title); got != tt.want {
			t.Errorf("isDateline(%q) = %v, want %v", tt.title, got, tt.want)
		}
	}
}

func TestHeadlineOf(t *testing.T) {
	tests := []struct {
		item Item
		want string
	}{
		{Item{Title: "Rubio and Lavrov meet", Text: "They met."}, "Rubio and Lavrov meet"},
		{Item{Text: "Rubio and Lavrov met in Kuala Lumpur. They talked for 50 minutes."}, "Rubio and Lavrov met in Kuala Lumpur."},
		{Item{Text: strings.Repeat("word ", 40) + "end."}, strings.TrimSpace(strings.Repeat("word ", 24)) + "…"},
		{Item{}, ""},
	}
	for _, tt := range tests {
		if got := headlineOf(tt.item); got != tt.want {
			t.Errorf("headlineOf(%+v) = %q, want %q", tt.item, got, tt.want)
		}
	}
}

// TestCleanItemDropsADatelineHeadline: a feed that puts the page's
// timestamp where the headline belongs gets its story headed by the text
// (cleanItem and headlineOf are what Ingest runs on every item and story).
func TestCleanItemDropsADatelineHeadline(t *testing.T) {
	it := cleanItem(Item{Title: "Last Updated: Monday, 28 November 2005, 02:24 GMT", Text: "A powerful earthquake hit southern Iran. Ten people died."}, time.Date(2025, 7, 10, 18, 0, 0, 0, time.UTC))
	if it.Title != "" {
		t.Fatalf("cleanItem kept the dateline %q as the headline", it.Title)
	}
	if got, want := headlineOf(it), "A powerful earthquake hit southern Iran."; got != want {
		t.Errorf("headline %q, want %q", got, want)
	}
}

// FuzzHeadline: any title and text give a headline without a panic, in
// valid UTF-8 when they are, and bounded when made from the text.
func FuzzHeadline(f *testing.F) {
	f.Add("May 2, 2013, 1: 12 PM", "A powerful earthquake hit southern Iran. Ten people died.")
	f.Add("12pm", strings.Repeat("ä", 300))
	f.Fuzz(func(t *testing.T, title, text string) {
		if isDateline(title) {
			title = ""
		}
		h := headlineOf(Item{Title: title, Text: text})
		if utf8.ValidString(title) && utf8.ValidString(text) && !utf8.ValidString(h) {
			t.Fatalf("headline %q is not valid UTF-8", h)
		}
		if title == "" && utf8.RuneCountInString(h) > maxGeneratedHeadlineRunes+1 {
			t.Fatalf("headline made from the text has %d runes", utf8.RuneCountInString(h))
		}
	})
}
