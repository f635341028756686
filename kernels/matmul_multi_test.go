package kernels

import (
	"math"
	"testing"
)

// TestMatMulI8Multi checks that a multi-matrix product equals separate
// MatMulI8 calls bit for bit, for matrices of different heights and types,
// on pools of 1 to 3 threads, and that it allocates nothing.
func TestMatMulI8Multi(t *testing.T) {
	rng := newRand(80)
	const cols = 512
	ms := []*Matrix{
		randomMatrix(t, rng, TQ2_0, 37, cols, ordinaryScales),
		randomMatrix(t, rng, I2_S, 5, cols, ordinaryScales),
		randomMatrix(t, rng, TQ1_0, 64, cols, ordinaryScales),
		randomMatrix(t, rng, TQ2_0, 1, cols, ordinaryScales),
	}
	for _, threads := range []int{1, 2, 3} {
		p := NewPool(threads)
		for _, tokens := range []int{1, 7} {
			var a QuantizedRows
			QuantizeRowsI8(&a, randomActivations(rng, tokens, cols, true), tokens, cols)
			for n := 1; n <= len(ms); n++ {
				dst := make([][]float32, n)
				for i := range dst {
					dst[i] = make([]float32, tokens*ms[i].Rows)
				}
				p.MatMulI8Multi(dst, ms[:n], &a)
				for i, m := range ms[:n] {
					want := make([]float32, tokens*m.Rows)
					p.MatMulI8(want, m, &a)
					for j := range want {
						if math.Float32bits(dst[i][j]) != math.Float32bits(want[j]) {
							t.Fatalf("threads %d tokens %d, %d matrices: matrix %d output %d = %v, want %v",
								threads, tokens, n, i, j, dst[i][j], want[j])
						}
					}
				}
				if allocs := testing.AllocsPerRun(10, func() { p.MatMulI8Multi(dst, ms[:n], &a) }); allocs != 0 {
					t.Errorf("MatMulI8Multi allocates %v times", allocs)
				}
			}
		}
		p.Close()
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("five matrices did not panic")
			}
		}()
		var a QuantizedRows
		QuantizeRowsI8(&a, make([]float32, cols), 1, cols)
		five := append(ms, ms[0])
		NewPool(1).MatMulI8Multi(make([][]float32, 5), five, &a)
	}()
}
