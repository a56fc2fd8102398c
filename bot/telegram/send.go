package telegram

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
)

// ErrRejected wraps a 400 the server will give again however often the
// message is sent (the message is malformed or too long: a bug of ours).
var ErrRejected = fmt.Errorf("telegram: message %w", bot.ErrRejected)

// Send sends one message to a chat, paced within Telegram's limits, and
// classifies the outcome: *bot.RetryAfterError for a 429 (the chat is paused
// for as long as Telegram asked), *bot.ChatGoneError for a chat that will not
// take messages, *bot.ChatMovedError for a group upgraded to a supergroup,
// anything else for a failure worth retrying. A message whose HTML Telegram
// cannot parse is logged and sent once more as plain text.
func (a *Adapter) Send(ctx context.Context, chat briefings.ChatRef, m bot.OutMessage) error {
	if chat.Platform != briefings.PlatformTelegram {
		return fmt.Errorf("telegram: send to %s: not a Telegram chat", chat)
	}
	chatID, err := strconv.ParseInt(chat.ID, 10, 64)
	if err != nil || chatID == 0 {
		return fmt.Errorf("telegram: send to %s: chat id is not a Telegram chat id", chat)
	}
	msg, ok := m.(Message)
	if !ok {
		return fmt.Errorf("telegram: send to %s: cannot send a %T", chat, m)
	}
	return a.send(ctx, chatID, msg)
}

func (a *Adapter) send(ctx context.Context, chatID int64, m Message) error {
	err := a.sendOnce(ctx, chatID, m.HTML, true)
	if err != nil && isParseEntities(err) {
		// Our renderer escapes everything; this is a bug of ours or a
		// server that parses differently. The reader still gets the news.
		a.log.Error("Telegram could not parse the HTML of a message; sending it as plain text",
			"chat", chatID, "message", m.Summary(), "err", err)
		err = a.sendOnce(ctx, chatID, m.Plain, false)
	}
	if err != nil {
		return a.classify(chatID, err)
	}
	return nil
}

// sendOnce waits for the pacer and makes one sendMessage request. The send
// holds its place in the pacer's windows until Telegram has answered; a 429
// pauses the pacer before the place is given back, so that no send waiting
// for it slips out inside the flood wait.
func (a *Adapter) sendOnce(ctx context.Context, chatID int64, text string, html bool) error {
	key := strconv.FormatInt(chatID, 10)
	done, err := a.pacer.Acquire(ctx, key, isGroup(chatID))
	if err != nil {
		return fmt.Errorf("telegram: send to %d: %w", chatID, err)
	}
	defer done()
	params := tgbotapi.Params{
		"chat_id": key,
		"text":    text,
		// v5.5.1 knows only the legacy disable_web_page_preview; the
		// current API's link_preview_options goes through Params, and
		// the legacy field stays for older self-hosted servers.
		"link_preview_options":     `{"is_disabled":true}`,
		"disable_web_page_preview": "true",
	}
	if html {
		params["parse_mode"] = "HTML"
	}
	_, err = a.call(ctx, "sendMessage", params)
	if after, ok := floodWait(err); ok {
		a.floodWait(chatID, after)
	}
	return err
}

// floodWait is how long a 429 asks to wait (at least a second).
func floodWait(err error) (time.Duration, bool) {
	var apiErr *tgbotapi.Error
	if !errors.As(err, &apiErr) || apiErr.Code != http.StatusTooManyRequests {
		return 0, false
	}
	return time.Duration(max(apiErr.RetryAfter, 1)) * time.Second, true
}

// floodWait pauses every send: Telegram does not say whether a 429 was for
// the chat, the group or the whole bot, and a flood wait for the global
// limit refuses every chat until it has passed (as python-telegram-bot's
// AIORateLimiter does).
func (a *Adapter) floodWait(chatID int64, after time.Duration) {
	a.pacer.PauseAll(after)
	// in_flight are the sends that may still reach Telegram inside the
	// wait: they left before it came.
	a.log.Warn("Telegram asked to wait: every send paused",
		"chat", chatID, "retry_after", after, "in_flight", a.pacer.InFlight()-1)
}

func isParseEntities(err error) bool {
	var apiErr *tgbotapi.Error
	// A 400 says nothing more: its description is the only discriminator.
	return errors.As(err, &apiErr) && apiErr.Code == http.StatusBadRequest &&
		strings.Contains(strings.ToLower(apiErr.Message), "can't parse entities")
}

