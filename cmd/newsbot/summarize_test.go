package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/newsbot/newsbot/briefings"
)

const (
	storyA = "LONDON, England (CNN) -- Police arrested three men on Monday after a raid on a warehouse in east London. " +
		"The men, aged 20 to 35, were held on suspicion of fraud. Officers seized documents and computers."
	storyB = "Barges stopped near Cologne on Tuesday as the Rhine rose above the 8-metre mark. " +
		"Authorities expect the water to fall by the weekend."
)

func summarizeCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runSummarize(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestSummarizePlainText(t *testing.T) {
	code, out, errOut := summarizeCLI(t, storyA)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) == 0 || len(lines) > 3 {
		t.Fatalf("got %d lines, want 1 to 3:\n%s", len(lines), out)
	}
	if lines[0] != "Police arrested three men on Monday after a raid on a warehouse in east London." {
		t.Errorf("first line %q: want the lead sentence without its dateline", lines[0])
	}
	for _, l := range lines {
		if !strings.Contains(storyA, strings.TrimSuffix(l, ".")) {
			t.Errorf("line %q is not a sentence of the article", l)
		}
	}

	code, out, _ = summarizeCLI(t, "")
	if code != 0 || out != "" {
		t.Errorf("empty input: exit %d, stdout %q; want 0 and nothing", code, out)
	}
}

func TestSummarizeJSONL(t *testing.T) {
	in := strings.Join([]string{
		mustJSON(t, map[string]any{"id": "a", "article": storyA, "reference": []string{"ignored"}}),
		"",
		`{"id": 7, "article": ` + mustJSON(t, storyB) + `}`,
		`{"id": "broken", "article": `,
		`{"article": "no id here."}`,
		`{"id": "no-article"}`,
		`[1, 2]`,
		`{"id": {"set": "dev", "n": 3}, "article": ""}`,
		mustJSON(t, map[string]any{"id": "last", "article": storyB}),
	}, "\n")
	code, out, errOut := summarizeCLI(t, in, "-jsonl")

	type result struct {
		ID      json.RawMessage `json:"id"`
		Summary []string        `json:"summary"`
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var r result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		if r.Summary == nil || len(r.Summary) > 3 {
			t.Errorf("id %s: summary %q, want a list of at most 3", r.ID, r.Summary)
		}
		ids = append(ids, string(r.ID))
	}
	if diff := cmp.Diff([]string{`"a"`, `7`, `{"set":"dev","n":3}`, `"last"`}, ids); diff != "" {
		t.Errorf("output ids, in input order (-want +got):\n%s", diff)
	}
	for _, want := range []string{"line 4:", "line 5:", "line 6:", "line 7:", "4 bad line(s)"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not report %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "line 2:") || strings.Contains(errOut, "line 8:") {
		t.Errorf("stderr reports a good or blank line:\n%s", errOut)
	}
	if code != 1 {
		t.Errorf("exit %d with bad lines, want 1", code)
	}

	code, _, errOut = summarizeCLI(t, mustJSON(t, map[string]any{"id": 1, "article": storyA})+"\n", "-jsonl")
	if code != 0 || errOut != "" {
		t.Errorf("all lines good: exit %d, stderr %q; want 0 and nothing", code, errOut)
	}
}

func TestSummarizeUsage(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"file.txt"}} {
		if code, _, errOut := summarizeCLI(t, "", args...); code != 2 || !strings.Contains(errOut, "Usage") {
			t.Errorf("summarize %q: exit %d, stderr %q; want 2 and the usage", args, code, errOut)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEvalCommand(t *testing.T) {
	set := filepath.Join(t.TempDir(), "set.jsonl")
	lines := []string{
		mustJSON(t, map[string]any{
			"id": "a", "article": storyA,
			"article_lines": []string{"LONDON, England (CNN) -- Police arrested three men on Monday after a raid on a warehouse in east London.", "The men, aged 20 to 35, were held on suspicion of fraud.", "Officers seized documents and computers."},
			"reference":     []string{"Police arrest three men after a warehouse raid in east London .", "The men are held on suspicion of fraud ."},
		}),
		mustJSON(t, map[string]any{
			"id": "b", "article": storyB,
			"article_lines": []string{"Barges stopped near Cologne on Tuesday as the Rhine rose above the 8-metre mark.", "Authorities expect the water to fall by the weekend."},
			"reference":     []string{"Rhine closed to barges near Cologne ."},
		}),
	}
	if err := os.WriteFile(set, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := runEval(context.Background(), []string{set}, &out, &errOut); code != 0 {
		t.Fatalf("eval: exit %d, stderr %s", code, errOut.String())
	}
	report := out.String()
	for _, want := range []string{"2 articles", "Porter-stemmed", "R-1", "R-2", "R-Lsum", "words", "ours ", "Lead-3 ", "ours/Lead-3"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}

	out.Reset()
	if code := runEval(context.Background(), []string{"-stem=false", set}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "unstemmed") {
		t.Errorf("eval -stem=false: exit %d, report:\n%s", code, out.String())
	}

	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte(lines[0]+"\nnot json\n"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "want one FILE.jsonl"},
		{[]string{filepath.Join(t.TempDir(), "missing.jsonl")}, 1, "no such file"},
		{[]string{bad}, 1, "line 2"},
	} {
		errOut.Reset()
		if code := runEval(context.Background(), c.args, &out, &errOut); code != c.code || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("eval %q: exit %d, stderr %q; want %d and %q", c.args, code, errOut.String(), c.code, c.want)
		}
	}
}

type failingSummarizer struct{}

func (failingSummarizer) Summarize(context.Context, briefings.Article) ([]string, error) {
	return nil, errors.New("model unavailable")
}

// A summarizer that fails is reported and the status is 1, never an empty
// summary with status 0.
func TestSummarizeReportsAFailingSummarizer(t *testing.T) {
	var out, stderr bytes.Buffer
	w := bufio.NewWriter(&out)
	code := summarizeText(context.Background(), failingSummarizer{}, strings.NewReader(storyA), w, &stderr)
	w.Flush()
	if code != 1 || !strings.Contains(stderr.String(), "model unavailable") || out.Len() != 0 {
		t.Errorf("status %d, stdout %q, stderr %q; want 1, nothing, the error", code, out.String(), stderr.String())
	}
}
