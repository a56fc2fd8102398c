// Package config is newsbot's configuration, read where the program is
// composed: the process's own variables (feeds, store, zone, listener, the
// LLM) here, each adapter's in the adapter (telegram.Config, discord.Config).
// Parse fills it from a passed-in environment; nothing else reads the
// environment.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/discord"
	"github.com/newsbot/newsbot/bot/env"
	"github.com/newsbot/newsbot/bot/telegram"
	"github.com/newsbot/newsbot/briefings"
)

// Config is everything newsbot reads from its environment.
type Config struct {
	Feeds             []string // NEWSBOT_FEEDS
	OPMLPath          string   // NEWSBOT_OPML
	DatabaseURL       string   // DATABASE_URL
	TimezoneName      string   // NEWSBOT_TIMEZONE
	Timezone          briefings.Zone
	PollInterval      time.Duration // NEWSBOT_POLL_INTERVAL
	AllowPrivateFeeds bool          // NEWSBOT_ALLOW_PRIVATE_FEEDS
	FetchArticles     bool          // NEWSBOT_FETCH_ARTICLES
	MaxSourcesPerChat int           // NEWSBOT_MAX_SOURCES_PER_CHAT
	MaxFeeds          int           // NEWSBOT_MAX_FEEDS
	LogLevel          slog.Level    // NEWSBOT_LOG_LEVEL
	BriefingSize      int           // NEWSBOT_BRIEFING_SIZE
	HTTPAddr          string        // NEWSBOT_HTTP_ADDR
	AdminToken        string        // NEWSBOT_ADMIN_TOKEN

	Telegram telegram.Config
	Discord  discord.Config
	LLM      LLM
}

// LLM configures the optional LLM summarizer (briefings/summarize.NewLLM).
type LLM struct {
	URL    string // NEWSBOT_LLM_URL
	Model  string // NEWSBOT_LLM_MODEL
	APIKey string // NEWSBOT_LLM_API_KEY
}

// String shows the configuration with every secret masked, so logging it is
// safe.
func (c Config) String() string {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "(set)"
	}
	c.Telegram.Token = mask(c.Telegram.Token)
	c.Telegram.WebhookSecret = mask(c.Telegram.WebhookSecret)
	c.Discord.Token = mask(c.Discord.Token)
	c.LLM.APIKey = mask(c.LLM.APIKey)
	c.AdminToken = mask(c.AdminToken)
	c.DatabaseURL = briefings.RedactURL(c.DatabaseURL)
	type plain Config // without this method
	return fmt.Sprintf("%+v", plain(c))
}

// GoString masks secrets under %#v too.
func (c Config) GoString() string { return c.String() }

// MinAdminTokenLength keeps NEWSBOT_ADMIN_TOKEN out of reach of guessing.
const MinAdminTokenLength = 16

// DefaultDatabaseURL is a SQLite file in the working directory.
const DefaultDatabaseURL = "newsbot.db"

