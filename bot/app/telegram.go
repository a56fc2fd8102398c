package app

import (
	"context"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/telegram"
)

// newTelegram builds the Telegram adapter from the configuration; it checks
// the token with getMe.
func (m *Main) newTelegram(ctx context.Context) (bot.Platform, error) {
	// m.Now is the domain clock, which tests may freeze; pacing needs the
	// real one, so the adapter keeps its default.
	return telegram.New(ctx, telegram.Options{
		Token:         m.Config.TelegramToken,
		Endpoint:      m.Config.TelegramAPIEndpoint,
		WebhookURL:    m.Config.TelegramWebhookURL,
		WebhookSecret: m.Config.TelegramWebhookSecret,
		RateScale:     m.Config.TelegramRateScale,
		Chats:         m.Service,
		Logger:        m.Logger,
	})
}
