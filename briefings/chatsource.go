package briefings

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A chat's own sources: each chat may follow feeds of its own on top of the
// operator's list, and may leave the operator's feeds out. Feeds are shared:
// a feed followed by many chats is one row of the feed list, fetched once per
// interval. A story reaches a chat when one of its items comes from a feed the
// chat reads; grouping stays global, so the same event told by the chat's
// outlet and another is one story, the chat's own outlets listed first.

// Defaults of the limits on chats' sources.
const (
	DefaultMaxSourcesPerChat = 20
	DefaultMaxFeeds          = 5000
	// DefaultUnfollowedGrace is how long a feed nobody follows any more, and
	// the operator does not list, is kept (not fetched) before it is removed:
	// a chat that follows it again soon finds its state, validators included.
	DefaultUnfollowedGrace = 7 * 24 * time.Hour
)

// SourceLimits bound what chats may add.
type SourceLimits struct {
	PerChat int // feeds one chat may follow
	Feeds   int // distinct feeds polled in all: the operator's and every chat's
}

func (l SourceLimits) withDefaults() SourceLimits {
	if l.PerChat <= 0 {
		l.PerChat = DefaultMaxSourcesPerChat
	}
	if l.Feeds <= 0 {
		l.Feeds = DefaultMaxFeeds
	}
	return l
}

var (
	// ErrChatSourcesFull: the chat follows as many feeds as it may.
	ErrChatSourcesFull = errors.New("the chat follows as many feeds as it may")
	// ErrFeedsFull: the bot polls as many distinct feeds as it may.
	ErrFeedsFull = errors.New("the bot reads as many feeds as it may")
)

// ChatFeed is a feed a chat follows, with the fetch state the poller keeps
// for everyone who reads it.
type ChatFeed struct {
	Source
	AddedAt time.Time
}

// ChatSources is what a chat reads beyond the defaults.
type ChatSources struct {
	Feeds []ChatFeed // in the order the chat added them
	// OperatorFeeds says whether the operator's feeds are included; true
	// for a chat that never said otherwise.
	OperatorFeeds bool
}

// AllFailing reports whether the chat has feeds of its own and every one of
// them failed its last fetch.
func (cs ChatSources) AllFailing() bool {
	if len(cs.Feeds) == 0 {
		return false
	}
	for _, f := range cs.Feeds {
		if f.LastError == "" {
			return false
		}
	}
	return true
}

// ChatSourceStore keeps the feeds each chat follows. Chats' feeds live in the
// same feed list as the operator's (SourceStore), which keeps one row per
// address: ListSources shows the operator's; PollSources every feed that is
// read by anyone.
type ChatSourceStore interface {
	// ChatSources returns the chat's feeds in the order it added them, and
	// whether it reads the operator's feeds (true when it never chose).
	ChatSources(ctx context.Context, chat ChatRef) (ChatSources, error)
	// FollowSource makes the chat follow url, adding it to the feed list
	// with src's state when it is not there (an existing feed keeps its
	// own). added is false when the chat follows it already. Over
	// limits.PerChat feeds for the chat it is ErrChatSourcesFull; a feed new
	// to the list beyond limits.Feeds polled feeds is ErrFeedsFull. The
	// check and the change are one transaction.
	FollowSource(ctx context.Context, chat ChatRef, src Source, limits SourceLimits) (added bool, err error)
	// UnfollowSource stops the chat following url; ErrNotFound when it does
	// not. A feed nobody follows and the operator does not list is no longer
	// polled, and PruneSources removes it after a grace period.
	UnfollowSource(ctx context.Context, chat ChatRef, url string) error
	// SetOperatorFeeds includes or drops the operator's feeds for the chat.
	SetOperatorFeeds(ctx context.Context, chat ChatRef, on bool) error
	// MoveChatSources gives everything chat from chose to chat to (a
	// Telegram group upgraded to a supergroup), replacing what to had.
	MoveChatSources(ctx context.Context, from, to ChatRef) error
	// FeedFollowers lists the chats that follow url, in the order they
	// started to.
	FeedFollowers(ctx context.Context, url string) ([]ChatRef, error)
	// PollSources returns every feed the poller reads: the operator's and
	// those at least one chat follows, in the order they were added.
	// ClaimDueSources claims among these only.
	PollSources(ctx context.Context) ([]Source, error)
	// PruneSources removes the feeds that nobody follows, the operator does
	// not list, and that were last let go of before before; their items
	// stay. It returns how many it removed.
	PruneSources(ctx context.Context, before time.Time) (int, error)
	// StoriesFromFeeds returns the stories that have an item from one of
	// feeds published at or after since, newest Updated first, at most
	// limit, each with all its items.
	StoriesFromFeeds(ctx context.Context, feeds []string, since time.Time, limit int) ([]Story, error)
	// OperatorStories returns the newest stories, at most limit, that have
	// an item from a feed that is not chats' alone: one the operator lists,
	// or one no chat added (the sample feeds, feeds the operator removed).
	// Newest Updated first, each with all its items.
	OperatorStories(ctx context.Context, limit int) ([]Story, error)
	// RecordRetold remembers, for each item of a feed some chat follows
	// whose link or content key is stored under another feed's item, that
	// the item's feed told that story too: StoriesFromFeeds then finds the
	// story for the feed at the item's Published. Items of feeds nobody
	// follows are ignored.
	RecordRetold(ctx context.Context, items []Item) error
}