// Vars lists every variable Parse reads, the adapters' among them.
func Vars() []env.Var {
	return slices.Concat([]env.Var{
		{Name: "NEWSBOT_FEEDS", Default: "", Doc: "Comma-separated feed URLs (RSS, Atom or JSON Feed), added to the stored feed list at start"},
		{Name: "NEWSBOT_OPML", Default: "", Doc: "Path of an OPML file whose feeds are added to the stored feed list at start"},
		{Name: "DATABASE_URL", Default: DefaultDatabaseURL, Doc: "Where newsbot keeps its state: a SQLite file path (or sqlite:PATH / file:PATH), or postgres://user@host/db"},
		{Name: "NEWSBOT_TIMEZONE", Default: "UTC", Doc: "IANA time zone of subscriptions made without one"},
		{Name: "NEWSBOT_POLL_INTERVAL", Default: "10m", Doc: "How often each feed is fetched (Go duration, at least 1m)"},
		{Name: "NEWSBOT_ALLOW_PRIVATE_FEEDS", Default: "false", Doc: "Allow feeds and article pages on loopback, private and link-local addresses (an intranet feed)"},
		{Name: "NEWSBOT_FETCH_ARTICLES", Default: "true", Doc: "Fetch the article page a teaser links to and summarize its main text"},
		{Name: "NEWSBOT_MAX_SOURCES_PER_CHAT", Default: strconv.Itoa(briefings.DefaultMaxSourcesPerChat), Doc: "Feeds one chat may add with /sources add, 1 to 1000"},
		{Name: "NEWSBOT_MAX_FEEDS", Default: strconv.Itoa(briefings.DefaultMaxFeeds), Doc: "Distinct feeds newsbot polls in all (the operator's and every chat's), at least 1"},
		{Name: "NEWSBOT_LOG_LEVEL", Default: "info", Doc: "Log level: debug, info, warn or error (logs go to stderr)"},
		{Name: "NEWSBOT_BRIEFING_SIZE", Default: "5", Doc: "Stories per briefing, 1 to 20"},
		{Name: "NEWSBOT_HTTP_ADDR", Default: "", Doc: "Address for the HTTP listener, e.g. :8080; empty for none"},
		{Name: "NEWSBOT_ADMIN_TOKEN", Default: "", Doc: "Turns on the operator's panel at /admin/ on NEWSBOT_HTTP_ADDR: the secret to log in with (at least 16 characters); empty for no panel"},
	}, telegram.ConfigVars(), discord.ConfigVars(), []env.Var{
		{Name: "NEWSBOT_LLM_URL", Default: "", Doc: "OpenAI-compatible API base URL for LLM summaries; empty for extractive only"},
		{Name: "NEWSBOT_LLM_MODEL", Default: "", Doc: "Model name for LLM summaries"},
		{Name: "NEWSBOT_LLM_API_KEY", Default: "", Doc: "API key for the LLM endpoint, if it needs one"},
	})
}

