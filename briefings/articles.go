package briefings

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ArticlePage is what the page an item links to gave: its main text and
// metadata, or why it gave nothing. Pages are cached in the store by URL, so
// each is fetched once however many stories and chats use it.
type ArticlePage struct {
	URL       string    // the item's link: the cache key
	Title     string    // plain text; "" when the page has none
	Text      string    // the main text, paragraphs separated by a blank line
	Published time.Time // the page's own date; zero when it states none
	Language  string    // ISO 639-1; "" when unknown
	// ETag and LastModified make the next fetch of the page conditional.
	ETag, LastModified string
	FetchedAt          time.Time
	// Failure is "" for a page that gave text, else why it did not: one of
	// ArticleResults.
	Failure string
}

// ArticleFetcher reads the page an item links to. Given the page as last
// cached (only URL set when it never was), it fetches page.URL, conditionally
// on page.ETag and page.LastModified, and returns what the page says now; a
// page that has not changed comes back as it was. A failure is an error that
// an *ArticleError in its chain classifies.
type ArticleFetcher interface {
	FetchArticle(ctx context.Context, page ArticlePage) (ArticlePage, error)
}

// PageStore caches article pages by URL.
type PageStore interface {
	// CachedPages returns the cached pages of those urls that have one.
	CachedPages(ctx context.Context, urls []string) (map[string]ArticlePage, error)
	// SavePage caches page under page.URL, replacing any earlier one.
	SavePage(ctx context.Context, page ArticlePage) error
}

// What became of an item's article page: the label values of the article
// metric, every one of them, in one place. Only ArticleEnriched puts the
// page's text in the feed text's place; every other leaves the feed text.
const (
	ArticleEnriched  = "enriched"   // the page's text is now the story's telling
	ArticleShorter   = "shorter"    // the page's main text is no longer than the feed's
	ArticlePaywalled = "paywalled"  // a paywall or login wall stands in front of the text
	ArticleNoText    = "no_text"    // no main text found on the page
	ArticleNotHTML   = "not_html"   // the link is not a web page (a PDF, an image)
	ArticleTooLarge  = "too_large"  // the page, decompressed, is over the size limit
	ArticleTimeout   = "timeout"    // no complete answer in time
	ArticleRefused   = "refused"    // a private address, a scheme other than http(s), too many redirects
	ArticleHTTPError = "http_error" // the server answered neither 2xx nor 304
	ArticleError     = "error"      // any other failure to get the page
	ArticleDropped   = "dropped"    // the queue of pages to fetch was full: the page was not fetched
)

// ArticleResults lists every result above, for metrics to start at zero.
var ArticleResults = []string{
	ArticleEnriched, ArticleShorter, ArticlePaywalled, ArticleNoText, ArticleNotHTML, ArticleTooLarge,
	ArticleTimeout, ArticleRefused, ArticleHTTPError, ArticleError, ArticleDropped,
}

// ArticleFailure classifies a failed article fetch by Reason, one of
// ArticleResults.
type ArticleFailure struct {
	Reason string
	Err    error
}

func (e *ArticleFailure) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *ArticleFailure) Unwrap() error { return e.Err }

// articleReason is the result a fetch error stands for.
func articleReason(err error) string {
	var af *ArticleFailure
	if errors.As(err, &af) && af.Reason != "" {
		return af.Reason
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ArticleTimeout
	}
	return ArticleError
}

// The teaser rule: an item's feed text is a teaser, and its linked page is
// worth reading, when the text is empty, shorter than teaserWords words, or
// visibly cut off (it ends in an ellipsis or a "Read more"-style link text).
const teaserWords = 80

// cutMarks end a text an outlet cut short, compared in lower case after
// trailing spaces and closing punctuation are trimmed.
var cutMarks = []string{"…", "...", "[…]", "[...]", "read more", "continue reading", "read the full story",
	"read full story", "read full article", "full story", "more", "click here"}

// IsTeaser reports whether a feed text is a teaser by the rule above.
func IsTeaser(text string) bool {
	if countWords(text) < teaserWords {
		return true
	}
	end := strings.ToLower(strings.TrimRightFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("»›>)]:→", r)
	}))
	for _, mark := range cutMarks {
		if strings.HasSuffix(end, mark) {
			if mark == "more" && !strings.HasSuffix(end, " more") && end != "more" {
				continue // "evermore", "Baltimore"
			}
			return true
		}
	}
	return false
}

