package discord

import (
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/newsbot/newsbot/bot"
)

// Option names of the slash commands.
const (
	optTopic    = "topic"
	optWords    = "words"
	optChannel  = "channel"
	optTime     = "time"
	optTimezone = "timezone"
	subAdd      = "add"
	subRemove   = "remove"
	subList     = "list"
)

// postableChannels are the channel types a briefing can be posted in.
func postableChannels() []discordgo.ChannelType {
	return []discordgo.ChannelType{discordgo.ChannelTypeGuildText, discordgo.ChannelTypeGuildNews}
}

// ApplicationCommands are newsbot's slash commands, registered with one bulk
// overwrite at start. The commands that change a channel's subscription are
// shown only to members with Manage Server (default_member_permissions), and
// checked again when they run, since a server can grant them to anyone.
func ApplicationCommands() []*discordgo.ApplicationCommand {
	manageGuild := permManageGuild
	guildOnly := &[]discordgo.InteractionContextType{discordgo.InteractionContextGuild}
	one := 1
	channel := func(required bool, desc string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionChannel, Name: optChannel,
			Description: desc, Required: required, ChannelTypes: postableChannels()}
	}
	words := func(desc string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: optWords,
			Description: desc, Required: true, MinLength: &one, MaxLength: 200}
	}
	cmds := []*discordgo.ApplicationCommand{
		{Name: string(bot.CmdBrief), Description: bot.Spec(bot.CmdBrief).Description, Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: optTopic, Description: "Only stories about these words, e.g. climate",
				MinLength: &one, MaxLength: 200},
		}},
		{Name: string(bot.CmdSubscribe), Description: "A daily briefing in a channel at your local time",
			DefaultMemberPermissions: &manageGuild, Options: []*discordgo.ApplicationCommandOption{
				channel(true, "The channel to post the briefing in"),
				{Type: discordgo.ApplicationCommandOptionString, Name: optTime, Description: "Time of day, 24-hour clock, e.g. 07:30",
					Required: true, MinLength: &one, MaxLength: 5},
				{Type: discordgo.ApplicationCommandOptionString, Name: optTimezone, Description: "Your time zone, e.g. Europe/Berlin",
					Required: true, Autocomplete: true, MinLength: &one, MaxLength: 64},
			}},
		{Name: string(bot.CmdUnsubscribe), Description: "Stop the daily briefing in a channel",
			DefaultMemberPermissions: &manageGuild, Options: []*discordgo.ApplicationCommandOption{
				channel(true, "The channel to stop posting in"),
			}},
		{Name: string(bot.CmdTopics), Description: bot.Spec(bot.CmdTopics).Description,
			DefaultMemberPermissions: &manageGuild, Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: subAdd, Description: "Follow words (or avoid them: -football)",
					Options: []*discordgo.ApplicationCommandOption{words("Words to follow; put - before a word to avoid it"),
						channel(false, "The subscribed channel (default: this one)")}},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: subRemove, Description: "Forget words followed or avoided",
					Options: []*discordgo.ApplicationCommandOption{words("Words to forget"),
						channel(false, "The subscribed channel (default: this one)")}},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: subList, Description: "Show the words followed and avoided",
					Options: []*discordgo.ApplicationCommandOption{channel(false, "The subscribed channel (default: this one)")}},
			}},
		{Name: string(bot.CmdStatus), Description: bot.Spec(bot.CmdStatus).Description, Options: []*discordgo.ApplicationCommandOption{
			channel(false, "The channel to show (default: this one)"),
		}},
		sourcesCommand(),
		{Name: string(bot.CmdHelp), Description: bot.Spec(bot.CmdHelp).Description},
	}
	for _, c := range cmds {
		c.Type = discordgo.ChatApplicationCommand
		c.Contexts = guildOnly
	}
	return cmds
}

// HelpText is /help on Discord: the slash commands as Discord shows them.
func HelpText() string {
	var b strings.Builder
	b.WriteString("newsbot sends short news briefings: a headline, two or three sentences, and the links.\n")
	for _, c := range ApplicationCommands() {
		form := "/" + c.Name
		var subs []string
		for _, o := range c.Options {
			switch {
			case o.Type == discordgo.ApplicationCommandOptionSubCommand:
				subs = append(subs, o.Name)
			case o.Required:
				form += " " + o.Name
			default:
				form += " [" + o.Name + "]"
			}
		}
		if len(subs) > 0 {
			form += " " + strings.Join(subs, "|")
		}
		fmt.Fprintf(&b, "\n%s: %s", form, c.Description)
	}
	b.WriteString("\n\nSubscribing, unsubscribing and topics need the Manage Server permission.")
	return b.String()
}

