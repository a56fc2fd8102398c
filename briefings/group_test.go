package briefings

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

type pairItem struct {
	Title     string    `json:"title"`
	Text      string    `json:"text"`
	Published time.Time `json:"published"`
}

type pair struct {
	Why string   `json:"why"`
	A   pairItem `json:"a"`
	B   pairItem `json:"b"`
}

func loadPairs(t *testing.T) (same, different []pair) {
	t.Helper()
	data, err := os.ReadFile("testdata/pairs.json")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Same      []pair `json:"same_event"`
		Different []pair `json:"different_event"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	return p.Same, p.Different
}

func (p pairItem) item(link string) Item {
	return Item{Title: p.Title, Text: p.Text, Published: p.Published, Link: link, Outlet: link}
}

// TestGroupItemsPairs checks the grouping decision on pairs that must group
// (one event, different words) and pairs that must not (the same people or
// place, another event), each pair among all the others' items so the idf is
// that of a mixed news day.
func TestGroupItemsPairs(t *testing.T) {
	same, different := loadPairs(t)
	var background []Item
	for i, p := range append(append([]pair{}, same...), different...) {
		background = append(background, p.A.item("https://bg.example/a"+string(rune('0'+i))))
	}
	check := func(t *testing.T, p pair, wantTogether bool) {
		a, b := p.A.item("https://a.example/x"), p.B.item("https://b.example/y")
		var items []Item
		for _, it := range background {
			if it.Title != a.Title && it.Title != b.Title {
				items = append(items, it)
			}
		}
		items = append(items, a, b)
		groups := groupItems(nil, items, &vectorCache{})
		together := false
		for _, g := range groups {
			hasA, hasB := false, false
			for _, it := range g.added {
				hasA = hasA || it.Link == a.Link
				hasB = hasB || it.Link == b.Link
			}
			together = together || (hasA && hasB)
		}
		c := newCorpus([]termVector{itemTerms(a), itemTerms(b)})
		if together != wantTogether {
			t.Errorf("%s: grouped=%v, want %v (pair similarity %.3f)", p.Why, together, wantTogether, c.similarity(itemTerms(a), itemTerms(b)))
		}
	}
	for _, p := range same {
		t.Run("same/"+p.Why, func(t *testing.T) { check(t, p, true) })
	}
	for _, p := range different {
		t.Run("different/"+p.Why, func(t *testing.T) { check(t, p, false) })
	}
}

func TestGroupItemsWindow(t *testing.T) {
	same, _ := loadPairs(t)
	p := same[0]
	p.B.Published = p.A.Published.Add(groupWindow + time.Hour)
	groups := groupItems(nil, []Item{p.A.item("https://a.example/1"), p.B.item("https://b.example/2")}, &vectorCache{})
	if len(groups) != 2 {
		t.Errorf("items %v apart were grouped; the window is %v", groupWindow+time.Hour, groupWindow)
	}
}

func TestEventDate(t *testing.T) {
	thu := time.Date(2025, 7, 10, 15, 40, 0, 0, time.UTC) // a Thursday
	tests := []struct {
		title, text string
		want        string // "" for none
	}{
		{"Talks held", "The ministers met on Thursday in Kuala Lumpur.", "2025-07-10"},
		{"Talks held", "The ministers met on Tuesday.", "2025-07-08"},
		{"Talks held", "The ministers will meet on Friday.", "2025-07-11"}, // a day ahead: another zone's date
		{"Talks held", "The ministers met on Saturday.", "2025-07-05"},
		{"Talks held", "They met on July 10th in Kuala Lumpur.", "2025-07-10"},
		{"Talks held", "They met on 9 July.", "2025-07-09"},
		{"Year-end review", "Sales peaked on December 30.", "2024-12-30"},
		{"Talks held", "They met and talked.", ""},
		{"Talks held", "Prices may rise, the minister said.", ""},
	}
	for _, tt := range tests {
		got, ok := eventDate(Item{Title: tt.title, Text: tt.text, Published: thu})
		gotS := ""
		if ok {
			gotS = got.Format(time.DateOnly)
		}
		if gotS != tt.want {
			t.Errorf("eventDate(%q) = %q, want %q", tt.text, gotS, tt.want)
		}
	}
}
