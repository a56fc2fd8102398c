package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var storyHTML = `<!DOCTYPE html><html lang="en"><head><title>Harbour plan approved | Port News</title>
<meta property="og:title" content="Harbour plan approved">
<meta property="article:published_time" content="2025-07-09T06:30:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/sport">Sport</a></nav><article><h1>Harbour plan approved</h1>
<p>The harbour authority approved a 40 million euro plan on Thursday to deepen the main channel, after two years of studies and a public consultation that drew more than a thousand replies.</p>
<p>Work starts in March and should take two years, the authority said, with dredging limited to the winter months to protect the fish that spawn in the estuary in spring.</p>
<p>Shipping companies welcomed the decision, saying larger container ships would be able to call at the port without waiting for high tide.</p>
</article><footer>© Port News. All rights reserved.</footer></body></html>`

func runCmd(t *testing.T, args []string, stdin string, environ ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, environ)
	return code, out.String(), errOut.String()
}

func TestExtractURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/report.pdf" {
			w.Header().Set("Content-Type", "application/pdf")
			fmt.Fprint(w, "%PDF-1.7")
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, storyHTML)
	}))
	defer srv.Close()
	t.Chdir(t.TempDir()) // no .env here

	code, out, errOut := runCmd(t, []string{"extract", srv.URL + "/harbour"}, "", "NEWSBOT_ALLOW_PRIVATE_FEEDS=true")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Title: Harbour plan approved\n", "Date: 2025-07-09\n", "Language: en\n",
		"\n\nThe harbour authority approved a 40 million euro plan", "spawn in the estuary in spring.\n\nShipping companies"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "All rights reserved") || strings.Contains(out, "Sport") {
		t.Errorf("output holds page furniture:\n%s", out)
	}

	code, _, errOut = runCmd(t, []string{"extract", srv.URL + "/harbour"}, "")
	if code != 1 || !strings.Contains(errOut, "(refused)") || !strings.Contains(errOut, "NEWSBOT_ALLOW_PRIVATE_FEEDS=true") {
		t.Errorf("a private address: exit %d, stderr %q; want 1 and how to allow it", code, errOut)
	}
	code, _, errOut = runCmd(t, []string{"extract", srv.URL + "/report.pdf"}, "", "NEWSBOT_ALLOW_PRIVATE_FEEDS=true")
	if code != 1 || !strings.Contains(errOut, "(not_html)") {
		t.Errorf("a PDF: exit %d, stderr %q; want 1 and not_html", code, errOut)
	}
	if code, _, _ := runCmd(t, []string{"extract"}, ""); code != 2 {
		t.Errorf("extract without a URL: exit %d, want 2", code)
	}
}

func TestExtractJSONL(t *testing.T) {
	line := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	in := strings.Join([]string{
		line(map[string]any{"id": "a", "url": "https://port.example/harbour", "html": storyHTML}),
		"",
		"{not json",
		line(map[string]any{"id": 7, "url": "", "html": "<html><body></body></html>"}),
		line(map[string]any{"url": "https://x.example/", "html": "<p>no id</p>"}),
	}, "\n")
	code, out, errOut := runCmd(t, []string{"extract", "-jsonl"}, in)
	if code != 1 {
		t.Errorf("exit %d, want 1 for the bad lines", code)
	}
	var got []map[string]any
	for l := range strings.Lines(out) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
		got = append(got, m)
	}
	if len(got) != 2 {
		t.Fatalf("got %d output lines, want 2 (one per good input line):\n%s", len(got), out)
	}
	if got[0]["id"] != "a" || got[0]["title"] != "Harbour plan approved" ||
		!strings.Contains(got[0]["text"].(string), "main channel, after two years of studies and a public consultation that drew more than a thousand replies.\n\nWork starts in March") {
		t.Errorf("first line = %v", got[0])
	}
	if diff := cmp.Diff(map[string]any{"id": 7.0, "title": "", "text": ""}, got[1]); diff != "" {
		t.Errorf("a page without text (-want +got):\n%s", diff)
	}
	for _, want := range []string{"line 3: not a JSON object", `line 5: no "id"`, "1 page(s) without main text", "2 bad line(s)"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestEvalExtract(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "html"), 0o755); err != nil {
		t.Fatal(err)
	}
	gold := "The harbour authority approved a 40 million euro plan on Thursday to deepen the main channel, after two years of studies and a public consultation that drew more than a thousand replies. " +
		"Work starts in March and should take two years, the authority said, with dredging limited to the winter months to protect the fish that spawn in the estuary in spring. " +
		"Shipping companies welcomed the decision, saying larger container ships would be able to call at the port without waiting for high tide."
	truth := map[string]any{"p1": map[string]string{"articleBody": gold, "url": "https://port.example/harbour"}}
	b, _ := json.Marshal(truth)
	os.WriteFile(filepath.Join(dir, "ground-truth.json"), b, 0o644)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(storyHTML))
	zw.Close()
	os.WriteFile(filepath.Join(dir, "html", "p1.html.gz"), gz.Bytes(), 0o644)

	code, out, errOut := runCmd(t, []string{"eval-extract", dir}, "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// The extracted text is the gold text and the headline: 3 of the
	// predicted shingles are not gold, none of the gold is missing.
	for _, want := range []string{"newsbot (go-trafilatura)", "published: go-trafilatura ae7ea06 (Go)  0.960      0.940   0.980", "1 pages (0 without main text)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	fields := strings.Fields(out[strings.Index(out, "newsbot (go-trafilatura)"):])
	if fields[2] < "0.9" || fields[4] != "1.000" {
		t.Errorf("F1 %s, recall %s; want above 0.9 and 1.000:\n%s", fields[2], fields[4], out)
	}
	if code, _, errOut := runCmd(t, []string{"eval-extract", t.TempDir()}, ""); code != 1 || !strings.Contains(errOut, "ground-truth.json") {
		t.Errorf("an empty directory: exit %d, stderr %q", code, errOut)
	}
}