// classify maps the Bot API's answer to the outcome the delivery queue acts
// on. The class always comes from the error code; the description only
// tells apart what one code covers.
func (a *Adapter) classify(chatID int64, err error) error {
	wrapped := fmt.Errorf("telegram: sendMessage to %d: %w", chatID, err)
	var apiErr *tgbotapi.Error
	if !errors.As(err, &apiErr) {
		return wrapped // network, timeout, ctx: transient
	}
	switch code := apiErr.Code; {
	case code == http.StatusTooManyRequests:
		after, _ := floodWait(err)
		return &bot.RetryAfterError{After: after, Global: true, Err: wrapped}
	case cantWrite(apiErr):
		return &bot.ChatGoneError{Reason: cantWriteReason, Err: fmt.Errorf("%w: %w", bot.ErrCantWrite, wrapped)}
	case code == http.StatusForbidden:
		return &bot.ChatGoneError{Reason: goneReason(apiErr.Message), Err: wrapped}
	case code == http.StatusBadRequest && apiErr.MigrateToChatID != 0:
		return &bot.ChatMovedError{NewID: strconv.FormatInt(apiErr.MigrateToChatID, 10), Err: wrapped}
	case code == http.StatusBadRequest && strings.Contains(strings.ToLower(apiErr.Message), "chat not found"):
		return &bot.ChatGoneError{Reason: "the chat no longer exists, or the bot was never in it", Err: wrapped}
	case code == http.StatusUnauthorized:
		return fmt.Errorf("%w: %w", ErrUnauthorized, wrapped)
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout:
		return fmt.Errorf("%w: %w", ErrRejected, wrapped)
	}
	return wrapped // 5xx: transient
}

// cantWriteReason is what /status shows for a chat that muted the bot.
const cantWriteReason = "the bot may not post in this chat (it was muted or restricted); " +
	"briefings start again when an administrator lets it send messages"

// cantWrite tells a chat the bot is in but may not post to. Telegram says so
// with a 400 (or 403) whose description is the only discriminator: "not
// enough rights to send text messages to the chat", "have no rights to send
// a message", or MTProto's CHAT_WRITE_FORBIDDEN and CHAT_RESTRICTED passed
// through.
func cantWrite(apiErr *tgbotapi.Error) bool {
	if apiErr.Code != http.StatusBadRequest && apiErr.Code != http.StatusForbidden {
		return false
	}
	d := strings.ToLower(apiErr.Message)
	for _, s := range []string{"not enough rights to send", "have no rights to send", "chat_write_forbidden", "chat_restricted"} {
		if strings.Contains(d, s) {
			return true
		}
	}
	return false
}

// goneReason says for people why a chat takes no messages, from a 403's
// description (the code is the same for all of them).
func goneReason(description string) string {
	d := strings.ToLower(description)
	switch {
	case strings.Contains(d, "blocked by the user"):
		return "the bot was blocked by the user"
	case strings.Contains(d, "kicked"):
		return "the bot was removed from the group"
	case strings.Contains(d, "deactivated"):
		return "the user's account was deleted"
	case strings.Contains(d, "not a member"):
		return "the bot is not a member of the chat"
	}
	return "Telegram does not let the bot write to the chat"
}

// sendReply sends a command's reply. Someone is waiting for it, so a 429 is
// waited out and a transient failure retried, for at most replyPatience; a
// reply to a group that just became a supergroup follows it there.
func (a *Adapter) sendReply(ctx context.Context, chatID int64, msgs []Message) {
	giveUp := time.Now().Add(replyPatience)
	followed := false
	for i, m := range msgs {
		backoff := time.Duration(0)
		for {
			err := a.send(ctx, chatID, m)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			var (
				retry *bot.RetryAfterError
				moved *bot.ChatMovedError
				gone  *bot.ChatGoneError
				wait  time.Duration
			)
			switch {
			case errors.As(err, &retry):
				wait = 0 // the pacer holds the next attempt back
				if time.Now().Add(retry.After).After(giveUp) {
					a.log.Error("reply given up: Telegram asks to wait too long", "chat", chatID, "part", i+1, "of", len(msgs), "retry_after", retry.After)
					return
				}
			case errors.As(err, &moved):
				to, perr := strconv.ParseInt(moved.NewID, 10, 64)
				if perr != nil || to == 0 || to == chatID || followed {
					a.log.Error("reply not delivered: chat moved", "chat", chatID, "err", err)
					return
				}
				followed = true
				a.moveChat(ctx, chatID, to)
				chatID = to
				continue
			case errors.As(err, &gone):
				a.log.Info("reply not delivered: chat gone", "chat", chatID, "reason", gone.Reason)
				return
			case errors.Is(err, ErrRejected), errors.Is(err, ErrUnauthorized):
				a.log.Error("reply rejected", "chat", chatID, "part", i+1, "of", len(msgs), "err", err)
				return
			default:
				backoff = nextBackoff(backoff)
				wait = backoff
			}
			if time.Now().Add(wait).After(giveUp) {
				a.log.Error("reply given up", "chat", chatID, "part", i+1, "of", len(msgs), "err", err)
				return
			}
			a.log.Debug("reply retried", "chat", chatID, "err", err, "in", wait)
			if bot.Sleep(ctx, wait) != nil {
				return
			}
		}
	}
}
