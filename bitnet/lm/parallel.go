package lm

import (
	"math"

	"github.com/bitnet-go/bitnet/kernels"
)

// rangeFunc adapts a function to kernels.Task.
type rangeFunc func(lo, hi int)

func (f rangeFunc) Run(lo, hi int) { f(lo, hi) }

// parallelFor runs f over [0, n) on the pool, or inline when p is nil.
func parallelFor(p *kernels.Pool, n int, f func(lo, hi int)) {
	switch {
	case n <= 0:
	case p == nil:
		f(0, n)
	default:
		p.Parallel(n, rangeFunc(f))
	}
}

// chunk is how many elements one work item of an element-wise loop covers.
const chunk = 1 << 14

// parallelChunks runs f over [0, n) in chunks of the given size.
func parallelChunks(p *kernels.Pool, n int, f func(lo, hi int)) {
	parallelFor(p, (n+chunk-1)/chunk, func(lo, hi int) {
		f(lo*chunk, min(hi*chunk, n))
	})
}

// add adds src to dst element-wise.
func add(p *kernels.Pool, dst, src []float32) {
	parallelChunks(p, len(dst), func(lo, hi int) {
		kernels.Add(dst[lo:hi], src[lo:hi])
	})
}

// engineAttention is causal grouped-query attention over one sequence,
// computed in the engine's order: for each query row and head, one kernels.Dot
// per position, kernels.Softmax, then a kernels.AddScaled per position. It
// is the inference-mode counterpart of bitnet.Attention (which multiplies
// blocks of rows at once and so rounds differently).
type engineAttention struct {
	heads, kvHeads, headDim int
	out                     []float32
}

// forward attends seq positions; q has seq rows of heads·headDim values, k
// and v rows of kvHeads·headDim. The result is owned by a.
func (a *engineAttention) forward(p *kernels.Pool, q, k, v []float32, seq int) []float32 {
	hd, qDim, kvDim := a.headDim, a.heads*a.headDim, a.kvHeads*a.headDim
	group := a.heads / a.kvHeads
	scale := float32(1 / math.Sqrt(float64(hd)))
	a.out = grow(a.out, seq*qDim)
	parallelFor(p, seq*a.heads, func(lo, hi int) {
		scores := make([]float32, seq)
		for item := lo; item < hi; item++ {
			i, h := item/a.heads, item%a.heads
			qh := q[i*qDim+h*hd : i*qDim+(h+1)*hd]
			off := (h / group) * hd
			for j := 0; j <= i; j++ {
				scores[j] = kernels.Dot(qh, k[j*kvDim+off:j*kvDim+off+hd]) * scale
			}
			kernels.Softmax(scores[:i+1])
			out := a.out[i*qDim+h*hd : i*qDim+(h+1)*hd]
			clear(out)
			for j := 0; j <= i; j++ {
				kernels.AddScaled(out, scores[j], v[j*kvDim+off:j*kvDim+off+hd])
			}
		}
	})
	return a.out
}

// grow returns buf resized to n values, reallocating only when too small.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}
