package bot

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// Config is everything newsbot reads from its environment. ParseConfig fills
// it from a passed-in environment; nothing else reads the environment.
type Config struct {
	Feeds             []string // NEWSBOT_FEEDS
	OPMLPath          string   // NEWSBOT_OPML
	DatabaseURL       string   // DATABASE_URL
	TimezoneName      string   // NEWSBOT_TIMEZONE
	Timezone          *time.Location
	PollInterval      time.Duration // NEWSBOT_POLL_INTERVAL
	AllowPrivateFeeds bool          // NEWSBOT_ALLOW_PRIVATE_FEEDS
	LogLevel          slog.Level    // NEWSBOT_LOG_LEVEL
	BriefingSize      int           // NEWSBOT_BRIEFING_SIZE
	HTTPAddr          string        // NEWSBOT_HTTP_ADDR
	MaxSourcesPerChat int           // NEWSBOT_MAX_SOURCES_PER_CHAT
	MaxFeeds          int           // NEWSBOT_MAX_FEEDS

	TelegramToken         string  // TELEGRAM_BOT_TOKEN
	TelegramAPIEndpoint   string  // TELEGRAM_API_ENDPOINT
	TelegramWebhookURL    string  // TELEGRAM_WEBHOOK_URL
	TelegramWebhookSecret string  // TELEGRAM_WEBHOOK_SECRET
	TelegramRateScale     float64 // TELEGRAM_RATE_SCALE

	DiscordToken     string // DISCORD_BOT_TOKEN
	DiscordGuildID   string // DISCORD_GUILD_ID
	DiscordPublicKey string // DISCORD_PUBLIC_KEY
	DiscordAPIBase   string // DISCORD_API_BASE
	// DiscordShardID and DiscordShardCount split the gateway among
	// instances: this one opens shard DiscordShardID of DiscordShardCount
	// (0 of 1 when unset: every guild).
	DiscordShardID    int // DISCORD_SHARD_ID
	DiscordShardCount int // DISCORD_SHARD_COUNT

	LLMURL    string // NEWSBOT_LLM_URL
	LLMModel  string // NEWSBOT_LLM_MODEL
	LLMAPIKey string // NEWSBOT_LLM_API_KEY
}

// DefaultTelegramAPIEndpoint is the official Bot API, in the format
// telegram-bot-api takes: token, then method.
const DefaultTelegramAPIEndpoint = "https://api.telegram.org/bot%s/%s"

// String shows the configuration with every secret masked, so logging it is
// safe.
func (c Config) String() string {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "(set)"
	}
	c.TelegramToken = mask(c.TelegramToken)
	c.TelegramWebhookSecret = mask(c.TelegramWebhookSecret)
	c.DiscordToken = mask(c.DiscordToken)
	c.LLMAPIKey = mask(c.LLMAPIKey)
	c.DatabaseURL = redactURL(c.DatabaseURL)
	type plain Config // without this method
	return fmt.Sprintf("%+v", plain(c))
}

// GoString masks secrets under %#v too.
func (c Config) GoString() string { return c.String() }

// DefaultDatabaseURL is a SQLite file in the working directory.
const DefaultDatabaseURL = "newsbot.db"

// ConfigVar documents one environment variable, for .env.example and README.
type ConfigVar struct {
	Name, Default, Doc string
}

