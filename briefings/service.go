package briefings

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Defaults for a Service whose Options leave them out.
const (
	DefaultBriefingSize = 5
	// DefaultDeliveryTime is the time of day of a subscription made without one.
	DefaultDeliveryTime TimeOfDay = 8 * 60
)

// Options configure a Service.
type Options struct {
	Summarizer   Summarizer
	Now          func() time.Time // the clock; time.Now when nil
	Logger       *slog.Logger     // slog.Default() when nil
	DefaultZone  Zone             // zone of subscriptions made without one; UTC when zero
	BriefingSize int              // entries per briefing; DefaultBriefingSize when 0
	// Articles, when set, reads the pages teasers link to (see
	// RunArticles); nil leaves every story to its feed text.
	Articles       ArticleFetcher
	ArticleWorkers int                 // pages fetched at once; DefaultArticleWorkers when 0
	ArticleQueue   int                 // items waiting for their page, at most; DefaultArticleQueue when 0
	OnArticle      func(result string) // hears each page fetch's result (one of ArticleResults)
	// Chats' own sources: the finder that reads an address a chat gives,
	// the codec of subscription lists, and the limits.
	Finder       FeedFinder
	FeedLists    FeedListCodec
	SourceLimits SourceLimits
}

// Service answers every command a chat can give, the same for every platform.
type Service struct {
	store        Store
	summarizer   Summarizer
	now          func() time.Time
	log          *slog.Logger
	defaultZone  Zone
	briefingSize int

	// ingestMu serializes Ingest within the process so that grouping sees the
	// stories its previous batch created.
	ingestMu sync.Mutex
	vectors  vectorCache // term vectors of stored stories, for grouping

	articles       ArticleFetcher
	articleWorkers int
	articleJobs    chan articleJob
	onArticle      func(result string)

	cacheMu      sync.Mutex
	cacheVersion int64
	cache        map[string]Briefing // by Topics.Key and feed selection, valid at cacheVersion

	chatSrc chatSourceState
}

