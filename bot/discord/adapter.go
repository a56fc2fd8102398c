// Package discord is newsbot's Discord adapter: slash commands answered over
// the gateway or an HTTP interactions endpoint, and daily briefings posted
// into channels as embeds, built on github.com/bwmarrin/discordgo.
//
// Which layer retries: discordgo would re-send a message POST after a 502
// (MaxRestRetries) and retry every 429 without a cap
// (ShouldRetryOnRateLimit). Both are off. A message POST is made exactly
// once per Send, so every repeat is a decision of the delivery queue, which
// records it in its ledger; the adapter only classifies the answer. What can
// still be posted twice is a send whose answer was lost (a timeout or a 5xx
// after Discord stored the message): at most one duplicate per such failure
// that the queue retries.
package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
)

// Options configure an Adapter.
type Options struct {
	Token string // the bot token, without "Bot "
	// GuildID registers the commands in one server (instant) instead of
	// globally.
	GuildID string
	// PublicKey (hex) is the application's public key. When set, commands
	// arrive at POST /discord/interactions (RegisterHTTP) instead of over the
	// gateway, and the adapter opens no gateway connection: any number of
	// instances can then sit behind a load balancer.
	PublicKey string
	// APIBase sends REST calls to a Discord REST proxy (or a fake) instead of
	// https://discord.com; the gateway URL is whatever its GET /gateway
	// answers.
	APIBase string
	// Transport carries REST calls (http.DefaultTransport when nil).
	Transport http.RoundTripper
	// Dialer connects to the gateway (websocket.DefaultDialer when nil).
	Dialer *websocket.Dialer
	// Limits pace every message send; zero means Discord's (DefaultLimits).
	Limits bot.PaceLimits
	// DeferAfter is how long a command's answer may take before the
	// interaction is deferred; 0 means 1.5 s, a negative value defers every
	// command at once.
	DeferAfter time.Duration
	Logger     *slog.Logger // slog.Default() when nil
	// Now is the clock of pacing and of the memory of refused channels:
	// real time (time.Now when nil), not the briefing core's clock.
	Now func() time.Time
}

// DefaultLimits keeps message sends inside Discord's budgets: the 5 per 5 s
// channel bucket spread evenly (a burst would trip Discord's fixed window),
// and the global 50 per second less a tenth, left for the adapter's other
// REST calls (permission checks, command registration) and for network
// jitter between our clock and Discord's.
func DefaultLimits() bot.PaceLimits {
	return bot.PaceLimits{
		Global:  bot.Rate{Count: globalRequestsPerSecond * 9 / 10, Per: time.Second, Burst: 1},
		PerChat: bot.Rate{Count: channelMessagesPerReset, Per: channelMessageReset, Burst: 1},
	}
}

// Adapter is the Discord platform.
type Adapter struct {
	opts       Options
	session    *discordgo.Session
	publicKey  ed25519.PublicKey
	pacer      *bot.Pacer
	gate       globalPause
	log        *slog.Logger
	now        func() time.Time
	deferAfter time.Duration
	gone       goneChannels
	perms      permissionCache
	textSent   textProgress
	tasks      tasks

	unauthorized atomic.Bool
	fatal        chan error // the first reason Serve must stop

	mu       sync.Mutex
	serving  bool
	serveCtx context.Context
	handler  *bot.Handler
	appID    string
	botID    string
}

