package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/newsbot/newsbot/briefings"
)

// SourcesOp is what /sources does with the chat's own feeds.
type SourcesOp string

const (
	SourcesList    SourcesOp = ""
	SourcesAdd     SourcesOp = "add"
	SourcesRemove  SourcesOp = "remove"
	SourcesDefault SourcesOp = "default"
	SourcesImport  SourcesOp = "import"
	SourcesExport  SourcesOp = "export"
)

// SourcesArgs are /sources' arguments.
type SourcesArgs struct {
	Op     SourcesOp
	Target string // add: the address; remove: the address or the number in the list
	On     bool   // default: include the operator's feeds
}

// Document is a file a chat member sent with a command (an OPML list to
// import): the adapter knows how to download it, within MaxDocumentBytes.
type Document struct {
	Name string
	Size int64 // as the platform states it; 0 when unknown
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// File is a file a reply carries (an exported OPML list); adapters send it as
// their platform's attachment, the console prints it.
type File struct {
	Name    string
	Data    []byte
	Caption string
}

// MaxDocumentBytes bounds a subscription list a chat sends.
const MaxDocumentBytes = 1 << 20

// OPMLFileName is the name of an exported list.
const OPMLFileName = "newsbot-feeds.opml"

// IsOPMLName reports whether a file's name says it is a subscription list.
func IsOPMLName(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".opml") || strings.HasSuffix(n, ".opml.xml")
}

func parseSources(args []string) (Command, error) {
	cmd := Command{Name: CmdSources}
	if len(args) == 0 {
		return cmd, nil
	}
	op, rest := strings.ToLower(args[0]), args[1:]
	one := func(what string) (string, error) {
		if len(rest) != 1 {
			return "", &UsageError{Command: CmdSources, Problem: fmt.Sprintf("/sources %s takes %s.", op, what)}
		}
		return rest[0], nil
	}
	var err error
	switch op {
	case "list":
		cmd.Sources.Op = SourcesList
		if len(rest) > 0 {
			err = &UsageError{Command: CmdSources, Problem: "/sources list takes no arguments."}
		}
	case "add":
		cmd.Sources.Op = SourcesAdd
		cmd.Sources.Target, err = one("one feed or web page address")
	case "remove", "rm", "delete":
		cmd.Sources.Op = SourcesRemove
		cmd.Sources.Target, err = one("one address or the number /sources shows")
	case "default":
		cmd.Sources.Op = SourcesDefault
		var v string
		if v, err = one("on or off"); err == nil {
			switch strings.ToLower(v) {
			case "on", "yes", "true":
				cmd.Sources.On = true
			case "off", "no", "false":
			default:
				err = &UsageError{Command: CmdSources, Problem: fmt.Sprintf("/sources default takes on or off, not %q.", Clip(v))}
			}
		}
	case "import", "export":
		cmd.Sources.Op = SourcesOp(op)
		if len(rest) > 0 {
			err = &UsageError{Command: CmdSources, Problem: fmt.Sprintf("/sources %s takes no arguments.", op)}
		}
	default:
		err = &UsageError{Command: CmdSources, Problem: fmt.Sprintf("I don't know /sources %s; it takes add, remove, default, import or export.", Clip(args[0]))}
	}
	if err != nil {
		return Command{}, err
	}
	return cmd, nil
}

// sources answers /sources: anyone may list, administrators change.
func (h *Handler) sources(ctx context.Context, req Request, cmd Command) Reply {
	op := cmd.Sources.Op
	if op == SourcesList {
		return h.listSources(ctx, req.Chat)
	}
	if op == SourcesExport {
		return h.exportSources(ctx, req.Chat)
	}
	if req.MayManage != nil {
		ok, err := req.MayManage(ctx)
		if err != nil {
			return failed(fmt.Errorf("check permission: %w", err))
		}
		if !ok {
			return Reply{Text: "Only the chat's administrators can change its feeds. Anyone can list them with /sources."}
		}
	}
	switch op {
	case SourcesAdd:
		return h.addSource(ctx, req.Chat, cmd.Sources.Target)
	case SourcesRemove:
		src, err := h.Service.RemoveChatSource(ctx, req.Chat, cmd.Sources.Target)
		if errors.Is(err, briefings.ErrNoSuchChatSource) {
			return Reply{Text: fmt.Sprintf("This chat does not follow %q. /sources lists its feeds with their numbers.", Clip(cmd.Sources.Target))}
		}
		if err != nil {
			return failed(err)
		}
		return Reply{Text: fmt.Sprintf("Removed %s from this chat's feeds.", feedName(src))}
	case SourcesDefault:
		if err := h.Service.SetOperatorFeeds(ctx, req.Chat, cmd.Sources.On); err != nil {
			return failed(err)
		}
		if cmd.Sources.On {
			return Reply{Text: "The default feeds are included again in this chat's briefings."}
		}
		cs, err := h.Service.ChatSources(ctx, req.Chat)
		if err != nil {
			return failed(err)
		}
		if len(cs.Feeds) == 0 {
			return Reply{Text: "The default feeds are left out. This chat has no feeds of its own yet, so its briefings stay empty until you /sources add one."}
		}
		return Reply{Text: fmt.Sprintf("The default feeds are left out: this chat's briefings come from its own %d feed(s) only.", len(cs.Feeds))}
	case SourcesImport:
		if req.Document == nil {
			return Reply{Text: "To import feeds, send me an .opml file (in a group, an administrator sends it; on Discord, /sources import with the file attached)."}
		}
		return h.importSources(ctx, req.Chat, req.Document)
	}
	return failed(fmt.Errorf("/sources %q has no handler", op))
}