// NewService returns a Service on store.
func NewService(store Store, opts Options) *Service {
	s := &Service{
		store:        store,
		summarizer:   opts.Summarizer,
		now:          opts.Now,
		log:          opts.Logger,
		defaultZone:  opts.DefaultZone,
		briefingSize: opts.BriefingSize,
		cache:        make(map[string]Briefing),
		chatSrc:      chatSourceState{finder: opts.Finder, lists: opts.FeedLists, limits: opts.SourceLimits},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.briefingSize <= 0 {
		s.briefingSize = DefaultBriefingSize
	}
	if opts.Articles != nil {
		s.articles, s.onArticle = opts.Articles, opts.OnArticle
		s.articleWorkers = cmp.Or(max(opts.ArticleWorkers, 0), DefaultArticleWorkers)
		s.articleJobs = make(chan articleJob, cmp.Or(max(opts.ArticleQueue, 0), DefaultArticleQueue))
	}
	return s
}

// Now is the Service's clock.
func (s *Service) Now() time.Time { return s.now() }

// DefaultZone is the zone of subscriptions made without one.
func (s *Service) DefaultZone() Zone { return s.defaultZone }

// briefWindow is how far back from the newest story /brief looks: the current
// news, not the archive.
const briefWindow = 48 * time.Hour

// briefCandidates bounds how many recent stories a briefing is chosen from.
const briefCandidates = 300

// Brief returns the current top stories of the operator's feeds that match
// topics. It is composed once per change in the story set and filter, and
// served from memory until then.
func (s *Service) Brief(ctx context.Context, topics Topics) (Briefing, error) {
	return s.BriefChat(ctx, ChatRef{}, topics)
}

// BriefChat is Brief for a chat: the stories of the feeds it reads. Chats
// that read the same feeds share the cached briefing.
func (s *Service) BriefChat(ctx context.Context, chat ChatRef, topics Topics) (Briefing, error) {
	version, err := s.store.StoriesVersion(ctx)
	if err != nil {
		return Briefing{}, fmt.Errorf("brief: %w", err)
	}
	sel, err := s.chatSelection(ctx, chat)
	if err != nil {
		return Briefing{}, fmt.Errorf("brief: %w", err)
	}
	key := topics.Key() + "\x00" + sel.key()
	s.cacheMu.Lock()
	if s.cacheVersion != version {
		clear(s.cache)
		s.cacheVersion = version
	}
	b, ok := s.cache[key]
	s.cacheMu.Unlock()
	if ok {
		return b, nil
	}

	stories, err := s.selectedStories(ctx, sel, version, s.now().Add(-ownFeedsWindow))
	if err != nil {
		return Briefing{}, fmt.Errorf("brief: %w", err)
	}
	if len(stories) > 0 {
		newest := stories[0].Updated
		stories = slices.DeleteFunc(stories, func(st Story) bool { return newest.Sub(st.Updated) > briefWindow })
	}
	b = Compose(s.now(), topics, stories, s.briefingSize)

	s.cacheMu.Lock()
	if s.cacheVersion == version {
		// Distinct topic filters and feed selections; beyond that, one
		// arbitrary entry makes room, so a crowd of distinct selections
		// does not wipe every chat's cached briefing at once.
		const maxCached = 8192
		if len(s.cache) >= maxCached {
			for k := range s.cache {
				delete(s.cache, k)
				break
			}
		}
		s.cache[key] = b
	}
	s.cacheMu.Unlock()
	return b, nil
}

// Compose ranks the stories that match topics (see rankStories) and makes a
// briefing of the best size of them.
func Compose(now time.Time, topics Topics, stories []Story, size int) Briefing {
	matched := make([]Story, 0, len(stories))
	for _, st := range stories {
		if topics.Matches(st) {
			matched = append(matched, st)
		}
	}
	rankStories(matched)
	if len(matched) > size {
		matched = matched[:size]
	}
	b := Briefing{Topics: topics, GeneratedAt: now, Entries: make([]Entry, 0, len(matched))}
	for _, st := range matched {
		b.Entries = append(b.Entries, entryOf(st))
	}
	return b
}

func entryOf(st Story) Entry {
	e := Entry{StoryID: st.ID, Headline: st.Headline, Summary: st.Summary, Published: st.Updated}
	seen := make(map[string]bool)
	for _, it := range st.Items {
		if seen[it.LinkKey()] {
			continue
		}
		seen[it.LinkKey()] = true
		e.Sources = append(e.Sources, SourceLink{Outlet: it.Outlet, Title: it.Title, URL: it.Link})
	}
	return e
}

// Sources lists the feeds newsbot reads.
func (s *Service) Sources(ctx context.Context) ([]Source, error) {
	srcs, err := s.store.ListSources(ctx)
	if err != nil {
		return nil, fmt.Errorf("sources: %w", err)
	}
	return srcs, nil
}

// SubscribeRequest is what /subscribe asks for; zero fields keep the chat's
// earlier choice, or take the defaults for a new subscription.
type SubscribeRequest struct {
	At   *TimeOfDay
	Zone Zone
}

// Subscribe starts (or changes, or resumes) the chat's daily briefing.
func (s *Service) Subscribe(ctx context.Context, chat ChatRef, req SubscribeRequest) (Subscription, error) {
	sub, err := s.store.GetSubscription(ctx, chat)
	switch {
	case errors.Is(err, ErrNotFound):
		sub = Subscription{Chat: chat, At: DefaultDeliveryTime, Zone: s.defaultZone, CreatedAt: s.now()}
	case err != nil:
		return Subscription{}, fmt.Errorf("subscribe %s: %w", chat, err)
	}
	if req.At != nil {
		sub.At = *req.At
	}
	if !req.Zone.IsZero() {
		sub.Zone = req.Zone
	}
	sub.Active = true
	sub.LastError = ""
	sub.NextDue = NextDelivery(sub.At, sub.Zone.Location(), s.now())
	sub, err = s.store.SaveSubscription(ctx, sub)
	if err != nil {
		return Subscription{}, fmt.Errorf("subscribe %s: %w", chat, err)
	}
	return sub, nil
}

// Unsubscribe stops the chat's daily briefing; ErrNotSubscribed when there is
// none. The chat's settings are kept for when it subscribes again.
func (s *Service) Unsubscribe(ctx context.Context, chat ChatRef) (Subscription, error) {
	sub, err := s.store.GetSubscription(ctx, chat)
	if errors.Is(err, ErrNotFound) || (err == nil && !sub.Active) {
		return Subscription{}, ErrNotSubscribed
	}
	if err != nil {
		return Subscription{}, fmt.Errorf("unsubscribe %s: %w", chat, err)
	}
	sub.Active = false
	if sub, err = s.store.SaveSubscription(ctx, sub); err != nil {
		return Subscription{}, fmt.Errorf("unsubscribe %s: %w", chat, err)
	}
	return sub, nil
}

// ChangeTopics adds and removes topic words of the chat's filter and returns
// the result. A chat that has not subscribed yet keeps its topics for when it
// does.
func (s *Service) ChangeTopics(ctx context.Context, chat ChatRef, include, exclude, remove []string) (Topics, error) {
	sub, err := s.store.GetSubscription(ctx, chat)
	switch {
	case errors.Is(err, ErrNotFound):
		sub = Subscription{Chat: chat, At: DefaultDeliveryTime, Zone: s.defaultZone, CreatedAt: s.now()}
	case err != nil:
		return Topics{}, fmt.Errorf("topics %s: %w", chat, err)
	}
	if len(include)+len(exclude)+len(remove) == 0 {
		return sub.Topics, nil
	}
	sub.Topics = sub.Topics.With(include, exclude, remove)
	if _, err := s.store.SaveSubscription(ctx, sub); err != nil {
		return Topics{}, fmt.Errorf("topics %s: %w", chat, err)
	}
	return sub.Topics, nil
}

// Status is what /status shows.
type Status struct {
	Now          time.Time
	Subscription Subscription // zero ID when the chat never subscribed or set topics
	Zone         Zone         // the subscription's, or the default for a chat that never subscribed
}

// Subscribed reports whether daily briefings are on.
func (st Status) Subscribed() bool { return st.Subscription.ID != 0 && st.Subscription.Active }

// Status returns the chat's subscription as of now.
func (s *Service) Status(ctx context.Context, chat ChatRef) (Status, error) {
	st := Status{Now: s.now(), Zone: s.defaultZone}
	sub, err := s.store.GetSubscription(ctx, chat)
	if errors.Is(err, ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return Status{}, fmt.Errorf("status %s: %w", chat, err)
	}
	st.Subscription = sub
	st.Zone = sub.Zone
	return st, nil
}

// MoveChat follows a chat to its new id (a Telegram group upgraded to a
// supergroup). A chat with no subscription has nothing to move.
func (s *Service) MoveChat(ctx context.Context, from, to ChatRef) error {
	if err := s.store.MoveChatSources(ctx, from, to); err != nil {
		return fmt.Errorf("move %s to %s: %w", from, to, err)
	}
	err := s.store.MoveSubscription(ctx, from, to)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("move %s to %s: %w", from, to, err)
	}
	if err == nil {
		s.log.Info("subscription moved", "from", from.String(), "to", to.String())
	}
	return nil
}

