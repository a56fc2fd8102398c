package briefings

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Grouping decides which items tell the same event — the same occurrence,
// decision, statement, match, death or vote and its same-day aftermath — as
// an editor would, and not merely the same topic, person or competition.
//
// Two tellings of one event share its particulars: the names of the people
// and places (multi-word names most of all: "Vinnie Paul" is not "Paul
// McCartney"), specific numbers and dates ("728 drones", "July 10"), and the
// rarer words around them, and they share several of them at once. So an
// item is a tf-idf vector over the content words of its title (which counts
// most) and the lead of its text (later paragraphs drift into background
// that other events share), plus its proper-noun phrases and specific
// numbers and dates as terms of their own; bare round numbers ("100",
// "500") say nothing about the event and are not counted, and a capital
// that only starts a sentence is not taken for a name.
//
// An item joins the story whose centroid it is most similar to, when it
// also resembles most of the story's tellings and shares several distinctive
// terms with them — never because it resembles one member (single-link
// chaining would let "World Cup" fans, coaches and goalkeepers grow one
// story). Tellings that came before the one linking them have started
// stories of their own; a story that gained a telling is then folded with a
// recent story as alike as a whole, unless they are about other people
// (namesConflict). Words alone cannot tell two events with the same people
// apart (the same two ministers meeting on Thursday and phoning on Saturday
// score like a paraphrase), so tellings that mostly name different event
// days never group (datesConflict).
const (
	// groupWindow is how far apart two tellings of one event may be published.
	groupWindow = 48 * time.Hour
	// groupThreshold is the cosine similarity between an item and a story's
	// centroid at or above which the item joins the story. The ECB+ set's
	// odd topics favour 0.15 (README, Grouping); 0.20 keeps apart the
	// real-news look-alikes of testdata/pairs.json (a storm and a quake in
	// one place, a central bank's decision and its president's speech).
	groupThreshold = 0.2
	// otherNamesFactor discounts the similarity to a story about other
	// people than the item (namesConflict).
	otherNamesFactor = 0.5
	// mergeThreshold is the cosine similarity between two stories'
	// centroids at or above which they are one event, as groupThreshold is
	// for an item and a story; mergeLinkage is how alike their tellings
	// must also be on average, pair by pair, as one story's are: a centroid
	// keeps what every telling of a kind of event says ("injured reserve",
	// "running back") and two look-alike stories' centroids meet there,
	// while their tellings, pair by pair, differ in who and where.
	mergeThreshold = 0.2
	mergeLinkage   = 0.12
	// memberThreshold is the similarity at which an item resembles one
	// telling of a story; it must resemble at least half of them.
	memberThreshold = 0.08
	// indexedTerms is how many of an item's most distinctive terms are
	// indexed for later items to find its story by: a later telling of the
	// event shares some of its weightiest particulars, and indexing no more
	// keeps the postings short however many items share common words.
	indexedTerms = 12
	// maxCandidates is how many stories, those sharing most of an item's
	// key terms, it is compared with in full.
	maxCandidates = 16
	// minSharedParticulars is how many distinctive terms an item must share
	// with a story: one word in common is a topic, not an event.
	minSharedParticulars = 2
	// groupLeadRunes is how much of an item's text describes the event;
	// leadFullRunes of it count fully, the rest half.
	groupLeadRunes = 1500
	leadFullRunes  = 500

	titleWeight  = 2.0 // a word of the headline, against one of the text
	nameWeight   = 1.0 // a capitalized word inside a sentence
	phraseWeight = 1.0 // a proper-noun phrase, beyond its words
	numberWeight = 1.0 // a specific number or date
)

// pendingGroup is a story as an ingest batch sees it: stored (story.ID > 0)
// or made by this batch, the fresh items it gains, and the stored stories
// that turned out to tell its event too and are folded into it.
type pendingGroup struct {
	story    Story
	added    []Item
	absorbed []Story

	members  []*groupDoc
	centroid map[string]float64 // the sum of the members' unit vectors
	norm2    float64            // the centroid's squared length
	newest   time.Time
	into     int         // the group it was folded into, or its own index
	unready  []*groupDoc // stored tellings not yet weighed: see groupItems
}

