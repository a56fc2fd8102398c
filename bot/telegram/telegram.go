// Package telegram is newsbot's Telegram adapter: it answers commands in
// private chats and groups (long polling, or a webhook), renders briefings in
// HTML parse mode split within Telegram's limits, and sends messages paced
// within Telegram's flood limits, classifying the answers for the delivery
// queue. It is built on github.com/go-telegram-bot-api/telegram-bot-api/v5;
// what its last release lacks (the webhook secret_token, link_preview_options)
// goes through the library's own MakeRequest with Params.
package telegram

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
)

// Chats is what the adapter tells the core about chats that changed on
// Telegram's side; *briefings.Service is one.
type Chats interface {
	// MoveChat follows a group upgraded to a supergroup.
	MoveChat(ctx context.Context, from, to briefings.ChatRef) error
	// Deactivate stops deliveries to a chat the bot may no longer write
	// to (muted, removed), and Resume turns them back on when it may.
	Deactivate(ctx context.Context, chat briefings.ChatRef, reason string) error
	Resume(ctx context.Context, chat briefings.ChatRef) (briefings.Subscription, bool, error)
}

// Options configure an Adapter. Token is required; everything else has a
// default.
type Options struct {
	// Token is the bot's token from BotFather.
	Token string
	// Endpoint is the Bot API URL format, with %s for the token and then
	// the method (DefaultAPIEndpoint when empty).
	Endpoint string
	// WebhookURL, when set, switches from long polling to a webhook: the
	// adapter calls setWebhook with it and serves its path (RegisterHTTP).
	WebhookURL string
	// WebhookSecret is the secret_token Telegram echoes on every webhook
	// request; empty derives one from the token, so that every instance
	// of the bot agrees on it without configuration.
	WebhookSecret string
	// HTTPClient makes the requests; its Timeout should be zero or longer
	// than a long poll (50 s), since every request has its own deadline.
	HTTPClient *http.Client
	// Limits are the pacing budgets (DefaultLimits when zero), each rate
	// multiplied by RateScale when it is positive (tests against a fake
	// whose limits are scaled the same way).
	Limits    bot.PaceLimits
	RateScale float64
	// Chats follows groups upgraded to supergroups and the bot's rights in
	// groups (nil: neither is followed).
	Chats Chats
	// Logger gets what went wrong; slog.Default() when nil.
	Logger *slog.Logger
	// Now is the pacer's clock (time.Now when nil). It must be a real,
	// running clock: pacing waits in real time.
	Now func() time.Time
	// RequestTimeout bounds each Bot API request but the long poll
	// (15 s when zero).
	RequestTimeout time.Duration
}

// String shows the options with the secrets masked.
func (o Options) String() string {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "(set)"
	}
	return fmt.Sprintf("telegram.Options{Token:%s Endpoint:%s WebhookURL:%s WebhookSecret:%s}",
		mask(o.Token), redactor{o.Token}.string(o.Endpoint), o.WebhookURL, mask(o.WebhookSecret))
}

// GoString masks the secrets under %#v too.
func (o Options) GoString() string { return o.String() }

// Adapter is the Telegram platform: bot.Platform, and app.HTTPRouter for the
// webhook.
type Adapter struct {
	token          string
	endpoint       string
	self           tgbotapi.User
	httpClient     *http.Client
	requestTimeout time.Duration
	redact         redactor
	log            *slog.Logger
	pacer          *bot.Pacer
	chats          Chats

	webhookURL    string
	webhookPath   string
	webhookSecret string

	updates *dispatcher
	health  reachability
}

var _ bot.Platform = (*Adapter)(nil)

// ErrUnauthorized is the Bot API refusing the token (revoked, or mistyped).
var ErrUnauthorized = fmt.Errorf("telegram: the Bot API %w: the token (401): check TELEGRAM_BOT_TOKEN", bot.ErrRejected)

