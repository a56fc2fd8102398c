package telegram

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/bot/env"
)

// DefaultAPIEndpoint is the official Bot API, in the format
// telegram-bot-api takes: token, then method.
const DefaultAPIEndpoint = "https://api.telegram.org/bot%s/%s"

// Config is the Telegram adapter's part of the environment. The adapter
// starts when Token is set.
type Config struct {
	Token         string  // TELEGRAM_BOT_TOKEN
	APIEndpoint   string  // TELEGRAM_API_ENDPOINT
	WebhookURL    string  // TELEGRAM_WEBHOOK_URL
	WebhookSecret string  // TELEGRAM_WEBHOOK_SECRET
	RateScale     float64 // TELEGRAM_RATE_SCALE
}

// ConfigVars lists the variables ReadConfig reads.
func ConfigVars() []env.Var {
	return []env.Var{
		{Name: "TELEGRAM_BOT_TOKEN", Default: "", Doc: "Telegram bot token from BotFather; starts the Telegram adapter"},
		{Name: "TELEGRAM_API_ENDPOINT", Default: DefaultAPIEndpoint, Doc: "Bot API endpoint format (token, method): a self-hosted Bot API server"},
		{Name: "TELEGRAM_WEBHOOK_URL", Default: "", Doc: "Public HTTPS URL Telegram posts updates to; empty for long polling (needs NEWSBOT_HTTP_ADDR)"},
		{Name: "TELEGRAM_WEBHOOK_SECRET", Default: "", Doc: "Secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token; empty derives one from the token"},
		{Name: "TELEGRAM_RATE_SCALE", Default: "1", Doc: "Multiplies Telegram's send budgets (30/s, 1/s per chat, 20/min per group): paid broadcasts or a test server"},
	}
}

// ReadConfig reads the Telegram variables; values that do not parse are
// reported by r.
func ReadConfig(r *env.Reader) Config {
	c := Config{
		Token:         r.String("TELEGRAM_BOT_TOKEN"),
		APIEndpoint:   r.String("TELEGRAM_API_ENDPOINT"),
		WebhookURL:    r.String("TELEGRAM_WEBHOOK_URL"),
		WebhookSecret: r.String("TELEGRAM_WEBHOOK_SECRET"),
		RateScale:     r.Float("TELEGRAM_RATE_SCALE", 1),
	}
	if c.APIEndpoint == "" {
		c.APIEndpoint = DefaultAPIEndpoint
	}
	return c
}

// Validate checks the values; every error names its variable.
func (c Config) Validate() error {
	var errs []error
	if c.RateScale <= 0 || c.RateScale > 1000 {
		errs = append(errs, fmt.Errorf("TELEGRAM_RATE_SCALE=%v: must be above 0 and at most 1000", c.RateScale))
	}
	if strings.Count(c.APIEndpoint, "%s") != 2 || !strings.HasPrefix(c.APIEndpoint, "http") {
		errs = append(errs, fmt.Errorf("TELEGRAM_API_ENDPOINT=%q: want an http(s) URL format with two %%s (token, method), like %s", bot.Clip(c.APIEndpoint), DefaultAPIEndpoint))
	}
	if c.WebhookURL != "" {
		if err := checkWebhookURL(c.WebhookURL); err != nil {
			errs = append(errs, err)
		}
	}
	if s := c.WebhookSecret; s != "" && !validWebhookSecret(s) {
		errs = append(errs, errors.New("TELEGRAM_WEBHOOK_SECRET: want 1 to 256 characters of A-Z, a-z, 0-9, _ and -"))
	}
	return errors.Join(errs...)
}

// checkWebhookURL applies setWebhook's rule: Telegram calls only https on
// ports 443, 80, 88 or 8443 (https://core.telegram.org/bots/webhooks). A
// loopback host, which Telegram could never reach, may be anything: it is a
// local fake Bot API server's.
func checkWebhookURL(raw string) error {
	if !env.HTTPURL(raw) {
		return fmt.Errorf("TELEGRAM_WEBHOOK_URL=%q: not an http(s) URL", bot.Clip(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("TELEGRAM_WEBHOOK_URL=%q: not an http(s) URL", bot.Clip(raw))
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || ip != nil && ip.IsLoopback() {
		return nil
	}
	if port := u.Port(); u.Scheme != "https" || (port != "" && port != "443" && port != "80" && port != "88" && port != "8443") {
		return fmt.Errorf("TELEGRAM_WEBHOOK_URL=%q: Telegram calls only https:// on port 443, 80, 88 or 8443", bot.Clip(raw))
	}
	return nil
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
