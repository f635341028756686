package kernels

import (
	"math"
	"testing"
)

// TestNewInt8RowMatrix checks the re-encoding against the activation
// quantiser's oracle applied to each decoded row, and the product through the
// pool against a float64 reference of the re-encoded weights.
func TestNewInt8RowMatrix(t *testing.T) {
	rng := newRand(50)
	for _, threads := range []int{1, 3} {
		p := NewPool(threads)
		for _, typ := range []Type{F16, F32, BF16, Q8_0} {
			const rows, cols = 7, 96
			src := randomMatrix(t, rng, typ, rows, cols, ordinaryScales)
			m := NewInt8RowMatrix(p, src)
			if m.Rows != rows || m.Cols != cols || m.Bytes() != rows*cols+4*rows {
				t.Fatalf("%v: shape %dx%d, %d bytes", typ, m.Rows, m.Cols, m.Bytes())
			}
			row := make([]float32, cols)
			q := make([]int8, cols)
			for r := 0; r < rows; r++ {
				src.DequantizeRow(r, row)
				scale, _ := quantizeRowI8Generic(q, row)
				if m.Scale(r) != scale || string(int8Bytes(m.Row(r))) != string(int8Bytes(q)) {
					t.Fatalf("%v row %d: scale %v, q %v; want %v, %v", typ, r, m.Scale(r), m.Row(r), scale, q)
				}
				// The re-encoded weights are within half a step of the originals (plus
				// the rounding of x*scale in float32).
				for k, v := range row {
					if e := math.Abs(float64(q[k])/float64(scale) - float64(v)); e > 0.5001/float64(scale) {
						t.Fatalf("%v row %d col %d: %v re-encoded as %v (q %d scale %v)", typ, r, k, v, float64(q[k])/float64(scale), q[k], scale)
					}
				}
			}
			const tokens = 3
			x := randomActivations(rng, tokens, cols, false)
			dst := make([]float32, tokens*rows+2)
			fillSentinel(dst)
			p.MatMulInt8Row(dst, m, x, tokens)
			want := make([]float64, tokens*rows)
			mag := make([]float64, tokens*rows)
			for tk := 0; tk < tokens; tk++ {
				for r := 0; r < rows; r++ {
					for k, v := range m.Row(r) {
						prod := float64(v) / float64(m.Scale(r)) * float64(x[tk*cols+k])
						want[tk*rows+r] += prod
						mag[tk*rows+r] += math.Abs(prod)
					}
				}
			}
			checkProduct(t, typ.String(), dst, want, mag, func(mag float64) float64 { return tolF32(cols, mag) + 2*u*mag })
		}
		p.Close()
	}
}
