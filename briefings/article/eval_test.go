package article

import (
	"math"
	"testing"
)

// TestScorePage checks the metric against counts worked out by hand from
// the benchmark's definition.
func TestScorePage(t *testing.T) {
	tests := []struct {
		name, gold, pred string
		want             PageScore
	}{
		// gold shingles: a b c d | b c d e; predicted: a b c d | b c d f
		{"one shingle each way", "a b c d e", "a b c d f", PageScore{TP: 1.0 / 3, FP: 1.0 / 3, FN: 1.0 / 3}},
		{"identical, punctuation aside", "Rubio met Lavrov, in Kuala Lumpur.", "Rubio met Lavrov in Kuala Lumpur", PageScore{TP: 1}},
		{"case kept", "Rubio met Lavrov today", "rubio met lavrov today", PageScore{FP: 0.5, FN: 0.5}},
		{"shorter than a shingle", "two words", "two words", PageScore{TP: 1}},
		{"repeats count", "a b c d a b c d", "a b c d", PageScore{TP: 1.0 / 5, FN: 4.0 / 5}},
		{"empty prediction", "a b c d", "", PageScore{FN: 1, Empty: true}},
		{"unicode words", "Москва и Киев сегодня", "Москва и Киев сегодня", PageScore{TP: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ScorePage(tt.gold, tt.pred)
			if !near(got.TP, tt.want.TP) || !near(got.FP, tt.want.FP) || !near(got.FN, tt.want.FN) || got.Empty != tt.want.Empty {
				t.Errorf("ScorePage = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAggregate(t *testing.T) {
	pages := []PageScore{
		{TP: 1},              // perfect: precision 1, recall 1
		{TP: 0.5, FP: 0.5},   // precision 0.5, recall 1
		{TP: 0.25, FN: 0.75}, // precision 1, recall 0.25
		{FN: 1, Empty: true}, // nothing predicted: precision 0, recall 0
	}
	got := Aggregate(pages)
	p, r := (1+0.5+1+0)/4, (1+1+0.25+0)/4
	if !near(got.Precision, p) || !near(got.Recall, r) || !near(got.F1, 2*p*r/(p+r)) || got.Pages != 4 {
		t.Errorf("Aggregate = %+v, want precision %.4f, recall %.4f", got, p, r)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
