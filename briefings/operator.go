package briefings

import (
	"time"
)

// What the operator's panel reads from a store: the shapes its queries
// return. The queries themselves are small interfaces in bot/admin, where
// they are used; every store implements them (briefings/storetest checks).

// Fetch results, as the Poller names them.
const (
	FetchResultOK          = "ok"
	FetchResultNotModified = "not_modified"
	FetchResultError       = "error"
)

// FeedStatus is a feed with what the operator asks about it.
type FeedStatus struct {
	ID int64 // the store's id for the feed, stable while it is listed
	Source
	// LastResult is the last fetch's result (FetchResultOK,
	// FetchResultNotModified or FetchResultError); empty before the first fetch.
	LastResult   string
	ItemsLastDay int // items of this feed ingested in the day before FeedQuery.Now
}

// FeedQuery selects feeds for the panel.
type FeedQuery struct {
	Now         time.Time // the end of the "last day" items are counted in
	ID          int64     // one feed only, when not 0
	FailingOnly bool      // only feeds whose last fetch failed
	Limit       int       // at most this many
	Offset      int       // after skipping this many, failing feeds first, then in the order they were added
}

// FeedCount counts the stored feeds.
type FeedCount struct {
	Total, Failing int
}

// FeedItem is an item read from a feed and the story it joined.
type FeedItem struct {
	Item
	IngestedAt    time.Time
	StoryID       int64
	StoryHeadline string
	StoryItems    int // the story's items, from every feed
}

// SubscriptionState selects subscriptions for the panel.
type SubscriptionState string

const (
	SubscriptionsActive      SubscriptionState = "active"
	SubscriptionsDeactivated SubscriptionState = "deactivated" // not active, whatever the reason
	SubscriptionsDueSoon     SubscriptionState = "due"         // active and due before SubscriptionQuery.DueBefore
)

// SubscriptionQuery selects subscriptions for the panel.
type SubscriptionQuery struct {
	Platform  Platform          // only this platform's, when not empty
	State     SubscriptionState // only these, when not empty
	ChatID    string            // only this chat id (on any platform), when not empty
	DueBefore time.Time         // for SubscriptionsDueSoon
	AfterID   int64             // after this id (the previous page's last), in id order; due ones go earliest first
	Limit     int
}

// SubscriptionRow is a subscription as the panel lists it.
type SubscriptionRow struct {
	Subscription
	// DeactivatedAt is when the last delivery found the chat gone; zero when
	// it is active, or was unsubscribed by its people rather than found gone.
	DeactivatedAt time.Time
}

// SubscriptionTotal counts one platform's subscriptions.
type SubscriptionTotal struct {
	Platform    Platform
	Active      int
	Deactivated int
	DueSoon     int // active and due before the horizon asked for, at most DueSoonCountCap
}

// DueSoonCountCap is where counting the subscriptions due soon stops (a
// count of DueSoonCountCap means that many or more), so that a page stays
// fast when every chat is due in the same hour.
const DueSoonCountCap = 10_000

// DeliveryCount is how many ledger entries created since some instant are in
// one state.
type DeliveryCount struct {
	State DeliveryState
	Count int
}

// SendCount is how many messages went out on one platform in one minute.
type SendCount struct {
	Platform Platform
	Minute   time.Time // the minute's start, UTC
	Sends    int
}

// RetryEntry is a subscription whose delivery is waiting: started and not
// finished (in progress, or retrying after a failure), or held back until
// Until because the platform asked to wait.
type RetryEntry struct {
	SubscriptionID int64
	Chat           ChatRef
	LocalDate      string    // of the pending ledger entry; empty for a deferral before the briefing was composed
	MessagesSent   int       // of the pending entry
	StartedAt      time.Time // when the pending entry was written; zero for a deferral alone
	Owner          string    // the instance holding the claim; empty when deferred
	Until          time.Time // the claim's lease, or the deferral's end
	LastError      string    // the subscription's last delivery error
}
