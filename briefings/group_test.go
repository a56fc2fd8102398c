package briefings

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
			gotS = got.date.Format(time.DateOnly)
		}
		if gotS != tt.want {
			t.Errorf("eventDate(%q) = %q, want %q", tt.text, gotS, tt.want)
		}
	}
}

// TestGroupItemsNoChaining: B is like A, C is like B in words A lacks; C
// must fit the story {A, B} as a whole, not just its nearest member.
func TestGroupItemsNoChaining(t *testing.T) {
	at := time.Date(2018, 6, 19, 9, 0, 0, 0, time.UTC)
	items := []Item{
		{Link: "https://a.example/1", Published: at, Title: "Egyptian Christians feel left out of World Cup squad",
			Text: "Coptic Christians in Cairo say hardly any Christian player has made Egypt's World Cup squad in decades."},
		{Link: "https://b.example/2", Published: at.Add(time.Hour), Title: "Egypt's World Cup squad has no Coptic players, Christians say",
			Text: "Egypt's Coptic Christians in Cairo say discrimination keeps Christian players out of the national squad at the World Cup in Russia."},
		{Link: "https://c.example/3", Published: at.Add(2 * time.Hour), Title: "Russia welcomes World Cup fans as Putin meets leaders",
			Text: "Vladimir Putin received leaders in the Kremlin as World Cup fans arrived in Russia, the national squad preparing in Moscow."},
	}
	groups := groupItems(nil, items, &vectorCache{})
	var sizes []int
	for _, g := range groups {
		sizes = append(sizes, len(g.added))
	}
	if diff := cmp.Diff([]int{2, 1}, sizes); diff != "" {
		t.Errorf("story sizes (-want +got):\n%s", diff)
	}
}

// TestGroupItemsAcrossPolls: a telling that arrives in a later poll joins
// the stored story, and a look-alike with other people does not.
func TestGroupItemsAcrossPolls(t *testing.T) {
	same, different := loadPairs(t)
	var rehab pair
	for _, p := range different {
		if strings.Contains(p.Why, "rehab") {
			rehab = p
		}
	}
	first := same[0].A.item("https://a.example/1")
	stored := Story{ID: 7, Items: []Item{first}, Updated: first.Published}
	cache := &vectorCache{}
	groups := groupItems([]Story{stored}, []Item{same[0].B.item("https://b.example/2")}, cache)
	if len(groups) != 1 || groups[0].story.ID != 7 {
		t.Errorf("the second telling did not join stored story 7: %d groups", len(groups))
	}
	reid := rehab.A.item("https://a.example/reid")
	stored = Story{ID: 8, Items: []Item{reid}, Updated: reid.Published}
	groups = groupItems([]Story{stored}, []Item{rehab.B.item("https://b.example/lohan")}, cache)
	if len(groups) != 1 || groups[0].story.ID != 0 {
		t.Errorf("Lohan's rehab joined Reid's story")
	}
}

