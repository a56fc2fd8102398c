package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseConfigDefaults(t *testing.T) {
	c, err := Parse(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != DefaultDatabaseURL || c.Timezone.Location() != time.UTC || c.PollInterval != 10*time.Minute ||
		c.BriefingSize != 5 || c.AllowPrivateFeeds || len(c.Feeds) != 0 || c.Telegram.Token != "" {
		t.Errorf("defaults: %+v", c)
	}
}

func TestParseConfigValues(t *testing.T) {
	c, err := Parse(map[string]string{
		"NEWSBOT_FEEDS":               " https://a.example/feed.xml , https://b.example/rss ,",
		"NEWSBOT_TIMEZONE":            "Europe/Berlin",
		"NEWSBOT_POLL_INTERVAL":       "15m",
		"NEWSBOT_ALLOW_PRIVATE_FEEDS": "true",
		"NEWSBOT_LOG_LEVEL":           "debug",
		"DATABASE_URL":                "sqlite:/var/lib/newsbot/state.db",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Feeds) != 2 || c.Feeds[1] != "https://b.example/rss" {
		t.Errorf("feeds: %q", c.Feeds)
	}
	if c.Timezone.String() != "Europe/Berlin" || c.PollInterval != 15*time.Minute || !c.AllowPrivateFeeds || c.LogLevel.String() != "DEBUG" {
		t.Errorf("values: %+v", c)
	}
	if c.SQLitePath() != "/var/lib/newsbot/state.db" {
		t.Errorf("SQLitePath = %q", c.SQLitePath())
	}
}

// TestParseConfigErrorsNameTheVariable checks that each bad value is reported
// with the name of its variable, all at once.
func TestParseConfigErrorsNameTheVariable(t *testing.T) {
	env := map[string]string{
		"NEWSBOT_TIMEZONE":            "Mars/Olympus",
		"NEWSBOT_POLL_INTERVAL":       "often",
		"NEWSBOT_ALLOW_PRIVATE_FEEDS": "maybe",
		"NEWSBOT_LOG_LEVEL":           "loud",
		"NEWSBOT_BRIEFING_SIZE":       "100",
		"NEWSBOT_FEEDS":               "ftp://x.example/feed",
		"DATABASE_URL":                "mysql://root:hunter2@db/newsbot",
	}
	_, err := Parse(env)
	if err == nil {
		t.Fatal("want errors")
	}
	// Parse errors come first; fix them and the validation errors show.
	for _, name := range []string{"NEWSBOT_POLL_INTERVAL", "NEWSBOT_ALLOW_PRIVATE_FEEDS", "NEWSBOT_LOG_LEVEL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	delete(env, "NEWSBOT_POLL_INTERVAL")
	delete(env, "NEWSBOT_ALLOW_PRIVATE_FEEDS")
	delete(env, "NEWSBOT_LOG_LEVEL")
	_, err = Parse(env)
	for _, name := range []string{"NEWSBOT_TIMEZONE", "NEWSBOT_BRIEFING_SIZE", "NEWSBOT_FEEDS", "DATABASE_URL"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the database password: %v", err)
	}
}

func TestParseConfigPollIntervalFloor(t *testing.T) {
	_, err := Parse(map[string]string{"NEWSBOT_POLL_INTERVAL": "5s"})
	if err == nil || !strings.Contains(err.Error(), "NEWSBOT_POLL_INTERVAL") {
		t.Errorf("a 5s poll interval should be refused naming the variable, got %v", err)
	}
}

// TestConfigNeverShowsSecrets: printing a Config, as a log line might, masks
// every token and key.
func TestConfigNeverShowsSecrets(t *testing.T) {
	c, err := Parse(map[string]string{
		"TELEGRAM_BOT_TOKEN":  "123456:SECRET-telegram-token",
		"DISCORD_BOT_TOKEN":   "SECRET.discord.token",
		"NEWSBOT_LLM_URL":     "http://127.0.0.1:8081/v1",
		"NEWSBOT_LLM_MODEL":   "m",
		"NEWSBOT_LLM_API_KEY": "sk-SECRET",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", &c)} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("config printed with a secret: %s", s)
		}
	}
}

// Telegram calls webhooks only over https on 443, 80, 88 or 8443; a local
// fake's loopback address is exempt.
func TestConfigWebhookURL(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://bot.example/tg", true},
		{"https://bot.example:8443/tg", true},
		{"https://bot.example:88/tg", true},
		{"https://bot.example:80/tg", true},
		{"https://bot.example:443/tg", true},
		{"https://bot.example:8080/tg", false},
		{"http://bot.example/tg", false},
		{"ftp://bot.example/tg", false},
		{"http://127.0.0.1:34567/tg", true},
		{"http://localhost:9/tg", true},
	} {
		_, err := Parse(map[string]string{"TELEGRAM_WEBHOOK_URL": tt.url, "NEWSBOT_HTTP_ADDR": ":8080"})
		if tt.ok != (err == nil) || err != nil && (!strings.Contains(err.Error(), "TELEGRAM_WEBHOOK_URL") || strings.Count(err.Error(), "\n") > 0) {
			t.Errorf("%s: %v, want ok=%v (else one line naming the variable)", tt.url, err, tt.ok)
		}
	}
}

func TestConfigPlatformValidation(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"TELEGRAM_API_ENDPOINT": "http://127.0.0.1:1/bot"}, "TELEGRAM_API_ENDPOINT"},
		{map[string]string{"TELEGRAM_WEBHOOK_URL": "https://bot.example/tg"}, "NEWSBOT_HTTP_ADDR"},
		{map[string]string{"TELEGRAM_WEBHOOK_URL": "http://bot.example/tg", "NEWSBOT_HTTP_ADDR": ":8080"}, "TELEGRAM_WEBHOOK_URL"},
		{map[string]string{"TELEGRAM_WEBHOOK_URL": "https://bot.example:8080/tg", "NEWSBOT_HTTP_ADDR": ":8080"}, "TELEGRAM_WEBHOOK_URL"},
		{map[string]string{"TELEGRAM_WEBHOOK_SECRET": "has spaces"}, "TELEGRAM_WEBHOOK_SECRET"},
		{map[string]string{"DISCORD_PUBLIC_KEY": "abc", "NEWSBOT_HTTP_ADDR": ":8080"}, "DISCORD_PUBLIC_KEY"},
		{map[string]string{"DISCORD_GUILD_ID": "my-server"}, "DISCORD_GUILD_ID"},
		{map[string]string{"NEWSBOT_LLM_URL": "http://x.example"}, "NEWSBOT_LLM_MODEL"},
	} {
		_, err := Parse(tt.env)
		if err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("%v: error %v, want one naming %s", tt.env, err, tt.name)
		}
	}
}