func feedName(src briefings.Source) string {
	if src.Title != "" {
		return fmt.Sprintf("%s (%s)", src.Title, src.URL)
	}
	return src.URL
}

func (h *Handler) addSource(ctx context.Context, chat briefings.ChatRef, target string) Reply {
	added, err := h.Service.AddChatSource(ctx, chat, target)
	if err != nil {
		if text, ok := h.refusal(target, err); ok {
			return Reply{Text: text, Err: err}
		}
		return failed(err)
	}
	if added.Already {
		return Reply{Text: fmt.Sprintf("This chat already follows %s.", feedName(added.Feed))}
	}
	text := fmt.Sprintf("Added %s.", feedName(added.Feed))
	if added.Latest.Title != "" {
		text += fmt.Sprintf(" Latest: “%s”.", ClipRunes(added.Latest.Title, 120))
	} else {
		text += " It has no items yet."
	}
	return Reply{Text: text + " Its stories are in this chat's /brief and daily briefing from now on."}
}

// refusal is the one line for a feed that could not be added for a reason
// the chat can act on.
func (h *Handler) refusal(target string, err error) (string, bool) {
	limits := h.Service.SourceLimits()
	var refused *briefings.FeedRefusedError
	switch {
	case errors.As(err, &refused):
		return fmt.Sprintf("Can't add %s: %s. Nothing was changed.", ClipRunes(target, 80), refused.Reason), true
	case errors.Is(err, briefings.ErrChatSourcesFull):
		return fmt.Sprintf("This chat already follows %d feeds, the most it may. Remove one with /sources remove N first.", limits.PerChat), true
	case errors.Is(err, briefings.ErrFeedsFull):
		return fmt.Sprintf("newsbot already reads the %d distinct feeds its operator allows, so it can't take a new one now. Feeds it already reads can still be added.", limits.Feeds), true
	}
	return "", false
}

func (h *Handler) listSources(ctx context.Context, chat briefings.ChatRef) Reply {
	cs, err := h.Service.ChatSources(ctx, chat)
	if err != nil {
		return failed(err)
	}
	now := h.Service.Now()
	var b strings.Builder
	if len(cs.Feeds) == 0 {
		b.WriteString("This chat has no feeds of its own. Add one with /sources add URL (a feed, or a web page that links one).")
	} else {
		fmt.Fprintf(&b, "This chat's own feeds (%d of %d):", len(cs.Feeds), h.Service.SourceLimits().PerChat)
		for i, f := range cs.Feeds {
			fmt.Fprintf(&b, "\n%d. ", i+1)
			if f.Title != "" {
				b.WriteString(ClipRunes(f.Title, 80) + " — ")
			}
			b.WriteString(f.URL)
			switch {
			case f.LastFetchedAt.IsZero():
				b.WriteString(" (not read yet)")
			case f.LastError != "":
				fmt.Fprintf(&b, " (read %s: failing, retrying later)", ago(now, f.LastFetchedAt))
			default:
				fmt.Fprintf(&b, " (read %s: ok)", ago(now, f.LastFetchedAt))
			}
		}
		b.WriteString("\nRemove one with /sources remove N.")
	}
	if !cs.OperatorFeeds {
		b.WriteString("\nThe default feeds are left out; /sources default on brings them back.")
		return Reply{Text: b.String()}
	}
	def, err := h.Service.Sources(ctx)
	if err != nil {
		return failed(err)
	}
	if len(def) == 0 {
		b.WriteString("\nThe default feeds are included: no feeds are configured, so newsbot reads its built-in sample feeds. An operator adds feeds with NEWSBOT_FEEDS or `newsbot feeds add URL`.")
		return Reply{Text: b.String()}
	}
	fmt.Fprintf(&b, "\nThe default feeds are included (%d; /sources default off leaves them out):", len(def))
	const shown = 15
	for i, s := range def {
		if i == shown {
			fmt.Fprintf(&b, "\n… and %d more.", len(def)-shown)
			break
		}
		b.WriteString("\n- ")
		if s.Title != "" {
			b.WriteString(ClipRunes(s.Title, 80) + " — ")
		}
		b.WriteString(s.URL)
		if s.LastError != "" {
			b.WriteString(" (failing: retrying later)")
		}
	}
	return Reply{Text: b.String()}
}

