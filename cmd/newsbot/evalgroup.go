package main

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/feeds"
	"github.com/newsbot/newsbot/briefings/sqlite"
)

const evalGroupUsage = `Usage:
  newsbot eval-group [-orders N] FILE.jsonl[.gz]

Feeds labelled articles, one JSON object a line
  {"id": …, "story": …, "title": …, "description": …, "text": …, "url": …, "host": …}
through the running bot as RSS — one local feed per host, every item published within
the last 24 hours, an untitled article headed by its first sentence under a made-up
address and outlet — reads the stories the bot stored, and prints B-cubed and
same-story-pair precision, recall and F1 beside the every-article-alone baseline, for
all articles and for those with a headline of their own. Nothing leaves 127.0.0.1.

  -orders N   also read the set in N-1 other orders (other publication times, other
              feeds first) and print the mean, lowest and highest F1 over all N: a
              grouping that decides item by item owes some of any one figure to the
              order it met the items in
`

// runEvalGroup is "newsbot eval-group": the grouping scored on labelled stories.
func runEvalGroup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("eval-group", evalGroupUsage, stderr)
	orders := fs.Int("orders", 1, "")
	if exit, ok := parseFlags(fs, args); !ok {
		return exit
	}
	if *orders < 1 {
		fmt.Fprintf(stderr, "newsbot eval-group: -orders %d: want at least 1\n", *orders)
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "newsbot eval-group: want one FILE.jsonl\n\n%s", evalGroupUsage)
		return 2
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "newsbot eval-group: %v\n", err)
		return 1
	}
	defer f.Close()
	set, err := readLabelled(f)
	if err != nil {
		fmt.Fprintf(stderr, "newsbot eval-group: %s: %v\n", path, err)
		return 1
	}
	if len(set) == 0 {
		fmt.Fprintf(stderr, "newsbot eval-group: %s: no articles\n", path)
		return 1
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	runs := make([][]int64, *orders)
	for o := range runs {
		clusters, err := groupThroughBot(ctx, set, time.Now(), readingOrder(o), log)
		if err != nil {
			fmt.Fprintf(stderr, "newsbot eval-group: %v\n", err)
			return 1
		}
		runs[o] = clusters
	}
	writeGroupReport(stdout, path, set, runs[0])
	if len(runs) > 1 {
		writeOrdersReport(stdout, set, runs)
	}
	return 0
}

// readingOrder fixes the order the bot meets a set in: when each item was
// published, and which outlet's feed is read first. Order 0 is the one a
// report starts with; the others show how much a figure owes to it.
type readingOrder int

// rank is where s goes in the order: items and outlets are sorted by it.
func (o readingOrder) rank(s string) uint64 {
	h := fnv.New64a()
	if o != 0 {
		fmt.Fprintf(h, "%d/", int(o))
	}
	h.Write([]byte(s))
	return h.Sum64()
}

