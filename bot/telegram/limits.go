package telegram

import (
	"time"

	"github.com/newsbot/newsbot/bot"
)

// DefaultLimits are Telegram's flood limits in their strictest reading (the
// Bots FAQ, https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this,
// summarised in /work/shared/platform-limits.md, "Flood"): never more than 30
// messages in any second in all, one in any second to one chat, 20 in any
// minute to one group. Each is a sliding window (bot.Rate), and a send counts
// in it until Telegram has answered, so no delay on the way makes Telegram
// see more. The margin (1% of a second) is for a server clock that runs a
// little apart from ours; the bursts only spread the sends inside a window.
func DefaultLimits() bot.PaceLimits {
	return bot.PaceLimits{
		Global:   bot.Rate{Count: 30, Per: time.Second, Burst: 10},
		PerChat:  bot.Rate{Count: 1, Per: time.Second, Burst: 1},
		PerGroup: bot.Rate{Count: 20, Per: time.Minute, Burst: 5},
		Margin:   10 * time.Millisecond,
	}
}

// Message entity limits. Telegram documents none, but refuses a message
// whose entities are too many or too large with 400 "Bad Request: entities
// too long" (MTProto ENTITIES_TOO_LONG). A text_link's URL counts in full:
// tdlib's maintainer called about 9,500 characters of a link-heavy Markdown
// text "a good approximation of the current limit on the total message
// entities size" (tdlib/telegram-bot-api#165), and formatting past the 100th
// entity has been reported dropped (rubenlagus/TelegramBots#854). Messages
// are split below both, with room to spare.
const (
	maxEntitiesPerMessage  = 100
	maxLinkBytesPerMessage = 8000
	// maxLinkBytes is the longest URL made a link; a longer one (a
	// tracking URL gone wrong) is shown as its outlet's name only.
	maxLinkBytes = 2048
)

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