// target is where a command applies: the channel named in its options, or
// the one it was typed in.
type target struct {
	ChannelID string
	Explicit  bool // named in an option
}

// commandFromInteraction fills the platform-neutral Command from a slash
// command's typed options: the same value the text grammar produces for the
// same request, validated by the same functions, with the same friendly
// message when a value is wrong.
func commandFromInteraction(data discordgo.ApplicationCommandInteractionData, here string) (bot.Command, target, error) {
	opts := data.Options
	where := target{ChannelID: here}
	if ch, ok := stringOption(opts, optChannel); ok && ch != "" {
		where = target{ChannelID: ch, Explicit: true}
	}
	switch bot.CommandName(data.Name) {
	case bot.CmdBrief:
		topic, _ := stringOption(opts, optTopic)
		cmd, err := bot.ParseCommand("/brief "+oneLine(topic), "")
		return cmd, where, err
	case bot.CmdSubscribe:
		at, _ := stringOption(opts, optTime)
		zone, _ := stringOption(opts, optTimezone)
		cmd, err := bot.SubscribeCommand(strings.TrimSpace(at), strings.TrimSpace(zone))
		return cmd, where, err
	case bot.CmdUnsubscribe:
		return bot.Command{Name: bot.CmdUnsubscribe}, where, nil
	case bot.CmdTopics:
		if len(opts) != 1 {
			return bot.Command{}, where, &bot.UsageError{Command: bot.CmdTopics, Problem: "Choose add, remove or list."}
		}
		sub := opts[0]
		if ch, ok := stringOption(sub.Options, optChannel); ok && ch != "" {
			where = target{ChannelID: ch, Explicit: true}
		}
		words, _ := stringOption(sub.Options, optWords)
		switch sub.Name {
		case subAdd:
			cmd, err := bot.ParseCommand("/topics "+oneLine(words), "")
			return cmd, where, err
		case subRemove:
			var forget []string
			for _, w := range strings.Fields(words) {
				forget = append(forget, "!"+strings.TrimLeft(w, "+-!~"))
			}
			cmd, err := bot.ParseCommand("/topics "+strings.Join(forget, " "), "")
			return cmd, where, err
		case subList:
			return bot.Command{Name: bot.CmdTopics}, where, nil
		}
		return bot.Command{}, where, &bot.UsageError{Command: bot.CmdTopics, Problem: "Choose add, remove or list."}
	case bot.CmdStatus:
		return bot.Command{Name: bot.CmdStatus}, where, nil
	case bot.CmdSources:
		cmd, err := sourcesFromInteraction(data)
		return cmd, where, err
	case bot.CmdHelp:
		return bot.Command{Name: bot.CmdHelp}, where, nil
	}
	return bot.Command{}, where, &bot.UsageError{Problem: "I don't know that command."}
}

// oneLine keeps a typed option from smuggling a second command line into the
// grammar.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// stringOption returns a string-valued option (channel options carry the
// channel id).
func stringOption(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) (string, bool) {
	for _, o := range opts {
		if o != nil && o.Name == name {
			s, ok := o.Value.(string)
			return s, ok
		}
	}
	return "", false
}

// focusedOption returns the option being typed in an autocomplete.
func focusedOption(opts []*discordgo.ApplicationCommandInteractionDataOption) *discordgo.ApplicationCommandInteractionDataOption {
	for _, o := range opts {
		if o == nil {
			continue
		}
		if o.Focused {
			return o
		}
		if f := focusedOption(o.Options); f != nil {
			return f
		}
	}
	return nil
}

// autocompleteChoices answers the time zone autocomplete.
func autocompleteChoices(data discordgo.ApplicationCommandInteractionData) []*discordgo.ApplicationCommandOptionChoice {
	choices := []*discordgo.ApplicationCommandOptionChoice{}
	f := focusedOption(data.Options)
	if f == nil || f.Name != optTimezone {
		return choices
	}
	typed, _ := f.Value.(string)
	for _, z := range matchZones(typed, maxAutocompleteChoices) {
		if runes(z) <= maxChoiceLength {
			choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: z, Value: z})
		}
	}
	return choices
}