// New returns an Adapter; it connects nothing until Serve.
func New(opts Options) (*Adapter, error) {
	if opts.Token == "" {
		return nil, errors.New("discord: DISCORD_BOT_TOKEN is empty")
	}
	a := &Adapter{opts: opts, log: opts.Logger, now: opts.Now, deferAfter: opts.DeferAfter, fatal: make(chan error, 1)}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.deferAfter == 0 {
		a.deferAfter = defaultDeferAfter
	}
	if opts.PublicKey != "" {
		key, err := hex.DecodeString(opts.PublicKey)
		if err != nil || len(key) != ed25519.PublicKeySize {
			return nil, errors.New("discord: DISCORD_PUBLIC_KEY: want the application's public key, 64 hex digits")
		}
		a.publicKey = key
	}
	gate := newRESTGate(a.now)
	a.gate = gate
	transport := &apiTransport{base: opts.Transport, gate: gate}
	if transport.base == nil {
		transport.base = http.DefaultTransport
	}
	if opts.APIBase != "" {
		u, err := url.Parse(opts.APIBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("discord: DISCORD_API_BASE: not an http(s) URL")
		}
		transport.target = u
	}
	limits := opts.Limits
	if limits == (bot.PaceLimits{}) {
		limits = DefaultLimits()
	}
	a.pacer = bot.NewPacer(limits, a.now)

	s, err := discordgo.New("Bot " + opts.Token)
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	s.Client = &http.Client{Transport: transport, Timeout: 20 * time.Second}
	if opts.Dialer != nil {
		s.Dialer = opts.Dialer
	}
	// Every repeat of a request is the delivery queue's decision (see the
	// package comment).
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	// discordgo logs through the standard logger; the adapter logs what
	// matters itself, with slog.
	s.LogLevel = discordgo.LogError - 1
	// Interactions need no intent; GUILDS fills the State (roles, channels,
	// the bot's member) that permission checks read.
	s.Identify.Intents = discordgo.IntentsGuilds
	s.State.TrackPresences = false
	s.State.TrackVoice = false
	s.State.TrackEmojis = false
	s.State.TrackStickers = false
	s.State.TrackThreads = false
	s.State.TrackThreadMembers = false
	a.session = s
	return a, nil
}

// Name is the platform's label.
func (a *Adapter) Name() briefings.Platform { return briefings.PlatformDiscord }

// Session is the underlying discordgo session, for tests and tools.
func (a *Adapter) Session() *discordgo.Session { return a.session }

