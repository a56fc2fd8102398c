package briefings

import (
	"context"
	"errors"
	"time"
)

// Daily delivery: the ledger, the claims on due subscriptions, and what a
// subscriber's briefing carries.
//
// A subscription is due when its NextDue has passed. An instance claims it
// (ClaimDue) under its own owner id with a lease; the claim keeps other
// instances off it until the lease ends, and the owner renews it while it
// works. Every delivery is written to the ledger, keyed by (subscription,
// local date), before its first message is sent (StartDelivery), its
// progress after each message (RecordProgress), and its outcome together with
// the subscription's next due instant in one transaction (FinishDelivery). A
// delivery found pending after a crash is resumed at its next message with
// the very briefing it started with.

// ErrClaimLost is returned when an instance writes for a subscription whose
// claim it no longer holds (its lease ran out and another instance took it):
// the writer must stop working on it.
var ErrClaimLost = errors.New("delivery claim lost to another instance")

// DeliveryState is where a ledger entry stands.
type DeliveryState string

const (
	// DeliveryPending: recorded, not finished; resumed after a restart.
	DeliveryPending DeliveryState = "pending"
	// DeliverySent: every message went out.
	DeliverySent DeliveryState = "sent"
	// DeliveryEmpty: nothing new for the subscriber; nothing was sent.
	DeliveryEmpty DeliveryState = "empty"
	// DeliveryFailed: given up after retries; the next day is tried afresh.
	DeliveryFailed DeliveryState = "failed"
	// DeliveryGone: the chat is gone; the subscription was deactivated.
	DeliveryGone DeliveryState = "gone"
	// DeliverySkipped: a pending delivery of an earlier local date that had
	// sent nothing yet when the bot came back: too late to send.
	DeliverySkipped DeliveryState = "skipped"
)

// Finished reports whether the entry is final.
func (s DeliveryState) Finished() bool { return s != DeliveryPending && s != "" }

// Delivery is one ledger entry: one subscription's briefing of one local date.
type Delivery struct {
	SubscriptionID int64
	LocalDate      string    // "2006-01-02" in the subscription's zone
	Due            time.Time // the NextDue it was delivered for
	Since          time.Time // stories updated at or after this were candidates
	ComposedAt     time.Time // when its briefing was composed; the next one starts there
	StoryIDs       []int64   // the stories it carries, in order
	// Briefing is what is sent, kept while the delivery is pending so that a
	// resumed delivery renders the same messages; a store may drop it once the
	// delivery is finished (StoryIDs stay).
	Briefing     Briefing
	MessagesSent int // messages of the rendered briefing already sent
	State        DeliveryState
	Error        string // why it failed or was skipped
	CreatedAt    time.Time
	FinishedAt   time.Time
}

// ClaimRequest asks for due subscriptions of one platform.
type ClaimRequest struct {
	Owner      string    // the claiming instance
	Platform   Platform  // only this platform's chats
	Now        time.Time // due at or before this, with no live claim at this instant
	LeaseUntil time.Time // the claim holds until then unless renewed
	Limit      int       // at most this many, earliest NextDue first
}

// DeliveryResult finishes a delivery.
type DeliveryResult struct {
	SubscriptionID int64
	LocalDate      string
	Due            time.Time // the NextDue that was claimed
	State          DeliveryState
	Error          string    // stored in the ledger and as the subscription's LastError
	NextDue        time.Time // the subscription's next due instant
	FinishedAt     time.Time // LastDeliveredAt too when State is DeliverySent
}

// DeliveryStore keeps the claims and the delivery ledger, in the same store as
// the subscriptions.
type DeliveryStore interface {
	// ClaimDue atomically claims up to Limit active subscriptions of the
	// platform whose NextDue is at or before Now and that no one holds a
	// claim on at Now (a claim whose lease ended is free; one the same owner
	// holds is not: it is being worked on), earliest NextDue first, and
	// returns them.
	ClaimDue(ctx context.Context, req ClaimRequest) ([]Subscription, error)
	// NextDueAfter returns the earliest NextDue after after among active
	// subscriptions; ok is false when there is none. The scheduler sleeps
	// until then.
	NextDueAfter(ctx context.Context, after time.Time) (next time.Time, ok bool, err error)
	// RenewClaims extends every claim owner holds to until, and returns how
	// many it holds.
	RenewClaims(ctx context.Context, owner string, until time.Time) (int, error)
	// ReleaseClaims drops every claim owner holds, so that the
	// subscriptions can be claimed at once (a graceful stop, or a process
	// that knows owner is dead).
	ReleaseClaims(ctx context.Context, owner string) error
	// DeferClaim gives up owner's claim on a subscription and keeps anyone
	// from claiming it before until (the platform asked to wait that long).
	// ErrClaimLost when owner does not hold it.
	DeferClaim(ctx context.Context, owner string, subscriptionID int64, until time.Time) error
	// GetDelivery returns the ledger entry; ErrNotFound when there is none.
	GetDelivery(ctx context.Context, subscriptionID int64, localDate string) (Delivery, error)
	// LastDelivery returns the subscription's latest finished entry that
	// carried stories or found nothing new (sent or empty); ErrNotFound when
	// there is none.
	LastDelivery(ctx context.Context, subscriptionID int64) (Delivery, error)
	// StartDelivery records d as pending unless an entry for its
	// subscription and local date exists already; it returns the stored
	// entry and whether it was created. ErrClaimLost when owner does not
	// hold the subscription's claim.
	StartDelivery(ctx context.Context, owner string, d Delivery) (stored Delivery, created bool, err error)
	// RecordProgress records that the first sent messages of a pending
	// delivery went out. ErrClaimLost when owner does not hold the claim.
	RecordProgress(ctx context.Context, owner string, subscriptionID int64, localDate string, sent int) error
	// FinishDelivery records the outcome and, in the same transaction,
	// releases owner's claim and moves the subscription on: NextDue becomes
	// r.NextDue (unless the subscription was changed meanwhile and no longer
	// has NextDue r.Due), LastError r.Error, and LastDeliveredAt
	// r.FinishedAt when the briefing was sent. The entry is created when
	// there is none. ErrClaimLost when owner does not hold the claim.
	FinishDelivery(ctx context.Context, owner string, r DeliveryResult) error
	// PruneDeliveries deletes finished entries created before before.
	PruneDeliveries(ctx context.Context, before time.Time) (int, error)
}
