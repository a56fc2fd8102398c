package telegram

import (
	"time"

	"github.com/newsbot/newsbot/bot"
)

// DefaultLimits are Telegram's flood limits as the Bots FAQ states them
// (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this,
// summarised in /work/shared/platform-limits.md, "Flood"): about 30 messages
// per second in all, about one per second to one chat, at most 20 per minute
// to one group.
//
// The rates are the documented ones; the bursts are smaller than what the
// server tolerates (the fake allows bursts of 30, 3 and 3), so the server's
// buckets keep some tokens in reserve and the jitter between our clock and
// the server's never turns into a 429.
func DefaultLimits() bot.PaceLimits {
	return bot.PaceLimits{
		Global:   bot.Rate{Count: 30, Per: time.Second, Burst: 5},
		PerChat:  bot.Rate{Count: 1, Per: time.Second, Burst: 2},
		PerGroup: bot.Rate{Count: 20, Per: time.Minute, Burst: 2},
	}
}

// Time limits of our own.
const (
	// pollTimeout is how long one getUpdates long poll waits on the
	// server; the Bot API server caps it at 50 s.
	pollTimeout = 50 * time.Second
	// defaultRequestTimeout bounds every other request.
	defaultRequestTimeout = 15 * time.Second
	// replyPatience is how long a command's reply keeps trying through
	// 429s and server errors before it is given up (and logged): someone
	// is waiting for it.
	replyPatience = 60 * time.Second
	// maxPendingUpdates bounds updates received and not yet answered;
	// beyond it polling pauses and the webhook answers 503 (Telegram
	// retries), so a flood of commands cannot exhaust memory.
	maxPendingUpdates = 10_000
	// maxConcurrentHandlers bounds commands being answered at once (store
	// and CPU work); waiting for the pacer does not count.
	maxConcurrentHandlers = 32
	// maxWebhookBody bounds one webhook request; an update carrying a text
	// message is a few kilobytes.
	maxWebhookBody = 1 << 20
)

// isGroup tells a group or supergroup (negative ids) from a private chat.
func isGroup(chatID int64) bool { return chatID < 0 }
