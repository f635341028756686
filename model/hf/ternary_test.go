package hf

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
)

// sliceRows serves ternary values from memory.
type sliceRows struct {
	t    []int8
	cols int
}

func (s sliceRows) row(r int, dst []int8) error {
	copy(dst, s.t[r*s.cols:(r+1)*s.cols])
	return nil
}

// TestEncodeTernaryMatchesKernels: the direct encoders write exactly the
// bytes of kernels' reference quantisers applied to ternary × gamma,
// including all-zero blocks (scale 0) and gammas that fp16 rounds.
func TestEncodeTernaryMatchesKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const rows, cols = 8, 768
	trits := make([]int8, rows*cols)
	for i := range trits {
		trits[i] = int8(rng.IntN(3)) - 1
	}
	clear(trits[2*cols : 2*cols+256]) // an all-zero block
	for i := 5 * cols; i < 6*cols; i++ {
		trits[i] = int8(rng.IntN(2)) // no -1 in this row
	}
	for _, gamma := range []float32{0.0123456, 1, 3.3e-3, 250.7} {
		vals := make([]float32, len(trits))
		for i, v := range trits {
			vals[i] = float32(v) * gamma
		}
		for _, typ := range []kernels.Type{kernels.I2_S, kernels.TQ2_0, kernels.TQ1_0} {
			got, err := encodeTernary(typ, sliceRows{trits, cols}, rows, cols, gamma)
			if err != nil {
				t.Fatal(err)
			}
			want, err := kernels.Encode(typ, vals, cols)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%v, gamma %g: encoding differs from kernels.Encode", typ, gamma)
			}
		}
	}
	for _, gamma := range []float32{0, -1, 1e-9, 1e6} {
		for _, typ := range []kernels.Type{kernels.TQ2_0, kernels.TQ1_0} {
			if _, err := encodeTernary(typ, sliceRows{trits, cols}, rows, cols, gamma); err == nil {
				t.Errorf("%v accepted the scale %g", typ, gamma)
			}
		}
	}
}