// FeedFinder turns an address a chat gives into a feed, fetching it with
// every guard the poller has.
type FeedFinder interface {
	// FindFeed fetches rawURL; when it is a web page rather than a feed, it
	// follows the page's feed links or the common feed paths. Every failure
	// is a *FeedRefusedError.
	FindFeed(ctx context.Context, rawURL string) (FoundFeed, error)
}

// FoundFeed is a feed FindFeed read.
type FoundFeed struct {
	URL   string // the feed's own address (a page's feed link, resolved)
	Title string
	Items []Item // with URL as their FeedURL
}

// FeedRefusedError says, in words for the chat, why an address was not taken
// as a feed.
type FeedRefusedError struct {
	URL    string // as given, redacted
	Reason string // "the page has no feed link", "the server did not answer within 20s", …
	Err    error  // the cause, for the log
}

func (e *FeedRefusedError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("feed %s refused: %s: %v", e.URL, e.Reason, e.Err)
	}
	return fmt.Sprintf("feed %s refused: %s", e.URL, e.Reason)
}

func (e *FeedRefusedError) Unwrap() error { return e.Err }

// FeedListCodec reads and writes subscription lists (OPML).
type FeedListCodec interface {
	ReadFeedList(r io.Reader) ([]ListedFeed, error)
	WriteFeedList(w io.Writer, title string, feeds []ListedFeed) error
}

// ListedFeed is one feed of a subscription list.
type ListedFeed struct {
	URL   string
	Title string
}

// maxFeedURLBytes bounds a feed address a chat gives.
const maxFeedURLBytes = 2048

// CheckFeedURL reads an address given for a feed: absolute http or https with
// a host, no credentials, at most 2 kB. The error is a *FeedRefusedError.
func CheckFeedURL(raw string) (*url.URL, error) {
	refuse := func(reason string) (*url.URL, error) {
		// The address is refused, among other reasons, for carrying a
		// password: the error shows it redacted.
		return nil, &FeedRefusedError{URL: clipURL(RedactURL(raw)), Reason: reason}
	}
	raw = strings.TrimSpace(raw)
	if len(raw) > maxFeedURLBytes {
		return refuse("the address is too long")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return refuse("that is not a web address")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return refuse("only http and https addresses can be feeds")
	}
	if u.Hostname() == "" || strings.ContainsAny(u.Host, " \t") {
		return refuse("the address has no host name")
	}
	if u.User != nil {
		return refuse("addresses with a user name or password are not accepted")
	}
	u.Fragment = ""
	return u, nil
}

func clipURL(s string) string {
	if short := truncateRunes(s, 100); short != s {
		return short + "…"
	}
	return s
}

