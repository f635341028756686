package bitnet

import (
	"fmt"
	"math/rand/v2"

	"github.com/bitnet-go/bitnet/bitnet/gemm"
	"github.com/bitnet-go/bitnet/kernels"
)

// Linear is an unquantised linear layer, y = x·Wᵀ + b: the float baseline of
// the BitLinear layers and the language-model head. Build it with NewLinear,
// or as a literal with a shared Weight to tie it to another layer's
// parameter (e.g. an Embedding table used as the output projection); both
// uses then add their gradients into the same Param.
type Linear struct {
	In, Out int
	Weight  *Param // [Out, In]
	Bias    *Param // [Out], nil for none

	x     []float32 // copy of the last input
	y, dx []float32
}

// NewLinear returns a linear layer initialised like the BitLinear layers:
// Kaiming-normal weights (std sqrt(2/in)) and, when bias is set, a bias
// uniform in ±1/sqrt(in).
func NewLinear(in, out int, bias bool, rng *rand.Rand) *Linear {
	l := &Linear{In: in, Out: out, Weight: NewParam("weight", out, in)}
	if bias {
		l.Bias = NewParam("bias", out)
	}
	initLinear(rng, l.Weight, l.Bias, in)
	return l
}

// Params returns the weight and, if present, the bias.
func (l *Linear) Params() []*Param {
	if l.Bias == nil {
		return []*Param{l.Weight}
	}
	return []*Param{l.Weight, l.Bias}
}

// Forward returns x·Wᵀ + b for the rows of x (n×In), n×Out, owned by the
// layer.
func (l *Linear) Forward(p *kernels.Pool, x []float32) []float32 {
	rows := rowsOf("Linear", x, l.In)
	if len(l.Weight.Data) != l.In*l.Out {
		panic(fmt.Sprintf("bitnet: Linear %d -> %d has %d weights", l.In, l.Out, len(l.Weight.Data)))
	}
	l.x = append(l.x[:0], x...)
	l.y = grow(l.y, rows*l.Out)
	gemm.MulT(p, gemm.View(l.y, rows, l.Out), gemm.View(x, rows, l.In), gemm.View(l.Weight.Data, l.Out, l.In), false)
	if l.Bias != nil {
		parallelFor(p, rows, func(lo, hi int) {
			for t := lo; t < hi; t++ {
				kernels.Add(l.y[t*l.Out:(t+1)*l.Out], l.Bias.Data)
			}
		})
	}
	return l.y
}

// Backward adds dW = dyᵀ·x and db = Σ dy, and returns dx = dy·W (owned by
// the layer).
func (l *Linear) Backward(p *kernels.Pool, dy []float32) []float32 {
	rows := rowsOf("Linear backward", dy, l.Out)
	if rows*l.In != len(l.x) {
		panic(fmt.Sprintf("bitnet: Linear backward of %d rows after a forward of %d", rows, len(l.x)/l.In))
	}
	if l.Bias != nil {
		addColumnSums(p, l.Bias.Grad, dy, rows, l.Out)
	}
	gemm.MulTA(p, gemm.View(l.Weight.Grad, l.Out, l.In), gemm.View(dy, rows, l.Out), gemm.View(l.x, rows, l.In), true)
	l.dx = grow(l.dx, rows*l.In)
	gemm.Mul(p, gemm.View(l.dx, rows, l.In), gemm.View(dy, rows, l.Out), gemm.View(l.Weight.Data, l.Out, l.In), false)
	return l.dx
}