// Serve connects to Discord, registers the slash commands and answers them
// until ctx ends. It returns an error when Discord rejects the token.
func (a *Adapter) Serve(ctx context.Context, h *bot.Handler) error {
	a.mu.Lock()
	if a.serving {
		a.mu.Unlock()
		return errors.New("discord: Serve called twice")
	}
	a.serving, a.serveCtx, a.handler = true, ctx, h
	a.mu.Unlock()
	defer a.tasks.close()

	mode := "gateway"
	if a.publicKey != nil {
		mode = "http"
		if err := a.whileRateLimited(ctx, func() error { return a.identifyOverREST(ctx) }); err != nil {
			return err
		}
	} else {
		remove := a.session.AddHandler(func(s *discordgo.Session, ic *discordgo.InteractionCreate) {
			it := ic.Interaction
			a.tasks.do(func() {
				a.answer(ctx, it, func(resp *discordgo.InteractionResponse) error {
					return s.InteractionRespond(it, resp, discordgo.WithContext(ctx))
				})
			})
		})
		defer remove()
		if err := a.whileRateLimited(ctx, a.session.Open); err != nil {
			return a.startError("connect to the gateway", err)
		}
		defer a.closeGateway()
		a.identifyFromReady()
	}
	if ctx.Err() != nil {
		return nil
	}
	var cmds []*discordgo.ApplicationCommand
	err := a.whileRateLimited(ctx, func() error {
		var err error
		cmds, err = a.session.ApplicationCommandBulkOverwrite(a.applicationID(), a.opts.GuildID, ApplicationCommands(), discordgo.WithContext(ctx))
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return a.startError("register slash commands", err)
	}
	scope := "global (may take up to an hour to appear)"
	if a.opts.GuildID != "" {
		scope = "server " + a.opts.GuildID
	}
	a.log.Info("discord: ready", "mode", mode, "commands", len(cmds), "registered", scope)
	select {
	case <-ctx.Done():
		return nil
	case err := <-a.fatal:
		return err
	}
}

// startRetries bounds how often a start-up call is repeated after 429s.
const startRetries = 5

// whileRateLimited runs a start-up call (connecting, registering the
// commands) again after a 429, rather than failing the start over a limit
// that passes: a global 429 is waited out by the gate before the call goes
// out again, a route's for its retry_after.
func (a *Adapter) whileRateLimited(ctx context.Context, call func() error) error {
	for attempt := 1; ; attempt++ {
		err := call()
		f := describeFailure(err, nil)
		if err == nil || f.status != http.StatusTooManyRequests || attempt == startRetries || ctx.Err() != nil {
			return err
		}
		a.log.Warn("discord: rate limited while starting; trying again", "attempt", attempt, "retry_after", f.retryAfter)
		if err := bot.Sleep(ctx, max(f.retryAfter, minRetryAfter)); err != nil {
			return err
		}
	}
}

// startError explains a failure while starting; a rejected token gets a
// message that says so.
func (a *Adapter) startError(what string, err error) error {
	var closeErr *websocket.CloseError
	if describeFailure(err, nil).status == http.StatusUnauthorized ||
		(errors.As(err, &closeErr) && closeErr.Code == 4004) {
		a.unauthorized.Store(true)
		return fmt.Errorf("discord: %s: %w", what, ErrUnauthorized)
	}
	return fmt.Errorf("discord: %s: %w", what, err)
}

// identifyOverREST learns the application and bot user ids without a
// gateway connection; it also checks the token before anything else runs.
func (a *Adapter) identifyOverREST(ctx context.Context) error {
	u, err := a.session.User("@me", discordgo.WithContext(ctx))
	if err != nil {
		return a.startError("check the token", err)
	}
	appID := u.ID
	// The application's id equals its bot user's for every application
	// created since 2019; ask for it anyway, and fall back to that rule.
	if app, err := a.session.Application("@me"); err == nil && app.ID != "" {
		appID = app.ID
	}
	a.mu.Lock()
	a.appID, a.botID = appID, u.ID
	a.mu.Unlock()
	return nil
}

// identifyFromReady takes the ids from the gateway's READY.
func (a *Adapter) identifyFromReady() {
	st := a.session.State
	st.RLock()
	var appID, botID string
	if st.User != nil {
		botID = st.User.ID
	}
	if st.Application != nil {
		appID = st.Application.ID
	}
	st.RUnlock()
	if appID == "" {
		appID = botID
	}
	a.mu.Lock()
	a.appID, a.botID = appID, botID
	a.mu.Unlock()
}

func (a *Adapter) applicationID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.appID
}

func (a *Adapter) botUserID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.botID
}

// closeGateway closes the websocket for good: no reconnect.
func (a *Adapter) closeGateway() {
	a.session.Lock()
	a.session.ShouldReconnectOnError = false
	a.session.Unlock()
	if err := a.session.Close(); err != nil {
		a.log.Debug("discord: closing the gateway", "err", err)
	}
}

// stopFor records that Discord rejected the token: Serve returns err and
// no further request is made.
func (a *Adapter) stopFor(err error) {
	if a.unauthorized.Swap(true) {
		return
	}
	a.log.Error("discord: the bot token was rejected; stopping the Discord adapter", "err", err)
	select {
	case a.fatal <- err:
	default:
	}
}

// RenderBriefing renders a briefing as embeds (see the package function).
func (a *Adapter) RenderBriefing(b briefings.Briefing) ([]bot.OutMessage, error) {
	msgs := RenderBriefing(b)
	out := make([]bot.OutMessage, len(msgs))
	for i, m := range msgs {
		out[i] = m
	}
	return out, nil
}

// Send posts one message to a channel, paced within Discord's limits, and
// classifies Discord's answer (see bot.Platform).
//
// Before each message it reads the bot's permissions in the channel (from
// the gateway's State, or over REST, remembered for a minute): a channel
// the bot cannot post in stops the delivery with the reason /status shows,
// without a refused request; a channel where it lacks Embed Links gets the
// message's text form (Message.Text) instead, since Discord would refuse
// its embeds or post them hidden.
func (a *Adapter) Send(ctx context.Context, chat briefings.ChatRef, m bot.OutMessage) error {
	msg, ok := m.(*Message)
	if !ok || msg == nil {
		return fmt.Errorf("discord: send: %T is not a Discord message", m)
	}
	if chat.Platform != briefings.PlatformDiscord || chat.ID == "" {
		return fmt.Errorf("discord: send: %s is not a Discord channel", chat)
	}
	if a.unauthorized.Load() {
		return ErrUnauthorized
	}
	if reason, gone := a.gone.lookup(chat.ID, a.now()); gone {
		return &bot.ChatGoneError{Reason: reason, Err: errors.New("discord: Discord refused this channel earlier; not asking again")}
	}
	if err := a.whilePaused(); err != nil {
		return err
	}
	perms, err := a.postingPermissions(ctx, chat.ID, false)
	if err != nil {
		return err
	}
	// A message whose text form is partly posted finishes as text, even if
	// Embed Links came back meanwhile.
	if (perms&permEmbedLinks == 0 && len(msg.Embeds) > 0) || a.textSent.next(textKey{chat.ID, msg}) > 0 {
		return a.sendText(ctx, chat.ID, msg)
	}
	err = a.post(ctx, chat.ID, msg.Content, msg.Embeds)
	var refused *permissionRefusal
	if !errors.As(err, &refused) {
		return err
	}
	// Refused although the permissions read before allowed it: they
	// changed since (the gateway's State may not have heard yet). Read them
	// afresh: a channel the bot can still post in gets the text form, which
	// needs no Embed Links — the likeliest permission behind a 50013 for a
	// message with embeds.
	a.perms.forget(chat.ID)
	if _, err := a.postingPermissions(ctx, chat.ID, true); err != nil {
		return err
	}
	if len(msg.Embeds) > 0 && refused.code == codeMissingPermissions {
		return a.sendText(ctx, chat.ID, msg)
	}
	return a.chatGone(chat.ID, refused.gone)
}

// errGlobalPause is why a send waits without asking Discord.
var errGlobalPause = errors.New("discord: Discord's global rate limit is running; no request goes out until it ends")

// whilePaused answers a send during a global 429 without a request: the
// delivery queue then holds the whole platform instead of a worker.
func (a *Adapter) whilePaused() error {
	until := a.gate.pausedUntil()
	if until.IsZero() {
		return nil
	}
	return &bot.RetryAfterError{After: max(until.Sub(a.now()), time.Millisecond), Global: true, Err: errGlobalPause}
}

// postingPermissions is the bot's permissions in a channel it may post in;
// when it may not, the error is a ChatGoneError naming what it lacks. fresh
// reads past what REST reads remembered.
func (a *Adapter) postingPermissions(ctx context.Context, channelID string, fresh bool) (int64, error) {
	perms, ok := a.permissionsFromState(channelID)
	if !ok && !fresh {
		perms, ok = a.perms.lookup(channelID, a.now())
	}
	if !ok {
		info := &callInfo{}
		var err error
		perms, err = a.permissionsOverREST(withCallInfo(ctx, info), "", channelID, fresh)
		if err != nil {
			return 0, a.settle(channelID, err, describeFailure(err, info), nil)
		}
		a.perms.remember(channelID, perms, a.now())
	}
	if perms&permViewChannel == 0 || perms&permSendMessages == 0 {
		return 0, a.chatGone(channelID, &bot.ChatGoneError{
			Reason: "the bot lacks " + listNames(missingToPost(perms)) + " in " + a.channelLabel(channelID),
			Err:    errors.New("discord: not sent: the bot's permissions in the channel do not allow it"),
		})
	}
	return perms, nil
}

