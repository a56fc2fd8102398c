// Command newsbot runs the news briefing bot. With no platform token it runs
// the console adapter on stdin/stdout; subcommands manage feeds and run the
// summarizer: see `newsbot help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // IANA zones even on machines without /usr/share/zoneinfo

	"github.com/joho/godotenv"

	"github.com/newsbot/newsbot/bot/app"
	"github.com/newsbot/newsbot/bot/app/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

// run is main with its inputs passed in, for tests.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "", "run":
		return runBot(ctx, stdin, stdout, stderr, environ)
	case "feeds":
		return runFeeds(ctx, args, stdout, stderr, environ)
	case "summarize":
		return runSummarize(ctx, args, stdin, stdout, stderr)
	case "eval":
		return runEval(ctx, args, stdout, stderr)
	case "extract":
		return runExtract(ctx, args, stdin, stdout, stderr, environ)
	case "eval-extract":
		return runEvalExtract(args, stdout, stderr)
	case "eval-group":
		return runEvalGroup(ctx, args, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "newsbot: unknown command %q\n\n%s", sub, usage)
	return 2
}

const usage = `Usage:
  newsbot                      run the bot (the console when no platform token is set)
  newsbot feeds list           show the stored feed list
  newsbot feeds add URL        add a feed
  newsbot feeds remove URL     remove a feed
  newsbot feeds import FILE    add the feeds of an OPML file
  newsbot feeds export         write the feed list as OPML to stdout
  newsbot summarize [-jsonl]   summarize an article (or JSON lines of them) from stdin
  newsbot eval FILE.jsonl      score the summarizer against Lead-3 on a data set
  newsbot extract URL          fetch an article page and print its title, date and main text
  newsbot extract -jsonl       extract JSON lines of pages ({"id","url","html"}) from stdin
  newsbot eval-extract DIR     score article extraction on a benchmark directory
  newsbot eval-group FILE.jsonl  score the grouping on labelled stories, fed as RSS

Configuration comes from the environment and from a .env file in the working
directory (the environment wins); see .env.example.
`

func runBot(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	cfg, err := loadConfig(environ)
	if err != nil {
		fmt.Fprintf(stderr, "newsbot: configuration:\n%s\n", indent(err.Error()))
		return 2
	}
	m := app.NewMain(cfg, stdin, stdout, stderr)
	runErr := m.Run(ctx)
	closeErr := m.Close()
	if err := errors.Join(runErr, closeErr); err != nil {
		m.Logger.Error("newsbot stopped", "err", err)
		fmt.Fprintf(stderr, "newsbot: %v\n", err)
		return 1
	}
	return 0
}

// loadConfig reads .env when there is one, under the real environment, and
// parses the result.
func loadConfig(environ []string) (config.Config, error) {
	env := make(map[string]string)
	dotenv, err := godotenv.Read(".env")
	switch {
	case err == nil:
		for k, v := range dotenv {
			env[k] = v
		}
	case !errors.Is(err, fs.ErrNotExist):
		return config.Config{}, fmt.Errorf(".env: %w", err)
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return config.Parse(env)
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }
