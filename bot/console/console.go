// Package console is the adapter that runs when no platform token is
// configured: commands on standard input, replies on standard output, one
// command a line. Logs never go to standard output.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"

	"github.com/newsbot/newsbot/bot"
	"github.com/newsbot/newsbot/briefings"
)

// Chat is the console's one chat.
var Chat = briefings.ChatRef{Platform: briefings.PlatformConsole, ID: "local"}

// Console reads commands from In and writes replies and delivered briefings
// to Out.
type Console struct {
	In  io.Reader
	Out io.Writer

	mu sync.Mutex // one writer at a time on Out: replies and deliveries
}

var _ bot.Platform = (*Console)(nil)

// Name is the console's platform label.
func (c *Console) Name() briefings.Platform { return briefings.PlatformConsole }

// Serve answers commands until In ends (then it returns nil: the console's
// user is done) or ctx is done.
func (c *Console) Serve(ctx context.Context, h *bot.Handler) error { return c.run(ctx, h) }

// maxLineBytes bounds one input line; a longer line is answered with an error
// and skipped, not buffered whole.
const maxLineBytes = 64 * 1024

func (c *Console) run(ctx context.Context, h *bot.Handler) error {
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		readErr <- readLines(ctx, c.In, lines)
		close(lines)
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				if err := <-readErr; err != nil {
					return fmt.Errorf("console: read: %w", err)
				}
				return nil
			}
			if strings.TrimSpace(line) == "" {
				continue
			}
			if line == tooLong {
				if err := c.write("That line is too long for a command. Try /help."); err != nil {
					return err
				}
				continue
			}
			reply := h.Handle(ctx, bot.Request{Chat: Chat, Text: line})
			if err := c.write(Render(reply)); err != nil {
				return err
			}
		}
	}
}

// tooLong stands in for a line over maxLineBytes.
const tooLong = "\x00too long"

func readLines(ctx context.Context, r io.Reader, out chan<- string) error {
	br := bufio.NewReaderSize(r, 4096)
	for {
		line, err := readLine(br)
		if line != "" || err == nil {
			select {
			case out <- line:
			case <-ctx.Done():
				return nil
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readLine reads up to a newline, keeping at most maxLineBytes of it.
func readLine(br *bufio.Reader) (string, error) {
	var b strings.Builder
	over := false
	for {
		chunk, isPrefix, err := br.ReadLine()
		if !over {
			if b.Len()+len(chunk) > maxLineBytes {
				over = true
			} else {
				b.Write(chunk)
			}
		}
		if err != nil {
			if over {
				return tooLong, err
			}
			return b.String(), err
		}
		if !isPrefix {
			break
		}
	}
	if over {
		return tooLong, nil
	}
	return b.String(), nil
}

func (c *Console) write(s string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.Out, s+"\n"); err != nil {
		return fmt.Errorf("console: write: %w", err)
	}
	return nil
}

// text is a console message: plain text.
type text string

func (t text) Summary() string { return fmt.Sprintf("%d bytes of text", len(t)) }

// RenderBriefing is the briefing as one plain-text message, headed by the
// time it was composed for, as a daily delivery prints it.
func (c *Console) RenderBriefing(b briefings.Briefing) ([]bot.OutMessage, error) {
	return []bot.OutMessage{text(RenderBriefing(b))}, nil
}

// Send writes a message; the console takes any amount at any pace.
func (c *Console) Send(_ context.Context, _ briefings.ChatRef, m bot.OutMessage) error {
	t, ok := m.(text)
	if !ok {
		return fmt.Errorf("console: cannot send a %T", m)
	}
	return c.write(string(t))
}

// Render shows a reply as plain text.
func Render(r bot.Reply) string {
	if r.Briefing != nil {
		return RenderBriefing(*r.Briefing)
	}
	if r.File != nil { // the console prints what other platforms attach
		return sanitize(r.File.Caption + "\n" + string(r.File.Data))
	}
	return sanitize(r.Text)
}

// RenderBriefing shows a briefing as plain text: a numbered headline per
// entry, its summary indented below, then its sources.
func RenderBriefing(b briefings.Briefing) string {
	var s strings.Builder
	title := "News briefing"
	if !b.Topics.IsZero() {
		title += " (" + b.Topics.String() + ")"
	}
	fmt.Fprintf(&s, "%s — %d %s\n", title, len(b.Entries), plural(len(b.Entries), "story", "stories"))
	for i, e := range b.Entries {
		fmt.Fprintf(&s, "\n%d. %s\n", i+1, sanitize(e.Headline))
		if !e.Published.IsZero() {
			fmt.Fprintf(&s, "   %s\n", e.Published.UTC().Format("Mon 2 Jan 2006 15:04 UTC"))
		}
		for _, line := range e.Summary {
			fmt.Fprintf(&s, "   %s\n", sanitize(line))
		}
		label := "Source"
		if len(e.Sources) > 1 {
			label = "Sources"
		}
		fmt.Fprintf(&s, "   %s:\n", label)
		for _, src := range e.Sources {
			fmt.Fprintf(&s, "   - %s: %s\n", sanitize(src.Outlet), sanitize(src.URL))
		}
	}
	return strings.TrimRight(s.String(), "\n")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// sanitize drops control characters (a feed could otherwise send terminal
// escape sequences) and the bidirectional overrides that disguise text.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			return -1
		}
		return r
	}, s)
}
