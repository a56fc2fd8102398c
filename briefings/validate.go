package briefings

import (
	"errors"
	"fmt"
	"time"
)

// Invariants every store enforces before it writes: checked here, once, so
// both drivers refuse the same values with the same reasons a person can act
// on, rather than a constraint name.

// Stores keep instants in years 1–9999 (UTC): wide enough for any real date
// and for the zero time.Time, narrow enough for every driver and RFC 3339.
var (
	minStoreTime = time.Time{}
	maxStoreTime = time.Date(10000, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// CheckStoreTimes reports the first time a Store cannot keep.
func CheckStoreTimes(ts ...time.Time) error {
	for _, t := range ts {
		if y := t.UTC().Year(); y < 1 || y > 9999 {
			return fmt.Errorf("time %s is outside years 1–9999", t.Format(time.RFC3339))
		}
	}
	return nil
}

// ClampStoreTime is a query bound moved into the years stores keep, which
// selects the same rows.
func ClampStoreTime(t time.Time) time.Time {
	switch y := t.UTC().Year(); {
	case y < 1:
		return minStoreTime
	case y > 9999:
		return maxStoreTime
	}
	return t
}

// Validate reports what keeps a subscription from being stored.
func (s Subscription) Validate() error {
	if s.Chat.Platform == "" || s.Chat.ID == "" {
		return errors.New("chat needs a platform and an id")
	}
	if s.At < 0 || s.At >= 24*60 {
		return fmt.Errorf("time of day %d minutes is outside 00:00–23:59", int(s.At))
	}
	return CheckStoreTimes(s.NextDue, s.LastDeliveredAt, s.CreatedAt)
}

// Validate reports what keeps a ledger entry from being started.
func (d Delivery) Validate() error {
	if d.LocalDate == "" {
		return errors.New("empty local date")
	}
	return CheckStoreTimes(d.Due, d.Since, d.ComposedAt, d.CreatedAt, d.Briefing.GeneratedAt)
}

// Validate reports what keeps a delivery from being finished.
func (r DeliveryResult) Validate() error {
	if !r.State.Finished() {
		return fmt.Errorf("state %q is not final", r.State)
	}
	if r.LocalDate == "" {
		return errors.New("empty local date")
	}
	return CheckStoreTimes(r.Due, r.NextDue, r.FinishedAt)
}

// Validate reports what keeps an article page from being cached.
func (p ArticlePage) Validate() error {
	if p.URL == "" {
		return errors.New("page without a URL")
	}
	return CheckStoreTimes(p.Published, p.FetchedAt)
}
