package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/newsbot/newsbot/briefings"
	"github.com/newsbot/newsbot/briefings/summarize"
)

// maxArticleBytes bounds one article (plain text, or one JSON line): the
// longest news article is a few hundred kilobytes.
const maxArticleBytes = 8 << 20

const summarizeUsage = `Usage:
  newsbot summarize < article.txt         the summary of one plain-text article, one sentence a line
  newsbot summarize -jsonl < in.jsonl     for each line {"id": …, "article": "…"} (other fields ignored),
                                          a line {"id": …, "summary": ["…", …]}, in the same order

A bad JSON line is reported on stderr with its line number and skipped (no output line); the other lines
are still summarized, and the exit status is 1 when any line was bad. Blank lines are skipped.
`

// runSummarize is "newsbot summarize": the extractive summarizer over stdin.
func runSummarize(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("summarize", summarizeUsage, stderr)
	jsonl := fs.Bool("jsonl", false, "read and write JSON lines")
	if exit, ok := parseFlags(fs, args); !ok {
		return exit
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "newsbot summarize: unexpected argument %q: the article is read from stdin\n\n%s", fs.Arg(0), summarizeUsage)
		return 2
	}
	s := summarize.New(summarize.Options{})
	out := bufio.NewWriter(stdout)
	var code int
	if *jsonl {
		code = summarizeJSONL(ctx, s, stdin, out, stderr)
	} else {
		code = summarizeText(ctx, s, stdin, out, stderr)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(stderr, "newsbot summarize: write: %v\n", err)
		return 1
	}
	return code
}

func summarizeText(ctx context.Context, s briefings.Summarizer, stdin io.Reader, out *bufio.Writer, stderr io.Writer) int {
	text, err := io.ReadAll(io.LimitReader(stdin, maxArticleBytes+1))
	if err != nil {
		fmt.Fprintf(stderr, "newsbot summarize: read: %v\n", err)
		return 1
	}
	if len(text) > maxArticleBytes {
		fmt.Fprintf(stderr, "newsbot summarize: the article is over %d MB\n", maxArticleBytes>>20)
		return 1
	}
	sum, err := s.Summarize(ctx, briefings.Article{Text: string(text)})
	if err != nil {
		fmt.Fprintf(stderr, "newsbot summarize: %v\n", err)
		return 1
	}
	for _, line := range sum {
		fmt.Fprintln(out, line)
	}
	return 0
}

type jsonlArticle struct {
	ID      json.RawMessage `json:"id"`
	Article *string         `json:"article"`
}

type jsonlSummary struct {
	ID      json.RawMessage `json:"id"`
	Summary []string        `json:"summary"`
}

func summarizeJSONL(ctx context.Context, s briefings.Summarizer, stdin io.Reader, out *bufio.Writer, stderr io.Writer) int {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	code := eachJSONLine(stdin, stderr, "newsbot summarize", func(n int, line []byte) (bool, error) {
		a, err := parseArticleLine(line)
		if err != nil {
			fmt.Fprintf(stderr, "newsbot summarize: line %d: %v: skipped\n", n, err)
			return true, nil
		}
		sum, err := s.Summarize(ctx, briefings.Article{Text: *a.Article})
		if err != nil {
			return false, fmt.Errorf("line %d: %w", n, err) // only a cancelled context gets here: stop
		}
		if sum == nil {
			sum = []string{}
		}
		if err := enc.Encode(jsonlSummary{ID: a.ID, Summary: sum}); err != nil {
			return false, fmt.Errorf("write: %w", err)
		}
		return false, nil
	})
	return code
}

func parseArticleLine(line []byte) (jsonlArticle, error) {
	var a jsonlArticle
	if err := json.Unmarshal(line, &a); err != nil {
		return a, fmt.Errorf("not a JSON object: %w", err)
	}
	switch {
	case len(a.ID) == 0 || string(a.ID) == "null":
		return a, errors.New(`no "id"`)
	case a.Article == nil:
		return a, errors.New(`no "article" string`)
	}
	return a, nil
}

var errLineTooLong = errors.New("line too long")

// readLine reads one line without its newline. A line over limit bytes is
// consumed and reported as errLineTooLong.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > limit+1 {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return nil, errLineTooLong
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		return line, err
	}
}

const evalUsage = `Usage:
  newsbot eval [-stem=false] FILE.jsonl

Scores the extractive summarizer (over each line's raw "article") and Lead-3 (the first three of its
"article_lines") against its "reference" with ROUGE-1, ROUGE-2 and ROUGE-Lsum F1 × 100, Porter-stemmed
unless -stem=false, and prints both, their ratio and the mean summary length in words.
`

// runEval is "newsbot eval": ours against Lead-3 on an evaluation set.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("eval", evalUsage, stderr)
	stem := fs.Bool("stem", true, "Porter-stem tokens, as published ROUGE figures do")
	if exit, ok := parseFlags(fs, args); !ok {
		return exit
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "newsbot eval: want one FILE.jsonl\n\n%s", evalUsage)
		return 2
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "newsbot eval: %v\n", err)
		return 1
	}
	defer f.Close()
	set, err := summarize.ReadEvalSet(f)
	if err != nil {
		fmt.Fprintf(stderr, "newsbot eval: %s: %v\n", path, err)
		return 1
	}
	if len(set) == 0 {
		fmt.Fprintf(stderr, "newsbot eval: %s: no articles\n", path)
		return 1
	}
	rep, err := summarize.Evaluate(ctx, summarize.New(summarize.Options{}), set, *stem)
	if err != nil {
		fmt.Fprintf(stderr, "newsbot eval: %v\n", err)
		return 1
	}
	writeReport(stdout, path, rep)
	return 0
}

func writeReport(w io.Writer, path string, rep summarize.EvalReport) {
	tokens := "Porter-stemmed"
	if !rep.Stemmed {
		tokens = "unstemmed"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d articles; ROUGE F1 × 100, %s\n", path, rep.Articles, tokens)
	fmt.Fprintf(&b, "%-12s %7s %7s %7s %7s %9s\n", "", "R-1", "R-2", "R-Lsum", "words", "sentences")
	row := func(name string, f summarize.Figures) {
		fmt.Fprintf(&b, "%-12s %7.2f %7.2f %7.2f %7.1f %9.2f\n", name, f.R1, f.R2, f.RLsum, f.MeanWords, f.MeanSentences)
	}
	row("ours", rep.Ours)
	row("Lead-3", rep.Lead3)
	r1, r2, rl := rep.Ratio()
	fmt.Fprintf(&b, "%-12s %7.3f %7.3f %7.3f %7.3f\n", "ours/Lead-3", r1, r2, rl, ratioOf(rep.Ours.MeanWords, rep.Lead3.MeanWords))
	io.WriteString(w, b.String())
}

func ratioOf(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