// labelledItem is one article of a grouping set and the story it belongs to.
type labelledItem struct {
	ID          string `json:"id"`
	Story       string `json:"story"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Text        string `json:"text"`
	URL         string `json:"url"`
	Host        string `json:"host"`
}

// readLabelled reads JSON lines, gzipped or not. Every line must carry an id
// and a story, ids must be unique: a set that breaks that would be scored
// wrongly without anyone noticing.
func readLabelled(r io.Reader) ([]labelledItem, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 64<<10), maxArticleBytes)
	var set []labelledItem
	ids := make(map[string]int)
	for line := 1; sc.Scan(); line++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var it labelledItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		switch {
		case it.ID == "":
			return nil, fmt.Errorf("line %d: no id", line)
		case it.Story == "":
			return nil, fmt.Errorf("line %d: article %q has no story", line, it.ID)
		case strings.TrimSpace(it.Title+it.Description+it.Text) == "":
			return nil, fmt.Errorf("line %d: article %q has no title, description or text", line, it.ID)
		}
		if first, dup := ids[it.ID]; dup {
			return nil, fmt.Errorf("line %d: id %q already on line %d", line, it.ID, first)
		}
		ids[it.ID] = line
		set = append(set, it)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return set, nil
}

// feedItem is a labelled article as a feed carries it.
type feedItem struct {
	headline, description, link, outlet string
	published                           time.Time
}

// asFeedItems turns the set into feed items published within the day before
// now, spread evenly in an order fixed by the ids, so the stories interleave
// the way a day's news does and every run is the same.
func asFeedItems(set []labelledItem, now time.Time, o readingOrder) []feedItem {
	order := make([]int, len(set))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(o.rank(set[a].ID), o.rank(set[b].ID)) })
	step := 23 * time.Hour / time.Duration(len(set)+1)
	out := make([]feedItem, len(set))
	for rank, i := range order {
		it := set[i]
		fi := feedItem{
			headline:    it.Title,
			description: it.Description,
			link:        it.URL,
			outlet:      it.Host,
			published:   now.Add(-time.Hour - time.Duration(rank)*step).Truncate(time.Second),
		}
		if fi.description == "" {
			fi.description = truncateWords(it.Text, 60)
		}
		if fi.headline == "" {
			fi.headline = firstSentence(fi.description)
		}
		if fi.link == "" || fi.outlet == "" {
			// A made-up outlet of its own: the set does not say who published it.
			slug := strings.Map(func(r rune) rune {
				if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
					return unicode.ToLower(r)
				}
				return '-'
			}, it.ID)
			fi.outlet = "outlet-" + slug + ".example"
			fi.link = "https://" + fi.outlet + "/articles/" + slug
		}
		out[i] = fi
	}
	return out
}

// firstSentence is text up to its first sentence end, at most 200 characters.
func firstSentence(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	for i, r := range text {
		if i >= 20 && (r == '.' || r == '!' || r == '?') && i+2 < len(text) && text[i+1] == ' ' {
			next, _ := utf8.DecodeRuneInString(text[i+2:])
			if unicode.IsUpper(next) || next == '"' || next == '“' {
				return truncateWords(text[:i+1], 40)
			}
		}
	}
	return truncateWords(text, 40)
}

func truncateWords(s string, n int) string {
	words := strings.Fields(s)
	if len(words) > n {
		words = words[:n]
	}
	return strings.Join(words, " ")
}

// groupThroughBot serves the items as one RSS feed per outlet on 127.0.0.1,
// lets the bot's poller read every feed once into a fresh SQLite store, and
// returns the story each article joined, by index into set.
func groupThroughBot(ctx context.Context, set []labelledItem, now time.Time, o readingOrder, log *slog.Logger) ([]int64, error) {
	items := asFeedItems(set, now, o)
	byOutlet := make(map[string][]int)
	var outlets []string
	for i, it := range items {
		if _, ok := byOutlet[it.outlet]; !ok {
			outlets = append(outlets, it.outlet)
		}
		byOutlet[it.outlet] = append(byOutlet[it.outlet], i)
	}
	// Feeds are read in the order they were added: an order fixed by the
	// outlets' names, not the set's, which lists each story's articles
	// together.
	slices.SortFunc(outlets, func(a, b string) int { return cmp.Compare(o.rank(a), o.rank(b)) })
	documents := make(map[string][]byte, len(outlets))
	for n, outlet := range outlets {
		doc, err := rssDocument(outlet, items, byOutlet[outlet])
		if err != nil {
			return nil, fmt.Errorf("feed for %s: %w", outlet, err)
		}
		documents[fmt.Sprintf("/feeds/%d.xml", n)] = doc
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, ok := documents[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(doc)
	}))
	defer srv.Close()

	dir, err := os.MkdirTemp("", "newsbot-eval-group-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(ctx, filepath.Join(dir, "eval.db"))
	if err != nil {
		return nil, err
	}
	defer store.Close()
	for n := range outlets {
		if _, err := store.AddSource(ctx, fmt.Sprintf("%s/feeds/%d.xml", srv.URL, n)); err != nil {
			return nil, err
		}
	}
	svc := briefings.NewService(store, briefings.Options{Logger: log})
	fetcher := feeds.NewFetcher(feeds.Options{AllowPrivate: true})
	defer fetcher.CloseIdleConnections()
	poller := &briefings.Poller{
		Sources: store, Fetcher: fetcher, Ingester: svc, Interval: time.Hour, Logger: log,
		Concurrency: 1, // feeds in the order they were added: the same grouping every run
	}
	stats, err := poller.Poll(ctx)
	if err != nil {
		return nil, err
	}
	if stats.Failed > 0 {
		return nil, fmt.Errorf("%d of %d feeds failed to load", stats.Failed, stats.Due)
	}

	stories, err := store.RecentStories(ctx, time.Time{}, len(set)+1)
	if err != nil {
		return nil, err
	}
	byLink, byContent := make(map[string]int64), make(map[string]int64)
	for _, st := range stories {
		for _, it := range st.Items {
			k := it.Keys()
			byLink[k.Link] = st.ID
			byContent[k.Content] = st.ID
		}
	}
	clusters := make([]int64, len(set))
	var alone int64
	for i, it := range items {
		// An article the bot took for one it had already seen (the same
		// address or words) is in that one's story.
		k := briefings.Item{Link: it.link, Title: it.headline, Text: it.description}.Keys()
		id, ok := byLink[k.Link]
		if !ok {
			id, ok = byContent[k.Content]
		}
		if !ok {
			alone--
			id = alone // dropped: a story of its own
		}
		clusters[i] = id
	}
	return clusters, nil
}

type rssFeed struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title string    `xml:"title"`
	Link  string    `xml:"link"`
	Items []rssItem `xml:"item"`
}

type rssItem struct {
	Title       string `xml:"title"`
	Link        string `xml:"link"`
	GUID        string `xml:"guid"`
	Description string `xml:"description"`
	PubDate     string `xml:"pubDate"`
}

func rssDocument(outlet string, items []feedItem, indexes []int) ([]byte, error) {
	feed := rssFeed{Version: "2.0", Channel: rssChannel{Title: outlet, Link: "https://" + outlet + "/"}}
	for _, i := range indexes {
		it := items[i]
		feed.Channel.Items = append(feed.Channel.Items, rssItem{
			Title: it.headline, Link: it.link, GUID: it.link, Description: it.description,
			PubDate: it.published.UTC().Format(time.RFC1123Z),
		})
	}
	out, err := xml.Marshal(feed)
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}

// scores are precision, recall and F1 of one grouping against the stories.
type scores struct {
	P, R, F1 float64
	// Defined is false for a precision with nothing to measure (no pair
	// put together).
	Defined bool
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// cell is one story's share of one cluster.
type cell struct {
	story   string
	cluster int64
}

// contingency counts the items of each story, of each cluster, and of each
// story in each cluster.
func contingency(gold []string, pred []int64) (inStory map[string]int, inCluster map[int64]int, both map[cell]int) {
	inStory, inCluster, both = map[string]int{}, map[int64]int{}, map[cell]int{}
	for i := range gold {
		inStory[gold[i]]++
		inCluster[pred[i]]++
		both[cell{gold[i], pred[i]}]++
	}
	return inStory, inCluster, both
}

// bcubed scores a clustering against gold labels, item by item: precision is
// the share of an item's cluster in its story, recall the share of its story
// in its cluster, each averaged over items.
func bcubed(gold []string, pred []int64) scores {
	inStory, inCluster, both := contingency(gold, pred)
	var p, r float64
	for i := range gold {
		n := float64(both[cell{gold[i], pred[i]}])
		p += n / float64(inCluster[pred[i]])
		r += n / float64(inStory[gold[i]])
	}
	if len(gold) == 0 {
		return scores{}
	}
	p, r = p/float64(len(gold)), r/float64(len(gold))
	return scores{P: p, R: r, F1: f1(p, r), Defined: true}
}

// pairScores scores a clustering by its pairs of items: precision is the
// share of pairs put together that one story holds, recall the share of one
// story's pairs put together.
func pairScores(gold []string, pred []int64) scores {
	inStory, inCluster, both := contingency(gold, pred)
	pairs := func(n int) float64 { return float64(n) * float64(n-1) / 2 }
	var together, same, right float64
	for _, n := range inCluster {
		together += pairs(n)
	}
	for _, n := range inStory {
		same += pairs(n)
	}
	for _, n := range both {
		right += pairs(n)
	}
	s := scores{}
	if together > 0 {
		s.P, s.Defined = right/together, true
	}
	if same > 0 {
		s.R = right / same
	}
	s.F1 = f1(s.P, s.R)
	return s
}

// subset is the articles a report line scores: all of them, or those with
// a headline of their own.
type subset struct {
	name  string
	gold  []string
	pred  []int64
	alone []int64
}

func (s subset) label() string { return fmt.Sprintf("%s %d", s.name, len(s.gold)) }

// subsets splits one grouping of set into the subsets a report scores; a
// subset with no articles is left out.
func subsets(set []labelledItem, clusters []int64) []subset {
	all := subset{name: "all"}
	titled := subset{name: "titled"}
	for i, it := range set {
		all.gold, all.pred, all.alone = append(all.gold, it.Story), append(all.pred, clusters[i]), append(all.alone, int64(i))
		if it.Title != "" {
			titled.gold, titled.pred, titled.alone = append(titled.gold, it.Story), append(titled.pred, clusters[i]), append(titled.alone, int64(i))
		}
	}
	if len(titled.gold) == 0 {
		return []subset{all}
	}
	return []subset{all, titled}
}

func writeGroupReport(w io.Writer, path string, set []labelledItem, clusters []int64) {
	parts := subsets(set, clusters)
	titled := 0
	if len(parts) > 1 {
		titled = len(parts[1].gold)
	}
	fmt.Fprintf(w, "%s: %d articles in %d stories, %d with a headline\n\n", path, len(set), countDistinct(parts[0].gold), titled)
	fmt.Fprintf(w, "%-11s %-8s %8s %9s %7s %7s | %8s %7s %7s\n", "articles", "grouping", "stories", "B3 prec", "B3 rec", "B3 F1", "pair P", "pair R", "pair F1")
	for _, s := range parts {
		for _, g := range []struct {
			name string
			pred []int64
		}{{"newsbot", s.pred}, {"alone", s.alone}} {
			b, p := bcubed(s.gold, g.pred), pairScores(s.gold, g.pred)
			pp := "—"
			if p.Defined {
				pp = fmt.Sprintf("%.3f", p.P)
			}
			fmt.Fprintf(w, "%-11s %-8s %8d %9.3f %7.3f %7.3f | %8s %7.3f %7.3f\n",
				s.label(), g.name, countDistinct(g.pred), b.P, b.R, b.F1, pp, p.R, p.F1)
		}
	}
}

// writeOrdersReport prints the F1s of the groupings the bot made of one set
// read in several orders: their mean, lowest and highest.
func writeOrdersReport(w io.Writer, set []labelledItem, runs [][]int64) {
	fmt.Fprintf(w, "\nover %d reading orders (other publication times, other feeds first):\n", len(runs))
	fmt.Fprintf(w, "%-11s %10s %7s %7s | %12s %7s %7s\n", "articles", "B3 F1 mean", "lowest", "highest", "pair F1 mean", "lowest", "highest")
	var labels []string
	b3, pairs := map[string][]float64{}, map[string][]float64{}
	for _, clusters := range runs {
		for _, s := range subsets(set, clusters) {
			if _, ok := b3[s.label()]; !ok {
				labels = append(labels, s.label())
			}
			b3[s.label()] = append(b3[s.label()], bcubed(s.gold, s.pred).F1)
			pairs[s.label()] = append(pairs[s.label()], pairScores(s.gold, s.pred).F1)
		}
	}
	mean := func(xs []float64) float64 {
		var sum float64
		for _, x := range xs {
			sum += x
		}
		return sum / float64(len(xs))
	}
	for _, l := range labels {
		fmt.Fprintf(w, "%-11s %10.3f %7.3f %7.3f | %12.3f %7.3f %7.3f\n", l,
			mean(b3[l]), slices.Min(b3[l]), slices.Max(b3[l]), mean(pairs[l]), slices.Min(pairs[l]), slices.Max(pairs[l]))
	}
}

func countDistinct[T comparable](xs []T) int {
	seen := make(map[T]bool, len(xs))
	for _, x := range xs {
		seen[x] = true
	}
	return len(seen)
}
