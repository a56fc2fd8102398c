package briefings

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Grouping decides which items tell the same event. Two tellings of one event
// share its particulars — the people, places and numbers, and the rarer words
// around them — even when worded differently. So items are compared by the
// cosine of their tf-idf vectors over content words of the title and lead,
// where names and numbers count double, inside a time window. Words alone
// cannot tell two events with the same people apart (the same two ministers
// meeting on Thursday and phoning on Saturday score like a paraphrase), so
// items that name different event dates never group.
const (
	// groupWindow is how far apart two tellings of one event may be published.
	groupWindow = 48 * time.Hour
	// groupThreshold is the cosine similarity at or above which two items are
	// taken for one event; measured on testdata/pairs.json, where one event
	// told in other words scores 0.28–0.58 and other events about the same
	// people or place 0.06–0.18 (one, 0.40, is told apart by its date).
	groupThreshold = 0.22
	// groupLeadRunes is how much of an item's text describes the event; later
	// paragraphs drift into background that other events share.
	groupLeadRunes = 1200
)

// pendingGroup is a story as an ingest batch sees it: stored (story.ID > 0)
// or made by this batch, and the fresh items it gains.
type pendingGroup struct {
	story Story
	added []Item
}

// groupDoc is one item taking part in grouping.
type groupDoc struct {
	group *pendingGroup
	item  Item
	terms termVector
	norm  float64 // of the idf-weighted vector
}

