package app

import (
	"context"
	"sync"
	"time"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/discord"
	"github.com/newsbot/newsbot/bot/telegram"
	"github.com/newsbot/newsbot/briefings"
)

// Several instances on one PostgreSQL database (see README, "Scaling out"):
//
//   - Due deliveries and due feeds are claimed with a lease, so instances
//     split them (the store's ClaimDue and ClaimDueSources).
//   - Every instance sends a heartbeat every heartbeatInterval; those heard
//     within liveWindow are live, and each paces its sends at 1/N of the
//     platform's bot-wide limit, N being the live instances on that
//     platform. An instance silent for deadAfter is forgotten and its claims
//     released, so the others resume its deliveries at once rather than when
//     its five-minute leases run out.
//   - A joining instance sends nothing until every live peer has had a
//     heartbeat to see it and shrink its own share (joinHold); a leaving one
//     deletes its heartbeat after its last send, and the others grow their
//     share at their next beat; a dead one's share is taken only once it
//     stopped being live. So the instances together stay inside the limit at
//     every step, except for an instance that stalls longer than liveWindow
//     and then sends before its next beat (see staleHold).
//   - Per-chat limits need no division: one chat's delivery is claimed by
//     one instance at a time.
//   - Only one instance long-polls Telegram (a PostgreSQL advisory lock
//     elects it); the Discord gateway is split by DISCORD_SHARD_ID and
//     DISCORD_SHARD_COUNT.
//
// On SQLite there is one instance (the store is no InstanceRegistry): its
// share is always the whole budget.
const (
	heartbeatInterval = 2 * time.Second
	liveWindow        = 3 * heartbeatInterval
	deadAfter         = 5 * heartbeatInterval
	// joinHold covers one heartbeat of every peer, plus the time the beat
	// itself may take.
	joinHold = heartbeatInterval + heartbeatInterval/2
)

// rateSharer is a platform whose bot-wide send budget can be divided among
// instances (the Telegram and Discord adapters).
type rateSharer interface {
	SetRateShare(share float64)
}

var (
	_ rateSharer = (*telegram.Adapter)(nil)
	_ rateSharer = (*discord.Adapter)(nil)
)

// instance is this process among those sharing the store.
type instance struct {
	m         *Main
	registry  briefings.InstanceRegistry
	id        string
	platforms []briefings.Platform
	sharers   map[briefings.Platform]rateSharer

	mu     sync.Mutex
	shares map[briefings.Platform]float64 // as last applied
}

// joinInstances prepares the platforms for running beside other instances
// of the bot on the same store: Telegram's long polling waits for the lead,
// the Discord gateway opens this instance's shard, and each platform's
// budget is this instance's share. It sends the first heartbeat and holds
// sends back while peers make room, and returns the instance, whose run
// keeps the heartbeats going; nil when the store admits one instance.
func (m *Main) joinInstances(ctx context.Context, platforms []bot.Platform) (*instance, error) {
	for _, p := range platforms {
		switch a := p.(type) {
		case *telegram.Adapter:
			if el, ok := m.store.(telegram.PollElector); ok && m.Config.Telegram.WebhookURL == "" {
				a.ElectPoller(el, 0)
			}
		case *discord.Adapter:
			if m.Config.Discord.ShardCount > 1 {
				s := a.Session()
				s.ShardID, s.ShardCount = m.Config.Discord.ShardID, m.Config.Discord.ShardCount
				m.Logger.Info("discord: opening one gateway shard", "shard", s.ShardID, "of", s.ShardCount)
			}
		}
	}
	registry, ok := m.store.(briefings.InstanceRegistry)
	if !ok {
		return nil, nil
	}
	in := &instance{m: m, registry: registry, id: m.store.InstanceID(),
		sharers: map[briefings.Platform]rateSharer{}, shares: map[briefings.Platform]float64{}}
	for _, p := range platforms {
		in.platforms = append(in.platforms, p.Name())
		if s, ok := p.(rateSharer); ok {
			in.sharers[p.Name()] = s
		}
	}
	counts, err := registry.Heartbeat(ctx, in.id, in.platforms, liveWindow, deadAfter)
	if err != nil {
		return nil, err
	}
	// Hold sends until every peer has had a beat to see this instance and
	// shrink its share — even when none is seen yet: one starting at the
	// same moment may not have committed its first heartbeat.
	in.apply(nil)
	m.Logger.Info("joining the instances on this database: holding sends until each has seen this one", "instances", counts, "hold", joinHold)
	return in, nil
}

// apply sets each platform's share from the live counts; nil holds every
// send back.
func (in *instance) apply(counts map[briefings.Platform]int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for name, s := range in.sharers {
		share := 0.0
		if counts != nil {
			share = 1 / float64(max(counts[name], 1))
		}
		if old, ok := in.shares[name]; ok && old == share {
			continue
		}
		in.shares[name] = share
		s.SetRateShare(share)
		if share > 0 {
			in.m.Logger.Info("send budget share", "platform", string(name), "instances", counts[name], "share", share)
		}
	}
}

// run sends a heartbeat every heartbeatInterval until ctx ends, and applies
// the shares it learns (after joinHold from the start). When the beats fail
// for longer than liveWindow the peers may have counted this instance dead
// and taken its share: it holds its sends until a beat goes through.
func (in *instance) run(ctx context.Context) {
	started := time.Now()
	lastBeat := started
	t := time.NewTicker(heartbeatInterval)
	defer t.Stop()
	held := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		counts, err := in.registry.Heartbeat(ctx, in.id, in.platforms, liveWindow, deadAfter)
		if ctx.Err() != nil {
			return
		}
		now := time.Now()
		if err != nil {
			in.m.Logger.Warn("instance heartbeat failed", "err", err)
			if now.Sub(lastBeat) >= liveWindow && !held {
				in.m.Logger.Warn("no heartbeat for too long: holding sends until one goes through (peers may have taken this instance's share)")
				in.apply(nil)
				held = true
			}
			continue
		}
		lastBeat = now
		if now.Sub(started) < joinHold {
			continue
		}
		in.apply(counts)
		held = false
	}
}

// leave forgets this instance in the store, once its platforms stopped
// sending, so the peers take its share at their next beat.
func (in *instance) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := in.registry.Leave(ctx, in.id); err != nil {
		in.m.Logger.Warn("could not remove this instance's heartbeat; peers will count it dead shortly", "err", err)
	}
}
