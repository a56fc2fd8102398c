package telegram

import (
	"context"
	"strconv"
	"time"

	"github.com/newsbot/newsbot/bot"
)

// Several instances of one bot: getUpdates admits one consumer (a second
// gets 409 Conflict and the first is cut off), so instances elect the one
// that long-polls and the others only deliver; in webhook mode Telegram
// posts each update to one of them behind the load balancer, and every
// instance serves. The global flood limit is the bot's, not an instance's:
// each instance paces at its share of it (SetRateShare).

// PollElector elects the instance that long-polls; *postgres.DB is one.
type PollElector interface {
	// TryLead makes this instance the holder of the lead named name if no
	// one holds it (ok false otherwise). The lead context ends when ctx
	// does or the lead is lost; release gives it up.
	TryLead(ctx context.Context, name string) (lead context.Context, release func(), ok bool, err error)
}

// DefaultLeadRetry is how often an instance that does not poll tries for the
// lead: how long updates may wait after the polling instance dies.
const DefaultLeadRetry = 3 * time.Second

// ElectPoller makes long polling wait for the lead of el, tried every retry
// (DefaultLeadRetry when 0). Call it before Serve; it changes nothing in
// webhook mode.
func (a *Adapter) ElectPoller(el PollElector, retry time.Duration) {
	if retry <= 0 {
		retry = DefaultLeadRetry
	}
	d := a.updates
	d.mu.Lock()
	defer d.mu.Unlock()
	d.elector, d.retry = el, retry
}

func (d *dispatcher) pollElector() (PollElector, time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.elector, d.retry
}

// pollLeadName names the lead of one bot's getUpdates: two bots sharing a
// database each have their own.
func pollLeadName(botID int64) string {
	return "telegram-getupdates:" + strconv.FormatInt(botID, 10)
}

// awaitLead tries for the lead every retry until it holds it or ctx ends.
func (a *Adapter) awaitLead(ctx context.Context, el PollElector, name string, retry time.Duration) (context.Context, func(), error) {
	waiting := false
	for {
		lead, release, ok, err := el.TryLead(ctx, name)
		switch {
		case ok:
			return lead, release, nil
		case ctx.Err() != nil:
			return nil, nil, ctx.Err()
		case err != nil:
			a.log.Warn("could not try for the lead of getUpdates; retrying", "err", err, "retry_in", retry)
		case !waiting:
			a.log.Info("another instance long-polls getUpdates; this one delivers and stands by", "retry_every", retry)
			waiting = true
		}
		if err := bot.Sleep(ctx, retry); err != nil {
			return nil, nil, err
		}
	}
}

// SetRateShare paces this instance's sends at share of the bot's global
// flood limit (1/N of N live instances); 0 holds every send back until a
// positive share is set. Per-chat and per-group limits are not divided: a
// chat's delivery is claimed by one instance at a time.
func (a *Adapter) SetRateShare(share float64) { a.pacer.SetGlobalShare(share) }