// chatSourceState is the Service's part for chats' sources.
type chatSourceState struct {
	finder FeedFinder
	lists  FeedListCodec
	limits SourceLimits
	grace  time.Duration

	mu        sync.Mutex
	opVersion int64
	opStories []Story // OperatorStories at opVersion; nil when not loaded
}

// selection is the set of feeds a chat reads.
type selection struct {
	own      []string // sorted
	operator bool
}

// operatorOnly is the selection of a chat that chose nothing.
var operatorOnly = selection{operator: true}

func selectionOf(cs ChatSources) selection {
	sel := selection{operator: cs.OperatorFeeds}
	for _, f := range cs.Feeds {
		sel.own = append(sel.own, f.URL)
	}
	slices.Sort(sel.own)
	return sel
}

// key identifies the selection in caches; the chats that read the same feeds
// share their briefings.
func (sel selection) key() string {
	if len(sel.own) == 0 {
		return strconv.FormatBool(sel.operator)
	}
	h := sha256.New()
	for _, u := range sel.own {
		h.Write([]byte(u))
		h.Write([]byte{0})
	}
	return strconv.FormatBool(sel.operator) + ":" + hex.EncodeToString(h.Sum(nil))
}

// selectionCandidates bounds the stories a chat's briefing is chosen from, in
// each of its parts (its own feeds, the operator's).
const selectionCandidates = 500

// ownFeedsWindow is how far back a chat's own feeds are looked at: the
// current news and a weekly blog's latest post.
const ownFeedsWindow = 7 * 24 * time.Hour

func (s *Service) chatSelection(ctx context.Context, chat ChatRef) (selection, error) {
	if chat == (ChatRef{}) {
		return operatorOnly, nil
	}
	cs, err := s.store.ChatSources(ctx, chat)
	if err != nil {
		return selection{}, err
	}
	return selectionOf(cs), nil
}

// operatorStories is OperatorStories, loaded once per change of the story set
// and shared by every chat that reads the operator's feeds.
func (s *Service) operatorStories(ctx context.Context, version int64) ([]Story, error) {
	c := &s.chatSrc
	c.mu.Lock()
	if c.opStories != nil && c.opVersion == version {
		st := c.opStories
		c.mu.Unlock()
		return st, nil
	}
	c.mu.Unlock()
	st, err := s.store.OperatorStories(ctx, selectionCandidates)
	if err != nil {
		return nil, err
	}
	if st == nil {
		st = []Story{}
	}
	c.mu.Lock()
	c.opVersion, c.opStories = version, st
	c.mu.Unlock()
	return st, nil
}

