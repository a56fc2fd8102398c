// Package bot is the process around the briefing core: the command grammar
// every adapter shares, the handler that turns a command into a reply, the
// pacer, and the scheduler and delivery queues that carry out the daily
// rules of package briefings. Adapters in bot/console, bot/telegram and
// bot/discord translate between their platform and this package;
// configuration is read in bot/app/config.
package bot

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newsbot/newsbot/briefings"
)

// CommandName is one of the commands newsbot understands.
type CommandName string

const (
	CmdBrief       CommandName = "brief"
	CmdSubscribe   CommandName = "subscribe"
	CmdUnsubscribe CommandName = "unsubscribe"
	CmdTopics      CommandName = "topics"
	CmdStatus      CommandName = "status"
	CmdSources     CommandName = "sources"
	CmdHelp        CommandName = "help"
)

// Command is a parsed chat command, the same value whichever platform it came
// from: Telegram and the console parse text into it, Discord fills it from
// typed options.
type Command struct {
	Name CommandName

	// /brief: topic words to filter by.
	Words []string

	// /subscribe: the time of day and zone, when given (a zero Zone when not).
	At   *briefings.TimeOfDay
	Zone briefings.Zone

	// /topics: words to add as includes (+word or word), as excludes (-word),
	// or to drop from either list.
	Include, Exclude, Remove []string

	// Start is /start: help, and a chat whose deliveries stopped because it
	// was unreachable (blocked the bot) is back.
	Start bool

	// /sources: what to do with the chat's own feeds.
	Sources SourcesArgs
}

// CommandSpec describes a command for help texts and platform command menus.
type CommandSpec struct {
	Name        CommandName
	Args        string // argument synopsis, "" when none
	Description string // one line, at most 100 characters (Discord's limit)
	Example     string
}

// Commands lists every command in the order help shows them.
func Commands() []CommandSpec {
	return []CommandSpec{
		{CmdBrief, "[topic words]", "The top stories now, optionally only those about some words", "/brief ukraine"},
		{CmdSubscribe, "[HH:MM] [zone]", "A daily briefing at your local time (24-hour clock, IANA zone)", "/subscribe 07:30 Europe/Berlin"},
		{CmdUnsubscribe, "", "Stop the daily briefing", "/unsubscribe"},
		{CmdTopics, "[+word] [-word]", "Show or change the words your daily briefing follows or avoids", "/topics +climate -football"},
		{CmdStatus, "", "Your subscription: time, zone, topics, next and last delivery", "/status"},
		{CmdSources, "[add URL | remove URL|N | default on|off | import | export]", "This chat's feeds: list, add, remove, import or export OPML, keep the default feeds or not", "/sources add https://example.com/feed.xml"},
		{CmdHelp, "", "What newsbot can do", "/help"},
	}
}

// Spec returns the description of a command.
func Spec(name CommandName) CommandSpec {
	for _, c := range Commands() {
		if c.Name == name {
			return c
		}
	}
	return CommandSpec{Name: name}
}

// UsageError is a command newsbot could not understand. Its message is meant
// for the user: one friendly line with the right form and an example.
type UsageError struct {
	Command CommandName // "" when the command itself was not recognized
	Problem string
}

func (e *UsageError) Error() string {
	if e.Command == "" {
		return e.Problem + " Try /help for the list, or /brief for the news now."
	}
	s := Spec(e.Command)
	form := "/" + string(s.Name)
	if s.Args != "" {
		form += " " + s.Args
	}
	return fmt.Sprintf("%s The form is %s, for example %s", e.Problem, form, s.Example)
}

// Limits on what a command may carry. Longer input is garbage or an attack,
// and the reply says so instead of echoing it.
const (
	maxCommandBytes = 512
	maxWords        = 10
	maxWordRunes    = 40
)

// ParseCommand reads a command typed in a chat: "/name args…", where name may
// carry the bot's "@username" as in Telegram groups. botUsername, when not
// empty, makes a command addressed to another bot an error.
func ParseCommand(text, botUsername string) (Command, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Command{}, &UsageError{Problem: "That was empty."}
	}
	if len(text) > maxCommandBytes {
		return Command{}, &UsageError{Problem: fmt.Sprintf("That is too long for a command (%d bytes; commands are short).", len(text))}
	}
	if !utf8.ValidString(text) {
		return Command{}, &UsageError{Problem: "That is not valid text."}
	}
	if !strings.HasPrefix(text, "/") {
		return Command{}, &UsageError{Problem: "I only understand commands that start with /."}
	}
	fields := strings.Fields(text)
	head, args := strings.TrimPrefix(fields[0], "/"), fields[1:]
	name, at, _ := strings.Cut(head, "@")
	if at != "" && botUsername != "" && !strings.EqualFold(at, botUsername) {
		return Command{}, &UsageError{Problem: "That command is for another bot."}
	}
	name = strings.ToLower(name)
	if len(args) > maxWords {
		return Command{}, &UsageError{Command: canonical(name), Problem: fmt.Sprintf("That is too many words (%d; at most %d).", len(args), maxWords)}
	}
	switch name {
	case "brief", "news":
		words, err := topicWords(CmdBrief, args)
		return Command{Name: CmdBrief, Words: words}, err
	case "subscribe":
		return parseSubscribe(args)
	case "unsubscribe", "stop":
		return noArgs(CmdUnsubscribe, args)
	case "topics":
		return parseTopics(args)
	case "status":
		return noArgs(CmdStatus, args)
	case "sources":
		return parseSources(args)
	case "help":
		return Command{Name: CmdHelp}, nil
	case "start":
		return Command{Name: CmdHelp, Start: true}, nil
	}
	shown := name
	if utf8.RuneCountInString(shown) > 20 || strings.IndexFunc(shown, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' }) >= 0 {
		shown = ""
	}
	if shown == "" {
		return Command{}, &UsageError{Problem: "I don't know that command."}
	}
	return Command{}, &UsageError{Problem: fmt.Sprintf("I don't know the command /%s.", shown)}
}