// items are the stored items of the group: its story's and the absorbed
// stories', in the order they were stored.
func (g *pendingGroup) items() []Item {
	out := slices.Clone(g.story.Items)
	for _, st := range g.absorbed {
		out = append(out, st.Items...)
	}
	return out
}

// groupDoc is one item taking part in grouping.
type groupDoc struct {
	item  Item
	terms termVector
	names []string           // the names it is about, as stems: see itemNames
	unit  map[string]float64 // idf-weighted, of length 1
	order []string           // its terms, weightiest first
	keys  []string           // the first of them, for the index
	date  eventDay           // the event day it names, zero when none
}

// groupItems assigns each fresh item to the recent story, or the story made
// earlier in the batch, that it fits as a whole within the window and
// without a conflicting event date — or to a story of its own. Candidate
// stories come from an inverted index, so an item is compared only with the
// stories it shares a distinctive term with.
func groupItems(recent []Story, fresh []Item, cache *vectorCache) []*pendingGroup {
	groups := make([]*pendingGroup, 0, len(recent)+len(fresh))
	var all []termVector
	for _, st := range recent {
		g := &pendingGroup{story: st, into: len(groups)}
		for i, f := range cache.vectors(st) {
			g.unready = append(g.unready, &groupDoc{item: st.Items[i], terms: f.terms, names: f.names})
			all = append(all, f.terms)
		}
		groups = append(groups, g)
	}
	freshDocs := make([]*groupDoc, len(fresh))
	for i, it := range fresh {
		f := featuresOf(it)
		freshDocs[i] = &groupDoc{item: it, terms: f.terms, names: f.names}
		all = append(all, freshDocs[i].terms)
	}
	c := newCorpus(all)

	// Only distinctive terms are indexed: a word in one item in a hundred
	// cannot make two of them one event, and indexing it would compare
	// every item with every other.
	commonDF := max(64, c.docs/100)
	postings := make(map[string][]int) // term → groups, ascending, once each
	index := func(gi int, d *groupDoc) {
		for _, t := range d.keys {
			if c.df[t] <= commonDF {
				if p := postings[t]; len(p) == 0 || p[len(p)-1] != gi {
					postings[t] = append(p, gi)
				}
			}
		}
	}
	find := func(gi int) int {
		for groups[gi].into != gi {
			gi = groups[gi].into
		}
		return gi
	}
	// A stored story is weighed in full only when a fresh item or a story
	// that gained one comes near it: most of a day's stories share no
	// distinctive term with one poll's items.
	var scratch []weighedTerm
	for gi, g := range groups {
		for _, d := range g.unready {
			d.prepareKeys(c, &scratch)
			index(gi, d)
		}
	}
	ready := func(gi int) *pendingGroup {
		g := groups[gi]
		if g.centroid == nil {
			g.centroid = make(map[string]float64)
			for _, d := range g.unready {
				d.weighUnit(c, &scratch)
				g.add(d)
			}
			g.unready = nil
		}
		return g
	}

	var candidates []int
	partial := make(map[int]float64)
	// candidatesOf returns the live groups sharing the most of the weightiest
	// of terms, in ascending order, at most maxCandidates of them.
	candidatesOf := func(order []string, weight map[string]float64, self int) []int {
		clear(partial)
		candidates = candidates[:0]
		for _, t := range order { // in order: the same sums, the same candidates, every run
			if c.df[t] > commonDF {
				continue
			}
			x := weight[t]
			for _, gi := range postings[t] {
				gi = find(gi)
				if gi == self {
					continue
				}
				if _, ok := partial[gi]; !ok {
					candidates = append(candidates, gi)
				}
				partial[gi] += x * ready(gi).centroid[t]
			}
		}
		// The stories that share the most of the weightiest terms are the
		// only ones worth a full comparison.
		slices.SortFunc(candidates, func(a, b int) int {
			if c := cmp.Compare(partial[b]/groups[b].norm(), partial[a]/groups[a].norm()); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		candidates = candidates[:min(len(candidates), maxCandidates)]
		slices.Sort(candidates) // ties go to the earliest story, whatever the map order
		return candidates
	}
	for _, fd := range freshDocs {
		fd.prepare(c, &scratch)
		best, bestSim := -1, groupThreshold
		for _, gi := range candidatesOf(fd.order, fd.unit, -1) {
			g := groups[gi]
			sim := g.similarity(fd)
			if sim >= bestSim && namesConflict(g.members, []*groupDoc{fd}) {
				sim *= otherNamesFactor
			}
			if sim < bestSim || (sim == bestSim && best >= 0) {
				continue
			}
			if !g.fits(fd, c, commonDF) {
				continue
			}
			best, bestSim = gi, sim
		}
		if best < 0 {
			best = len(groups)
			groups = append(groups, &pendingGroup{centroid: make(map[string]float64), into: best})
		}
		g := groups[best]
		g.added = append(g.added, fd.item)
		g.add(fd)
		index(best, fd)
	}

	// Tellings that came before the one that links them started stories of
	// their own: two stories as alike as a telling and the story it joins,
	// whose tellings are as alike pair by pair as one story's, sharing
	// particulars and naming no other date or people, are one event. Only
	// a story that gained a telling can have come closer to another.
	var queue []int
	queued := make([]bool, len(groups))
	for gi, g := range groups {
		if len(g.added) > 0 {
			queue, queued[gi] = append(queue, gi), true
		}
	}
	for len(queue) > 0 {
		gi := queue[0]
		queue, queued[gi] = queue[1:], false
		g := groups[gi]
		if g.into != gi {
			continue
		}
		best, bestSim := -1, mergeThreshold
		for _, gj := range candidatesOf(g.weightiest(), g.centroid, gi) {
			h := groups[gj]
			// Over the centroids' lengths: their cosine; over the number of
			// pairs: how alike the tellings are, pair by pair, on average.
			dot := g.pairSimilarities(h)
			sim := dot / (g.norm() * h.norm())
			if sim < bestSim || (sim == bestSim && best >= 0) || dot/float64(len(g.members)*len(h.members)) < mergeLinkage ||
				!g.compatible(h) || sharedParticulars(g.centroid, h.centroid, c, commonDF) < minSharedParticulars {
				continue
			}
			best, bestSim = gj, sim
		}
		if best < 0 {
			continue
		}
		// The folded story may now come near others: look again.
		if kept := fold(groups, gi, best); !queued[kept] {
			queue, queued[kept] = append(queue, kept), true
		}
	}

	out := groups[:0]
	for gi, g := range groups {
		if g.into == gi && len(g.added) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// fold merges groups a and b into one, keeping the other's members, fresh
// items and absorbed stories. A stored story outlives a new one, and of two
// stored the newer: an absorbed story is deleted, and a deleted highest id
// is one a store may give out again (SQLite does), to a story a chat's
// ledger would then take for one it was sent.
func fold(groups []*pendingGroup, a, b int) (kept int) {
	ga, gb := groups[a], groups[b]
	keepB := gb.story.ID > ga.story.ID
	if keepB {
		a, b, ga, gb = b, a, gb, ga
	}
	if gb.story.ID > 0 {
		ga.absorbed = append(ga.absorbed, gb.story)
	}
	ga.absorbed = append(ga.absorbed, gb.absorbed...)
	ga.added = append(ga.added, gb.added...)
	for _, d := range gb.members {
		ga.add(d)
	}
	gb.into = a
	gb.members, gb.added, gb.absorbed, gb.centroid = nil, nil, nil, nil
	return a
}

// pairSimilarities is the sum of the similarities of every telling of g to
// every telling of h: the dot product of two sums of unit vectors.
func (g *pendingGroup) pairSimilarities(h *pendingGroup) float64 {
	return dotUnit(g.centroid, h.centroid)
}

// weightiest are the group's centroid terms, weightiest first, as many as
// candidate stories are looked up by.
func (g *pendingGroup) weightiest() []string {
	order := make([]string, 0, len(g.centroid))
	for t := range g.centroid {
		order = append(order, t)
	}
	slices.SortFunc(order, byWeight(g.centroid))
	return order[:min(len(order), 4*indexedTerms)]
}

// compatible reports whether g and h may tell one event: published within
// the window of each other, their tellings naming no other event dates.
func (g *pendingGroup) compatible(h *pendingGroup) bool {
	if absDuration(g.newest.Sub(h.newest)) > groupWindow {
		return false
	}
	return !datesConflict(g.members, h.members) && !namesConflict(g.members, h.members)
}

// datesConflict reports whether the tellings of as and bs name different
// event days: at least half the pairs of tellings, one from each, name days
// apart, and more do than name the same day. Most tellings of an event name
// no day, and the few that do may name another part of it (the arrest on
// Tuesday, the game on Sunday he will play in anyway, the sentencing a week
// after the verdict): one telling naming another day than another does is
// no evidence against the rest of a story.
func datesConflict(as, bs []*groupDoc) bool {
	agree, conflict := 0, 0
	for _, a := range as {
		for _, b := range bs {
			switch {
			case a.date.conflicts(b.date):
				conflict++
			case !a.date.date.IsZero() && !b.date.date.IsZero() && a.date.byWeekday == b.date.byWeekday:
				agree++
			}
		}
	}
	return conflict > agree && 2*conflict >= len(as)*len(bs)
}

// namesConflict reports whether two sets of tellings are about other people
// and places. They are when each rarely names whom the other does (at most
// a third of its name mentions): two earthquakes' tellings, one naming
// Sonoma, Healdsburg or Lake County, the other Aceh or Indonesia, keep
// naming no one place and share none. They are when each keeps naming
// someone (a name in at least half of them) whom no telling of the other
// names at all, the same kind of event with other people ("Klitschko stops
// Thompson" is not "Klitschko stops Rahman") — unless one is a single
// telling most of whose names are those the other's tellings lead with (in
// a headline or first sentence): one naming Mark Felt, the FBI, Watergate
// and Alzheimer's tells the death of "Deep Throat" that the story's
// tellings lead with, though it never says the words and they never name
// the illness. Names the others only mention further on do not count
// there: a Russia World Cup story's Putin does not join Egypt's squad
// because one telling of it says the World Cup is in Russia.
func namesConflict(as, bs []*groupDoc) bool {
	a, b := nameMentions(as, bs), nameMentions(bs, as)
	switch {
	case a.all > 0 && b.all > 0 && 3*a.named <= a.all && 3*b.named <= b.all:
		return true
	case len(as) == 1 && 2*a.led > a.all, len(bs) == 1 && 2*b.led > b.all:
		return false
	}
	return a.keptAbsent && b.keptAbsent
}

// mentions are what one set of tellings' names say of another set's.
type mentions struct {
	all, named, led int  // name mentions, telling by telling: all, named by the others anywhere, led with by them
	keptAbsent      bool // a name in at least half the tellings that no telling of the others names
}

func nameMentions(as, others []*groupDoc) mentions {
	var m mentions
	count := make(map[string]int)
	absent := make(map[string]bool)
	for _, a := range as {
		for _, n := range a.names {
			m.all++
			count[n]++
			if slices.ContainsFunc(others, func(b *groupDoc) bool { return b.terms[n] > 0 }) {
				m.named++
			} else {
				absent[n] = true
			}
			if slices.ContainsFunc(others, func(b *groupDoc) bool { return slices.Contains(b.names, n) }) {
				m.led++
			}
		}
	}
	for n := range absent {
		if 2*count[n] >= len(as) {
			m.keptAbsent = true
		}
	}
	return m
}

type weighedTerm struct {
	term string
	x    float64
}

// heavierFirst orders terms weightiest first, ties by the term: the order a
// telling is indexed and looked up by, and a story's candidates found by,
// the same every run.
func heavierFirst(a, b weighedTerm) int {
	if c := cmp.Compare(b.x, a.x); c != 0 {
		return c
	}
	return strings.Compare(a.term, b.term)
}

// byWeight is heavierFirst over the terms of w.
func byWeight(w map[string]float64) func(a, b string) int {
	return func(a, b string) int { return heavierFirst(weighedTerm{a, w[a]}, weighedTerm{b, w[b]}) }
}

// weigh appends d's terms, weighed by the corpus' idf, to buf, and returns
// them with their length.
func (d *groupDoc) weigh(c *corpus, buf []weighedTerm) ([]weighedTerm, float64) {
	var norm float64
	for t, w := range d.terms {
		x := w * c.idf(t)
		buf = append(buf, weighedTerm{t, x})
		norm += x * x
	}
	return buf, math.Sqrt(norm)
}

// prepareKeys finds d's weightiest terms, those prepare would, without
// weighing every term into a map: what indexing a stored telling needs.
func (d *groupDoc) prepareKeys(c *corpus, scratch *[]weighedTerm) {
	all, norm := d.weigh(c, (*scratch)[:0])
	*scratch = all
	top := make([]weighedTerm, 0, indexedTerms+1)
	for _, wt := range all {
		if norm > 0 {
			wt.x /= norm
		}
		i := len(top)
		for i > 0 && heavierFirst(wt, top[i-1]) < 0 {
			i--
		}
		if i < indexedTerms {
			top = slices.Insert(top, i, wt)
			top = top[:min(len(top), indexedTerms)]
		}
	}
	d.keys = d.keys[:0]
	for _, w := range top {
		d.keys = append(d.keys, w.term)
	}
}

// weighUnit weighs d's terms by the corpus' idf, to unit length, and reads
// its event date: what comparing it needs.
func (d *groupDoc) weighUnit(c *corpus, scratch *[]weighedTerm) {
	all, norm := d.weigh(c, (*scratch)[:0])
	*scratch = all
	d.unit = make(map[string]float64, len(all))
	for _, wt := range all {
		if norm > 0 {
			wt.x /= norm
		}
		d.unit[wt.term] = wt.x
	}
	d.date, _ = eventDate(d.item)
}

// prepare weighs a fresh item, and orders its terms weightiest first: it
// looks for its story by them, and is indexed by the first.
func (d *groupDoc) prepare(c *corpus, scratch *[]weighedTerm) {
	d.weighUnit(c, scratch)
	d.order = d.order[:0]
	for t := range d.unit {
		d.order = append(d.order, t)
	}
	slices.SortFunc(d.order, byWeight(d.unit))
	d.keys = d.order[:min(len(d.order), indexedTerms)]
}

func (g *pendingGroup) add(d *groupDoc) {
	g.members = append(g.members, d)
	for t, x := range d.unit {
		old := g.centroid[t]
		g.centroid[t] = old + x
		g.norm2 += (old+x)*(old+x) - old*old
	}
	if d.item.Published.After(g.newest) {
		g.newest = d.item.Published
	}
}

func (g *pendingGroup) norm() float64 { return math.Sqrt(max(g.norm2, 1e-12)) }

// similarity is the cosine between d and the story's centroid.
func (g *pendingGroup) similarity(d *groupDoc) float64 {
	if g.norm2 <= 0 {
		return 0
	}
	var dot float64
	for t, x := range d.unit {
		dot += x * g.centroid[t]
	}
	return dot / math.Sqrt(g.norm2)
}

// fits reports whether d tells the story's event: published within the
// window of it, naming no other event date than its tellings do, like at
// least half of them, sharing several distinctive terms with them.
func (g *pendingGroup) fits(d *groupDoc, c *corpus, commonDF int) bool {
	if absDuration(d.item.Published.Sub(g.newest)) > groupWindow {
		return false
	}
	like := 0
	for _, m := range g.members {
		if dotUnit(d.unit, m.unit) >= memberThreshold {
			like++
		}
	}
	if 2*like < len(g.members) || datesConflict([]*groupDoc{d}, g.members) {
		return false
	}
	return sharedParticulars(d.terms, g.centroid, c, commonDF) >= minSharedParticulars
}

// sharedParticulars counts the distinctive terms of d that the story has
// too, a shared name once however many of its words are shared with it:
// "World Cup" is one particular, not three.
func sharedParticulars(a, b map[string]float64, c *corpus, commonDF int) int {
	if len(b) < len(a) {
		a, b = b, a
	}
	set := make(map[string]bool)
	for t := range a {
		if c.df[t] <= commonDF && b[t] > 0 {
			set[t] = true
		}
	}
	shared := len(set)
	for t := range set {
		if phrase, ok := strings.CutPrefix(t, "p:"); ok {
			for _, w := range strings.Fields(phrase) {
				if set[stem(w)] {
					shared--
					delete(set, stem(w))
				}
			}
		}
	}
	return shared
}

func dotUnit(a, b map[string]float64) float64 {
	if len(b) < len(a) {
		a, b = b, a
	}
	var dot float64
	for t, x := range a {
		dot += x * b[t]
	}
	return dot
}

// vectorCache remembers the term vectors of stored stories, so that an ingest
// tokenizes only what is new. A story is keyed by its ID and item count: one
// that gained an item is looked up afresh.
type vectorCache struct {
	mu sync.Mutex
	m  map[vectorKey][]itemFeatures
}

type vectorKey struct {
	id    int64
	items int
}

// maxCachedStories bounds the cache; past it, it starts over. Ingest looks at
// the stories of the last couple of days, far fewer than this.
const maxCachedStories = 8192

func (vc *vectorCache) vectors(st Story) []itemFeatures {
	key := vectorKey{st.ID, len(st.Items)}
	vc.mu.Lock()
	v, ok := vc.m[key]
	vc.mu.Unlock()
	if ok {
		return v
	}
	v = make([]itemFeatures, len(st.Items))
	for i, it := range st.Items {
		v[i] = featuresOf(it)
	}
	vc.mu.Lock()
	if vc.m == nil || len(vc.m) >= maxCachedStories {
		vc.m = make(map[vectorKey][]itemFeatures)
	}
	vc.m[key] = v
	vc.mu.Unlock()
	return v
}

// itemFeatures is what grouping reads of an item.
type itemFeatures struct {
	terms termVector
	names []string
}

func featuresOf(it Item) itemFeatures {
	return itemFeatures{terms: itemTerms(it), names: itemNames(it)}
}

// itemNames are the stems of the names an item is about: the capitalized
// words of its headline and first sentence, where capitals mark names (not
// a headline's every word, not a sentence's first word). In a headline that
// capitalizes every word, the words its text also capitalizes.
func itemNames(it Item) []string {
	lead := truncateRunes(it.Text, 300)
	if i := strings.Index(lead, ". "); i > 0 {
		lead = lead[:i]
	}
	textNames := make(map[string]bool)
	for _, t := range tokenize(it.Text) {
		if t.capitalized && !t.sentenceStart {
			textNames[t.lower] = true
		}
	}
	seen := make(map[string]bool)
	var names []string
	add := func(text string, confirm bool) {
		for _, t := range tokenize(text) {
			if !t.capitalized || stopWords[t.lower] || isCalendarWord(t.lower) || len(t.lower) < 2 || isNumber(t.lower) {
				continue
			}
			// A headline's first word is capitalized anyway: it is a name
			// when the text capitalizes it too.
			if (confirm || t.sentenceStart) && !textNames[t.lower] {
				continue
			}
			if st := stem(t.lower); !seen[st] {
				seen[st] = true
				names = append(names, st)
			}
		}
	}
	add(it.Title, isTitleCase(it.Title))
	if it.Title == "" && !isTitleCase(lead) {
		add(lead, false)
	}
	return names
}

// termVector is an item's weighted terms, before idf. Words are stems;
// proper-noun phrases are "p:" and their words, specific numbers "n:" and
// the number, dates "d:" and month-day.
type termVector map[string]float64

func itemTerms(it Item) termVector {
	v := make(termVector)
	addTerms(v, it.Title, titleWeight)
	lead := truncateRunes(it.Text, groupLeadRunes)
	full := truncateRunes(lead, leadFullRunes)
	addTerms(v, full, 1)
	addTerms(v, lead[len(full):], 0.5)
	return v
}

// token is one word of a text, with what its position and case say.
type token struct {
	lower         string
	capitalized   bool
	sentenceStart bool
	breaksBefore  bool // punctuation before it starts a name
	breaksAfter   bool // punctuation after it ends one
}

func notAlnum(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }

func tokenize(text string) []token {
	var out []token
	sentenceStart := true
	for _, raw := range strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || r == '—' || r == '–' || r == '/' || r == '-'
	}) {
		word := strings.TrimFunc(raw, notAlnum)
		before := raw[:len(raw)-len(strings.TrimLeftFunc(raw, notAlnum))]
		after := raw[len(strings.TrimRightFunc(raw, notAlnum)):]
		endsSentence := strings.ContainsAny(after, ".!?") && !isInitial(word)
		if word == "" {
			sentenceStart = sentenceStart || endsSentence
			continue
		}
		for _, suffix := range []string{"'s", "’s"} {
			word = strings.TrimSuffix(word, suffix)
		}
		r := []rune(word)[0]
		out = append(out, token{
			lower:         strings.ToLower(word),
			capitalized:   unicode.IsUpper(r),
			sentenceStart: sentenceStart,
			breaksBefore:  before != "",
			breaksAfter:   after != "",
		})
		sentenceStart = endsSentence
	}
	return out
}

// isInitial reports whether word is a single letter, as in "James R. Dabney",
// whose full stop ends no sentence.
func isInitial(word string) bool { return len([]rune(word)) == 1 && unicode.IsUpper([]rune(word)[0]) }

// addTerms adds the terms of text to v at weight.
func addTerms(v termVector, text string, weight float64) {
	toks := tokenize(text)
	titleCase := isTitleCase(text)
	var phrase []string
	flush := func() {
		for len(phrase) > 0 && stopWords[phrase[0]] {
			phrase = phrase[1:]
		}
		if len(phrase) >= 2 {
			v["p:"+strings.Join(phrase, " ")] += weight * phraseWeight
		}
		phrase = phrase[:0]
	}
	for i, t := range toks {
		if date, ok := monthDay(toks, i); ok {
			v["d:"+date] += weight * numberWeight
		}
		if n, ok := specificNumber(t.lower); ok {
			v["n:"+n] += weight * numberWeight
		} else if !stopWords[t.lower] && len([]rune(t.lower)) > 1 && !isNumber(t.lower) {
			w := weight
			if !titleCase && t.capitalized && !t.sentenceStart {
				w *= nameWeight
			}
			v[stem(t.lower)] += w
		}
		// In a headline where every word is capitalized, capitals say
		// nothing about names.
		if !titleCase && t.capitalized && !isCalendarWord(t.lower) {
			if t.breaksBefore {
				flush()
			}
			phrase = append(phrase, t.lower)
			if t.breaksAfter {
				flush()
			}
			continue
		}
		flush()
	}
	flush()
}

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) && r != '.' && r != ',' {
			return false
		}
	}
	return true
}

