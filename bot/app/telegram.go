package app

import (
	"context"
	"errors"

	"github.com/newsbot/newsbot/bot"
)

// newTelegram builds the Telegram adapter from the configuration.
func (m *Main) newTelegram(ctx context.Context) (bot.Platform, error) {
	return nil, errors.New("TELEGRAM_BOT_TOKEN: the Telegram adapter is not part of this build yet")
}
