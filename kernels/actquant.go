package kernels

import "math"

// ActEps is the smallest row maximum used when quantising activations, so an
// all-zero row does not divide by zero.
const ActEps = 1e-5

// QuantizedRows is a batch of activation rows quantised to int8 with one
// scale per row (per token), the input of ternary x int8 products.
type QuantizedRows struct {
	Q     []int8    // Rows x Cols quantised values, row-major
	Scale []float32 // per row: q = x * Scale, so x ~ q / Scale
	Sum   []int32   // per row: the sum of Q, for kernels that use unsigned weight codes
	Rows  int
	Cols  int
}

// Resize makes room for rows x cols values, reusing the existing buffers when
// they are large enough.
func (a *QuantizedRows) Resize(rows, cols int) {
	a.Rows, a.Cols = rows, cols
	if cap(a.Q) < rows*cols {
		a.Q = make([]int8, rows*cols)
	}
	a.Q = a.Q[:rows*cols]
	if cap(a.Scale) < rows {
		a.Scale = make([]float32, rows)
		a.Sum = make([]int32, rows)
	}
	a.Scale = a.Scale[:rows]
	a.Sum = a.Sum[:rows]
}

// Row returns the quantised values of row t.
func (a *QuantizedRows) Row(t int) []int8 { return a.Q[t*a.Cols : (t+1)*a.Cols] }

// QuantizeRowsI8 quantises each of the rows x cols values of x to int8 with
// its own absmax scale, the activation arithmetic of BitNet b1.58 (DESIGN.md
// §4): s = 127 / max(max|x|, ActEps), q = clamp(roundHalfEven(x*s), -128, 127).
func QuantizeRowsI8(dst *QuantizedRows, x []float32, rows, cols int) {
	dst.Resize(rows, cols)
	for t := 0; t < rows; t++ {
		dst.Scale[t], dst.Sum[t] = quantizeRowI8(dst.Q[t*cols:(t+1)*cols], x[t*cols:(t+1)*cols])
	}
}

// quantizeRowI8Generic is the scalar oracle of per-row int8 quantisation.
func quantizeRowI8Generic(q []int8, x []float32) (scale float32, sum int32) {
	amax := float32(0)
	for _, v := range x {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	scale = 127 / max(amax, ActEps)
	for i, v := range x {
		r := math.RoundToEven(float64(v * scale))
		r = max(-128, min(127, r))
		q[i] = int8(r)
		sum += int32(q[i])
	}
	return scale, sum
}

// quantizeRowI8 is the dispatched per-row quantiser.
var quantizeRowI8 = quantizeRowI8Generic

// FakeQuantizeQ8K replaces every block of 256 values of x by its Q8_K
// round trip, the activation arithmetic llama.cpp applies before TQ1_0/TQ2_0
// products: m = the value of largest magnitude, iscale = -127/m,
// q = min(roundHalfEven(iscale*x), 127), x' = q/iscale. A trailing partial
// block is treated the same way. It exists to reproduce llama.cpp's results.
func FakeQuantizeQ8K(x []float32) {
	for lo := 0; lo < len(x); lo += QK_K {
		blk := x[lo:min(lo+QK_K, len(x))]
		var m, amax float32
		for _, v := range blk {
			if a := float32(math.Abs(float64(v))); a > amax {
				amax, m = a, v
			}
		}
		if amax == 0 {
			clear(blk)
			continue
		}
		iscale := -127 / m
		if math.IsInf(float64(iscale), 0) {
			// |m| < 127/MaxFloat32: llama.cpp's block scale 1/iscale is 0,
			// so the block contributes zero; q/iscale would be NaN.
			clear(blk)
			continue
		}
		for i, v := range blk {
			q := min(math.RoundToEven(float64(iscale*v)), 127)
			blk[i] = float32(q) / iscale
		}
	}
}
