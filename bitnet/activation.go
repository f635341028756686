package bitnet

import (
	"fmt"
	"math"

	"github.com/bitnet-go/bitnet/kernels"
)

// Activation is an element-wise non-linearity of a feed-forward block.
type Activation int

const (
	// SiLU is x·σ(x), the SwiGLU activation of LLaMA-style models.
	SiLU Activation = iota
	// ReLU2 is max(x, 0)², the activation of BitNet b1.58 2B4T.
	ReLU2
)

// String returns the activation's name as model configs spell it.
func (a Activation) String() string {
	switch a {
	case SiLU:
		return "silu"
	case ReLU2:
		return "relu2"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// Apply returns a(x), with the engine's arithmetic (kernels.SiLU,
// kernels.ReLU2).
func (a Activation) Apply(x float32) float32 {
	if a == ReLU2 {
		return kernels.ReLU2(x)
	}
	return kernels.SiLU(x)
}

// Derivative returns a'(x): σ(x)·(1 + x·(1-σ(x))) for SiLU, 2·max(x, 0) for
// ReLU2.
func (a Activation) Derivative(x float32) float32 {
	if a == ReLU2 {
		return 2 * max(x, 0)
	}
	s := 1 / (1 + math.Exp(-float64(x)))
	return float32(s * (1 + float64(x)*(1-s)))
}

// elementwiseChunk is how many elements one parallel work item covers.
const elementwiseChunk = 4096

// parallelElements runs f over [0, n) in chunks of elementwiseChunk.
func parallelElements(p *kernels.Pool, n int, f func(lo, hi int)) {
	parallelFor(p, (n+elementwiseChunk-1)/elementwiseChunk, func(lo, hi int) {
		f(lo*elementwiseChunk, min(hi*elementwiseChunk, n))
	})
}

// Act applies an activation element-wise: y = Fn(x).
type Act struct {
	Fn Activation

	x, y, dx []float32
}

// Forward returns Fn(x) (owned by the layer).
func (l *Act) Forward(p *kernels.Pool, x []float32) []float32 {
	l.x = append(l.x[:0], x...)
	l.y = grow(l.y, len(x))
	parallelElements(p, len(x), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			l.y[i] = l.Fn.Apply(x[i])
		}
	})
	return l.y
}

// Backward returns dy ⊙ Fn'(x) (owned by the layer).
func (l *Act) Backward(p *kernels.Pool, dy []float32) []float32 {
	if len(dy) != len(l.x) {
		panic(fmt.Sprintf("bitnet: Act backward of %d values after a forward of %d", len(dy), len(l.x)))
	}
	l.dx = grow(l.dx, len(dy))
	parallelElements(p, len(dy), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			l.dx[i] = dy[i] * l.Fn.Derivative(l.x[i])
		}
	})
	return l.dx
}

// GLU is the gated unit of a LLaMA-style feed-forward block:
// y = Fn(gate) ⊙ up, computed as the engine does.
type GLU struct {
	Fn Activation

	gate, up, y, dgate, dup []float32
}

// Forward returns Fn(gate) ⊙ up (owned by the layer).
func (l *GLU) Forward(p *kernels.Pool, gate, up []float32) []float32 {
	if len(gate) != len(up) {
		panic(fmt.Sprintf("bitnet: GLU of %d gate and %d up values", len(gate), len(up)))
	}
	l.gate = append(l.gate[:0], gate...)
	l.up = append(l.up[:0], up...)
	l.y = grow(l.y, len(gate))
	parallelElements(p, len(gate), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			l.y[i] = l.Fn.Apply(gate[i]) * up[i]
		}
	})
	return l.y
}

// Backward returns the gradients of gate (dy ⊙ up ⊙ Fn'(gate)) and up
// (dy ⊙ Fn(gate)), owned by the layer.
func (l *GLU) Backward(p *kernels.Pool, dy []float32) (dgate, dup []float32) {
	if len(dy) != len(l.gate) {
		panic(fmt.Sprintf("bitnet: GLU backward of %d values after a forward of %d", len(dy), len(l.gate)))
	}
	l.dgate = grow(l.dgate, len(dy))
	l.dup = grow(l.dup, len(dy))
	parallelElements(p, len(dy), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g := l.gate[i]
			l.dgate[i] = dy[i] * l.up[i] * l.Fn.Derivative(g)
			l.dup[i] = dy[i] * l.Fn.Apply(g)
		}
	})
	return l.dgate, l.dup
}
