package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestBCubedAndPairScores(t *testing.T) {
	tests := []struct {
		name       string
		gold       []string
		pred       []int64
		b3P, b3R   float64
		pairP      float64
		pairR      float64
		pairDefine bool
	}{
		{
			name: "perfect", gold: []string{"a", "a", "b"}, pred: []int64{1, 1, 2},
			b3P: 1, b3R: 1, pairP: 1, pairR: 1, pairDefine: true,
		},
		{
			// Every item alone: precision 1 per item; recall 1/2, 1/2, 1.
			name: "alone", gold: []string{"a", "a", "b"}, pred: []int64{1, 2, 3},
			b3P: 1, b3R: 2.0 / 3, pairP: 0, pairR: 0, pairDefine: false,
		},
		{
			// All in one cluster: precision 2/3, 2/3, 1/3; recall 1 each.
			// Pairs: 3 made, 1 right; 1 gold pair.
			name: "one cluster", gold: []string{"a", "a", "b"}, pred: []int64{7, 7, 7},
			b3P: 5.0 / 9, b3R: 1, pairP: 1.0 / 3, pairR: 1, pairDefine: true,
		},
		{
			// Story a = {0,1,2}, b = {3}; clusters {0,1}, {2,3}.
			// P: 1, 1, 1/2, 1/2 → 3/4. R: 2/3, 2/3, 1/3, 1 → 2/3.
			// Pairs made: (0,1) right, (2,3) wrong; gold pairs: 3.
			name: "split and merge", gold: []string{"a", "a", "a", "b"}, pred: []int64{1, 1, 2, 2},
			b3P: 0.75, b3R: 2.0 / 3, pairP: 0.5, pairR: 1.0 / 3, pairDefine: true,
		},
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	for _, tt := range tests {
		b := bcubed(tt.gold, tt.pred)
		if !near(b.P, tt.b3P) || !near(b.R, tt.b3R) || !near(b.F1, f1(tt.b3P, tt.b3R)) {
			t.Errorf("%s: B-cubed = %+v, want P %.4f R %.4f", tt.name, b, tt.b3P, tt.b3R)
		}
		p := pairScores(tt.gold, tt.pred)
		if !near(p.P, tt.pairP) || !near(p.R, tt.pairR) || p.Defined != tt.pairDefine {
			t.Errorf("%s: pairs = %+v, want P %.4f R %.4f defined %v", tt.name, p, tt.pairP, tt.pairR, tt.pairDefine)
		}
	}
}

func TestReadLabelledRejectsBadSets(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":     "{\"id\":\"1\",\"story\":\"a\",\"title\":\"x\"}\nnope\n",
		"no story":     "{\"id\":\"1\",\"title\":\"x\"}\n",
		"no id":        "{\"story\":\"a\",\"title\":\"x\"}\n",
		"duplicate id": "{\"id\":\"1\",\"story\":\"a\",\"title\":\"x\"}\n{\"id\":\"1\",\"story\":\"b\",\"title\":\"y\"}\n",
		"no words":     "{\"id\":\"1\",\"story\":\"a\"}\n",
	} {
		if _, err := readLabelled(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestEvalGroupCommand runs "newsbot eval-group" on a small gzipped set
// through the bot: two outlets telling one event, an untitled telling of it,
// and an unrelated story.
func TestEvalGroupCommand(t *testing.T) {
	rows := []labelledItem{
		{ID: "1", Story: "quake", Title: "Magnitude 6.1 earthquake strikes off Hokkaido, Japan", Host: "www.wire.example", URL: "https://www.wire.example/quake",
			Description: "A magnitude 6.1 earthquake struck off the coast of Hokkaido in northern Japan early on Tuesday, the Japan Meteorological Agency said. No tsunami warning was issued."},
		{ID: "2", Story: "quake", Title: "Strong 6.1 quake jolts Hokkaido; no tsunami threat", Host: "news.paper.example", URL: "https://news.paper.example/japan-quake",
			Description: "Buildings shook across eastern Hokkaido before dawn on Tuesday when a magnitude 6.1 earthquake hit off Kushiro, the Japan Meteorological Agency said. There was no danger of a tsunami."},
		{ID: "3", Story: "quake",
			Description: "The Hokkaido earthquake of magnitude 6.1 on Tuesday caused no tsunami, the Japan Meteorological Agency said. Trains near Kushiro were halted for checks."},
		{ID: "4", Story: "final", Title: "Alcaraz beats Sinner in epic French Open final", Host: "www.wire.example", URL: "https://www.wire.example/final",
			Description: "Carlos Alcaraz saved three championship points to beat Jannik Sinner in the French Open final at Roland Garros on Sunday."},
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	enc := json.NewEncoder(zw)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	zw.Close()
	path := filepath.Join(t.TempDir(), "set.jsonl.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"eval-group", path}, nil, &stdout, &stderr, nil); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	out := stdout.String()
	// The bot groups the three tellings and leaves the final alone: a
	// perfect score, and the every-item-alone baseline beside it.
	for _, want := range []string{
		"4 articles in 2 stories, 3 with a headline",
		"all 4       newsbot         2     1.000   1.000   1.000 |    1.000   1.000   1.000",
		"all 4       alone           4     1.000   0.500   0.667 |        —   0.000   0.000",
		"titled 3    newsbot         2     1.000   1.000   1.000 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// Read in three orders, the three tellings still make one story each time.
	stdout.Reset()
	if code := run(context.Background(), []string{"eval-group", "-orders", "3", path}, nil, &stdout, &stderr, nil); code != 0 {
		t.Fatalf("-orders 3: exit %d, stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{
		"over 3 reading orders",
		"all 4            1.000   1.000   1.000 |        1.000   1.000   1.000",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("-orders 3: output lacks %q:\n%s", want, stdout.String())
		}
	}
	if code := run(context.Background(), []string{"eval-group", "-orders", "0", path}, nil, &stdout, &stderr, nil); code != 2 {
		t.Errorf("-orders 0: exit %d, want 2", code)
	}

	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"eval-group", filepath.Join(t.TempDir(), "missing.jsonl")}, nil, &stdout, &stderr, nil); code != 1 || !strings.Contains(stderr.String(), "no such file") {
		t.Errorf("missing file: exit %d, stderr %q", code, stderr.String())
	}
	if code := run(context.Background(), []string{"eval-group"}, nil, &stdout, &stderr, nil); code != 2 {
		t.Errorf("no file: exit %d, want 2", code)
	}
}

// TestReadingOrdersDiffer: another reading order publishes the same items at
// other times, and order 0 is the same every run.
func TestReadingOrdersDiffer(t *testing.T) {
	var set []labelledItem
	for i := range 20 {
		set = append(set, labelledItem{ID: strconv.Itoa(i), Story: "s", Title: "Headline " + strconv.Itoa(i)})
	}
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	published := func(o readingOrder) []time.Time {
		var out []time.Time
		for _, it := range asFeedItems(set, now, o) {
			out = append(out, it.published)
		}
		return out
	}
	first, again, other := published(0), published(0), published(1)
	if !slices.Equal(first, again) {
		t.Error("order 0 published the items at other times on a second run")
	}
	if slices.Equal(first, other) {
		t.Error("order 1 published every item when order 0 did")
	}
	sorted := func(ts []time.Time) []time.Time {
		ts = slices.Clone(ts)
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		return ts
	}
	if !slices.Equal(sorted(first), sorted(other)) {
		t.Error("order 1 used other publication times, not the same times in another order")
	}
}
