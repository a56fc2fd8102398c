package telegramtest

import (
	"fmt"
	"math"
	"time"
)

// Documented limits of the Telegram Bot API. They are written down here from
// the documentation on purpose: importing them from the code under test would
// let a sender that drifts from production pass against the fake.
const (
	// MaxMessageLength is the longest sendMessage text, in UTF-16 code units
	// after entity parsing (https://core.telegram.org/bots/api#sendmessage).
	MaxMessageLength = 4096
	// MaxUpdatesLimit is the largest getUpdates limit, and the default.
	MaxUpdatesLimit = 100
	// MaxPollTimeout is the longest getUpdates long poll the server honours.
	MaxPollTimeout = 50 * time.Second
	// MaxSecretTokenLength is the longest setWebhook secret_token.
	MaxSecretTokenLength = 256
	// MaxCommands is the most commands one setMyCommands call may publish.
	MaxCommands = 100
	// MaxCommandLength is the longest command name, without the slash.
	MaxCommandLength = 32
	// MaxCommandDescriptionLength is the longest command description.
	MaxCommandDescriptionLength = 256
	// SecretTokenHeader carries setWebhook's secret_token on every delivery.
	SecretTokenHeader = "X-Telegram-Bot-Api-Secret-Token"
	// MaxEntities and MaxEntityURLBytes bound one message's entities:
	// Telegram documents no figure, but refuses a message whose entities
	// are too large with 400 "entities too long" (MTProto
	// ENTITIES_TOO_LONG, "You provided too many styled message
	// entities"). tdlib's maintainer called ~9,500 characters of a
	// link-heavy Markdown text a good approximation of the limit on the
	// total entity size (tdlib/telegram-bot-api#165), most of it URLs;
	// formatting past the 100th entity has been reported dropped
	// (rubenlagus/TelegramBots#854). The fake refuses either.
	MaxEntities       = 100
	MaxEntityURLBytes = 9000
)

// FloodModel is how the fake reads the flood limits.
type FloodModel int

const (
	// FloodStrict, the default, is the strictest reading of the Bots FAQ:
	// never more than Count messages in any window of Per in all and per
	// group (sliding windows, Burst unused), per chat never more than
	// Burst in any Burst×Per (one a second, with a short burst); and a
	// 429 starts a flood wait that refuses every send in its scope (every
	// chat, for the global limit) until its retry_after has passed.
	FloodStrict FloodModel = iota
	// FloodBuckets is the older, weaker model: a token bucket per limit,
	// and a 429 forgotten as soon as it is sent.
	FloodBuckets
)

// Rate is a token bucket: Count messages per Per on average, of which Burst
// may be sent back to back.
type Rate struct {
	Count int
	Per   time.Duration
	Burst int
}

func (r Rate) String() string {
	return fmt.Sprintf("%d per %s (burst %d)", r.Count, r.Per, r.Burst)
}

// perSecond is the bucket's refill rate, sped up by scale.
func (r Rate) perSecond(scale float64) float64 {
	return float64(r.Count) / r.Per.Seconds() * scale
}

func (r Rate) validate(name string) error {
	if r.Count <= 0 || r.Per <= 0 || r.Burst <= 0 {
		return fmt.Errorf("telegramtest: limit %s must have positive Count, Per and Burst, got %s", name, r)
	}
	return nil
}

// Limits are the flood limits the fake enforces on sendMessage. A message to a
// group, supergroup or channel is counted by PerChat, PerGroup and Global; a
// message to a private chat by PerChat and Global.
type Limits struct {
	PerChat  Rate
	PerGroup Rate
	Global   Rate
}

// DefaultLimits are the limits from the Bots FAQ: about one message per second
// to one chat ("short bursts" tolerated: 3), 20 messages per minute to one
// group, about 30 messages per second in all. The bursts of the group and
// global limits matter only to FloodBuckets (group burst 3, so no minute sees
// much more than 20; global: one second's worth).
func DefaultLimits() Limits {
	return Limits{
		PerChat:  Rate{Count: 1, Per: time.Second, Burst: 3},
		PerGroup: Rate{Count: 20, Per: time.Minute, Burst: 3},
		Global:   Rate{Count: 30, Per: time.Second, Burst: 30},
	}
}

// withDefaults fills every zero Rate from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.PerChat == (Rate{}) {
		l.PerChat = d.PerChat
	}
	if l.PerGroup == (Rate{}) {
		l.PerGroup = d.PerGroup
	}
	if l.Global == (Rate{}) {
		l.Global = d.Global
	}
	return l
}

func (l Limits) validate() error {
	if err := l.PerChat.validate("PerChat"); err != nil {
		return err
	}
	if err := l.PerGroup.validate("PerGroup"); err != nil {
		return err
	}
	return l.Global.validate("Global")
}

// bucket is one token bucket. Its zero value is a full bucket.
type bucket struct {
	started bool
	tokens  float64
	last    time.Time
}

// refill brings the bucket up to now and returns how long until it holds a
// whole token (zero when it already does).
func (b *bucket) refill(now time.Time, r Rate, scale float64) time.Duration {
	rate := r.perSecond(scale)
	burst := float64(r.Burst)
	if !b.started {
		b.started, b.tokens, b.last = true, burst, now
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(burst, b.tokens+elapsed*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// retryAfterSeconds is what a 429 tells the client: whole seconds, at least 1.
func retryAfterSeconds(wait time.Duration) int {
	s := int(math.Ceil(wait.Seconds()))
	if s < 1 {
		return 1
	}
	return s
}

// slidingWindow is the sends accepted within the last window, oldest first.
type slidingWindow []time.Time

// prune forgets what left the window of length per before now.
func (w *slidingWindow) prune(now time.Time, per time.Duration) {
	i := 0
	for i < len(*w) && !(*w)[i].After(now.Add(-per)) {
		i++
	}
	*w = (*w)[i:]
}

// wait is how long until the window of length per admits one more of at
// most count (zero when it does now).
func (w *slidingWindow) wait(now time.Time, per time.Duration, count int) time.Duration {
	w.prune(now, per)
	if len(*w) < count {
		return 0
	}
	return (*w)[len(*w)-count].Add(per).Sub(now)
}

// within counts the sends in the last per before now (inclusive).
func (w slidingWindow) within(now time.Time, per time.Duration) int {
	n := 0
	for i := len(w) - 1; i >= 0 && w[i].After(now.Add(-per)); i-- {
		n++
	}
	return n
}

// scaled is d on a clock scale times as fast.
func scaled(d time.Duration, scale float64) time.Duration {
	return time.Duration(float64(d) / scale)
}