// selectedStories returns the candidate stories of sel, newest Updated first:
// those with an item from one of the chat's own feeds published since
// ownSince, and (when it reads them) the operator's. A story with items from
// the chat's own feeds lists them first; the stories returned are the
// caller's to keep.
func (s *Service) selectedStories(ctx context.Context, sel selection, version int64, ownSince time.Time) ([]Story, error) {
	var out []Story
	seen := map[int64]bool{}
	if len(sel.own) > 0 {
		own, err := s.store.StoriesFromFeeds(ctx, sel.own, ownSince, selectionCandidates)
		if err != nil {
			return nil, err
		}
		for _, st := range own {
			seen[st.ID] = true
			out = append(out, ownFirst(st, sel.own))
		}
	}
	if sel.operator {
		op, err := s.operatorStories(ctx, version)
		if err != nil {
			return nil, err
		}
		for _, st := range op {
			if seen[st.ID] {
				continue
			}
			if len(sel.own) > 0 {
				st = ownFirst(st, sel.own)
			}
			out = append(out, st)
		}
	}
	slices.SortStableFunc(out, func(a, b Story) int {
		if c := b.Updated.Compare(a.Updated); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out, nil
}

// ownFirst returns st with the items from the chat's own feeds (sorted own)
// first, each part in its order; st's items are not touched.
func ownFirst(st Story, own []string) Story {
	isOwn := func(it Item) bool { _, ok := slices.BinarySearch(own, it.FeedURL); return ok }
	n := 0
	for _, it := range st.Items {
		if isOwn(it) {
			n++
		}
	}
	if n == 0 || n == len(st.Items) {
		return st
	}
	items := make([]Item, 0, len(st.Items))
	for _, it := range st.Items {
		if isOwn(it) {
			items = append(items, it)
		}
	}
	for _, it := range st.Items {
		if !isOwn(it) {
			items = append(items, it)
		}
	}
	st.Items = items
	return st
}

// ChatStories returns the stories a chat's daily briefing is chosen from:
// those updated at or after since that reach it through its feeds, its own
// outlets listed first. Chats that chose nothing share one cached list.
func (s *Service) ChatStories(ctx context.Context, chat ChatRef, since time.Time) ([]Story, error) {
	version, err := s.store.StoriesVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("stories for %s: %w", chat, err)
	}
	sel, err := s.chatSelection(ctx, chat)
	if err != nil {
		return nil, fmt.Errorf("stories for %s: %w", chat, err)
	}
	// An own item published a grouping window before since may belong to a
	// story updated since.
	stories, err := s.selectedStories(ctx, sel, version, since.Add(-groupWindow))
	if err != nil {
		return nil, fmt.Errorf("stories for %s: %w", chat, err)
	}
	return stories, nil
}

// ChatSources returns the chat's own feeds and whether it reads the
// operator's.
func (s *Service) ChatSources(ctx context.Context, chat ChatRef) (ChatSources, error) {
	cs, err := s.store.ChatSources(ctx, chat)
	if err != nil {
		return ChatSources{}, fmt.Errorf("sources of %s: %w", chat, err)
	}
	return cs, nil
}

// AddedSource is what AddChatSource did.
type AddedSource struct {
	Feed    Source
	Latest  Item // the feed's newest item; zero when it has none
	Already bool // the chat followed it already; nothing changed
}

// ErrNoFinder: the Service was built without a FeedFinder.
var ErrNoFinder = errors.New("no feed finder configured")

// AddChatSource makes the chat follow the feed at rawURL, or the feed a web
// page there links to. The address is fetched and read now, with every guard
// the poller has; its items are ingested, so the next /brief shows them.
// Failures: *FeedRefusedError (nothing stored), ErrChatSourcesFull,
// ErrFeedsFull.
func (s *Service) AddChatSource(ctx context.Context, chat ChatRef, rawURL string) (AddedSource, error) {
	u, err := CheckFeedURL(rawURL)
	if err != nil {
		return AddedSource{}, err
	}
	c := &s.chatSrc
	if c.finder == nil {
		return AddedSource{}, ErrNoFinder
	}
	cs, err := s.store.ChatSources(ctx, chat)
	if err != nil {
		return AddedSource{}, fmt.Errorf("add source for %s: %w", chat, err)
	}
	for _, f := range cs.Feeds {
		if f.URL == u.String() {
			return AddedSource{Feed: f.Source, Already: true}, nil
		}
	}
	limits := c.limits.withDefaults()
	if len(cs.Feeds) >= limits.PerChat {
		return AddedSource{}, fmt.Errorf("add source for %s: %w (%d)", chat, ErrChatSourcesFull, limits.PerChat)
	}
	found, err := c.finder.FindFeed(ctx, u.String())
	if err != nil {
		return AddedSource{}, err
	}
	for _, f := range cs.Feeds {
		if f.URL == found.URL {
			return AddedSource{Feed: f.Source, Already: true}, nil
		}
	}
	src := Source{URL: found.URL, Title: cleanTitle(found.Title)}
	added, err := s.store.FollowSource(ctx, chat, src, limits)
	if err != nil {
		return AddedSource{}, fmt.Errorf("add source for %s: %w", chat, err)
	}
	res := AddedSource{Feed: src, Already: !added}
	if len(found.Items) > 0 {
		res.Latest = cleanItem(slices.MaxFunc(found.Items, func(a, b Item) int { return a.Published.Compare(b.Published) }), s.now())
		// The poller fetches the feed at its next round; ingesting what was
		// read now makes the feed's news show at once. Dedup keeps the
		// poller's copy from counting twice.
		if _, err := s.Ingest(ctx, found.Items); err != nil {
			s.log.Warn("ingest a chat's new feed", "chat", chat.String(), "feed", found.URL, "err", err)
		}
	}
	s.log.Info("chat follows a feed", "chat", chat.String(), "feed", found.URL, "new", added)
	return res, nil
}

func cleanTitle(s string) string { return truncateRunes(collapseSpace(cleanText(s)), 200) }

// ErrNoSuchChatSource: the chat does not follow the feed it named.
var ErrNoSuchChatSource = errors.New("the chat does not follow that feed")

// RemoveChatSource stops the chat following a feed, named by its address or
// by its number in the chat's list (from 1). It returns the feed.
func (s *Service) RemoveChatSource(ctx context.Context, chat ChatRef, which string) (Source, error) {
	cs, err := s.store.ChatSources(ctx, chat)
	if err != nil {
		return Source{}, fmt.Errorf("remove source for %s: %w", chat, err)
	}
	var target *Source
	if n, err := strconv.Atoi(which); err == nil {
		if n >= 1 && n <= len(cs.Feeds) {
			target = &cs.Feeds[n-1].Source
		}
	} else {
		want := which
		if u, err := CheckFeedURL(which); err == nil {
			want = u.String()
		}
		for i, f := range cs.Feeds {
			if f.URL == which || f.URL == want {
				target = &cs.Feeds[i].Source
				break
			}
		}
	}
	if target == nil {
		return Source{}, ErrNoSuchChatSource
	}
	if err := s.store.UnfollowSource(ctx, chat, target.URL); err != nil {
		if errors.Is(err, ErrNotFound) {
			return Source{}, ErrNoSuchChatSource
		}
		return Source{}, fmt.Errorf("remove source for %s: %w", chat, err)
	}
	return *target, nil
}

// SetOperatorFeeds includes (on) or drops the operator's feeds for the chat.
func (s *Service) SetOperatorFeeds(ctx context.Context, chat ChatRef, on bool) error {
	if err := s.store.SetOperatorFeeds(ctx, chat, on); err != nil {
		return fmt.Errorf("operator feeds for %s: %w", chat, err)
	}
	return nil
}

// ImportReport says what an imported subscription list did, feed by feed.
type ImportReport struct {
	Added   []AddedSource
	Already []string // addresses the chat followed already
	Failed  []ImportFailure
}

// ImportFailure is one feed of a list that was not added.
type ImportFailure struct {
	URL string
	Err error // a *FeedRefusedError, ErrChatSourcesFull, ErrFeedsFull, or ours
}

// ErrBadFeedList: the document is not a subscription list newsbot reads.
var ErrBadFeedList = errors.New("not an OPML subscription list")

// ImportChatSources adds the feeds of a subscription list (OPML) to the
// chat's, each as AddChatSource does, and reports on each. The list's error
// wraps ErrBadFeedList when it cannot be read at all.
func (s *Service) ImportChatSources(ctx context.Context, chat ChatRef, r io.Reader) (ImportReport, error) {
	if s.chatSrc.lists == nil {
		return ImportReport{}, ErrNoFinder
	}
	list, err := s.chatSrc.lists.ReadFeedList(r)
	if err != nil {
		return ImportReport{}, fmt.Errorf("%w: %w", ErrBadFeedList, err)
	}
	// Each address is fetched and checked like /sources add, a few at a
	// time: a list of slow servers should not take minutes. The report
	// keeps the list's order.
	results := make([]ImportFailure, len(list))
	added := make([]AddedSource, len(list))
	slots := make(chan struct{}, importConcurrency)
	var wg sync.WaitGroup
	for i, f := range list {
		results[i].URL = f.URL
		wg.Go(func() {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				results[i].Err = ctx.Err()
				return
			}
			defer func() { <-slots }()
			added[i], results[i].Err = s.AddChatSource(ctx, chat, f.URL)
		})
	}
	wg.Wait()
	var rep ImportReport
	for i, r := range results {
		switch {
		case r.Err != nil:
			rep.Failed = append(rep.Failed, r)
		case added[i].Already:
			rep.Already = append(rep.Already, added[i].Feed.URL)
		default:
			rep.Added = append(rep.Added, added[i])
		}
	}
	return rep, ctx.Err()
}

