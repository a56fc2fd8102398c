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
		Token:         m.Config.Telegram.Token,
		Endpoint:      m.Config.Telegram.APIEndpoint,
		WebhookURL:    m.Config.Telegram.WebhookURL,
		WebhookSecret: m.Config.Telegram.WebhookSecret,
		RateScale:     m.Config.Telegram.RateScale,
		Chats:         m.Service,
		Logger:        m.Logger,
	})
}
