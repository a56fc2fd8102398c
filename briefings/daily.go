package briefings

import (
	"context"
	"slices"
	"sync"
	"time"
)

// The rules of what a daily subscriber is delivered when. Everything here is
// a function of the subscription, its ledger entries, the stories and the
// instant now; the delivery queues (package bot) supply those and carry out
// the answer: claims, sends, pacing, retries.
//
//   - Content: the stories updated since the subscription's last briefing
//     was composed, and at most FirstBriefingWindow (24 h) back — so a first
//     briefing, a re-subscription or a chat back from blocked gets the last
//     day, never a backlog — minus the stories the last briefing carried,
//     filtered by the subscription's topics and ranked by Compose, at most
//     the briefing size (ComposeDaily, NewDailyDelivery).
//   - Nothing new: no message is sent. The day is recorded as DeliveryEmpty
//     in the ledger, and the next briefing covers everything since. A bot
//     that pings a chat daily to say it has nothing is noise; /brief answers
//     on demand (Delivery.NothingNew).
//   - Late: a briefing is still delivered, once, as long as it is the same
//     local date for the subscriber as the due time (the bot was down at
//     07:30 and back at 11:00: delivered at 11:00). A briefing whose local
//     date has passed is skipped (recorded DeliverySkipped) — except one that
//     had already sent some of its messages, which is finished so the chat
//     does not keep half a briefing (PlanDaily, DeliveryDate).
//   - Next: once a day's delivery is finished, whatever its outcome, the
//     subscription is next due at its time of day on the next local date
//     (DailyResult, by NextDelivery's DST rules).

// FirstBriefingWindow is how far back a briefing looks at most: a new
// subscription's first briefing, and one after a pause (unsubscribed, blocked,
// bot down), covers the last day, never a backlog.
const FirstBriefingWindow = 24 * time.Hour

// DeliveryWindowStart is the earliest Updated of a story that may go into the
// briefing delivered at now, given the subscription's last delivery (zero
// when there was none): the stories new since that briefing was composed, but
// no older than FirstBriefingWindow.
func DeliveryWindowStart(now time.Time, last Delivery) time.Time {
	start := now.Add(-FirstBriefingWindow)
	if last.ComposedAt.After(start) {
		start = last.ComposedAt
	}
	return start
}

// ComposeDaily is a subscriber's daily briefing: among stories (each updated
// at or after since), those not carried by the previous briefing, filtered by
// topics and ranked as Compose ranks them, at most size. Its Entries are empty
// when nothing is new.
func ComposeDaily(now time.Time, topics Topics, stories []Story, since time.Time, previous []int64, size int) Briefing {
	fresh := make([]Story, 0, len(stories))
	for _, st := range stories {
		if st.Updated.Before(since) || slices.Contains(previous, st.ID) {
			continue
		}
		fresh = append(fresh, st)
	}
	return Compose(now, topics, fresh, size)
}

// StoryIDs lists the stories of a briefing, in order.
func (b Briefing) StoryIDs() []int64 {
	ids := make([]int64, len(b.Entries))
	for i, e := range b.Entries {
		ids[i] = e.StoryID
	}
	return ids
}

// DeliveryDate decides which local date a due subscription is delivered for
// at now, by the catch-up rule: a briefing due earlier on the subscriber's
// current local date is still delivered (late, once); one due on an earlier
// local date is skipped, since yesterday's news arriving today is noise. It
// returns the due instant to deliver for (deliver is true when it is at or
// before now), or the next due instant after the skipped ones.
func DeliveryDate(at TimeOfDay, loc *time.Location, due, now time.Time) (deliverDue time.Time, deliver bool) {
	today := LocalDate(now, loc)
	for !due.After(now) && LocalDate(due, loc) != today {
		from := due
		// Long downtime: jump to two days ago instead of stepping a day at a
		// time through months.
		if floor := now.Add(-49 * time.Hour); floor.After(from) {
			from = floor
		}
		due = NextDelivery(at, loc, from)
	}
	return due, !due.After(now)
}

// DueDate is the local date the subscription's NextDue falls on: the key of
// its ledger entry for that delivery.
func (s Subscription) DueDate() string { return LocalDate(s.NextDue, s.Zone.Location()) }

// DailyStep is what a claimed subscription's delivery does next.
type DailyStep int

const (
	// DailyCompose: nothing is recorded for the due date and it is still
	// that date for the subscriber: compose the briefing (NewDailyDelivery)
	// and record it before sending.
	DailyCompose DailyStep = iota + 1
	// DailyResume: a pending entry, of today or partly sent: send its
	// briefing from its next message.
	DailyResume
	// DailyFinished: the entry of the due date is finished already (the
	// subscription was changed to a later time the same day): record
	// DailyPlan.Result, which moves the subscription on, and send nothing.
	DailyFinished
	// DailySkip: the due date has passed and nothing of it was sent: record
	// DailyPlan.Result (skipped) and send nothing.
	DailySkip
)