// canonical maps aliases to the command they stand for, for error messages.
func canonical(name string) CommandName {
	switch name {
	case "news":
		return CmdBrief
	case "stop":
		return CmdUnsubscribe
	case "start":
		return CmdHelp
	}
	for _, c := range Commands() {
		if string(c.Name) == name {
			return c.Name
		}
	}
	return ""
}

func noArgs(name CommandName, args []string) (Command, error) {
	if len(args) > 0 {
		return Command{}, &UsageError{Command: name, Problem: fmt.Sprintf("/%s takes no arguments.", name)}
	}
	return Command{Name: name}, nil
}

// parseSubscribe reads "/subscribe [HH:MM] [zone]": a word with a colon
// before the zone is the time of day, the next word the zone.
func parseSubscribe(args []string) (Command, error) {
	cmd := Command{Name: CmdSubscribe}
	var err error
	for _, a := range args {
		switch {
		case cmd.At == nil && cmd.Zone.IsZero() && strings.Contains(a, ":"):
			if cmd.At, err = subscribeTime(a); err != nil {
				return Command{}, err
			}
		case cmd.Zone.IsZero():
			if cmd.Zone, err = subscribeZone(a); err != nil {
				return Command{}, err
			}
		default:
			return Command{}, &UsageError{Command: CmdSubscribe, Problem: fmt.Sprintf("I didn't expect %q.", Clip(a))}
		}
	}
	return cmd, nil
}

// SubscribeCommand is /subscribe from arguments that arrive apart (Discord's
// typed options), each "" when not given: validated by the text grammar's
// rules, with its error lines.
func SubscribeCommand(at, zone string) (Command, error) {
	cmd := Command{Name: CmdSubscribe}
	var err error
	if at != "" {
		if cmd.At, err = subscribeTime(at); err != nil {
			return Command{}, err
		}
	}
	if zone != "" {
		if cmd.Zone, err = subscribeZone(zone); err != nil {
			return Command{}, err
		}
	}
	return cmd, nil
}

func subscribeTime(s string) (*briefings.TimeOfDay, error) {
	at, err := briefings.ParseTimeOfDay(s)
	if err != nil {
		return nil, &UsageError{Command: CmdSubscribe, Problem: fmt.Sprintf("%q is not a time of day (00:00 to 23:59).", Clip(s))}
	}
	return &at, nil
}

func subscribeZone(s string) (briefings.Zone, error) {
	zone, err := briefings.ParseZone(s)
	if err != nil {
		return briefings.Zone{}, &UsageError{Command: CmdSubscribe, Problem: fmt.Sprintf("%q is not a time zone I know; use an IANA name like Europe/Berlin, America/New_York or UTC.", Clip(s))}
	}
	return zone, nil
}

func parseTopics(args []string) (Command, error) {
	cmd := Command{Name: CmdTopics}
	for _, a := range args {
		var list *[]string
		word := a
		switch {
		case strings.HasPrefix(a, "+"):
			list, word = &cmd.Include, a[1:]
		case strings.HasPrefix(a, "-"):
			list, word = &cmd.Exclude, a[1:]
		case strings.HasPrefix(a, "!") || strings.HasPrefix(a, "~"):
			list, word = &cmd.Remove, a[1:]
		default:
			list = &cmd.Include
		}
		w := briefings.NormalizeTopic(word)
		if w == "" || utf8.RuneCountInString(w) > maxWordRunes {
			return Command{}, &UsageError{Command: CmdTopics, Problem: fmt.Sprintf("%q is not a topic word.", Clip(a))}
		}
		*list = append(*list, w)
	}
	return cmd, nil
}

func topicWords(name CommandName, args []string) ([]string, error) {
	var words []string
	for _, a := range args {
		w := briefings.NormalizeTopic(a)
		if w == "" || utf8.RuneCountInString(w) > maxWordRunes {
			return nil, &UsageError{Command: name, Problem: fmt.Sprintf("%q is not a topic word.", Clip(a))}
		}
		words = append(words, w)
	}
	return words, nil
}

// Clip shortens input quoted back in an error, so a reply or a log line never
// echoes a wall of garbage. Every adapter and the configuration quote with it.
func Clip(s string) string { return ClipRunes(s, 24) }

// ClipRunes is s cut to n characters, with an ellipsis when it was longer.
func ClipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
