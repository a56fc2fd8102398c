package main

import (
	"math"
	"testing"
)

func TestOwnOutlet(t *testing.T) {
	for _, tt := range []struct {
		first string
		own   bool
	}{
		{"london, england (cnn) -- police arrested three men on monday.", true},
		{"(cnn) -- the senate passed the bill.", true},
		{"new york (mental floss) -- a list of ten facts.", false},
		{"editor's note: in our behind the scenes series, cnn correspondents share their experiences.", false},
	} {
		if got := ownOutlet(article{Lines: []string{tt.first}}); got != tt.own {
			t.Errorf("ownOutlet(%q) = %v, want %v", tt.first, got, tt.own)
		}
	}
}

// TestFitLogisticLeavesOutDroppedFeatures checks the fit on data where one
// feature decides the label: it gets a large positive weight, and a feature
// the validation left out gets none, however predictive.
func TestFitLogisticLeavesOutDroppedFeatures(t *testing.T) {
	var xs [][nf]float64
	var ys []float64
	for i := range 400 {
		var x [nf]float64
		x[0] = 1
		x[1] = float64(i%2)*2 - 1 + 0.3*math.Sin(float64(i)) // predictive, used
		x[2] = x[1]                                          // as predictive, dropped
		x[3] = math.Cos(float64(i))                          // noise
		xs = append(xs, x)
		ys = append(ys, float64(i%2))
	}
	var use [nf]bool
	for j := range use {
		use[j] = j != 2
	}
	w, err := fitLogistic(xs, ys, 1, use)
	if err != nil {
		t.Fatal(err)
	}
	if w[1] < 1 || w[2] != 0 || math.Abs(w[3]) > math.Abs(w[1])/4 {
		t.Errorf("weights %.3f (predictive), %.3f (dropped), %.3f (noise): want large, 0, small", w[1], w[2], w[3])
	}
}