// Deactivate stops deliveries to a chat the platform says is gone (blocked,
// removed, no permission), keeping reason for /status. The chat's next
// /subscribe, or Telegram's /start, brings it back.
func (s *Service) Deactivate(ctx context.Context, chat ChatRef, reason string) error {
	sub, err := s.store.GetSubscription(ctx, chat)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deactivate %s: %w", chat, err)
	}
	sub.Active = false
	sub.LastError = reason
	if _, err := s.store.SaveSubscription(ctx, sub); err != nil {
		return fmt.Errorf("deactivate %s: %w", chat, err)
	}
	s.log.Warn("subscription deactivated", "chat", chat.String(), "reason", reason)
	return nil
}

// Resume turns deliveries back on for a chat that Deactivate stopped, when
// the chat shows it is reachable again (Telegram's /start after unblocking).
// A chat that unsubscribed on purpose stays unsubscribed. It reports whether
// anything was resumed.
func (s *Service) Resume(ctx context.Context, chat ChatRef) (Subscription, bool, error) {
	sub, err := s.store.GetSubscription(ctx, chat)
	if errors.Is(err, ErrNotFound) {
		return Subscription{}, false, nil
	}
	if err != nil {
		return Subscription{}, false, fmt.Errorf("resume %s: %w", chat, err)
	}
	if sub.Active || sub.LastError == "" {
		return sub, false, nil
	}
	sub.Active = true
	sub.LastError = ""
	sub.NextDue = NextDelivery(sub.At, sub.Zone.Location(), s.now())
	if sub, err = s.store.SaveSubscription(ctx, sub); err != nil {
		return Subscription{}, false, fmt.Errorf("resume %s: %w", chat, err)
	}
	return sub, true, nil
}