// permissionRefusal is a 403 to a message: the permissions the adapter read
// were out of date.
type permissionRefusal struct {
	code int // Discord's error code
	gone *bot.ChatGoneError
}

func (e *permissionRefusal) Error() string { return e.gone.Error() }
func (e *permissionRefusal) Unwrap() error { return e.gone }

// post sends one message, paced, and classifies Discord's answer; a 403 is
// returned as a *permissionRefusal for Send to look into.
func (a *Adapter) post(ctx context.Context, channelID, content string, embeds []*discordgo.MessageEmbed) error {
	if err := a.pacer.Wait(ctx, channelID, false); err != nil {
		return fmt.Errorf("discord: send to %s: %w", channelID, err)
	}
	info := &callInfo{}
	_, err := a.session.ChannelMessageSendComplex(channelID, &discordgo.MessageSend{
		Content:         content,
		Embeds:          embeds,
		AllowedMentions: noMentions(),
	}, discordgo.WithContext(withCallInfo(ctx, info)))
	if err == nil {
		return nil
	}
	f := describeFailure(err, info)
	var missing []string
	if f.status == http.StatusForbidden {
		if perms, ok := a.permissionsFromState(channelID); ok {
			missing = missingToPost(perms)
		}
		var gone *bot.ChatGoneError
		if out := classifySend(err, f, a.channelLabel(channelID), missing); errors.As(out, &gone) {
			return &permissionRefusal{code: f.code, gone: gone}
		}
	}
	return a.settle(channelID, err, f, missing)
}

// settle classifies a failed REST call made for a send and acts on what it
// means for the adapter: a pause, a channel remembered as gone, a stop.
func (a *Adapter) settle(channelID string, err error, f restFailure, missing []string) error {
	out := classifySend(err, f, a.channelLabel(channelID), missing)
	var ra *bot.RetryAfterError
	var gone *bot.ChatGoneError
	switch {
	case errors.As(out, &ra):
		// A global 429 has already paused every route in the transport's
		// gate; only a channel's own limit is the pacer's.
		if !ra.Global {
			a.pacer.Pause(channelID, false, ra.After)
		}
		a.log.Warn("discord: rate limited", "channel", channelID, "retry_after", ra.After, "global", ra.Global)
	case errors.As(out, &gone):
		return a.chatGone(channelID, gone)
	case errors.Is(out, ErrUnauthorized):
		a.stopFor(out)
	}
	return out
}

// chatGone remembers that a channel takes no messages, so that further
// sends stop without a request.
func (a *Adapter) chatGone(channelID string, gone *bot.ChatGoneError) error {
	a.gone.remember(channelID, gone.Reason, a.now())
	a.perms.forget(channelID)
	a.textSent.forgetChannel(channelID)
	return gone
}

// sendText posts a message's text form, part after part. The parts already
// posted are remembered, so a send retried after a 429 or a failure goes on
// with the next part instead of posting the first ones again.
func (a *Adapter) sendText(ctx context.Context, channelID string, msg *Message) error {
	parts := msg.Text
	if len(parts) == 0 {
		// A message rendered without a text form: its content alone, when it
		// has one, is still something people can read.
		if strings.TrimSpace(msg.Content) == "" {
			return a.chatGone(channelID, &bot.ChatGoneError{
				Reason: "the bot lacks Embed Links in " + a.channelLabel(channelID),
				Err:    errors.New("discord: not sent: the message has no text form to post without Embed Links"),
			})
		}
		parts = []string{msg.Content}
	}
	key := textKey{channelID, msg}
	for k := a.textSent.next(key); k < len(parts); k++ {
		err := a.post(ctx, channelID, parts[k], nil)
		var refused *permissionRefusal
		if errors.As(err, &refused) {
			return a.chatGone(channelID, refused.gone)
		}
		if err != nil {
			return err
		}
		a.textSent.record(key, k+1, k+1 == len(parts))
	}
	a.log.Info("discord: no Embed Links in the channel; posted the message as text", "channel", channelID, "parts", len(parts))
	return nil
}

