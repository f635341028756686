package lm

import (
	"fmt"
	"math"

	"github.com/bitnet-go/bitnet/bitnet"
	"github.com/bitnet-go/bitnet/kernels"
)

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter). Weight
// decay applies to matrices (parameters of two dimensions) only, not to norm
// gains. The moments are float32, so that a checkpoint holds them exactly.
type AdamW struct {
	Beta1, Beta2, Eps, WeightDecay float32
	// Steps is the number of updates applied so far (for bias correction).
	Steps int

	params []*bitnet.Param
	m, v   [][]float32
}

// NewAdamW returns an optimizer for params with zero moments.
func NewAdamW(params []*bitnet.Param, beta1, beta2, eps, weightDecay float32) *AdamW {
	a := &AdamW{Beta1: beta1, Beta2: beta2, Eps: eps, WeightDecay: weightDecay, params: params}
	for _, p := range params {
		a.m = append(a.m, make([]float32, len(p.Data)))
		a.v = append(a.v, make([]float32, len(p.Data)))
	}
	return a
}

// Update applies one step with learning rate lr to every parameter from its
// Grad, and clears the gradients.
func (a *AdamW) Update(p *kernels.Pool, lr float64) {
	a.Steps++
	c1 := float32(1 - math.Pow(float64(a.Beta1), float64(a.Steps)))
	c2 := float32(1 - math.Pow(float64(a.Beta2), float64(a.Steps)))
	b1, b2, eps, rate := a.Beta1, a.Beta2, a.Eps, float32(lr)
	for i, prm := range a.params {
		decay := float32(0)
		if len(prm.Shape) == 2 {
			decay = rate * a.WeightDecay
		}
		w, g, m, v := prm.Data, prm.Grad, a.m[i], a.v[i]
		parallelChunks(p, len(w), func(lo, hi int) {
			for j := lo; j < hi; j++ {
				m[j] = b1*m[j] + (1-b1)*g[j]
				v[j] = b2*v[j] + (1-b2)*g[j]*g[j]
				step := (m[j] / c1) / (float32(math.Sqrt(float64(v[j]/c2))) + eps)
				w[j] -= rate*step + decay*w[j]
			}
			clear(g[lo:hi])
		})
	}
}

// moments returns the first and second moments of parameter i.
func (a *AdamW) moments(i int) (m, v []float32) { return a.m[i], a.v[i] }

// GradNorm returns the global L2 norm of the parameters' gradients, summed
// in float64 in parameter order.
func GradNorm(params []*bitnet.Param) float64 {
	var ss float64
	for _, p := range params {
		for _, g := range p.Grad {
			ss += float64(g) * float64(g)
		}
	}
	return math.Sqrt(ss)
}

// ClipGradients scales every gradient by maxNorm/norm when the global norm
// exceeds maxNorm (> 0), and returns the norm before clipping.
func ClipGradients(p *kernels.Pool, params []*bitnet.Param, maxNorm float64) float64 {
	norm := GradNorm(params)
	if maxNorm > 0 && norm > maxNorm {
		s := float32(maxNorm / norm)
		for _, prm := range params {
			g := prm.Grad
			parallelChunks(p, len(g), func(lo, hi int) { kernels.Scale(g[lo:hi], s) })
		}
	}
	return norm
}

// Schedule is the learning rate over the steps of a run: a linear warmup
// from Peak/Warmup to Peak over the first Warmup steps, then a cosine decay
// to Min at step Total.
type Schedule struct {
	Peak, Min     float64
	Warmup, Total int
}

// LR returns the learning rate of update step (counted from 0).
func (s Schedule) LR(step int) float64 {
	if step < s.Warmup {
		return s.Peak * float64(step+1) / float64(s.Warmup)
	}
	if step >= s.Total || s.Total <= s.Warmup {
		return s.Min
	}
	t := float64(step-s.Warmup) / float64(s.Total-s.Warmup)
	return s.Min + (s.Peak-s.Min)*0.5*(1+math.Cos(math.Pi*t))
}

// validate checks the schedule.
func (s Schedule) validate() error {
	if !(s.Peak > 0) || s.Peak > 1 || s.Min < 0 || s.Min > s.Peak || s.Warmup < 0 || s.Total <= 0 {
		return fmt.Errorf("learning-rate schedule %+v is invalid (want 0 < min <= peak <= 1, warmup >= 0, steps > 0)", s)
	}
	return nil
}