// importConcurrency bounds the addresses of one imported list read at once.
const importConcurrency = 4

// ExportChatSources writes the chat's own feeds as a subscription list.
func (s *Service) ExportChatSources(ctx context.Context, chat ChatRef, w io.Writer) (int, error) {
	if s.chatSrc.lists == nil {
		return 0, ErrNoFinder
	}
	cs, err := s.store.ChatSources(ctx, chat)
	if err != nil {
		return 0, fmt.Errorf("export sources of %s: %w", chat, err)
	}
	list := make([]ListedFeed, len(cs.Feeds))
	for i, f := range cs.Feeds {
		list[i] = ListedFeed{URL: f.URL, Title: f.Title}
	}
	if err := s.chatSrc.lists.WriteFeedList(w, "newsbot: this chat's feeds", list); err != nil {
		return 0, fmt.Errorf("export sources of %s: %w", chat, err)
	}
	return len(list), nil
}

// FeedFollowers lists the chats that follow a feed.
func (s *Service) FeedFollowers(ctx context.Context, url string) ([]ChatRef, error) {
	chats, err := s.store.FeedFollowers(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("followers of %s: %w", url, err)
	}
	return chats, nil
}

// pollList is every feed to poll: the operator's and the chats', when the
// store keeps chats' feeds.
func (p *Poller) pollList(ctx context.Context) ([]Source, error) {
	if cs, ok := p.Sources.(ChatSourceStore); ok {
		return cs.PollSources(ctx)
	}
	return p.Sources.ListSources(ctx)
}

