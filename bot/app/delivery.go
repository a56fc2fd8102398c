package app

import (
	"context"
	"fmt"

	"github.com/newsbot/newsbot/bot"
)

// runDelivery delivers the daily briefings through the platforms until ctx
// ends (bot.Scheduler carries out briefings.PlanDaily's rules). On SQLite,
// openBotStore has made this process the only one on the file; on
// PostgreSQL, instances split the due deliveries through claims.
func (m *Main) runDelivery(ctx context.Context, platforms []bot.Platform) error {
	if m.store == nil || m.Service == nil {
		return fmt.Errorf("delivery: the store is not open")
	}
	s, err := bot.NewScheduler(bot.SchedulerOptions{
		Store:        m.store,
		Stories:      m.store,
		Chats:        m.Service,
		Platforms:    platforms,
		Owner:        m.store.InstanceID(),
		BriefingSize: m.Config.BriefingSize,
		Now:          m.Now,
		Logger:       m.Logger,
		Observer:     m.metrics,
	})
	if err != nil {
		return err
	}
	m.Logger.Info("delivering daily briefings", "instance", m.store.InstanceID(), "platforms", len(platforms))
	return s.Run(ctx)
}
