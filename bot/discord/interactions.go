package discord

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
)

// initialResponder sends an interaction's initial response: the callback
// endpoint for gateway interactions, the HTTP answer for HTTP ones.
type initialResponder func(*discordgo.InteractionResponse) error

// answer answers one interaction, whichever way it came in: at once when
// the answer is ready within deferAfter, otherwise by deferring (type 5)
// and editing the original response when it is. Messages beyond the first
// follow as follow-ups.
func (a *Adapter) answer(ctx context.Context, it *discordgo.Interaction, initial initialResponder) {
	switch it.Type {
	case discordgo.InteractionApplicationCommandAutocomplete:
		err := initial(&discordgo.InteractionResponse{
			Type: discordgo.InteractionApplicationCommandAutocompleteResult,
			Data: &discordgo.InteractionResponseData{Choices: autocompleteChoices(it.ApplicationCommandData())},
		})
		a.logInteractionError("autocomplete", it, err)
		return
	case discordgo.InteractionApplicationCommand:
	default:
		err := initial(&discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: responseData(&Message{Content: "I only answer slash commands. Try /help.", Ephemeral: true}),
		})
		a.logInteractionError("answer", it, err)
		return
	}

	done := make(chan []*Message, 1)
	go func() { done <- a.reply(ctx, it) }()
	var deadline <-chan time.Time
	if a.deferAfter > 0 {
		timer := time.NewTimer(a.deferAfter)
		defer timer.Stop()
		deadline = timer.C
	} else {
		closed := make(chan time.Time)
		close(closed)
		deadline = closed
	}
	var msgs []*Message
	select {
	case msgs = <-done:
		err := initial(&discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: responseData(msgs[0]),
		})
		if err != nil {
			a.logInteractionError("answer", it, err)
			return
		}
	case <-deadline:
		if err := initial(&discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err != nil {
			a.logInteractionError("defer", it, err)
			return
		}
		msgs = <-done
		if ctx.Err() != nil {
			return
		}
		first := msgs[0]
		edit := &discordgo.WebhookEdit{Embeds: &first.Embeds, AllowedMentions: noMentions()}
		if first.Content != "" {
			edit.Content = &first.Content
		}
		err := a.retryUnknownWebhook(ctx, func() error {
			_, err := a.session.InteractionResponseEdit(it, edit, discordgo.WithContext(ctx))
			return err
		})
		if err != nil {
			a.logInteractionError("edit the deferred answer", it, err)
			return
		}
	}
	for _, m := range msgs[1:] {
		params := &discordgo.WebhookParams{Content: m.Content, Embeds: m.Embeds, Files: m.Files, AllowedMentions: noMentions()}
		if m.Ephemeral {
			params.Flags = discordgo.MessageFlagsEphemeral
		}
		err := a.retryUnknownWebhook(ctx, func() error {
			_, err := a.session.FollowupMessageCreate(it, true, params, discordgo.WithContext(ctx))
			return err
		})
		if err != nil {
			a.logInteractionError("follow up", it, err)
			return
		}
	}
}

func responseData(m *Message) *discordgo.InteractionResponseData {
	d := &discordgo.InteractionResponseData{Content: m.Content, Embeds: m.Embeds, AllowedMentions: noMentions()}
	if m.Ephemeral {
		d.Flags = discordgo.MessageFlagsEphemeral
	}
	return d
}

// codeUnknownWebhook: an interaction's webhook before Discord has taken in
// the initial response; with HTTP interactions our follow-up can overtake
// the HTTP answer that carried it.
const codeUnknownWebhook = 10015

