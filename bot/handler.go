package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// Request is one command from a chat, as an adapter hands it over.
type Request struct {
	Chat briefings.ChatRef
	// Text is the message as typed; ignored when Command is set (Discord
	// fills Command from typed options).
	Text    string
	Command *Command
	// MayManage says whether the sender may change the chat's subscription
	// (a group administrator, a server manager). Nil means yes: private chats
	// and the console. It is asked only for the commands that need it.
	MayManage func(ctx context.Context) (bool, error)
	// Document is a file sent with the command (/sources import).
	Document *Document
}

// Reply is the answer to a Request. Exactly one of Briefing and Text is set;
// adapters render a Briefing in their platform's format and Text as plain
// text, escaped for the platform. File, when set, is sent as an attachment
// in place of Text, which says the same in words.
type Reply struct {
	Briefing *briefings.Briefing
	Text     string
	File     *File
	// Err is set when the command failed; Text then holds what to tell the
	// user, Err what to log.
	Err error
}

// Handler answers commands with the Service.
type Handler struct {
	Service     *briefings.Service
	BotUsername string // the bot's own @name, to recognize /cmd@name in groups
	Logger      *slog.Logger
}

// Handle answers one request. It never panics on user input and always
// returns something to say.
func (h *Handler) Handle(ctx context.Context, req Request) Reply {
	cmd := req.Command
	if cmd == nil {
		parsed, err := ParseCommand(req.Text, h.BotUsername)
		if err != nil {
			return Reply{Text: err.Error()}
		}
		cmd = &parsed
	}
	reply := h.handle(ctx, req, *cmd)
	if reply.Err != nil {
		h.logger().Error("command failed", "chat", req.Chat.String(), "command", string(cmd.Name), "err", reply.Err)
	}
	return reply
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// ErrNotAllowed is the reply's Err when the sender may not manage the chat.
var ErrNotAllowed = errors.New("sender may not manage this chat's subscription")

func (h *Handler) handle(ctx context.Context, req Request, cmd Command) Reply {
	switch cmd.Name {
	case CmdBrief:
		b, err := h.Service.BriefChat(ctx, req.Chat, briefings.Topics{Include: cmd.Words})
		if err != nil {
			return failed(err)
		}
		if len(b.Entries) == 0 {
			if len(cmd.Words) > 0 {
				return Reply{Text: fmt.Sprintf("No current stories about %s. Try other words, or /brief for everything.", strings.Join(cmd.Words, " or "))}
			}
			return Reply{Text: "No stories yet: the feeds have not been read. Try again in a minute."}
		}
		return Reply{Briefing: &b}
	case CmdHelp:
		if cmd.Start {
			sub, resumed, err := h.Service.Resume(ctx, req.Chat)
			if err != nil {
				return failed(err)
			}
			if resumed {
				return Reply{Text: fmt.Sprintf("Welcome back: your daily briefing at %s %s is on again; the next one is %s.\n\n%s",
					sub.At, sub.Zone, formatLocal(sub.NextDue, sub.Zone, h.Service.Now()), HelpText())}
			}
		}
		return Reply{Text: HelpText()}
	case CmdSources:
		return h.sources(ctx, req, cmd)
	case CmdStatus:
		st, err := h.Service.Status(ctx, req.Chat)
		if err != nil {
			return failed(err)
		}
		return Reply{Text: StatusText(st) + h.sourcesStatus(ctx, req.Chat)}
	}

	// The rest change the chat's subscription.
	if req.MayManage != nil {
		ok, err := req.MayManage(ctx)
		if err != nil {
			return failed(fmt.Errorf("check permission: %w", err))
		}
		if !ok {
			return Reply{Text: "Only the chat's administrators can change its subscription. Anyone can use /brief.", Err: nil}
		}
	}
	switch cmd.Name {
	case CmdSubscribe:
		sub, err := h.Service.Subscribe(ctx, req.Chat, briefings.SubscribeRequest{At: cmd.At, Zone: cmd.Zone})
		if err != nil {
			return failed(err)
		}
		return Reply{Text: fmt.Sprintf("Subscribed: a briefing every day at %s %s. The next one is %s. Change it with /subscribe HH:MM Zone, stop with /unsubscribe.",
			sub.At, sub.Zone, formatLocal(sub.NextDue, sub.Zone, h.Service.Now()))}
	case CmdUnsubscribe:
		_, err := h.Service.Unsubscribe(ctx, req.Chat)
		if errors.Is(err, briefings.ErrNotSubscribed) {
			return Reply{Text: "This chat has no daily briefing to stop. Start one with /subscribe 07:30 Europe/Berlin."}
		}
		if err != nil {
			return failed(err)
		}
		return Reply{Text: "Unsubscribed: no more daily briefings here. /subscribe brings them back."}
	case CmdTopics:
		topics, err := h.Service.ChangeTopics(ctx, req.Chat, cmd.Include, cmd.Exclude, cmd.Remove)
		if err != nil {
			return failed(err)
		}
		if topics.IsZero() {
			return Reply{Text: "Your daily briefing follows every story. Narrow it with /topics +word, avoid words with /topics -word."}
		}
		return Reply{Text: "Your daily briefing follows: " + topicsText(topics) + ". Change it with /topics +word or -word; !word forgets a word."}
	}
	return failed(fmt.Errorf("command %q has no handler", cmd.Name))
}

// failed is the reply to a command that broke on our side: the user gets an
// apology, the log gets the cause.
func failed(err error) Reply {
	return Reply{Text: "Sorry, something went wrong on my side. Please try again in a minute.", Err: err}
}

// HelpText lists the commands with their forms.
func HelpText() string {
	var b strings.Builder
	b.WriteString("newsbot sends short news briefings: a headline, two or three sentences, and the links.\n")
	for _, c := range Commands() {
		form := "/" + string(c.Name)
		if c.Args != "" {
			form += " " + c.Args
		}
		fmt.Fprintf(&b, "\n%s — %s. Example: %s", form, c.Description, c.Example)
	}
	return b.String()
}

// StatusText is the /status reply.
func StatusText(st briefings.Status) string {
	var b strings.Builder
	sub := st.Subscription
	loc := st.Zone
	fmt.Fprintf(&b, "Now: %s.", st.Now.In(loc.Location()).Format("Mon 2 Jan 15:04 MST"))
	if !st.Subscribed() {
		b.WriteString("\nNo daily briefing here. Start one with /subscribe 07:30 Europe/Berlin.")
		if !sub.Topics.IsZero() {
			b.WriteString("\nTopics kept for when you subscribe: " + topicsText(sub.Topics) + ".")
		}
		if sub.LastError != "" {
			b.WriteString("\nDeliveries stopped because: " + sub.LastError + ".")
		}
		return b.String()
	}
	fmt.Fprintf(&b, "\nDaily briefing at %s %s.", sub.At, sub.Zone)
	if sub.Topics.IsZero() {
		b.WriteString("\nTopics: every story.")
	} else {
		b.WriteString("\nTopics: " + topicsText(sub.Topics) + ".")
	}
	fmt.Fprintf(&b, "\nNext delivery: %s.", formatLocal(sub.NextDue, loc, st.Now))
	switch {
	case sub.LastDeliveredAt.IsZero() && sub.LastError == "":
		b.WriteString("\nLast delivery: none yet.")
	case sub.LastError != "":
		last := "never delivered"
		if !sub.LastDeliveredAt.IsZero() {
			last = "last delivered " + formatLocal(sub.LastDeliveredAt, loc, st.Now)
		}
		fmt.Fprintf(&b, "\nLast delivery failed: %s (%s).", sub.LastError, last)
	default:
		fmt.Fprintf(&b, "\nLast delivery: %s.", formatLocal(sub.LastDeliveredAt, loc, st.Now))
	}
	return b.String()
}

func topicsText(t briefings.Topics) string {
	var parts []string
	if len(t.Include) > 0 {
		parts = append(parts, "stories about "+strings.Join(t.Include, ", "))
	}
	if len(t.Exclude) > 0 {
		parts = append(parts, "none about "+strings.Join(t.Exclude, ", "))
	}
	return strings.Join(parts, "; ")
}

// formatLocal shows an instant in the subscriber's zone, with the day when it
// is not today.
func formatLocal(t time.Time, zone briefings.Zone, now time.Time) string {
	loc := zone.Location()
	lt := t.In(loc)
	sameDate := func(a, b time.Time) bool { return a.Format(time.DateOnly) == b.Format(time.DateOnly) }
	switch ln := now.In(loc); {
	case sameDate(lt, ln):
		return "today " + lt.Format("15:04 MST")
	case sameDate(lt, ln.AddDate(0, 0, 1)):
		return "tomorrow " + lt.Format("Mon 2 Jan 15:04 MST")
	}
	return lt.Format("Mon 2 Jan 2006 15:04 MST")
}