// ago says how long before now t was, coarsely.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

func (h *Handler) exportSources(ctx context.Context, chat briefings.ChatRef) Reply {
	var buf bytes.Buffer
	n, err := h.Service.ExportChatSources(ctx, chat, &buf)
	if err != nil {
		return failed(err)
	}
	if n == 0 {
		return Reply{Text: "This chat has no feeds of its own to export. Add one with /sources add URL."}
	}
	return Reply{
		Text: fmt.Sprintf("This chat's %d feed(s), as OPML.", n),
		File: &File{Name: OPMLFileName, Data: buf.Bytes(), Caption: fmt.Sprintf("This chat's %d feed(s), as OPML: import them into any feed reader.", n)},
	}
}

func (h *Handler) importSources(ctx context.Context, chat briefings.ChatRef, doc *Document) Reply {
	if doc.Size > MaxDocumentBytes {
		return Reply{Text: fmt.Sprintf("That file is %d kB; a feed list may be at most %d kB.", doc.Size>>10, MaxDocumentBytes>>10)}
	}
	rc, err := doc.Open(ctx)
	if err != nil {
		return Reply{Text: "I couldn't download that file. Please send it again.", Err: err}
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxDocumentBytes+1))
	if err != nil {
		return Reply{Text: "I couldn't download that file. Please send it again.", Err: err}
	}
	if len(data) > MaxDocumentBytes {
		return Reply{Text: fmt.Sprintf("That file is over %d kB, the most a feed list may be.", MaxDocumentBytes>>10)}
	}
	rep, err := h.Service.ImportChatSources(ctx, chat, bytes.NewReader(data))
	if errors.Is(err, briefings.ErrBadFeedList) {
		return Reply{Text: "That file is not an OPML feed list (export one from your feed reader, or see /sources export).", Err: err}
	}
	if err != nil {
		return failed(err)
	}
	return Reply{Text: h.importText(rep)}
}

func (h *Handler) importText(rep briefings.ImportReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Imported the feed list: %d added, %d already there, %d failed.", len(rep.Added), len(rep.Already), len(rep.Failed))
	const shown = 10
	for i, a := range rep.Added {
		if i == shown {
			fmt.Fprintf(&b, "\n… and %d more added.", len(rep.Added)-shown)
			break
		}
		b.WriteString("\n+ " + feedName(a.Feed))
	}
	for i, f := range rep.Failed {
		if i == shown {
			fmt.Fprintf(&b, "\n… and %d more failed.", len(rep.Failed)-shown)
			break
		}
		reason := "something went wrong on my side"
		if text, ok := h.refusal(f.URL, f.Err); ok {
			var refused *briefings.FeedRefusedError
			if errors.As(f.Err, &refused) {
				reason = refused.Reason
			} else {
				reason = text
			}
		} else {
			h.logger().Error("import a feed", "feed", f.URL, "err", f.Err)
		}
		fmt.Fprintf(&b, "\n✗ %s: %s", ClipRunes(f.URL, 80), reason)
	}
	return b.String()
}

// sourcesStatus is /status's line about the chat's own feeds: said only when
// every one of them is failing, since then its briefings lack them.
func (h *Handler) sourcesStatus(ctx context.Context, chat briefings.ChatRef) string {
	cs, err := h.Service.ChatSources(ctx, chat)
	if err != nil {
		h.logger().Error("status: chat sources", "chat", chat.String(), "err", err)
		return ""
	}
	if !cs.AllFailing() {
		return ""
	}
	return fmt.Sprintf("\nEvery one of this chat's own feeds (%d) is failing, so its briefings lack them; /sources shows which, newsbot keeps retrying.", len(cs.Feeds))
}

// chatStories is a ChatLifecycle that knows which stories reach a chat
// through its feeds; *briefings.Service is one.
type chatStories interface {
	ChatStories(ctx context.Context, chat briefings.ChatRef, since time.Time) ([]briefings.Story, error)
}

// storiesFor is what a chat's daily briefing at now is chosen from: the
// stories of the feeds it reads when the scheduler's Chats can tell, else
// every recent story.
func (q *queue) storiesFor(ctx context.Context, chat briefings.ChatRef, now time.Time) ([]briefings.Story, error) {
	if cs, ok := q.opts.Chats.(chatStories); ok {
		return cs.ChatStories(ctx, chat, briefings.DailyCandidatesSince(now))
	}
	return q.stories.Candidates(ctx, now)
}