// groupItems assigns each fresh item to the recent story, or the story made
// earlier in the batch, whose items it is most similar to within the window
// and without a conflicting event date — or to a story of its own. Scoring
// goes through an inverted index, so an item is compared only with items it
// shares a word with.
func groupItems(recent []Story, fresh []Item, cache *vectorCache) []*pendingGroup {
	var docs []*groupDoc
	groups := make([]*pendingGroup, 0, len(recent)+len(fresh))
	for _, st := range recent {
		g := &pendingGroup{story: st}
		groups = append(groups, g)
		for i, v := range cache.vectors(st) {
			docs = append(docs, &groupDoc{group: g, item: st.Items[i], terms: v})
		}
	}
	freshDocs := make([]*groupDoc, len(fresh))
	all := make([]termVector, 0, len(docs)+len(fresh))
	for _, d := range docs {
		all = append(all, d.terms)
	}
	for i, it := range fresh {
		freshDocs[i] = &groupDoc{item: it, terms: itemTerms(it)}
		all = append(all, freshDocs[i].terms)
	}
	c := newCorpus(all)

	// Candidates come from the postings of distinctive terms only: a word in
	// a tenth of all items cannot by itself make two of them one event, and
	// indexing it would compare every item with every other.
	commonDF := max(64, c.docs/10)
	postings := make(map[string][]int)
	index := func(d *groupDoc) {
		d.norm = c.norm(d.terms)
		for t := range d.terms {
			if c.df[t] <= commonDF {
				postings[t] = append(postings[t], len(docs))
			}
		}
		docs = append(docs, d)
	}
	stored := docs
	docs = nil
	for _, d := range stored {
		index(d)
	}

	seen := make(map[int]bool)
	for _, fd := range freshDocs {
		clear(seen)
		fd.norm = c.norm(fd.terms)
		var best *pendingGroup
		bestSim, bestJ := groupThreshold, -1
		for t := range fd.terms {
			for _, j := range postings[t] {
				if seen[j] {
					continue
				}
				seen[j] = true
				d := docs[j]
				if d.norm == 0 || fd.norm == 0 {
					continue
				}
				sim := c.dot(fd.terms, d.terms) / (d.norm * fd.norm)
				if sim < bestSim || (sim == bestSim && best != nil && j > bestJ) {
					continue // ties go to the earliest item, whatever the map order
				}
				if absDuration(fd.item.Published.Sub(d.item.Published)) > groupWindow || datesConflict(fd.item, d.item) {
					continue
				}
				best, bestSim, bestJ = d.group, sim, j
			}
		}
		if best == nil {
			best = &pendingGroup{}
			groups = append(groups, best)
		}
		best.added = append(best.added, fd.item)
		fd.group = best
		index(fd)
	}

	out := groups[:0]
	for _, g := range groups {
		if len(g.added) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// vectorCache remembers the term vectors of stored stories, so that an ingest
// tokenizes only what is new. A story is keyed by its ID and item count: one
// that gained an item is looked up afresh.
type vectorCache struct {
	mu sync.Mutex
	m  map[vectorKey][]termVector
}

type vectorKey struct {
	id    int64
	items int
}

// maxCachedStories bounds the cache; past it, it starts over. Ingest looks at
// the stories of the last couple of days, far fewer than this.
const maxCachedStories = 8192

func (vc *vectorCache) vectors(st Story) []termVector {
	key := vectorKey{st.ID, len(st.Items)}
	vc.mu.Lock()
	v, ok := vc.m[key]
	vc.mu.Unlock()
	if ok {
		return v
	}
	v = make([]termVector, len(st.Items))
	for i, it := range st.Items {
		v[i] = itemTerms(it)
	}
	vc.mu.Lock()
	if vc.m == nil || len(vc.m) >= maxCachedStories {
		vc.m = make(map[vectorKey][]termVector)
	}
	vc.m[key] = v
	vc.mu.Unlock()
	return v
}

// termVector is an item's weighted terms, before idf.
type termVector map[string]float64

func itemTerms(it Item) termVector {
	v := make(termVector)
	addTerms(v, it.Title, 2)
	addTerms(v, truncateRunes(it.Text, groupLeadRunes), 1)
	return v
}

// addTerms adds the content words of text to v. A capitalized word not at the
// start of a sentence, or a number, is a particular of the event and counts
// double.
func addTerms(v termVector, text string, weight float64) {
	sentenceStart := true
	allCaps := isTitleCase(text)
	for _, raw := range strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || r == '—' || r == '–' || r == '/'
	}) {
		word := strings.TrimFunc(raw, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
		endsSentence := strings.ContainsAny(raw[max(0, len(raw)-2):], ".!?")
		if word == "" {
			sentenceStart = sentenceStart || endsSentence
			continue
		}
		lower := strings.ToLower(word)
		first := []rune(word)[0]
		if !stopWords[lower] && len([]rune(lower)) > 1 {
			w := weight
			if unicode.IsNumber(first) || (unicode.IsUpper(first) && !sentenceStart && !allCaps) {
				w *= 2
			}
			v[stem(lower)] += w
		}
		sentenceStart = endsSentence
	}
}

// isTitleCase reports whether most words of text are capitalized, as in many
// headlines, where capitals say nothing about names.
func isTitleCase(text string) bool {
	words := strings.Fields(text)
	if len(words) < 3 {
		return false
	}
	upper := 0
	for _, w := range words {
		if r := []rune(w)[0]; unicode.IsUpper(r) {
			upper++
		}
	}
	return upper*10 >= len(words)*7
}

// stem folds the commonest English inflections so "meets" and "meeting" meet.
func stem(w string) string {
	for _, suf := range []string{"ings", "ing", "ies", "ied", "es", "ed", "s"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 {
			base := strings.TrimSuffix(w, suf)
			if suf == "ies" || suf == "ied" {
				base += "y"
			}
			return base
		}
	}
	return w
}

// corpus holds document frequencies over the items being compared, so that
// words every story uses weigh little and an event's particulars weigh much.
type corpus struct {
	df   map[string]int
	idfs map[string]float64
	docs int
}

func newCorpus(vectors []termVector) *corpus {
	c := &corpus{df: make(map[string]int), docs: len(vectors)}
	for _, v := range vectors {
		for t := range v {
			c.df[t]++
		}
	}
	c.idfs = make(map[string]float64, len(c.df))
	for t, df := range c.df {
		c.idfs[t] = math.Log(1 + float64(c.docs+1)/float64(df+1))
	}
	return c
}

func (c *corpus) idf(term string) float64 {
	if idf, ok := c.idfs[term]; ok {
		return idf
	}
	return math.Log(1 + float64(c.docs+1))
}

// norm is the length of v weighted by idf.
func (c *corpus) norm(v termVector) float64 {
	var n float64
	for t, w := range v {
		x := w * c.idf(t)
		n += x * x
	}
	return math.Sqrt(n)
}

// dot is the idf-weighted inner product of a and b.
func (c *corpus) dot(a, b termVector) float64 {
	if len(b) < len(a) {
		a, b = b, a
	}
	var dot float64
	for t, wa := range a {
		if wb, ok := b[t]; ok {
			idf := c.idf(t)
			dot += wa * wb * idf * idf
		}
	}
	return dot
}

// similarity is the cosine of a and b weighted by idf.
func (c *corpus) similarity(a, b termVector) float64 {
	na, nb := c.norm(a), c.norm(b)
	if na == 0 || nb == 0 {
		return 0
	}
	return c.dot(a, b) / (na * nb)
}

func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

var stopWords = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`a about above after again against all also am an and any are as at be because
	been before being below between both but by can could did do does doing down during each even ever every few for
	from further had has have having he her here hers herself him himself his how however i if in into is it its
	itself just last like made make many may me might more most much must my new news no nor not now of off on once
	one only or other our ours out over own said same say says she should since so some still such than that the
	their theirs them then there these they this those through to too two under until up upon us very was we were
	what when where which while who whom why will with would year years you your yours day days week time told
	according report reports reported people first could would also amid`) {
		m[w] = true
	}
	return m
}()

