package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/article"
)

const extractUsage = `Usage:
  newsbot extract URL                 fetch a page (with the feeds' guards) and print its title, date and main text
  newsbot extract -jsonl < in.jsonl   for each line {"id": …, "url": "…", "html": "…"}, a line
                                      {"id": …, "title": "…", "text": "…"} (text: paragraphs separated by a blank line)

A page without main text gets an empty "text". A bad JSON line is reported on stderr with its line
number and skipped; the exit status is then 1. NEWSBOT_ALLOW_PRIVATE_FEEDS=true lets URL be on a
private address.
`

// jsonlCharset is the encoding of HTML read from JSON, whose strings are
// Unicode whatever the page's <meta> once declared.
const jsonlCharset = "text/html; charset=utf-8"

// runExtract is "newsbot extract".
func runExtract(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	fs := newFlagSet("extract", extractUsage, stderr)
	jsonl := fs.Bool("jsonl", false, "read pages as JSON lines from stdin")
	if exit, ok := parseFlags(fs, args); !ok {
		return exit
	}
	out := bufio.NewWriter(stdout)
	var code int
	switch {
	case *jsonl && fs.NArg() == 0:
		code = extractJSONL(stdin, out, stderr)
	case !*jsonl && fs.NArg() == 1:
		code = extractURL(ctx, fs.Arg(0), out, stderr, environ)
	default:
		fmt.Fprint(stderr, extractUsage)
		return 2
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(stderr, "newsbot extract: write: %v\n", err)
		return 1
	}
	return code
}

func extractURL(ctx context.Context, link string, out io.Writer, stderr io.Writer, environ []string) int {
	cfg, err := loadConfig(environ)
	if err != nil {
		fmt.Fprintf(stderr, "newsbot extract: configuration:\n%s\n", indent(err.Error()))
		return 2
	}
	f := article.NewFetcher(article.Options{AllowPrivate: cfg.AllowPrivateFeeds})
	defer f.CloseIdleConnections()
	page, err := f.FetchArticle(ctx, briefings.ArticlePage{URL: link})
	if err != nil {
		reason := briefings.ArticleError
		var af *briefings.ArticleFailure
		if errors.As(err, &af) {
			reason, err = af.Reason, af.Err
		}
		fmt.Fprintf(stderr, "newsbot extract: no article text (%s): %v\n", reason, err)
		return 1
	}
	date := "unknown"
	if !page.Published.IsZero() {
		date = page.Published.Format(time.DateOnly)
	}
	fmt.Fprintf(out, "Title: %s\nDate: %s\nLanguage: %s\n\n%s\n", page.Title, date, page.Language, page.Text)
	return 0
}

type jsonlPage struct {
	ID   json.RawMessage `json:"id"`
	URL  string          `json:"url"`
	HTML *string         `json:"html"`
}

type jsonlExtract struct {
	ID    json.RawMessage `json:"id"`
	Title string          `json:"title"`
	Text  string          `json:"text"`
}

func extractJSONL(stdin io.Reader, out io.Writer, stderr io.Writer) int {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	empty := 0
	code := eachJSONLine(stdin, stderr, "newsbot extract", func(n int, line []byte) (bool, error) {
		var p jsonlPage
		switch err := json.Unmarshal(line, &p); {
		case err != nil:
			fmt.Fprintf(stderr, "newsbot extract: line %d: not a JSON object: %v: skipped\n", n, err)
			return true, nil
		case len(p.ID) == 0 || string(p.ID) == "null":
			fmt.Fprintf(stderr, "newsbot extract: line %d: no \"id\": skipped\n", n)
			return true, nil
		case p.HTML == nil:
			fmt.Fprintf(stderr, "newsbot extract: line %d: no \"html\" string: skipped\n", n)
			return true, nil
		}
		page, err := article.ExtractBytes(p.URL, jsonlCharset, []byte(*p.HTML))
		if err != nil {
			empty++
		}
		if err := enc.Encode(jsonlExtract{ID: p.ID, Title: page.Title, Text: page.Text}); err != nil {
			return false, fmt.Errorf("write: %w", err)
		}
		return false, nil
	})
	if empty > 0 {
		fmt.Fprintf(stderr, "newsbot extract: %d page(s) without main text\n", empty)
	}
	return code
}

const evalExtractUsage = `Usage:
  newsbot eval-extract DIR

Extracts the main text of every page of an article extraction benchmark laid out as
../shared/eval/extraction is (ground-truth.json, html/<id>.html.gz) and prints F1, precision and
recall by the benchmark's metric (4-token shingles; see the set's README), beside the figures
published for other extractors on the same 181 pages, and the pages extracted per second.
`

// publishedExtraction are the scores the benchmark's README publishes for
// this set (scrapinghub/article-extraction-benchmark, latest evaluation).
var publishedExtraction = []struct {
	name                  string
	f1, precision, recall float64
}{
	{"rs_trafilatura (Rust)", 0.970, 0.951, 0.990},
	{"go-trafilatura ae7ea06 (Go)", 0.960, 0.940, 0.980},
	{"trafilatura 2.0.0 (Python)", 0.958, 0.938, 0.978},
	{"newspaper4k 0.9.3.1", 0.949, 0.964, 0.934},
	{"go-readability 9f5bf5c", 0.934, 0.900, 0.971},
	{"whole page as text (html-text)", 0.665, 0.500, 0.994},
}

// runEvalExtract is "newsbot eval-extract".
func runEvalExtract(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("eval-extract", evalExtractUsage, stderr)
	if exit, ok := parseFlags(fs, args); !ok {
		return exit
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, evalExtractUsage)
		return 2
	}
	pages, err := article.LoadBenchmark(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "newsbot eval-extract: %v\n", err)
		return 1
	}
	if len(pages) == 0 {
		fmt.Fprintf(stderr, "newsbot eval-extract: %s has no pages\n", fs.Arg(0))
		return 1
	}
	scores := make([]article.PageScore, len(pages))
	empty := 0
	start := time.Now()
	for i, p := range pages {
		page, err := article.ExtractBytes(p.URL, jsonlCharset, p.HTML)
		if err != nil {
			empty++
		}
		scores[i] = article.ScorePage(p.Gold, page.Text)
	}
	elapsed := time.Since(start)
	s := article.Aggregate(scores)

	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "extractor\tF1\tprecision\trecall\t")
	fmt.Fprintf(w, "newsbot (go-trafilatura)\t%.3f\t%.3f\t%.3f\t\n", s.F1, s.Precision, s.Recall)
	for _, p := range publishedExtraction {
		fmt.Fprintf(w, "published: %s\t%.3f\t%.3f\t%.3f\t\n", p.name, p.f1, p.precision, p.recall)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "newsbot eval-extract: write: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d pages (%d without main text), %.1f pages/s\n", s.Pages, empty, float64(len(pages))/elapsed.Seconds())
	return 0
}