// ConfigVars lists every variable ParseConfig reads.
func ConfigVars() []ConfigVar {
	return []ConfigVar{
		{"NEWSBOT_FEEDS", "", "Comma-separated feed URLs (RSS, Atom or JSON Feed), added to the stored feed list at start"},
		{"NEWSBOT_OPML", "", "Path of an OPML file whose feeds are added to the stored feed list at start"},
		{"DATABASE_URL", DefaultDatabaseURL, "Where newsbot keeps its state: a SQLite file path (or sqlite:PATH / file:PATH), or postgres://user@host/db"},
		{"NEWSBOT_TIMEZONE", "UTC", "IANA time zone of subscriptions made without one"},
		{"NEWSBOT_POLL_INTERVAL", "10m", "How often each feed is fetched (Go duration, at least 1m)"},
		{"NEWSBOT_ALLOW_PRIVATE_FEEDS", "false", "Allow feeds on loopback, private and link-local addresses (an intranet feed)"},
		{"NEWSBOT_LOG_LEVEL", "info", "Log level: debug, info, warn or error (logs go to stderr)"},
		{"NEWSBOT_BRIEFING_SIZE", "5", "Stories per briefing, 1 to 20"},
		{"NEWSBOT_HTTP_ADDR", "", "Address for the HTTP listener, e.g. :8080; empty for none"},
		{"NEWSBOT_MAX_SOURCES_PER_CHAT", strconv.Itoa(briefings.DefaultMaxSourcesPerChat), "Feeds one chat may add with /sources add, 1 to 1000"},
		{"NEWSBOT_MAX_FEEDS", strconv.Itoa(briefings.DefaultMaxFeeds), "Distinct feeds newsbot polls in all (the operator's and every chat's), at least 1"},
		{"TELEGRAM_BOT_TOKEN", "", "Telegram bot token from BotFather; starts the Telegram adapter"},
		{"TELEGRAM_API_ENDPOINT", DefaultTelegramAPIEndpoint, "Bot API endpoint format (token, method): a self-hosted Bot API server"},
		{"TELEGRAM_WEBHOOK_URL", "", "Public HTTPS URL Telegram posts updates to; empty for long polling (needs NEWSBOT_HTTP_ADDR)"},
		{"TELEGRAM_WEBHOOK_SECRET", "", "Secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token; empty derives one from the token"},
		{"TELEGRAM_RATE_SCALE", "1", "Multiplies Telegram's send budgets (30/s, 1/s per chat, 20/min per group): paid broadcasts or a test server"},
		{"DISCORD_BOT_TOKEN", "", "Discord bot token; starts the Discord adapter"},
		{"DISCORD_GUILD_ID", "", "Register slash commands in this one server (instant) instead of globally"},
		{"DISCORD_PUBLIC_KEY", "", "Application public key (hex); serves HTTP interactions at /discord/interactions"},
		{"DISCORD_API_BASE", "", "Base URL of a Discord REST proxy, e.g. http://proxy:8080; empty for discord.com"},
		{"DISCORD_SHARD_ID", "0", "Gateway shard this instance opens, 0 to DISCORD_SHARD_COUNT-1: one per instance when several share the gateway"},
		{"DISCORD_SHARD_COUNT", "1", "Number of gateway shards the instances split the servers into (one instance per shard)"},
		{"NEWSBOT_LLM_URL", "", "OpenAI-compatible API base URL for LLM summaries; empty for extractive only"},
		{"NEWSBOT_LLM_MODEL", "", "Model name for LLM summaries"},
		{"NEWSBOT_LLM_API_KEY", "", "API key for the LLM endpoint, if it needs one"},
	}
}

// ParseConfig reads the configuration from env (name → value). Unset and empty
// variables take their defaults. It returns every problem found, each naming
// its variable.
func ParseConfig(env map[string]string) (Config, error) {
	get := func(name string) string { return strings.TrimSpace(env[name]) }
	var errs []error
	bad := func(name, value, why string) {
		errs = append(errs, fmt.Errorf("%s=%q: %s", name, clip(value), why))
	}
	c := Config{
		OPMLPath:              get("NEWSBOT_OPML"),
		DatabaseURL:           get("DATABASE_URL"),
		TimezoneName:          get("NEWSBOT_TIMEZONE"),
		HTTPAddr:              get("NEWSBOT_HTTP_ADDR"),
		TelegramToken:         get("TELEGRAM_BOT_TOKEN"),
		TelegramAPIEndpoint:   get("TELEGRAM_API_ENDPOINT"),
		TelegramWebhookURL:    get("TELEGRAM_WEBHOOK_URL"),
		TelegramWebhookSecret: get("TELEGRAM_WEBHOOK_SECRET"),
		DiscordToken:          get("DISCORD_BOT_TOKEN"),
		DiscordGuildID:        get("DISCORD_GUILD_ID"),
		DiscordPublicKey:      get("DISCORD_PUBLIC_KEY"),
		DiscordAPIBase:        get("DISCORD_API_BASE"),
		LLMURL:                get("NEWSBOT_LLM_URL"),
		LLMModel:              get("NEWSBOT_LLM_MODEL"),
		LLMAPIKey:             get("NEWSBOT_LLM_API_KEY"),
		PollInterval:          10 * time.Minute,
		BriefingSize:          briefings.DefaultBriefingSize,
		LogLevel:              slog.LevelInfo,
	}
	for _, f := range strings.Split(get("NEWSBOT_FEEDS"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			c.Feeds = append(c.Feeds, f)
		}
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = DefaultDatabaseURL
	}
	if c.TimezoneName == "" {
		c.TimezoneName = "UTC"
	}
	if c.TelegramAPIEndpoint == "" {
		c.TelegramAPIEndpoint = DefaultTelegramAPIEndpoint
	}
	if v := get("NEWSBOT_POLL_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			bad("NEWSBOT_POLL_INTERVAL", v, "not a duration; write it like 10m or 1h")
		}
		c.PollInterval = d
	}
	if v := get("NEWSBOT_ALLOW_PRIVATE_FEEDS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("NEWSBOT_ALLOW_PRIVATE_FEEDS", v, "want true or false")
		}
		c.AllowPrivateFeeds = b
	}
	if v := get("NEWSBOT_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			bad("NEWSBOT_LOG_LEVEL", v, "want debug, info, warn or error")
		}
	}
	c.TelegramRateScale = 1
	if v := get("TELEGRAM_RATE_SCALE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			bad("TELEGRAM_RATE_SCALE", v, "not a number")
		}
		c.TelegramRateScale = f
	}
	c.DiscordShardCount = 1
	c.MaxSourcesPerChat, c.MaxFeeds = briefings.DefaultMaxSourcesPerChat, briefings.DefaultMaxFeeds
	for _, v := range []struct {
		name string
		dst  *int
	}{{"DISCORD_SHARD_ID", &c.DiscordShardID}, {"DISCORD_SHARD_COUNT", &c.DiscordShardCount},
		{"NEWSBOT_MAX_SOURCES_PER_CHAT", &c.MaxSourcesPerChat}, {"NEWSBOT_MAX_FEEDS", &c.MaxFeeds}} {
		if s := get(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				bad(v.name, s, "not a whole number")
			}
			*v.dst = n
		}
	}
	if v := get("NEWSBOT_BRIEFING_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			bad("NEWSBOT_BRIEFING_SIZE", v, "not a whole number")
		}
		c.BriefingSize = n
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// Validate checks the values and resolves derived ones (the time zone). Every
// error names its variable.
func (c *Config) Validate() error {
	var errs []error
	loc, err := briefings.LoadZone(c.TimezoneName)
	if err != nil {
		errs = append(errs, fmt.Errorf("NEWSBOT_TIMEZONE=%q: not an IANA time zone name (like Europe/Berlin or UTC)", clip(c.TimezoneName)))
	}
	c.Timezone = loc
	if c.PollInterval < time.Minute {
		errs = append(errs, fmt.Errorf("NEWSBOT_POLL_INTERVAL=%s: must be at least 1m, to be polite to feed servers", c.PollInterval))
	}
	if c.TelegramRateScale <= 0 || c.TelegramRateScale > 1000 {
		errs = append(errs, fmt.Errorf("TELEGRAM_RATE_SCALE=%v: must be above 0 and at most 1000", c.TelegramRateScale))
	}
	if c.MaxSourcesPerChat < 1 || c.MaxSourcesPerChat > 1000 {
		errs = append(errs, fmt.Errorf("NEWSBOT_MAX_SOURCES_PER_CHAT=%d: must be between 1 and 1000", c.MaxSourcesPerChat))
	}
	if c.MaxFeeds < 1 {
		errs = append(errs, fmt.Errorf("NEWSBOT_MAX_FEEDS=%d: must be at least 1", c.MaxFeeds))
	}
	if c.BriefingSize < 1 || c.BriefingSize > 20 {
		errs = append(errs, fmt.Errorf("NEWSBOT_BRIEFING_SIZE=%d: must be between 1 and 20", c.BriefingSize))
	}
	for _, f := range c.Feeds {
		if u, err := url.Parse(f); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("NEWSBOT_FEEDS: %q is not an http(s) URL", clip(f)))
		}
	}
	if _, err := c.Database(); err != nil {
		errs = append(errs, err)
	}
	if strings.Count(c.TelegramAPIEndpoint, "%s") != 2 || !strings.HasPrefix(c.TelegramAPIEndpoint, "http") {
		errs = append(errs, fmt.Errorf("TELEGRAM_API_ENDPOINT=%q: want an http(s) URL format with two %%s (token, method), like %s", clip(c.TelegramAPIEndpoint), DefaultTelegramAPIEndpoint))
	}
	if c.TelegramWebhookURL != "" {
		if u, err := url.Parse(c.TelegramWebhookURL); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
			errs = append(errs, fmt.Errorf("TELEGRAM_WEBHOOK_URL=%q: not an http(s) URL", clip(c.TelegramWebhookURL)))
		}
		if c.HTTPAddr == "" {
			errs = append(errs, errors.New("TELEGRAM_WEBHOOK_URL is set but NEWSBOT_HTTP_ADDR is not: the webhook needs the HTTP listener"))
		}
	}
	if s := c.TelegramWebhookSecret; s != "" && !validWebhookSecret(s) {
		errs = append(errs, errors.New("TELEGRAM_WEBHOOK_SECRET: want 1 to 256 characters of A-Z, a-z, 0-9, _ and -"))
	}
	if c.DiscordPublicKey != "" {
		if b, err := hex.DecodeString(c.DiscordPublicKey); err != nil || len(b) != 32 {
			errs = append(errs, errors.New("DISCORD_PUBLIC_KEY: want the application's public key, 64 hex digits"))
		}
		if c.HTTPAddr == "" {
			errs = append(errs, errors.New("DISCORD_PUBLIC_KEY is set but NEWSBOT_HTTP_ADDR is not: HTTP interactions need the HTTP listener"))
		}
	}
	if c.DiscordAPIBase != "" {
		if u, err := url.Parse(c.DiscordAPIBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("DISCORD_API_BASE=%q: not an http(s) URL", clip(redactURL(c.DiscordAPIBase))))
		}
	}
	if c.DiscordShardCount < 1 {
		errs = append(errs, fmt.Errorf("DISCORD_SHARD_COUNT=%d: must be at least 1", c.DiscordShardCount))
	} else if c.DiscordShardID < 0 || c.DiscordShardID >= c.DiscordShardCount {
		errs = append(errs, fmt.Errorf("DISCORD_SHARD_ID=%d: must be from 0 to DISCORD_SHARD_COUNT-1 (%d)", c.DiscordShardID, c.DiscordShardCount-1))
	}
	if c.DiscordGuildID != "" && !allDigits(c.DiscordGuildID) {
		errs = append(errs, fmt.Errorf("DISCORD_GUILD_ID=%q: want a numeric server id", clip(c.DiscordGuildID)))
	}
	if (c.LLMURL == "") != (c.LLMModel == "") {
		errs = append(errs, errors.New("NEWSBOT_LLM_URL and NEWSBOT_LLM_MODEL go together: set both or neither"))
	}
	if c.LLMURL != "" {
		if u, err := url.Parse(c.LLMURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("NEWSBOT_LLM_URL=%q: not an http(s) URL", clip(redactURL(c.LLMURL))))
		}
	}
	return errors.Join(errs...)
}

func validWebhookSecret(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// DatabaseKind is the store DATABASE_URL selects.
type DatabaseKind string

const (
	DatabaseSQLite   DatabaseKind = "sqlite"
	DatabasePostgres DatabaseKind = "postgres"
)

// Database returns the kind of store DATABASE_URL selects and what to open.
func (c *Config) Database() (DatabaseKind, error) {
	u := c.DatabaseURL
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return DatabasePostgres, nil
	case strings.Contains(u, "://"):
		return "", fmt.Errorf("DATABASE_URL: unknown scheme in %q; use a SQLite file path", redactURL(u))
	}
	return DatabaseSQLite, nil
}

// SQLitePath is the file DATABASE_URL names, without a sqlite: or file: prefix.
func (c *Config) SQLitePath() string {
	p := strings.TrimPrefix(c.DatabaseURL, "sqlite:")
	return strings.TrimPrefix(p, "file:")
}

// redactURL drops the password of a URL so it can be shown in an error.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