// eventDateLeadRunes is how far into an item its event date is looked for:
// leads say when the event happened; later paragraphs mention other dates.
const eventDateLeadRunes = 400

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

var months = map[string]time.Month{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
	"june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
	"october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}

// eventDate is the calendar date the item says its event happened on: the
// first weekday ("on Thursday") or month and day ("July 10th", "10 July") in
// its title and lead, read relative to when it was published. Two tellings
// of one event agree on it; the same people a few days later do not.
func eventDate(it Item) (time.Time, bool) {
	pub := it.Published.UTC()
	pubDay := time.Date(pub.Year(), pub.Month(), pub.Day(), 0, 0, 0, 0, time.UTC)
	words := strings.FieldsFunc(strings.ToLower(it.Title+" . "+truncateRunes(it.Text, eventDateLeadRunes)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
	dayNumber := func(w string) (int, bool) {
		w = strings.TrimRight(w, "stndrh") // 1st 2nd 3rd 10th
		n, err := strconv.Atoi(w)
		return n, err == nil && n >= 1 && n <= 31
	}
	for i, w := range words {
		if wd, ok := weekdays[w]; ok {
			// The latest such weekday no later than a day after publication
			// (an outlet behind the event's time zone may publish "Tuesday"
			// news on its Monday).
			back := (int(pubDay.Weekday()) - int(wd) + 7) % 7
			if back == 6 {
				back = -1
			}
			return pubDay.AddDate(0, 0, -back), true
		}
		m, ok := months[w]
		if !ok {
			continue
		}
		day, ok := 0, false
		if i+1 < len(words) {
			day, ok = dayNumber(words[i+1])
		}
		if !ok && i > 0 {
			day, ok = dayNumber(words[i-1])
		}
		if !ok {
			continue
		}
		// News tells of the past and the coming days: the latest such date
		// no more than a week after publication.
		best := time.Date(pub.Year()+1, m, day, 0, 0, 0, 0, time.UTC)
		for best.After(pubDay.AddDate(0, 0, 7)) {
			best = best.AddDate(-1, 0, 0)
		}
		return best, true
	}
	return time.Time{}, false
}

// datesConflict reports whether two items name event dates more than a day
// apart (a day of slack for time zones).
func datesConflict(a, b Item) bool {
	da, okA := eventDate(a)
	db, okB := eventDate(b)
	return okA && okB && absDuration(da.Sub(db)) > 24*time.Hour
}
