package main

import (
	"fmt"
	"math"

	"github.com/newsbot/newsbot/briefings/summarize/internal/extract"
)

const nf = extract.NumFeatures

// fitLogistic fits L2-penalized logistic regression by Newton's method on
// standardized features, and returns the weights for the raw features.
// Features outside use are left out of the fit (weight 0).
func fitLogistic(xs [][nf]float64, ys []float64, lambda float64, use [nf]bool) ([nf]float64, error) {
	var mean, sd [nf]float64
	n := float64(len(xs))
	for _, x := range xs {
		for j := range nf {
			mean[j] += x[j] / n
		}
	}
	for _, x := range xs {
		for j := range nf {
			d := x[j] - mean[j]
			sd[j] += d * d / n
		}
	}
	for j := range nf {
		sd[j] = math.Sqrt(sd[j])
		if sd[j] < 1e-9 || j == 0 || !use[j] {
			sd[j] = 1 // constant features (the bias) stay as they are
			if j != 0 {
				mean[j] = 0
			}
		}
	}
	mean[0] = 0
	z := func(x [nf]float64) [nf]float64 {
		for j := range nf {
			if use[j] || j == 0 {
				x[j] = (x[j] - mean[j]) / sd[j]
			} else {
				x[j] = 0
			}
		}
		return x
	}
	var w [nf]float64
	for range 30 {
		var g [nf]float64
		var h [nf][nf]float64
		for k, x := range xs {
			zx := z(x)
			s := 0.0
			for j := range nf {
				s += w[j] * zx[j]
			}
			p := 1 / (1 + math.Exp(-s))
			d := p - ys[k]
			v := p * (1 - p)
			for a := range nf {
				if zx[a] == 0 {
					continue
				}
				g[a] += d * zx[a]
				va := v * zx[a]
				for b := a; b < nf; b++ {
					h[a][b] += va * zx[b]
				}
			}
		}
		for a := range nf {
			for b := 0; b < a; b++ {
				h[a][b] = h[b][a]
			}
			if a != 0 {
				g[a] += lambda * w[a]
				h[a][a] += lambda
			}
			h[a][a] += 1e-9
		}
		step, err := solve(h, g)
		if err != nil {
			return w, err
		}
		change := 0.0
		for j := range nf {
			w[j] -= step[j]
			change = math.Max(change, math.Abs(step[j]))
		}
		if change < 1e-6 {
			break
		}
	}
	// Back to raw features: w·z(x) = Σ w_j (x_j - m_j)/s_j.
	var raw [nf]float64
	for j := 1; j < nf; j++ {
		if !use[j] {
			continue
		}
		raw[j] = w[j] / sd[j]
		raw[0] -= w[j] * mean[j] / sd[j]
	}
	raw[0] += w[0]
	return raw, nil
}

// solve solves h·x = g by Gaussian elimination with partial pivoting.
func solve(h [nf][nf]float64, g [nf]float64) ([nf]float64, error) {
	for col := range nf {
		pivot := col
		for r := col + 1; r < nf; r++ {
			if math.Abs(h[r][col]) > math.Abs(h[pivot][col]) {
				pivot = r
			}
		}
		if math.Abs(h[pivot][col]) < 1e-15 {
			return g, fmt.Errorf("train: singular Hessian at feature %s", extract.FeatureNames[col])
		}
		h[col], h[pivot] = h[pivot], h[col]
		g[col], g[pivot] = g[pivot], g[col]
		for r := col + 1; r < nf; r++ {
			f := h[r][col] / h[col][col]
			for c := col; c < nf; c++ {
				h[r][c] -= f * h[col][c]
			}
			g[r] -= f * g[col]
		}
	}
	var x [nf]float64
	for r := nf - 1; r >= 0; r-- {
		s := g[r]
		for c := r + 1; c < nf; c++ {
			s -= h[r][c] * x[c]
		}
		x[r] = s / h[r][r]
	}
	return x, nil
}