// specificNumber returns w as a number that can identify an event: a
// measure ("6.1"), a count or sum that is not round ("728", "1,254"). Small
// counts, round numbers and years are said of every kind of event.
func specificNumber(w string) (string, bool) {
	if w == "" || !isNumber(w) || !unicode.IsDigit([]rune(w)[0]) {
		return "", false
	}
	w = strings.TrimRight(strings.ReplaceAll(w, ",", ""), ".")
	if strings.Contains(w, ".") {
		return w, true
	}
	n, err := strconv.Atoi(w)
	if err != nil {
		return w, len(w) > 4
	}
	switch {
	case n <= 12, n >= 1900 && n <= 2100, n%100 == 0, n < 1000 && n%10 == 0, n%1000 == 0:
		return "", false
	}
	return strconv.Itoa(n), true
}

// monthDay returns "MM-DD" when the words at i are a month followed or
// preceded by a day ("July 10", "10th of July").
func monthDay(toks []token, i int) (string, bool) {
	m, ok := months[toks[i].lower]
	if !ok || len(toks[i].lower) < 3 {
		return "", false
	}
	for _, j := range []int{i + 1, i - 1} {
		if j >= 0 && j < len(toks) {
			if d, ok := dayNumber(toks[j].lower); ok {
				return strconv.Itoa(int(m)) + "-" + strconv.Itoa(d), true
			}
		}
	}
	return "", false
}