// New checks the token with getMe, under ctx, and returns the adapter.
func New(ctx context.Context, opts Options) (*Adapter, error) {
	if strings.TrimSpace(opts.Token) == "" {
		return nil, errors.New("telegram: no token")
	}
	if opts.Endpoint == "" {
		opts.Endpoint = DefaultAPIEndpoint
	}
	if strings.Count(opts.Endpoint, "%s") != 2 {
		return nil, errors.New("telegram: the API endpoint must be a URL format with two %s (token, method)")
	}
	if opts.HTTPClient == nil {
		// Many sends are in flight at once to one host; the default of
		// two idle connections would open and close one per request.
		opts.HTTPClient = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			ForceAttemptHTTP2:   true,
		}}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = defaultRequestTimeout
	}
	limits := opts.Limits
	if limits == (bot.PaceLimits{}) {
		limits = DefaultLimits()
	}
	if opts.RateScale > 0 {
		limits = limits.Scaled(opts.RateScale)
	}
	a := &Adapter{
		token:          opts.Token,
		endpoint:       opts.Endpoint,
		httpClient:     opts.HTTPClient,
		requestTimeout: opts.RequestTimeout,
		redact:         redactor{token: opts.Token},
		log:            opts.Logger.With("platform", "telegram"),
		pacer:          bot.NewPacer(limits, opts.Now),
		chats:          opts.Chats,
	}
	if opts.WebhookURL != "" {
		path, err := webhookPath(opts.WebhookURL)
		if err != nil {
			return nil, err
		}
		a.webhookURL, a.webhookPath = opts.WebhookURL, path
		a.webhookSecret = opts.WebhookSecret
		if a.webhookSecret == "" {
			a.webhookSecret = DeriveWebhookSecret(opts.Token)
		}
	}
	a.updates = newDispatcher(a)

	resp, err := a.call(ctx, "getMe", nil)
	if err != nil {
		return nil, fmt.Errorf("telegram: getMe: %w", a.classifyCall(err))
	}
	if err := json.Unmarshal(resp.Result, &a.self); err != nil {
		return nil, fmt.Errorf("telegram: getMe: %w", err)
	}
	if a.self.UserName == "" {
		return nil, errors.New("telegram: getMe: the bot has no username")
	}
	return a, nil
}

// classifyCall turns a 401 into ErrUnauthorized and leaves the rest.
func (a *Adapter) classifyCall(err error) error {
	var apiErr *tgbotapi.Error
	if errors.As(err, &apiErr) && apiErr.Code == http.StatusUnauthorized {
		return ErrUnauthorized
	}
	return err
}

// DeriveWebhookSecret is the webhook secret used when none is configured: a
// hash of the token, so every instance with the same token derives the same
// secret, and it reveals nothing of the token.
func DeriveWebhookSecret(token string) string {
	sum := sha256.Sum256([]byte("newsbot-webhook:" + token))
	return hex.EncodeToString(sum[:]) // 64 characters of [0-9a-f]
}

// webhookPath is the path of the webhook URL, which must be safe to use as a
// ServeMux pattern.
func webhookPath(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", errors.New("telegram: the webhook URL must be an http(s) URL")
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	for _, r := range path {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/-_.~%", r)) {
			return "", fmt.Errorf("telegram: the webhook URL's path may hold only letters, digits and / - _ . ~ (got %q)", path)
		}
	}
	return path, nil
}

// Name is the platform's label.
func (a *Adapter) Name() briefings.Platform { return briefings.PlatformTelegram }

// Username is the bot's @name, without the '@'.
func (a *Adapter) Username() string { return a.self.UserName }

// String names the adapter without its token.
func (a *Adapter) String() string { return "telegram adapter @" + a.self.UserName }

// GoString keeps the token out of %#v.
func (a *Adapter) GoString() string { return a.String() }

// Serve publishes the command menu, then answers commands, by long polling or
// through the webhook, until ctx ends.
func (a *Adapter) Serve(ctx context.Context, h *bot.Handler) error {
	if err := a.publishCommands(ctx); err != nil {
		if errors.Is(err, ErrUnauthorized) {
			return err
		}
		// The menu is a convenience; commands work without it.
		a.log.Warn("could not publish the command menu", "err", err)
	}
	a.updates.start(ctx, h)
	defer a.updates.stop()
	if a.webhookURL != "" {
		if err := a.setWebhook(ctx); err != nil {
			return err
		}
		a.log.Info("receiving updates by webhook", "path", a.webhookPath)
		<-ctx.Done()
		return nil
	}
	return a.poll(ctx)
}

// publishCommands sets the command menu from bot.Commands.
func (a *Adapter) publishCommands(ctx context.Context) error {
	var cmds []tgbotapi.BotCommand
	for _, c := range bot.Commands() {
		d := c.Description
		if c.Args != "" {
			d += " — /" + string(c.Name) + " " + c.Args
		}
		cmds = append(cmds, tgbotapi.BotCommand{Command: string(c.Name), Description: clipRunes(d, 256)})
	}
	params := tgbotapi.Params{}
	if err := params.AddInterface("commands", cmds); err != nil {
		return fmt.Errorf("telegram: setMyCommands: %w", err)
	}
	if _, err := a.call(ctx, "setMyCommands", params); err != nil {
		return fmt.Errorf("telegram: setMyCommands: %w", a.classifyCall(err))
	}
	return nil
}

// setWebhook points Telegram at the webhook with the secret it must echo.
// telegram-bot-api v5.5.1's WebhookConfig has no secret_token: it goes
// through Params.
func (a *Adapter) setWebhook(ctx context.Context) error {
	params := tgbotapi.Params{
		"url":             a.webhookURL,
		"secret_token":    a.webhookSecret,
		"allowed_updates": allowedUpdates,
	}
	if _, err := a.call(ctx, "setWebhook", params); err != nil {
		err = a.classifyCall(err)
		// The URL may carry a secret path of its own: only its host is named.
		return fmt.Errorf("telegram: setWebhook on %s: %w", hostOf(a.webhookURL), err)
	}
	return nil
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Host
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
