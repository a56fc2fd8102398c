package briefings

import (
	"context"
	"time"
)

// Store keeps everything newsbot knows. There is one implementation per
// database driver (briefings/sqlite, briefings/postgres); all of them pass the
// same contract tests in briefings/storetest.
type Store interface {
	SourceStore
	StoryStore
	SubscriptionStore
	SummaryCache
	PageStore
	ChatSourceStore
}

// SourceStore keeps the list of feeds and their fetch state.
type SourceStore interface {
	// ListSources returns every feed, in the order they were added.
	ListSources(ctx context.Context) ([]Source, error)
	// AddSource adds a feed by URL; added is false when it was already listed.
	AddSource(ctx context.Context, url string) (added bool, err error)
	// RemoveSource removes a feed; ErrNotFound when it is not listed.
	RemoveSource(ctx context.Context, url string) error
	// SaveSourceState records the fetch state of a listed feed (all fields but
	// URL are overwritten); ErrNotFound when it is not listed.
	SaveSourceState(ctx context.Context, src Source) error
}

// StoryStore keeps items and the stories they are grouped into.
type StoryStore interface {
	// UnseenItems returns the items, in their order, whose LinkKey and
	// ContentKey were both never stored; an item ingested once is never new
	// again, across restarts.
	UnseenItems(ctx context.Context, items []Item) ([]Item, error)
	// RecentStories returns the stories updated at or after since, newest
	// Updated first, at most limit, each with all its items.
	RecentStories(ctx context.Context, since time.Time, limit int) ([]Story, error)
	// SaveStories applies the changes in one transaction: new stories are
	// created, existing ones get their headline, summary and Updated replaced,
	// absorb the stories of Absorbs, NewItems are added to them, and their Refreshed items (matched by
	// LinkKey) get their Title and Published replaced. An item whose LinkKey or ContentKey is
	// already stored is skipped silently (another writer got there first); a
	// new story none of whose items could be added is not created. It returns
	// the story ids in the order of changes (0 for a story not created) and
	// advances StoriesVersion when anything changed.
	SaveStories(ctx context.Context, changes []StoryChange) ([]int64, error)
	// Story returns one story with all its items; ErrNotFound when there
	// is none with that id.
	Story(ctx context.Context, id int64) (Story, error)
	// StoriesVersion changes whenever the set of stories changes; briefings
	// composed at one version stay valid until it moves.
	StoriesVersion(ctx context.Context) (int64, error)
}

// StoryChange is one story to create (StoryID 0) or to update.
type StoryChange struct {
	StoryID   int64
	Headline  string
	Summary   []string
	FirstSeen time.Time // used when creating
	Updated   time.Time
	NewItems  []Item
	// Refreshed are items already in the story whose title or date their
	// article page filled in (updates only).
	Refreshed []Item
	// Absorbs are stored stories found to tell this one's event once a
	// later telling linked them (updates only): their items and the feeds
	// that retold them move to this story, and they are deleted. One
	// already gone (another writer absorbed it) is passed over. Grouping
	// folds stories into the newest of them, so an absorbed id is never the
	// highest: a store may give a deleted highest id out again.
	Absorbs []int64
}

// SubscriptionStore keeps each chat's subscription.
type SubscriptionStore interface {
	// GetSubscription returns the chat's subscription, active or not;
	// ErrNotFound when the chat never subscribed.
	GetSubscription(ctx context.Context, chat ChatRef) (Subscription, error)
	// SaveSubscription creates or replaces the chat's subscription (one per
	// chat) and returns it with its ID.
	SaveSubscription(ctx context.Context, sub Subscription) (Subscription, error)
	// MoveSubscription gives the subscription of chat from to chat to,
	// keeping its ID and everything else (a Telegram group upgraded to a
	// supergroup gets a new chat id). A subscription already at to is
	// replaced. ErrNotFound when from has none.
	MoveSubscription(ctx context.Context, from, to ChatRef) error
}

// SummaryCache remembers summaries by a key derived from an article's content
// (and whatever else decides the summary, such as a model name), so a costly
// summarizer runs once per article.
type SummaryCache interface {
	// CachedSummary returns the summary stored under key; ok is false when
	// there is none.
	CachedSummary(ctx context.Context, key string) (summary []string, ok bool, err error)
	// CacheSummary stores a summary under key, replacing any earlier one.
	CacheSummary(ctx context.Context, key string, summary []string) error
}

// SourceClaimer is a SourceStore that several instances may poll from: each
// due feed is handed to one of them per round. The Poller uses it when its
// Sources implement it.
type SourceClaimer interface {
	// ClaimDueSources claims up to limit feeds whose NextFetchAt is at or
	// before now and that no instance holds a claim on at now, earliest
	// NextFetchAt first, for owner until leaseUntil, and returns them. A
	// claim ends at leaseUntil; saving the feed's state moves NextFetchAt
	// on, so the feed is not due again until then.
	ClaimDueSources(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]Source, error)
}

// InstanceRegistry keeps the heartbeats of the instances that share a store,
// so that each can take its share of a bot-wide budget.
type InstanceRegistry interface {
	// Heartbeat records that instance id is alive and sends on platforms,
	// and returns how many instances (id included) sent a heartbeat for
	// each of them within the last live. Instances silent for longer than
	// dead are forgotten and their claims released, so live instances take
	// their work over without waiting for the leases to end. The store's
	// own clock decides, so instances on hosts whose clocks differ agree.
	Heartbeat(ctx context.Context, id string, platforms []Platform, live, dead time.Duration) (map[Platform]int, error)
	// Leave forgets instance id at once (a graceful stop), so that the
	// others take its share at their next heartbeat.
	Leave(ctx context.Context, id string) error
}