func TestSpecificNumber(t *testing.T) {
	tests := []struct {
		word string
		want string // "" when the number says nothing of the event
	}{
		{"728", "728"}, {"6.1", "6.1"}, {"1,254", "1254"}, {"54", "54"},
		{"100", ""}, {"500", ""}, {"20", ""}, {"3", ""}, {"2018", ""}, {"10,000", ""}, {"drones", ""},
	}
	for _, tt := range tests {
		got, _ := specificNumber(tt.word)
		if got != tt.want {
			t.Errorf("specificNumber(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestItemTermsNamesAndPhrases(t *testing.T) {
	v := itemTerms(Item{
		Title: "Pantera drummer Vinnie Paul dies at 54",
		Text:  "The band said on Friday that Vinnie Paul Abbott had died in Las Vegas. Russia launched 728 drones, and 100 people were hurt.",
	})
	for _, want := range []string{"p:vinnie paul", "p:vinnie paul abbott", "p:las vegas", "n:728", "n:54"} {
		if v[want] == 0 {
			t.Errorf("no term %q in %v", want, v)
		}
	}
	for _, unwanted := range []string{"n:100", "p:the band", "p:friday that"} {
		if v[unwanted] != 0 {
			t.Errorf("term %q in %v", unwanted, v)
		}
	}
}

// FuzzGroupItems: any title and text — broken UTF-8, lone punctuation,
// digits, capitals — group without a panic, every term weighs something,
// and the same items group the same way twice.
func FuzzGroupItems(f *testing.F) {
	f.Add("Pantera drummer Vinnie Paul dies at 54", "The band said on Friday that Vinnie Paul Abbott had died. 728 drones, 100 people.")
	f.Add("A", "'s ’s . . ! \"“” -- – — / July 10th 6.1 1,254")
	f.Add("\xff\xfe", "Ünïcödé Ñame. İstanbul ß 10th of July")
	f.Fuzz(func(t *testing.T, title, text string) {
		at := time.Date(2025, 7, 10, 12, 0, 0, 0, time.UTC)
		items := []Item{
			{Link: "https://a.example/1", Title: title, Text: text, Published: at},
			{Link: "https://b.example/2", Title: text, Text: title, Published: at},
			{Link: "https://c.example/3", Title: title, Text: title + " " + text, Published: at},
		}
		for term, w := range itemTerms(items[0]) {
			if term == "" || !(w > 0) {
				t.Fatalf("term %q weighs %v", term, w)
			}
		}
		sizes := func() []int {
			var out []int
			for _, g := range groupItems(nil, items, &vectorCache{}) {
				out = append(out, len(g.added))
			}
			return out
		}
		if a, b := sizes(), sizes(); !slices.Equal(a, b) {
			t.Fatalf("grouped %v, then %v", a, b)
		}
	})
}

// TestGroupItemsFoldsStoriesALaterTellingLinks: two tellings of one final,
// from the winner's and the loser's side, were stored as two stories (each
// came before anything linked them); a third telling that names both sides
// joins one, and the other is folded into it. A look-alike stored beside
// them (another tournament, the same player) stays apart.
func TestGroupItemsFoldsStoriesALaterTellingLinks(t *testing.T) {
	same, different := loadPairs(t)
	var final, lookAlike pair
	for _, p := range same {
		if strings.Contains(p.Why, "final") {
			final = p
		}
	}
	for _, p := range different {
		if strings.Contains(p.Why, "same player") {
			lookAlike = p
		}
	}
	winner, loser := final.A.item("https://a.example/winner"), final.B.item("https://b.example/loser")
	other := lookAlike.B.item("https://c.example/withdrawal")
	recent := []Story{ // newest first, as the store lists them
		{ID: 9, Items: []Item{loser}, Updated: loser.Published},
		{ID: 8, Items: []Item{other}, Updated: other.Published},
		{ID: 7, Items: []Item{winner}, Updated: winner.Published},
	}
	bridge := Item{
		Link: "https://d.example/final", Outlet: "d.example", Published: winner.Published.Add(time.Hour),
		Title: "Alcaraz beats Sinner in French Open final at Roland Garros after saving three match points",
		Text: "Carlos Alcaraz came back from two sets down and saved three match points to beat Jannik Sinner " +
			"in a five-and-a-half-hour French Open final at Roland Garros, the longest in the tournament's history; " +
			"Sinner, who had served for the title, fell short of a first French Open crown.",
	}
	groups := groupItems(recent, []Item{bridge}, &vectorCache{})
	if len(groups) != 1 {
		t.Fatalf("%d groups, want the one story the final's tellings make", len(groups))
	}
	g := groups[0]
	var absorbed []int64
	for _, st := range g.absorbed {
		absorbed = append(absorbed, st.ID)
	}
	if g.story.ID != 9 || !slices.Equal(absorbed, []int64{7}) {
		t.Errorf("the final is story %d absorbing %v; want the newer story 9 absorbing 7 (and not the look-alike 8)", g.story.ID, absorbed)
	}
	if got := len(g.items()) + len(g.added); got != 3 {
		t.Errorf("the folded story has %d tellings, want 3", got)
	}
}

// TestNamesConflict: stories of the same kind of event about other people
// are not folded together, however alike their words; a story that names
// the other's people is. The rule reads both ways.
func TestNamesConflict(t *testing.T) {
	story := func(texts ...string) []*groupDoc {
		var tellings []*groupDoc
		for _, s := range texts {
			it := Item{Text: s}
			f := featuresOf(it)
			tellings = append(tellings, &groupDoc{item: it, terms: f.terms, names: f.names})
		}
		return tellings
	}
	rahman := story("In Mannheim, Wladimir Klitschko stopped Hasim Rahman in the seventh round.",
		"On Saturday Klitschko beat Rahman to keep the IBF title.")
	felt := story("Former FBI official Mark Felt, known as Deep Throat, died on Thursday.",
		"Deep Throat is dead: Mark Felt, who guided the Watergate reporters, was 95.",
		"The FBI's Mark Felt, Watergate's Deep Throat, died at home.")
	sonoma := story("A magnitude 4.6 earthquake was recorded near Healdsburg early on Thursday.",
		"The 4.6 quake woke residents of Clearlake before dawn.",
		"The earthquake shook Santa Rosa before dawn.")
	tests := []struct {
		why  string
		a, b []*groupDoc
		want bool
	}{
		{"Klitschko–Rahman and Klitschko–Thompson, each keeping a name the other never says", rahman, story(
			"In Bern, Wladimir Klitschko stopped Tony Thompson in the sixth round.",
			"On Saturday Klitschko beat Thompson to keep his titles."), true},
		{"a telling naming Klitschko and Rahman, and the Klitschko–Rahman story", rahman, story(
			"A week after Mannheim, Klitschko said Rahman had been the easier fight."), false},
		// Most of its names are the story's, whatever else it names.
		{"a telling naming Mark Felt, the FBI, Watergate and Alzheimer's, and the Deep Throat story", felt, story(
			"The FBI's number two during Watergate, Mark Felt, died after years of Alzheimer's."), false},
		// Neither keeps naming one place, and they share none: two quakes.
		{"a quake near Healdsburg and a quake in Aceh", sonoma, story(
			"A magnitude 6.1 earthquake struck Aceh province, killing 24.",
			"The 6.1 quake in Indonesia injured more than 200 people.",
			"Buildings collapsed across Sumatra after the quake."), true},
		{"a telling naming the Sonoma quake's places, and its story", sonoma, story(
			"Residents of Healdsburg and Clearlake said the quake rattled windows."), false},
	}
	for _, tt := range tests {
		if got := namesConflict(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: namesConflict = %v, want %v", tt.why, got, tt.want)
		}
		if got := namesConflict(tt.b, tt.a); got != tt.want {
			t.Errorf("%s, the other way round: namesConflict = %v, want %v", tt.why, got, tt.want)
		}
	}
}

// TestDatesConflict: tellings name different event days when most pairs
// of them do; one telling naming another day than the rest is not enough
// to keep an item from the story the others tell.
func TestDatesConflict(t *testing.T) {
	thu := time.Date(2025, 7, 10, 20, 0, 0, 0, time.UTC)
	telling := func(text string) *groupDoc {
		d := &groupDoc{item: Item{Title: "Talks", Text: text, Published: thu}}
		d.date, _ = eventDate(d.item)
		return d
	}
	met := telling("The ministers met on Thursday.")
	phoned := telling("The ministers spoke by phone on Saturday.")
	undated := telling("The ministers met in Kuala Lumpur.")
	tests := []struct {
		as, bs []*groupDoc
		want   bool
		why    string
	}{
		{[]*groupDoc{phoned}, []*groupDoc{met}, true, "two tellings, two days apart"},
		{[]*groupDoc{phoned}, []*groupDoc{met, met}, true, "every telling of the story names another day"},
		{[]*groupDoc{phoned}, []*groupDoc{met, undated}, true, "half the story's tellings name another day, none the same"},
		{[]*groupDoc{phoned}, []*groupDoc{met, undated, undated}, false, "one telling in three names another day"},
		{[]*groupDoc{phoned}, []*groupDoc{met, met, phoned}, true, "most of the story's tellings name another day"},
		{[]*groupDoc{phoned}, []*groupDoc{met, phoned, phoned}, false, "more of them name the item's day"},
		{[]*groupDoc{undated}, []*groupDoc{met, phoned}, false, "an item naming no day"},
	}
	for _, tt := range tests {
		if got := datesConflict(tt.as, tt.bs); got != tt.want {
			t.Errorf("%s: datesConflict = %v, want %v", tt.why, got, tt.want)
		}
	}
}

func TestEventDaysConflict(t *testing.T) {
	wed := time.Date(2025, 7, 9, 22, 0, 0, 0, time.UTC)
	thu := wed.Add(4 * time.Hour)
	day := func(text string, pub time.Time) eventDay {
		d, _ := eventDate(Item{Title: "Talks", Text: text, Published: pub})
		return d
	}
	tests := []struct {
		a, b eventDay
		want bool
		why  string
	}{
		{day("They met on Thursday.", wed), day("They met on Thursday.", thu), false, "one weekday, read from either side of midnight"},
		{day("They met on Thursday.", thu), day("They spoke on Friday.", thu), false, "a day apart: another time zone, or the same night"},
		{day("They met on Thursday.", thu), day("They spoke on Saturday.", thu), true, "two days apart"},
		{day("They met on July 10.", thu), day("They met on July 12.", thu), true, "two dates apart"},
		{day("They met on July 10.", thu), day("They met on Saturday.", thu), false, "a date is not compared with a weekday"},
		{day("They met.", thu), day("They met on Saturday.", thu), false, "no date says nothing"},
	}
	for _, tt := range tests {
		if got := tt.a.conflicts(tt.b); got != tt.want {
			t.Errorf("%s: conflicts = %v, want %v", tt.why, got, tt.want)
		}
	}
}

// TestLinkageIsTheMeanPairSimilarity: a fold asks how alike two stories'
// tellings are pair by pair, read off their centroids without comparing
// every pair.
func TestLinkageIsTheMeanPairSimilarity(t *testing.T) {
	same, different := loadPairs(t)
	var all []Item
	for i, p := range append(same, different...) {
		all = append(all, p.A.item(fmt.Sprintf("https://a.example/%d", i)), p.B.item(fmt.Sprintf("https://b.example/%d", i)))
	}
	var vectors []termVector
	for _, it := range all {
		vectors = append(vectors, itemTerms(it))
	}
	c := newCorpus(vectors)
	group := func(its ...Item) *pendingGroup {
		g := &pendingGroup{centroid: map[string]float64{}}
		for _, it := range its {
			d := &groupDoc{item: it, terms: itemTerms(it)}
			d.prepare(c, new([]weighedTerm))
			g.add(d)
		}
		return g
	}
	g, h := group(all[0], all[1]), group(all[2], all[3], all[4])
	var sum float64
	for _, a := range g.members {
		for _, b := range h.members {
			sum += dotUnit(a.unit, b.unit)
		}
	}
	if got, want := g.pairSimilarities(h)/float64(len(g.members)*len(h.members)), sum/6; math.Abs(got-want) > 1e-9 {
		t.Errorf("mean pair similarity from the centroids = %v, want the mean of the 6 pair similarities, %v", got, want)
	}
}
