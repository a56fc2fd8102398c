package discord

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/env"
	"github.com/newsbot/newsbot/briefings"
)

// Config is the Discord adapter's part of the environment. The adapter
// starts when Token is set.
type Config struct {
	Token     string // DISCORD_BOT_TOKEN
	GuildID   string // DISCORD_GUILD_ID
	PublicKey string // DISCORD_PUBLIC_KEY
	APIBase   string // DISCORD_API_BASE
	// ShardID and ShardCount split the gateway among instances: this one
	// opens shard ShardID of ShardCount (0 of 1 when unset: every guild).
	ShardID    int // DISCORD_SHARD_ID
	ShardCount int // DISCORD_SHARD_COUNT
}

// ConfigVars lists the variables ReadConfig reads.
func ConfigVars() []env.Var {
	return []env.Var{
		{Name: "DISCORD_BOT_TOKEN", Default: "", Doc: "Discord bot token; starts the Discord adapter"},
		{Name: "DISCORD_GUILD_ID", Default: "", Doc: "Register slash commands in this one server (instant) instead of globally"},
		{Name: "DISCORD_PUBLIC_KEY", Default: "", Doc: "Application public key (hex); serves HTTP interactions at /discord/interactions"},
		{Name: "DISCORD_API_BASE", Default: "", Doc: "Base URL of a Discord REST proxy, e.g. http://proxy:8080; empty for discord.com"},
		{Name: "DISCORD_SHARD_ID", Default: "0", Doc: "Gateway shard this instance opens, 0 to DISCORD_SHARD_COUNT-1: one per instance when several share the gateway"},
		{Name: "DISCORD_SHARD_COUNT", Default: "1", Doc: "Number of gateway shards the instances split the servers into (one instance per shard)"},
	}
}

// ReadConfig reads the Discord variables; values that do not parse are
// reported by r.
func ReadConfig(r *env.Reader) Config {
	return Config{
		Token:      r.String("DISCORD_BOT_TOKEN"),
		GuildID:    r.String("DISCORD_GUILD_ID"),
		PublicKey:  r.String("DISCORD_PUBLIC_KEY"),
		APIBase:    r.String("DISCORD_API_BASE"),
		ShardID:    r.Int("DISCORD_SHARD_ID", 0),
		ShardCount: r.Int("DISCORD_SHARD_COUNT", 1),
	}
}

// Validate checks the values; every error names its variable.
func (c Config) Validate() error {
	var errs []error
	if c.PublicKey != "" {
		if b, err := hex.DecodeString(c.PublicKey); err != nil || len(b) != 32 {
			errs = append(errs, errors.New("DISCORD_PUBLIC_KEY: want the application's public key, 64 hex digits"))
		}
	}
	if c.APIBase != "" && !env.HTTPURL(c.APIBase) {
		errs = append(errs, fmt.Errorf("DISCORD_API_BASE=%q: not an http(s) URL", bot.Clip(briefings.RedactURL(c.APIBase))))
	}
	if c.ShardCount < 1 {
		errs = append(errs, fmt.Errorf("DISCORD_SHARD_COUNT=%d: must be at least 1", c.ShardCount))
	} else if c.ShardID < 0 || c.ShardID >= c.ShardCount {
		errs = append(errs, fmt.Errorf("DISCORD_SHARD_ID=%d: must be from 0 to DISCORD_SHARD_COUNT-1 (%d)", c.ShardID, c.ShardCount-1))
	}
	if c.GuildID != "" && strings.Trim(c.GuildID, "0123456789") != "" {
		errs = append(errs, fmt.Errorf("DISCORD_GUILD_ID=%q: want a numeric server id", bot.Clip(c.GuildID)))
	}
	return errors.Join(errs...)
}
