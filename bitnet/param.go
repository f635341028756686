package bitnet

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Param is one trainable tensor: its values and the gradient that Backward
// calls add into. An optimizer iterates a model's parameters, reads Grad,
// updates Data and then clears Grad with ZeroGrad.
type Param struct {
	Name  string
	Shape []int // e.g. [out, in] for a weight matrix, row-major
	Data  []float32
	Grad  []float32
}

// NewParam returns a zero-valued parameter of the given shape.
func NewParam(name string, shape ...int) *Param {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("bitnet: parameter %s has a negative dimension in %v", name, shape))
		}
		n *= d
	}
	return &Param{Name: name, Shape: shape, Data: make([]float32, n), Grad: make([]float32, n)}
}

// ZeroGrad clears the accumulated gradient.
func (p *Param) ZeroGrad() { clear(p.Grad) }

// initNormal fills p with normal values of standard deviation std.
func (p *Param) initNormal(rng *rand.Rand, std float64) {
	for i := range p.Data {
		p.Data[i] = float32(rng.NormFloat64() * std)
	}
}

// initUniform fills p with values uniform in [-bound, bound).
func (p *Param) initUniform(rng *rand.Rand, bound float64) {
	for i := range p.Data {
		p.Data[i] = float32((2*rng.Float64() - 1) * bound)
	}
}

// initLinear gives a weight matrix [out, in] and its optional bias the
// initialisation of the seed's layers: Kaiming-normal weights for a ReLU gain,
// std = sqrt(2/in), and a bias uniform in ±1/sqrt(in).
func initLinear(rng *rand.Rand, weight, bias *Param, in int) {
	weight.initNormal(rng, math.Sqrt(2/float64(in)))
	if bias != nil {
		bias.initUniform(rng, 1/math.Sqrt(float64(in)))
	}
}

// grow returns buf resized to n values, reallocating only when it is too
// small. The contents are unspecified.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// rowsOf returns how many rows of width cols x holds, panicking when x is not
// a whole number of rows: a shape mistake in the caller.
func rowsOf(layer string, x []float32, cols int) int {
	if cols <= 0 || len(x)%cols != 0 {
		panic(fmt.Sprintf("bitnet: %s: %d values are not rows of %d", layer, len(x), cols))
	}
	return len(x) / cols
}