func isCalendarWord(w string) bool {
	_, weekday := weekdays[w]
	_, month := months[w]
	return weekday || month
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

// similarity is the cosine of a and b weighted by idf.
func (c *corpus) similarity(a, b termVector) float64 {
	da, db := &groupDoc{terms: a}, &groupDoc{terms: b}
	var scratch []weighedTerm
	da.weighUnit(c, &scratch)
	db.weighUnit(c, &scratch)
	return dotUnit(da.unit, db.unit)
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

func dayNumber(w string) (int, bool) {
	w = strings.TrimRight(w, "stndrh") // 1st 2nd 3rd 10th
	n, err := strconv.Atoi(w)
	return n, err == nil && n >= 1 && n <= 31
}

// eventDay is the calendar day an item says its event happened on, and
// whether it was read from a weekday ("on Thursday", relative to when the
// item was published) or from a month and day ("July 10th", absolute).
type eventDay struct {
	date      time.Time
	byWeekday bool
}

// conflicts reports whether two event days are more than a day apart (a day
// of slack for time zones). A weekday is read against the publication time,
// which feeds get wrong (an undated item is dated when it was fetched), so it
// is compared only with another weekday, and a month and day with another.
// Two weekdays are compared by name: tellings published within the grouping
// window either side of midnight read one "Thursday" as days a week apart,
// while "Thursday" and "Saturday" are two days apart however they are read.
func (e eventDay) conflicts(o eventDay) bool {
	if e.date.IsZero() || o.date.IsZero() || e.byWeekday != o.byWeekday {
		return false
	}
	if e.byWeekday {
		apart := (int(e.date.Weekday()) - int(o.date.Weekday()) + 7) % 7
		return apart >= 2 && apart <= 5 // 6 is a day the other way
	}
	return absDuration(e.date.Sub(o.date)) > 24*time.Hour
}

// eventDate is the calendar day the item says its event happened on: the
// first weekday ("on Thursday") or month and day ("July 10th", "10 July") in
// its title and lead, read relative to when it was published. Two tellings
// of one event agree on it; the same people a few days later do not.
func eventDate(it Item) (eventDay, bool) {
	pub := it.Published.UTC()
	pubDay := time.Date(pub.Year(), pub.Month(), pub.Day(), 0, 0, 0, 0, time.UTC)
	words := strings.FieldsFunc(strings.ToLower(it.Title+" . "+truncateRunes(it.Text, eventDateLeadRunes)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
	for i, w := range words {
		if wd, ok := weekdays[w]; ok {
			// The latest such weekday no later than a day after publication
			// (an outlet behind the event's time zone may publish "Tuesday"
			// news on its Monday).
			back := (int(pubDay.Weekday()) - int(wd) + 7) % 7
			if back == 6 {
				back = -1
			}
			return eventDay{date: pubDay.AddDate(0, 0, -back), byWeekday: true}, true
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
		return eventDay{date: best}, true
	}
	return eventDay{}, false
}
