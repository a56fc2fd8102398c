package app

import (
	"context"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/discord"
)

// newDiscord builds the Discord adapter from the configuration.
func (m *Main) newDiscord(ctx context.Context) (bot.Platform, error) {
	return discord.New(discord.Options{
		Token:     m.Config.DiscordToken,
		GuildID:   m.Config.DiscordGuildID,
		PublicKey: m.Config.DiscordPublicKey,
		APIBase:   m.Config.DiscordAPIBase,
		Logger:    m.Logger.With("platform", "discord"),
		// Pacing runs on the real clock, whatever clock the core is given.
	})
}