// DailyPlan is the decision for one claimed subscription.
type DailyPlan struct {
	Step      DailyStep
	LocalDate string         // the due date: the ledger key
	Result    DeliveryResult // what to record, for DailyFinished and DailySkip
}

// PlanDaily decides what the claimed subscription sub gets at now, given the
// ledger entry of its due date (found is false when there is none).
func PlanDaily(sub Subscription, entry Delivery, found bool, now time.Time) DailyPlan {
	loc := sub.Zone.Location()
	plan := DailyPlan{LocalDate: sub.DueDate()}
	today := LocalDate(now, loc)
	switch {
	case found && entry.State.Finished():
		plan.Step = DailyFinished
		plan.Result = DeliveryResult{SubscriptionID: sub.ID, LocalDate: plan.LocalDate, Due: sub.NextDue,
			State: entry.State, Error: entry.Error, FinishedAt: entry.FinishedAt,
			NextDue: NextDelivery(sub.At, loc, sub.NextDue)}
		if plan.Result.FinishedAt.IsZero() {
			plan.Result.FinishedAt = now
		}
	case found && (plan.LocalDate == today || entry.MessagesSent > 0):
		plan.Step = DailyResume
	case plan.LocalDate != today:
		next, _ := DeliveryDate(sub.At, loc, sub.NextDue, now)
		plan.Step = DailySkip
		plan.Result = DeliveryResult{SubscriptionID: sub.ID, LocalDate: plan.LocalDate, Due: sub.NextDue,
			State: DeliverySkipped, FinishedAt: now, NextDue: next}
	default:
		plan.Step = DailyCompose
	}
	return plan
}

// NewDailyDelivery is the ledger entry that starts sub's delivery of its due
// date at now: its briefing composed from stories by ComposeDaily, given the
// subscription's last delivery (zero when there was none).
func NewDailyDelivery(sub Subscription, last Delivery, stories []Story, now time.Time, size int) Delivery {
	since := DeliveryWindowStart(now, last)
	b := ComposeDaily(now, sub.Topics, stories, since, last.StoryIDs, size)
	return Delivery{
		SubscriptionID: sub.ID, LocalDate: sub.DueDate(), Due: sub.NextDue, Since: since, ComposedAt: now,
		StoryIDs: b.StoryIDs(), Briefing: b, State: DeliveryPending, CreatedAt: now,
	}
}

// NothingNew reports whether a started delivery has nothing to send: no
// message goes out and the day is recorded DeliveryEmpty.
func (d Delivery) NothingNew() bool { return len(d.Briefing.Entries) == 0 }

// DailyResult finishes sub's delivery of its due date at now with state (and
// reason, for /status): the subscription is next due at its time of day on
// the next local date.
func DailyResult(sub Subscription, state DeliveryState, reason string, now time.Time) DeliveryResult {
	return DeliveryResult{SubscriptionID: sub.ID, LocalDate: sub.DueDate(), Due: sub.NextDue, State: state, Error: reason,
		FinishedAt: now, NextDue: NextDelivery(sub.At, sub.Zone.Location(), sub.NextDue)}
}

// DailyCandidates bounds the stories a daily briefing is chosen from.
const DailyCandidates = 500

// dailyStoriesTTL is how long DailyStories serves the stories it loaded
// while the story set does not change.
const dailyStoriesTTL = time.Minute

// DailyCandidatesSince is the oldest Updated of a story loaded as a
// candidate for the briefings composed from now to dailyStoriesTTL later:
// FirstBriefingWindow, and an hour of margin so that a briefing composed
// within that time may look back its full day from a slightly later now.
func DailyCandidatesSince(now time.Time) time.Time { return now.Add(-FirstBriefingWindow - time.Hour) }

// StoryReader is what daily composition reads of the stories.
type StoryReader interface {
	RecentStories(ctx context.Context, since time.Time, limit int) ([]Story, error)
	StoriesVersion(ctx context.Context) (int64, error)
}

// DailyStories keeps the candidates of daily briefings for the many
// briefings composed in one burst, reloaded when the story set changes or
// after dailyStoriesTTL.
type DailyStories struct {
	store StoryReader

	mu       sync.Mutex
	version  int64
	loadedAt time.Time
	stories  []Story
}

// NewDailyStories reads the candidates from store.
func NewDailyStories(store StoryReader) *DailyStories { return &DailyStories{store: store} }

// Candidates returns the stories a briefing composed at now is chosen from:
// at most DailyCandidates, updated since DailyCandidatesSince(now).
func (c *DailyStories) Candidates(ctx context.Context, now time.Time) ([]Story, error) {
	v, err := c.store.StoriesVersion(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stories != nil && v == c.version && now.Sub(c.loadedAt) >= 0 && now.Sub(c.loadedAt) < dailyStoriesTTL {
		return c.stories, nil
	}
	stories, err := c.store.RecentStories(ctx, DailyCandidatesSince(now), DailyCandidates)
	if err != nil {
		return nil, err
	}
	if stories == nil {
		stories = []Story{}
	}
	c.version, c.loadedAt, c.stories = v, now, stories
	return stories, nil
}
