package bitnet

import (
	"fmt"

	"github.com/bitnet-go/bitnet/kernels"
)

// RoPE applies rotary position embeddings in the NEOX (rotate-half) pairing
// that the engine uses for the bitnet architectures (DESIGN.md §3): element
// i of a head pairs with element i + HeadDim/2 and both rotate by the angle
// pos·Theta^(-2i/HeadDim). It rotates with kernels.RoPE, so training sees the
// engine's exact values. It has no parameters and keeps no state: it works in
// place, and its backward pass is the inverse rotation.
type RoPE struct {
	HeadDim int
	Theta   float64

	rope *kernels.RoPE
}

// NewRoPE prepares rotations of heads of headDim (even) values with base
// theta (10000 for LLaMA, 500000 for BitNet b1.58 2B4T).
func NewRoPE(headDim int, theta float64) *RoPE {
	if headDim <= 0 || headDim%2 != 0 {
		panic(fmt.Sprintf("bitnet: RoPE head dimension %d is not a positive even number", headDim))
	}
	return &RoPE{HeadDim: headDim, Theta: theta, rope: kernels.NewRoPE(kernels.RoPENeox, headDim, headDim, theta)}
}

// Rotate rotates, in place, every head of every row of x for the row's
// position pos[row]. x holds len(pos) rows of a multiple of HeadDim values.
func (r *RoPE) Rotate(p *kernels.Pool, x []float32, pos []int) { r.apply(p, x, pos, 1) }

// Unrotate is Rotate's backward pass: it applies the inverse (transposed)
// rotation to the gradient dx, in place.
func (r *RoPE) Unrotate(p *kernels.Pool, dx []float32, pos []int) { r.apply(p, dx, pos, -1) }

func (r *RoPE) apply(p *kernels.Pool, x []float32, pos []int, sign int) {
	if len(pos) == 0 {
		return
	}
	width := len(x) / len(pos)
	if width*len(pos) != len(x) || width%r.HeadDim != 0 {
		panic(fmt.Sprintf("bitnet: RoPE over %d values for %d positions with heads of %d", len(x), len(pos), r.HeadDim))
	}
	parallelFor(p, len(pos), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			r.rope.Apply(x[t*width:(t+1)*width], sign*pos[t])
		}
	})
}