func countWords(s string) int { return len(strings.Fields(s)) }

// moreText reports whether a page's text tells more than a feed's, counted
// in characters as leadItem counts them (words would undercount writing
// without spaces).
func moreText(page, feed string) bool {
	return utf8.RuneCountInString(page) > utf8.RuneCountInString(feed)
}

// Defaults for the article pipeline.
const (
	DefaultArticleWorkers = 4
	DefaultArticleQueue   = 2000
	// articleRefetchAfter is how old a cached page may get before a story
	// that needs it fetches it again (conditionally). A page is fetched
	// once per item otherwise, and items are never new twice.
	articleRefetchAfter = 24 * time.Hour
)

// articleJob is one item whose page may tell its story better than its feed
// text did.
type articleJob struct {
	storyID int64
	item    Item // as stored
	undated bool // the feed gave no date, so the item carries its ingest time
}

// enqueueArticles queues the teasers among a saved ingest's new items. It
// never waits: with the queue full a page is not fetched, counted and
// logged, and the item keeps its feed text.
func (s *Service) enqueueArticles(changes []StoryChange, ids []int64, undated map[string]bool) {
	if s.articles == nil {
		return
	}
	for i, ch := range changes {
		if i >= len(ids) || ids[i] == 0 {
			continue
		}
		for _, it := range ch.NewItems {
			if it.Link == "" || !IsTeaser(it.Text) {
				continue
			}
			job := articleJob{storyID: ids[i], item: it, undated: undated[it.LinkKey()]}
			select {
			case s.articleJobs <- job:
			default:
				s.log.Warn("article page not fetched: queue full", "link", it.Link, "queue", cap(s.articleJobs))
				s.observeArticle(ArticleDropped)
			}
		}
	}
}

func (s *Service) observeArticle(result string) {
	if s.onArticle != nil {
		s.onArticle(result)
	}
}

// RunArticles fetches queued article pages, ArticleWorkers at a time, until
// ctx ends. Each page that tells a story better than its feed text did is
// cached and the story summarized again from it.
func (s *Service) RunArticles(ctx context.Context) {
	if s.articles == nil {
		return
	}
	done := make(chan struct{})
	for range s.articleWorkers {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				select {
				case <-ctx.Done():
					return
				case job := <-s.articleJobs:
					s.enrich(ctx, job)
				}
			}
		}()
	}
	for range s.articleWorkers {
		<-done
	}
}

// DrainArticles enriches every queued item now, in the caller's goroutine,
// and returns when the queue is empty: for commands and tests that want the
// pipeline's outcome without running its workers.
func (s *Service) DrainArticles(ctx context.Context) {
	for ctx.Err() == nil {
		select {
		case job := <-s.articleJobs:
			s.enrich(ctx, job)
		default:
			return
		}
	}
}

// enrich gets the job's page, from the cache or the network, and when it
// tells more than the feed did — more text, the title or the date the feed
// left out — refreshes the story with it.
func (s *Service) enrich(ctx context.Context, job articleJob) {
	it := job.item
	log := s.log.With("link", it.Link, "story", job.storyID)
	page, fetched, err := s.articlePage(ctx, it.Link)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("article page cache", "err", err)
		}
		return
	}
	result := ArticleEnriched
	switch {
	case page.Failure != "":
		result = page.Failure
	case !moreText(page.Text, it.Text):
		result = ArticleShorter
	}
	fill := Item{}
	if it.Title == "" && page.Title != "" {
		fill.Title = page.Title
	}
	if job.undated && !page.Published.IsZero() && !page.Published.After(s.now()) && CheckStoreTimes(page.Published) == nil {
		fill.Published = page.Published
	}
	if fetched {
		// A failure was logged with its error when the fetch failed.
		switch result {
		case ArticleEnriched:
			log.Debug("article page read", "words", countWords(page.Text), "feed_words", countWords(it.Text))
		case ArticleShorter:
			log.Info("article page left the feed text in place", "reason", result,
				"words", countWords(page.Text), "feed_words", countWords(it.Text))
		}
		// Counted once the story shows what the page gave.
		defer s.observeArticle(result)
	}
	if result != ArticleEnriched && fill == (Item{}) {
		return
	}
	switch err := s.refreshStory(ctx, job.storyID, it, fill); {
	case errors.Is(err, ErrNotFound):
		// The story was folded into another since (see StoryChange.Absorbs),
		// or pruned; the page is cached, and counts when that one is next
		// told.
		log.Debug("story gone before its article page was read", "err", err)
	case err != nil && ctx.Err() == nil:
		log.Error("refresh story from its article page", "err", err)
	}
}