func (a *Adapter) retryUnknownWebhook(ctx context.Context, call func() error) error {
	wait := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := call()
		if err == nil || attempt == 3 || describeFailure(err, nil).code != codeUnknownWebhook {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// logInteractionError logs a failed interaction call without the
// interaction's token (discordgo's rate-limit errors quote the URL).
func (a *Adapter) logInteractionError(what string, it *discordgo.Interaction, err error) {
	if err == nil {
		return
	}
	if describeFailure(err, nil).status == http.StatusUnauthorized {
		a.stopFor(ErrUnauthorized)
	}
	msg := err.Error()
	if it.Token != "" {
		msg = strings.ReplaceAll(msg, it.Token, "<token>")
	}
	a.log.Error("discord: interaction failed", "step", what, "interaction", it.ID, "err", msg)
}

// reply works out the answer to a slash command as Discord messages.
func (a *Adapter) reply(ctx context.Context, it *discordgo.Interaction) []*Message {
	data := it.ApplicationCommandData()
	cmd, where, err := commandFromInteraction(data, it.ChannelID)
	if err != nil {
		var usage *bot.UsageError
		if !errors.As(err, &usage) {
			a.log.Error("discord: reading a command", "command", data.Name, "err", err)
		}
		return []*Message{textMessage(err.Error(), true)}
	}
	if it.GuildID == "" {
		return []*Message{textMessage("newsbot works in servers: use its commands in a channel.", true)}
	}
	if cmd.Name == bot.CmdHelp {
		return []*Message{textMessage(HelpText(), false)}
	}
	name := channelName(data, where.ChannelID)
	if cmd.Name == bot.CmdSubscribe && memberMayManage(it.Member) {
		if refusal := a.checkCanPost(ctx, it.GuildID, where.ChannelID, name); refusal != "" {
			return []*Message{textMessage(refusal, true)}
		}
	}
	refused := false
	req := bot.Request{
		Chat:     briefings.ChatRef{Platform: briefings.PlatformDiscord, ID: where.ChannelID},
		Command:  &cmd,
		Document: a.attachedDocument(data),
		MayManage: func(context.Context) (bool, error) {
			ok := memberMayManage(it.Member)
			refused = !ok
			return ok, nil
		},
	}
	a.mu.Lock()
	h := a.handler
	a.mu.Unlock()
	r := h.Handle(ctx, req)
	if r.Briefing != nil {
		return RenderBriefing(*r.Briefing)
	}
	if r.File != nil {
		return fileMessages(r)
	}
	text := r.Text
	if refused {
		text = "Only members with the Manage Server permission can change this channel's briefing. Anyone can use /brief."
	} else if where.Explicit && where.ChannelID != it.ChannelID {
		text = name + ": " + text
	}
	return []*Message{textMessage(text, refused)}
}

// textMessage is a plain-text reply, escaped and within the content limit.
func textMessage(text string, ephemeral bool) *Message {
	return &Message{Content: escapeClip(cleanText(text, true), maxContent), Ephemeral: ephemeral}
}

// channelName is "#name" of a channel named in the command's options, from
// the interaction's resolved data.
func channelName(data discordgo.ApplicationCommandInteractionData, channelID string) string {
	if data.Resolved != nil {
		if ch := data.Resolved.Channels[channelID]; ch != nil && ch.Name != "" {
			return "#" + cleanText(ch.Name, false)
		}
	}
	return "this channel"
}

// checkCanPost makes sure the bot can post a briefing in the channel before
// subscribing it; it returns what to tell the user when it cannot.
func (a *Adapter) checkCanPost(ctx context.Context, guildID, channelID, name string) string {
	perms, ok := a.permissionsFromState(channelID)
	if !ok {
		var err error
		perms, err = a.permissionsOverREST(ctx, guildID, channelID, true)
		if err != nil {
			a.log.Error("discord: checking the bot's permissions", "channel", channelID, "err", err)
			return "Sorry, I could not check my permissions in " + name + ". Please try again in a minute."
		}
		a.perms.remember(channelID, perms, a.now())
	}
	missing := missingToPost(perms)
	if len(missing) == 0 {
		a.gone.forget(channelID)
		return ""
	}
	return "I can't post briefings in " + name + ": the bot lacks " + listNames(missing) + " there. " +
		"Give newsbot View Channel, Send Messages and Embed Links in " + name + " (channel settings → Permissions), then /subscribe again."
}

// maxInteractionBody bounds what the HTTP endpoint reads; interactions are
// a few kilobytes.
const maxInteractionBody = 1 << 20

// RegisterHTTP serves HTTP interactions at POST /discord/interactions when
// the adapter has the application's public key.
func (a *Adapter) RegisterHTTP(mux *http.ServeMux) {
	if a.publicKey == nil {
		return
	}
	mux.HandleFunc("POST /discord/interactions", a.serveInteractionHTTP)
}

func (a *Adapter) serveInteractionHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxInteractionBody)
	if !discordgo.VerifyInteraction(r, a.publicKey) {
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	var it discordgo.Interaction
	if err := json.Unmarshal(body, &it); err != nil {
		http.Error(w, "not an interaction", http.StatusBadRequest)
		return
	}
	if it.Type == discordgo.InteractionPing {
		writeInteractionResponse(w, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
		return
	}
	a.mu.Lock()
	ctx, serving := a.serveCtx, a.handler != nil
	a.mu.Unlock()
	if !serving {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	// The answer runs on; its initial response comes back here to be written
	// as this request's answer, and it learns whether that happened before
	// it sends edits or follow-ups.
	initial := make(chan *discordgo.InteractionResponse, 1)
	written := make(chan error, 1)
	started := a.tasks.do(func() {
		a.answer(ctx, &it, func(resp *discordgo.InteractionResponse) error {
			initial <- resp
			select {
			case err := <-written:
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	})
	if !started {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	select {
	case resp := <-initial:
		writeInteractionResponse(w, resp)
		written <- nil
	case <-r.Context().Done():
		written <- errors.New("discord: the HTTP interaction request ended before the answer was ready")
	case <-ctx.Done():
		written <- ctx.Err()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
	}
}

func writeInteractionResponse(w http.ResponseWriter, resp *discordgo.InteractionResponse) {
	data, err := json.Marshal(resp)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}
