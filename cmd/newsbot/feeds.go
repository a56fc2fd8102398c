package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/newsbot/newsbot/bot/app"
	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/feeds"
)

// runFeeds manages the stored feed list: list, add, remove, import, export.
func runFeeds(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, "newsbot feeds: want list, add URL, remove URL, import FILE.opml or export\n")
		return 2
	}
	cfg, err := loadConfig(environ)
	if err != nil {
		fmt.Fprintf(stderr, "newsbot: configuration:\n%s\n", indent(err.Error()))
		return 2
	}
	store, err := app.OpenStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "newsbot feeds: %v\n", err)
		return 1
	}
	defer store.Close()

	if err := feedsCommand(ctx, store, args, stdout); err != nil {
		fmt.Fprintf(stderr, "newsbot feeds %s: %v\n", args[0], err)
		var usage *usageError
		if errors.As(err, &usage) {
			return 2
		}
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func feedsCommand(ctx context.Context, store briefings.SourceStore, args []string, stdout io.Writer) error {
	verb, rest := args[0], args[1:]
	want := func(n int, form string) error {
		if len(rest) != n {
			return &usageError{"usage: newsbot feeds " + form}
		}
		return nil
	}
	switch verb {
	case "list":
		if err := want(0, "list"); err != nil {
			return err
		}
		srcs, err := store.ListSources(ctx)
		if err != nil {
			return err
		}
		for _, s := range srcs {
			line := s.URL
			if s.Title != "" {
				line += "\t" + s.Title
			}
			if s.LastError != "" {
				line += "\t(failing: " + s.LastError + ")"
			}
			fmt.Fprintln(stdout, line)
		}
		return nil
	case "add":
		if err := want(1, "add URL"); err != nil {
			return err
		}
		if err := checkFeedURL(rest[0]); err != nil {
			return err
		}
		added, err := store.AddSource(ctx, rest[0])
		if err != nil {
			return err
		}
		if added {
			fmt.Fprintf(stdout, "added %s\n", rest[0])
		} else {
			fmt.Fprintf(stdout, "already listed: %s\n", rest[0])
		}
		return nil
	case "remove":
		if err := want(1, "remove URL"); err != nil {
			return err
		}
		err := store.RemoveSource(ctx, rest[0])
		if errors.Is(err, briefings.ErrNotFound) {
			return fmt.Errorf("%s is not in the feed list", rest[0])
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed %s\n", rest[0])
		return nil
	case "import":
		if err := want(1, "import FILE.opml"); err != nil {
			return err
		}
		f, err := os.Open(rest[0])
		if err != nil {
			return err
		}
		defer f.Close()
		list, err := feeds.ParseOPML(f)
		if err != nil {
			return err
		}
		added := 0
		for _, o := range list {
			if err := checkFeedURL(o.URL); err != nil {
				fmt.Fprintf(stdout, "skipped %s: %v\n", o.URL, err)
				continue
			}
			ok, err := store.AddSource(ctx, o.URL)
			if err != nil {
				return err
			}
			if ok {
				added++
			}
		}
		fmt.Fprintf(stdout, "imported %d new feed(s) of %d in %s\n", added, len(list), rest[0])
		return nil
	case "export":
		if err := want(0, "export"); err != nil {
			return err
		}
		srcs, err := store.ListSources(ctx)
		if err != nil {
			return err
		}
		list := make([]feeds.OPMLFeed, 0, len(srcs))
		for _, s := range srcs {
			list = append(list, feeds.OPMLFeed{Title: s.Title, URL: s.URL})
		}
		return feeds.WriteOPML(stdout, "newsbot feeds", list)
	}
	return &usageError{fmt.Sprintf("unknown verb %q: want list, add, remove, import or export", verb)}
}

func checkFeedURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &usageError{fmt.Sprintf("%q is not an http(s) URL", s)}
	}
	return nil
}
