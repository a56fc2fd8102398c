package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/newsbot/newsbot/bot"
)

// Feed lists travel as documents: a chat member sends an .opml file to
// import (in a group, with the caption /sources import, which privacy mode
// lets through), and /sources export comes back as a document.

// handleDocument answers a document sent to the bot: in a private chat any,
// in a group one captioned /sources (import).
func (a *Adapter) handleDocument(ctx context.Context, h *bot.Handler, sem chan struct{}, msg *tgbotapi.Message) {
	chatID := msg.Chat.ID
	group := msg.Chat.IsGroup() || msg.Chat.IsSuperGroup()
	caption := strings.TrimSpace(msg.Caption)
	if group {
		// In a group only a document captioned with our /sources is ours.
		if !strings.HasPrefix(caption, "/") {
			return
		}
		if at := commandAddressee(caption); at != "" && !strings.EqualFold(at, a.self.UserName) {
			return
		}
		if cmd, err := bot.ParseCommand(caption, a.self.UserName); err != nil || cmd.Name != bot.CmdSources {
			return
		}
	}
	doc := msg.Document
	if !bot.IsOPMLName(doc.FileName) && doc.MimeType != "text/x-opml" {
		a.sendReply(ctx, chatID, RenderText("I read feed lists in OPML (a file ending in .opml, exported from a feed reader). For news, try /brief."))
		return
	}
	cmd := bot.Command{Name: bot.CmdSources, Sources: bot.SourcesArgs{Op: bot.SourcesImport}}
	fileID := doc.FileID
	req := bot.Request{Chat: chatRef(chatID), Command: &cmd, Document: &bot.Document{
		Name: doc.FileName, Size: int64(doc.FileSize),
		Open: func(ctx context.Context) (io.ReadCloser, error) { return a.downloadFile(ctx, fileID) },
	}}
	if reply, ok := a.handleRequest(ctx, h, sem, msg, req); ok {
		a.sendReply(ctx, chatID, RenderText(reply.Text))
	}
}

// handleRequest answers a request from msg's chat within the adapter's
// concurrency (sem); in a group, managing asks Telegram whether the sender
// is an administrator. ok is false when ctx ended first.
func (a *Adapter) handleRequest(ctx context.Context, h *bot.Handler, sem chan struct{}, msg *tgbotapi.Message, req bot.Request) (reply bot.Reply, ok bool) {
	if msg.Chat.IsGroup() || msg.Chat.IsSuperGroup() {
		req.MayManage = func(ctx context.Context) (bool, error) { return a.mayManage(ctx, msg) }
	}
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return bot.Reply{}, false
	}
	defer func() { <-sem }()
	return h.Handle(ctx, req), true
}

// downloadFile fetches a file users sent: getFile for its path, then the
// file endpoint next to the API endpoint, at most bot.MaxDocumentBytes+1
// bytes (the handler refuses more).
func (a *Adapter) downloadFile(ctx context.Context, fileID string) (io.ReadCloser, error) {
	resp, err := a.call(ctx, "getFile", tgbotapi.Params{"file_id": fileID})
	if err != nil {
		return nil, fmt.Errorf("telegram: getFile: %w", err)
	}
	var f tgbotapi.File
	if err := json.Unmarshal(resp.Result, &f); err != nil || f.FilePath == "" {
		return nil, fmt.Errorf("telegram: getFile: no file path in the answer (%v)", err)
	}
	if f.FileSize > bot.MaxDocumentBytes {
		return nil, fmt.Errorf("telegram: file of %d bytes is over the %d a feed list may be", f.FileSize, bot.MaxDocumentBytes)
	}
	endpoint, ok := fileEndpoint(a.endpoint)
	if !ok {
		return nil, errors.New("telegram: the API endpoint has no /bot%s/%s to derive the file endpoint from")
	}
	ctx, cancel := context.WithTimeout(ctx, a.requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf(endpoint, a.token, f.FilePath), nil)
	if err != nil {
		return nil, a.redact.err(fmt.Errorf("telegram: download file: %w", err))
	}
	res, err := a.httpClient.Do(req)
	if err != nil {
		return nil, a.redact.err(fmt.Errorf("telegram: download file: %w", err))
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("telegram: download file: HTTP %d", res.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, bot.MaxDocumentBytes+1))
	if err != nil {
		return nil, a.redact.err(fmt.Errorf("telegram: download file: %w", err))
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// fileEndpoint is where a Bot API server serves files: /file/bot<token>/<path>
// beside its /bot<token>/<method>.
func fileEndpoint(apiEndpoint string) (string, bool) {
	base, ok := strings.CutSuffix(apiEndpoint, "/bot%s/%s")
	if !ok {
		return "", false
	}
	return base + "/file/bot%s/%s", true
}

// sendFile sends a reply's file as a document, paced like a message, with
// the reply's caption.
func (a *Adapter) sendFile(ctx context.Context, chatID int64, r bot.Reply) {
	key := strconv.FormatInt(chatID, 10)
	if err := a.pacer.Wait(ctx, key, isGroup(chatID)); err != nil {
		return
	}
	params := tgbotapi.Params{"chat_id": key, "caption": r.File.Caption}
	files := []tgbotapi.RequestFile{{Name: "document", Data: tgbotapi.FileBytes{Name: r.File.Name, Bytes: r.File.Data}}}
	upCtx, cancel := context.WithTimeout(ctx, a.requestTimeout)
	defer cancel()
	if _, err := a.api(upCtx).UploadFiles("sendDocument", params, files); err != nil {
		a.log.Error("telegram: send a document", "chat", chatID, "file", r.File.Name, "err", a.classify(chatID, a.redact.err(err)))
		// The words still reach the chat.
		a.sendReply(ctx, chatID, RenderText(r.Text))
	}
}