// Parse reads the configuration from vars (name → value). Unset and empty
// variables take their defaults. It returns every problem found, each naming
// its variable: first the values that do not parse, then, once they all do,
// those Validate refuses.
func Parse(vars map[string]string) (Config, error) {
	r := env.NewReader(vars)
	c := Config{
		OPMLPath:          r.String("NEWSBOT_OPML"),
		DatabaseURL:       r.String("DATABASE_URL"),
		TimezoneName:      r.String("NEWSBOT_TIMEZONE"),
		PollInterval:      r.Duration("NEWSBOT_POLL_INTERVAL", 10*time.Minute),
		AllowPrivateFeeds: r.Bool("NEWSBOT_ALLOW_PRIVATE_FEEDS", false),
		FetchArticles:     r.Bool("NEWSBOT_FETCH_ARTICLES", true),
		MaxSourcesPerChat: r.Int("NEWSBOT_MAX_SOURCES_PER_CHAT", briefings.DefaultMaxSourcesPerChat),
		MaxFeeds:          r.Int("NEWSBOT_MAX_FEEDS", briefings.DefaultMaxFeeds),
		LogLevel:          slog.LevelInfo,
		BriefingSize:      r.Int("NEWSBOT_BRIEFING_SIZE", briefings.DefaultBriefingSize),
		HTTPAddr:          r.String("NEWSBOT_HTTP_ADDR"),
		AdminToken:        r.String("NEWSBOT_ADMIN_TOKEN"),
		Telegram:          telegram.ReadConfig(r),
		Discord:           discord.ReadConfig(r),
		LLM: LLM{
			URL:    r.String("NEWSBOT_LLM_URL"),
			Model:  r.String("NEWSBOT_LLM_MODEL"),
			APIKey: r.String("NEWSBOT_LLM_API_KEY"),
		},
	}
	for _, f := range strings.Split(r.String("NEWSBOT_FEEDS"), ",") {
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
	if v := r.String("NEWSBOT_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			r.Bad("NEWSBOT_LOG_LEVEL", v, "want debug, info, warn or error")
		}
	}
	if err := r.Err(); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// Validate checks the values and resolves derived ones (the time zone). Every
// error names its variable.
func (c *Config) Validate() error {
	var errs []error
	zone, err := briefings.ParseZone(c.TimezoneName)
	if err != nil {
		errs = append(errs, fmt.Errorf("NEWSBOT_TIMEZONE=%q: not an IANA time zone name (like Europe/Berlin or UTC)", bot.Clip(c.TimezoneName)))
	}
	c.Timezone = zone
	if c.PollInterval < time.Minute {
		errs = append(errs, fmt.Errorf("NEWSBOT_POLL_INTERVAL=%s: must be at least 1m, to be polite to feed servers", c.PollInterval))
	}
	if c.BriefingSize < 1 || c.BriefingSize > 20 {
		errs = append(errs, fmt.Errorf("NEWSBOT_BRIEFING_SIZE=%d: must be between 1 and 20", c.BriefingSize))
	}
	if c.MaxSourcesPerChat < 1 || c.MaxSourcesPerChat > 1000 {
		errs = append(errs, fmt.Errorf("NEWSBOT_MAX_SOURCES_PER_CHAT=%d: must be between 1 and 1000", c.MaxSourcesPerChat))
	}
	if c.MaxFeeds < 1 {
		errs = append(errs, fmt.Errorf("NEWSBOT_MAX_FEEDS=%d: must be at least 1", c.MaxFeeds))
	}
	for _, f := range c.Feeds {
		if !env.HTTPURL(f) {
			errs = append(errs, fmt.Errorf("NEWSBOT_FEEDS: %q is not an http(s) URL", bot.Clip(f)))
		}
	}
	if _, err := c.Database(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.Telegram.Validate())
	if c.Telegram.WebhookURL != "" && c.HTTPAddr == "" {
		errs = append(errs, errors.New("TELEGRAM_WEBHOOK_URL is set but NEWSBOT_HTTP_ADDR is not: the webhook needs the HTTP listener"))
	}
	errs = append(errs, c.Discord.Validate())
	if c.Discord.PublicKey != "" && c.HTTPAddr == "" {
		errs = append(errs, errors.New("DISCORD_PUBLIC_KEY is set but NEWSBOT_HTTP_ADDR is not: HTTP interactions need the HTTP listener"))
	}
	if c.AdminToken != "" {
		if len(c.AdminToken) < MinAdminTokenLength {
			errs = append(errs, fmt.Errorf("NEWSBOT_ADMIN_TOKEN: too short: use at least %d characters, e.g. from `openssl rand -hex 24`", MinAdminTokenLength))
		}
		if c.HTTPAddr == "" {
			errs = append(errs, errors.New("NEWSBOT_ADMIN_TOKEN is set but NEWSBOT_HTTP_ADDR is not: the panel is served on the HTTP listener"))
		}
	}
	if (c.LLM.URL == "") != (c.LLM.Model == "") {
		errs = append(errs, errors.New("NEWSBOT_LLM_URL and NEWSBOT_LLM_MODEL go together: set both or neither"))
	}
	if c.LLM.URL != "" && !env.HTTPURL(c.LLM.URL) {
		errs = append(errs, fmt.Errorf("NEWSBOT_LLM_URL=%q: not an http(s) URL", bot.Clip(briefings.RedactURL(c.LLM.URL))))
	}
	return errors.Join(errs...)
}

// DatabaseKind is the store DATABASE_URL selects.
type DatabaseKind string

const (
	DatabaseSQLite   DatabaseKind = "sqlite"
	DatabasePostgres DatabaseKind = "postgres"
)

// Database returns the kind of store DATABASE_URL selects.
func (c *Config) Database() (DatabaseKind, error) {
	u := c.DatabaseURL
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return DatabasePostgres, nil
	case strings.Contains(u, "://"):
		return "", fmt.Errorf("DATABASE_URL: unknown scheme in %q; use a SQLite file path", briefings.RedactURL(u))
	}
	return DatabaseSQLite, nil
}

// SQLitePath is the file DATABASE_URL names, without a sqlite: or file: prefix.
func (c *Config) SQLitePath() string {
	p := strings.TrimPrefix(c.DatabaseURL, "sqlite:")
	return strings.TrimPrefix(p, "file:")
}
