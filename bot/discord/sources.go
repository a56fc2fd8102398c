package discord

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/newsbot/newsbot/bot"
)

// /sources options: subcommands add, remove, default, import, export, list.
const (
	subDefault = "default"
	subImport  = "import"
	subExport  = "export"
	optURL     = "url"
	optFeed    = "feed"
	optInclude = "include"
	optFile    = "file"
)

// sourcesCommand is /sources with typed options. Everyone sees it (anyone may
// list); the handler asks for Manage Server before a change.
func sourcesCommand() *discordgo.ApplicationCommand {
	one := 1
	sub := func(name, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: desc, Options: opts}
	}
	str := func(name, desc string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: name, Description: desc,
			Required: true, MinLength: &one, MaxLength: 400}
	}
	return &discordgo.ApplicationCommand{Name: string(bot.CmdSources), Description: bot.Spec(bot.CmdSources).Description,
		Options: []*discordgo.ApplicationCommandOption{
			sub(subList, "This channel's feeds, and whether the default feeds are included"),
			sub(subAdd, "Follow a feed, or the feed a web page links (Manage Server)", str(optURL, "The feed's or the web page's address")),
			sub(subRemove, "Stop following a feed (Manage Server)", str(optFeed, "Its address, or its number in /sources list")),
			sub(subDefault, "Include the default feeds or not (Manage Server)", &discordgo.ApplicationCommandOption{
				Type: discordgo.ApplicationCommandOptionBoolean, Name: optInclude, Description: "Include the default feeds", Required: true}),
			sub(subImport, "Follow the feeds of an OPML file (Manage Server)", &discordgo.ApplicationCommandOption{
				Type: discordgo.ApplicationCommandOptionAttachment, Name: optFile, Description: "An .opml file from a feed reader", Required: true}),
			sub(subExport, "This channel's feeds as an OPML file"),
		}}
}

// sourcesFromInteraction reads /sources' options into the Command the text
// grammar makes of the same request, through the grammar itself.
func sourcesFromInteraction(data discordgo.ApplicationCommandInteractionData) (bot.Command, error) {
	if len(data.Options) == 0 {
		return bot.ParseCommand("/sources", "")
	}
	sub := data.Options[0]
	switch sub.Name {
	case subAdd:
		u, _ := stringOption(sub.Options, optURL)
		return bot.ParseCommand("/sources add "+oneLine(u), "")
	case subRemove:
		f, _ := stringOption(sub.Options, optFeed)
		return bot.ParseCommand("/sources remove "+oneLine(f), "")
	case subDefault:
		on := "off"
		for _, o := range sub.Options {
			if b, ok := o.Value.(bool); ok && o.Name == optInclude && b {
				on = "on"
			}
		}
		return bot.ParseCommand("/sources default "+on, "")
	case subList, subImport, subExport:
		return bot.ParseCommand("/sources "+sub.Name, "")
	}
	return bot.Command{}, &bot.UsageError{Command: bot.CmdSources, Problem: "Choose list, add, remove, default, import or export."}
}

// attachedDocument is the file of /sources import, downloaded when the
// handler opens it, within bot.MaxDocumentBytes.
func (a *Adapter) attachedDocument(data discordgo.ApplicationCommandInteractionData) *bot.Document {
	if len(data.Options) == 0 || data.Options[0].Name != subImport || data.Resolved == nil {
		return nil
	}
	id, _ := stringOption(data.Options[0].Options, optFile)
	att := data.Resolved.Attachments[id]
	if att == nil {
		return nil
	}
	client := a.downloadClient()
	return &bot.Document{Name: att.Filename, Size: int64(att.Size), Open: func(ctx context.Context) (io.ReadCloser, error) {
		return downloadAttachment(ctx, client, att.URL)
	}}
}

// attachmentTimeout bounds one attachment download.
const attachmentTimeout = 20 * time.Second

func (a *Adapter) downloadClient() *http.Client {
	if a.session != nil && a.session.Client != nil {
		return a.session.Client
	}
	return http.DefaultClient
}

// downloadAttachment reads an attachment's CDN address, at most
// bot.MaxDocumentBytes+1 bytes, so the handler can tell one that is too big.
func downloadAttachment(ctx context.Context, client *http.Client, raw string) (io.ReadCloser, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("discord: attachment address %q is not http(s)", raw)
	}
	ctx, cancel := context.WithTimeout(ctx, attachmentTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("discord: download attachment: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("discord: download attachment: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("discord: download attachment: HTTP %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, bot.MaxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("discord: download attachment: %w", err)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// fileMessages are a reply carrying a file: its words, then the file as a
// follow-up message.
func fileMessages(r bot.Reply) []*Message {
	return []*Message{
		textMessage(r.Text, false),
		{Files: []*discordgo.File{{Name: r.File.Name, ContentType: "text/x-opml", Reader: bytes.NewReader(r.File.Data)}}},
	}
}
