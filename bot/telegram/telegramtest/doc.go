// Package telegramtest is a fake Telegram Bot API server for tests and load
// harnesses. It listens on 127.0.0.1, speaks the wire protocol the official
// server speaks (form-urlencoded, multipart or JSON requests; JSON answers
// {"ok":…} whose error_code is also the HTTP status) and enforces the limits
// production enforces, so that a sender which drifts from production fails
// here first.
//
// Point github.com/go-telegram-bot-api/telegram-bot-api/v5 at it with
//
//	srv := telegramtest.NewServer(telegramtest.Options{Token: token})
//	defer srv.Close()
//	bot, err := tgbotapi.NewBotAPIWithAPIEndpoint(token, srv.Endpoint())
//
// and drive the chats with AddPrivateChat, AddGroup, SetMember, SendText,
// Block, Kick, Mute, Unmute, Migrate, then inspect what the bot sent with
// Messages, AllMessages, WaitForMessages and Stats (429s by scope, sends made
// inside a running retry_after, the busiest window of each limit).
//
// # Limits
//
// The limits are stated in this package from the Bot API documentation
// (https://core.telegram.org/bots/api, https://core.telegram.org/bots/faq) and
// the Bot API server (https://github.com/tdlib/telegram-bot-api), never taken
// from the code under test:
//
//   - message text: 1–4096 characters after entity parsing; counted here in
//     UTF-16 code units (an emoji outside the BMP counts 2), after leading and
//     trailing white space is trimmed, as the server does. tdlib counts code
//     points, so the fake is stricter for astral characters: a sender that
//     splits at 4096 UTF-16 units is safe on both.
//   - flood control, in its strictest reading (FloodStrict, the default):
//     never more than 30 messages in any one second in all, never more than
//     20 in any minute to one group or supergroup (sliding windows), one a
//     second per chat with a short burst (3 in any 3 s); a 429 starts a flood
//     wait that refuses every send in its scope (every chat, for the global
//     limit) until its retry_after has passed, and such sends are counted.
//     FloodBuckets is the older, weaker model (token buckets, a 429
//     forgotten once sent). Options.RateScale speeds every window up by one
//     factor; a flood wait lasts the real seconds its 429 said.
//   - entities: at most 100 per message and 9,000 bytes of link URLs in
//     all, else 400 "entities too long" (see MaxEntities).
//   - a group that muted the bot (Mute) answers 400 "not enough rights to
//     send text messages to the chat" and emits my_chat_member updates.
//   - getUpdates: limit 1–100 (default 100), timeout capped at 50 s.
//   - setWebhook secret_token: 1–256 characters of A-Z a-z 0-9 _ -.
//   - setMyCommands: at most 100 commands; command 1–32 of a-z 0-9 _;
//     description 1–256 characters.
//
// # HTML parse mode
//
// ParseHTML follows tdlib's parser (the tags, attributes and error wording of
// "can't parse entities" errors), with one deliberate difference: the
// documentation requires every literal '&' to be written as an entity, and the
// fake enforces that ("AT&T" is rejected, and an entity must end with ';'),
// while the real server quietly keeps an '&' it cannot decode. A literal '>'
// is accepted, as on the real server.
//
// Parse modes Markdown and MarkdownV2 are rejected with a 400 that names the
// fake ("… is not supported by telegramtest"): newsbot sends HTML only, and a
// fake that accepted Markdown without validating it would prove nothing.
//
// # Other deliberate simplifications
//
//   - Webhook URLs may be plain http on any port (production requires https
//     on 443, 80, 88 or 8443); updates are delivered one at a time, in order.
//   - Only message updates (text messages and the migration service
//     messages) and my_chat_member updates of Mute and Unmute exist; none
//     are emitted on Block or Kick.
//   - A sendMessage that fails with an injected 5xx or 429 is not delivered; a
//     slow response is delivered only if the client is still waiting when the
//     delay ends, so a sender that times out and retries is never shown a
//     message that was silently delivered.
package telegramtest