// articlePage is the cached page of link, fetched (and cached) when it
// never was or is old. fetched says whether the network was asked.
func (s *Service) articlePage(ctx context.Context, link string) (page ArticlePage, fetched bool, err error) {
	cached, err := s.store.CachedPages(ctx, []string{link})
	if err != nil {
		return ArticlePage{}, false, err
	}
	prev, ok := cached[link]
	if ok && s.now().Sub(prev.FetchedAt) < articleRefetchAfter {
		return prev, false, nil
	}
	if !ok {
		prev = ArticlePage{URL: link}
	}
	page, err = s.articles.FetchArticle(ctx, prev)
	if ctx.Err() != nil {
		return ArticlePage{}, false, ctx.Err() // shutting down: nothing learned
	}
	if err != nil {
		page = ArticlePage{URL: link, Failure: articleReason(err)}
		s.log.Info("article page not read", "link", link, "reason", page.Failure, "err", err)
	}
	// Pages are not trusted any more than feeds: the same cleaning, the
	// same caps.
	page.URL = link
	page.Title = truncateRunes(collapseSpace(cleanText(page.Title)), maxTitleRunes)
	page.Text = truncateRunes(strings.TrimSpace(cleanText(page.Text)), maxTextRunes)
	page.Language = truncateRunes(collapseSpace(cleanText(page.Language)), 16)
	page.ETag = truncateRunes(cleanText(page.ETag), 1000)
	page.LastModified = truncateRunes(cleanText(page.LastModified), 1000)
	page.FetchedAt = s.now()
	if err := s.store.SavePage(ctx, page); err != nil {
		return ArticlePage{}, true, err
	}
	return page, true, nil
}

// refreshStory summarizes the story again from the best telling its items'
// cached pages now offer, after filling in what the page of it gave that its
// feed left out.
func (s *Service) refreshStory(ctx context.Context, storyID int64, it Item, fill Item) error {
	s.ingestMu.Lock()
	defer s.ingestMu.Unlock()
	st, err := s.store.Story(ctx, storyID)
	if err != nil {
		return err
	}
	var refreshed []Item
	for i, stored := range st.Items {
		if stored.LinkKey() != it.LinkKey() {
			continue
		}
		if fill.Title != "" && stored.Title == "" {
			st.Items[i].Title = fill.Title
		}
		if !fill.Published.IsZero() {
			st.Items[i].Published = fill.Published
		}
		if st.Items[i] != stored {
			refreshed = append(refreshed, st.Items[i])
		}
	}
	pages, err := s.cachedPagesOf(ctx, st.Items)
	if err != nil {
		return err
	}
	lead := leadItem(tell(st.Items, pages))
	change := StoryChange{StoryID: st.ID, FirstSeen: st.FirstSeen, Headline: headlineOf(lead), Refreshed: refreshed}
	for _, item := range st.Items {
		if item.Published.After(change.Updated) {
			change.Updated = item.Published
		}
	}
	change.Summary = s.summarize(ctx, lead)
	if _, err := s.store.SaveStories(ctx, []StoryChange{change}); err != nil {
		return fmt.Errorf("save story %d: %w", st.ID, err)
	}
	return nil
}

// cachedPagesOf returns the cached pages of the items' links; nil when
// article pages are not fetched at all.
func (s *Service) cachedPagesOf(ctx context.Context, items []Item) (map[string]ArticlePage, error) {
	if s.articles == nil {
		return nil, nil
	}
	links := make([]string, 0, len(items))
	for _, it := range items {
		if it.Link != "" {
			links = append(links, it.Link)
		}
	}
	if len(links) == 0 {
		return nil, nil
	}
	return s.store.CachedPages(ctx, links)
}

// tell returns the items as a summarizer should read them: each with its
// page's main text where the page gave more than the feed, and its page's
// title where the feed gave none.
func tell(items []Item, pages map[string]ArticlePage) []Item {
	if len(pages) == 0 {
		return items
	}
	told := make([]Item, len(items))
	for i, it := range items {
		told[i] = it
		page, ok := pages[it.Link]
		if !ok || page.Failure != "" {
			continue
		}
		if moreText(page.Text, it.Text) {
			told[i].Text = page.Text
		}
		if it.Title == "" {
			told[i].Title = page.Title
		}
	}
	return told
}
