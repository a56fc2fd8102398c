package app

import (
	"context"
	"errors"

	"github.com/newsbot/newsbot/bot"
)

// newDiscord builds the Discord adapter from the configuration.
func (m *Main) newDiscord(ctx context.Context) (bot.Platform, error) {
	return nil, errors.New("DISCORD_BOT_TOKEN: the Discord adapter is not part of this build yet")
}
