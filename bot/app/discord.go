package app

import (
	"context"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/discord"
)

// newDiscord builds the Discord adapter from the configuration.
func (m *Main) newDiscord(ctx context.Context) (bot.Platform, error) {
	return discord.New(discord.Options{
		Token:     m.Config.Discord.Token,
		GuildID:   m.Config.Discord.GuildID,
		PublicKey: m.Config.Discord.PublicKey,
		APIBase:   m.Config.Discord.APIBase,
		Logger:    m.Logger.With("platform", "discord"),
		// Pacing runs on the real clock, whatever clock the core is given.
	})
}