// pruneUnfollowed removes the feeds nobody has followed for the grace period.
func (p *Poller) pruneUnfollowed(ctx context.Context) {
	cs, ok := p.Sources.(ChatSourceStore)
	if !ok {
		return
	}
	grace := p.UnfollowedGrace
	if grace <= 0 {
		grace = DefaultUnfollowedGrace
	}
	n, err := cs.PruneSources(ctx, p.now().Add(-grace))
	switch {
	case err != nil && ctx.Err() == nil:
		p.logger().Error("prune unfollowed feeds", "err", err)
	case n > 0:
		p.logger().Info("removed feeds nobody follows", "feeds", n, "grace", grace)
	}
}

// SourceLimits are the limits on chats' sources in force.
func (s *Service) SourceLimits() SourceLimits { return s.chatSrc.limits.withDefaults() }

// Admit is the rule every store's FollowSource applies, in its transaction,
// to a chat following a feed it does not follow yet: within PerChat feeds
// for the chat (it follows chatFeeds), and, for a feed not polled yet,
// within Feeds polled in all (polledFeeds counts them, asked only then). A
// zero limit does not bound.
func (l SourceLimits) Admit(chatFeeds int, polled bool, polledFeeds func() (int, error)) error {
	if l.PerChat > 0 && chatFeeds >= l.PerChat {
		return ErrChatSourcesFull
	}
	if polled || l.Feeds <= 0 {
		return nil
	}
	n, err := polledFeeds()
	if err != nil {
		return err
	}
	if n >= l.Feeds {
		return ErrFeedsFull
	}
	return nil
}

// recordRetold tells the store which items of a batch dedup dropped (clean
// minus fresh, both in batch order), so that a story a chat's feed retold
// reaches the chat. A failure costs that reach, not the ingest.
func (s *Service) recordRetold(ctx context.Context, clean, fresh []Item) {
	if len(fresh) == len(clean) {
		return
	}
	dropped := make([]Item, 0, len(clean)-len(fresh))
	j := 0
	for _, it := range clean {
		if j < len(fresh) && it == fresh[j] {
			j++
			continue
		}
		dropped = append(dropped, it)
	}
	if err := s.store.RecordRetold(ctx, dropped); err != nil {
		s.log.Warn("record stories retold by followed feeds", "items", len(dropped), "err", err)
	}
}
