package bitnet

import (
	"fmt"
	"math"

	"github.com/bitnet-go/bitnet/kernels"
)

// normLayer is the input normalisation inside a BitLinear layer.
type normLayer interface {
	Forward(p *kernels.Pool, x []float32) []float32
	Backward(p *kernels.Pool, dy []float32) []float32
	Params() []*Param
}

// RMSNorm normalises each row: y = x / sqrt(mean(x²) + Eps) * Weight, with the
// arithmetic of kernels.RMSNorm, so a trained model normalises exactly as the
// engine will.
type RMSNorm struct {
	Dim    int
	Eps    float32
	Weight *Param // the gain g, Dim values, initialised to 1

	x, inv []float32 // the last input and its per-row 1/rms
	y, dx  []float32
}

// NewRMSNorm returns an RMSNorm over rows of dim values with unit gain.
func NewRMSNorm(dim int, eps float32) *RMSNorm {
	w := NewParam("weight", dim)
	for i := range w.Data {
		w.Data[i] = 1
	}
	return &RMSNorm{Dim: dim, Eps: eps, Weight: w}
}

// Params returns the gain.
func (n *RMSNorm) Params() []*Param { return []*Param{n.Weight} }

// Forward normalises the rows of x.
func (n *RMSNorm) Forward(p *kernels.Pool, x []float32) []float32 {
	rows := rowsOf("RMSNorm", x, n.Dim)
	n.x = append(n.x[:0], x...)
	n.inv = grow(n.inv, rows)
	n.y = grow(n.y, len(x))
	d := n.Dim
	parallelFor(p, rows, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			row := x[t*d : (t+1)*d]
			kernels.RMSNorm(n.y[t*d:(t+1)*d], row, n.Weight.Data, n.Eps)
			var ss float64
			for _, v := range row {
				ss += float64(v) * float64(v)
			}
			n.inv[t] = float32(1 / math.Sqrt(ss/float64(d)+float64(n.Eps)))
		}
	})
	return n.y
}

// Backward returns the gradient of the input and adds the gain's gradient:
// with r = 1/rms, dx = r·g⊙dy - r³/n · x · Σ(dy⊙g⊙x), dg += Σ_rows dy⊙x·r.
func (n *RMSNorm) Backward(p *kernels.Pool, dy []float32) []float32 {
	rows := rowsOf("RMSNorm backward", dy, n.Dim)
	if rows != len(n.inv) {
		panic(fmt.Sprintf("bitnet: RMSNorm backward of %d rows after a forward of %d", rows, len(n.inv)))
	}
	d, g := n.Dim, n.Weight.Data
	n.dx = grow(n.dx, len(dy))
	parallelFor(p, rows, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			x, dyr, dx := n.x[t*d:(t+1)*d], dy[t*d:(t+1)*d], n.dx[t*d:(t+1)*d]
			var dot float64
			for i, v := range x {
				dot += float64(dyr[i]) * float64(g[i]) * float64(v)
			}
			r := float64(n.inv[t])
			c := float32(r * r * r * dot / float64(d))
			for i, v := range x {
				dx[i] = float32(r)*g[i]*dyr[i] - c*v
			}
		}
	})
	// The gain's gradient sums over rows; split the columns instead so that
	// no two workers write the same value.
	parallelFor(p, d, func(lo, hi int) {
		gg := n.Weight.Grad[lo:hi]
		for t := range rows {
			r := n.inv[t]
			x, dyr := n.x[t*d+lo:t*d+hi], dy[t*d+lo:t*d+hi]
			for i := range gg {
				gg[i] += dyr[i] * x[i] * r
			}
		}
	})
	return n.dx
}

// LayerNorm is the BitNet paper's LN (SubLN) without learned parameters:
// y = (x - mean(x)) / sqrt(var(x) + Eps) over each row.
type LayerNorm struct {
	Dim int
	Eps float32

	y, inv []float32 // the last output and its per-row 1/std
	dx     []float32
}

// NewLayerNorm returns a LayerNorm over rows of dim values.
func NewLayerNorm(dim int, eps float32) *LayerNorm { return &LayerNorm{Dim: dim, Eps: eps} }

// Params returns nothing: the paper's LN has no parameters.
func (n *LayerNorm) Params() []*Param { return nil }

// Forward normalises the rows of x. Statistics are accumulated in float64.
func (n *LayerNorm) Forward(p *kernels.Pool, x []float32) []float32 {
	rows := rowsOf("LayerNorm", x, n.Dim)
	d := n.Dim
	n.y = grow(n.y, len(x))
	n.inv = grow(n.inv, rows)
	parallelFor(p, rows, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			row := x[t*d : (t+1)*d]
			var sum float64
			for _, v := range row {
				sum += float64(v)
			}
			mean := sum / float64(d)
			var ss float64
			for _, v := range row {
				ss += (float64(v) - mean) * (float64(v) - mean)
			}
			inv := 1 / math.Sqrt(ss/float64(d)+float64(n.Eps))
			for i, v := range row {
				n.y[t*d+i] = float32((float64(v) - mean) * inv)
			}
			n.inv[t] = float32(inv)
		}
	})
	return n.y
}

// Backward returns the gradient of the input:
// dx = r · (dy - mean(dy) - y · mean(dy⊙y)).
func (n *LayerNorm) Backward(p *kernels.Pool, dy []float32) []float32 {
	rows := rowsOf("LayerNorm backward", dy, n.Dim)
	if rows != len(n.inv) {
		panic(fmt.Sprintf("bitnet: LayerNorm backward of %d rows after a forward of %d", rows, len(n.inv)))
	}
	d := n.Dim
	n.dx = grow(n.dx, len(dy))
	parallelFor(p, rows, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			y, dyr := n.y[t*d:(t+1)*d], dy[t*d:(t+1)*d]
			var sdy, sdyy float64
			for i, v := range dyr {
				sdy += float64(v)
				sdyy += float64(v) * float64(y[i])
			}
			mdy, mdyy := sdy/float64(d), sdyy/float64(d)
			r := float64(n.inv[t])
			for i, v := range dyr {
				n.dx[t*d+i] = float32(r * (float64(v) - mdy - float64(y[i])*mdyy))
			}
		}
	})
	return n.dx
}

// newNorm returns the input normalisation of a BitLinear layer, nil for
// NormNone.
func newNorm(kind NormKind, dim int, eps float32) normLayer {
	switch kind {
	case NormLayer:
		return NewLayerNorm(dim, eps)
	case NormRMS:
		n := NewRMSNorm(dim, eps)
		n.Weight.Name = "norm.weight"
		return n
	}
	return nil
}