// channelLabel names a channel for people: "#news" when the State knows it.
func (a *Adapter) channelLabel(channelID string) string {
	if ch, err := a.session.State.Channel(channelID); err == nil {
		a.session.State.RLock()
		name := ch.Name
		a.session.State.RUnlock()
		if name != "" {
			return "#" + name
		}
	}
	return "channel " + channelID
}

// permissionsFromState computes the bot's permissions in a channel from the
// gateway's State, when it holds the guild, the channel and the bot's
// member.
func (a *Adapter) permissionsFromState(channelID string) (int64, bool) {
	st := a.session.State
	botID := a.botUserID()
	if botID == "" {
		return 0, false
	}
	ch, err := st.Channel(channelID)
	if err != nil {
		return 0, false
	}
	st.RLock()
	guildID := ch.GuildID
	st.RUnlock()
	g, err := st.Guild(guildID)
	if err != nil {
		return 0, false
	}
	m, err := st.Member(guildID, botID)
	if err != nil {
		return 0, false
	}
	st.RLock()
	defer st.RUnlock()
	return channelPermissions(permissionInput{
		GuildID: g.ID, OwnerID: g.OwnerID, Roles: g.Roles, Overwrites: ch.PermissionOverwrites,
		MemberID: botID, MemberRoles: m.Roles,
	}), true
}

// permissionsOverREST computes the bot's permissions in a channel from
// REST: the channel's overwrites, and the server's roles, owner and the
// bot's member — those three remembered per server for permissionMemory
// unless fresh, since one server's channels share them and its routes'
// buckets would otherwise pace a broadcast to its channels at a few reads
// a second. A channel the bot cannot see answers 403, which means no
// permissions at all.
func (a *Adapter) permissionsOverREST(ctx context.Context, guildID, channelID string, fresh bool) (int64, error) {
	botID := a.botUserID()
	if botID == "" {
		// Not serving (yet): the bot's id comes from its token's user.
		u, err := a.session.User("@me", discordgo.WithContext(ctx))
		if err != nil {
			return 0, fmt.Errorf("discord: read the bot's user: %w", err)
		}
		botID = u.ID
		a.mu.Lock()
		if a.botID == "" {
			a.botID = botID
		}
		a.mu.Unlock()
	}
	ch, err := a.session.Channel(channelID, discordgo.WithContext(ctx))
	if err != nil {
		if f := describeFailure(err, nil); f.code == codeMissingAccess || f.status == http.StatusForbidden {
			return 0, nil
		}
		return 0, fmt.Errorf("discord: read channel %s: %w", channelID, err)
	}
	if guildID == "" {
		guildID = ch.GuildID
	}
	srv, ok := a.perms.server(guildID, a.now())
	if fresh || !ok {
		g, err := a.session.Guild(guildID, discordgo.WithContext(ctx))
		if err != nil {
			return 0, fmt.Errorf("discord: read server %s: %w", guildID, err)
		}
		m, err := a.session.GuildMember(guildID, botID, discordgo.WithContext(ctx))
		if err != nil {
			return 0, fmt.Errorf("discord: read the bot's member in %s: %w", guildID, err)
		}
		srv = serverPermissions{ownerID: g.OwnerID, roles: g.Roles, memberRoles: m.Roles}
		a.perms.rememberServer(guildID, srv, a.now())
	}
	return channelPermissions(permissionInput{
		GuildID: guildID, OwnerID: srv.ownerID, Roles: srv.roles, Overwrites: ch.PermissionOverwrites,
		MemberID: botID, MemberRoles: srv.memberRoles,
	}), nil
}

// tasks tracks the interaction answers in flight, so Serve returns only
// after they have finished.
type tasks struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// do runs f in a goroutine unless the tasks are closed; it reports whether
// f was started.
func (t *tasks) do(f func()) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.wg.Go(f)
	return true
}

func (t *tasks) close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.wg.Wait()
}
