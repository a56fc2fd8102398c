package app

import (
	"context"

	"github.com/newsbot/newsbot/bot"
)

// runDelivery delivers the daily briefings through the platforms until ctx
// ends. Scheduled delivery is the subject of its own issue; until it lands,
// subscriptions are recorded and shown by /status but not delivered.
func (m *Main) runDelivery(ctx context.Context, platforms []bot.Platform) error {
	<-ctx.Done()
	return nil
}
