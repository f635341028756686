package kernels

import (
	"math"
	"testing"
)

// TestAttentionRows compares DotRows and AddScaledRows with float64
// references on strided rows, for row lengths around multiples of 8 and 64
// and every count of rows up to 9 (the four-row passes and their remainder).
func TestAttentionRows(t *testing.T) {
	rng := newRand(70)
	for _, k := range []int{1, 7, 8, 16, 64, 72, 128, 136} {
		for n := 0; n <= 9; n++ {
			stride := k + 3
			m := make([]float32, n*stride+k)
			for i := range m {
				m[i] = float32(rng.NormFloat64())
			}
			x := make([]float32, k)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			dst := make([]float32, n+1)
			dst[n] = 42 // must stay
			DotRows(dst[:n], x, m, stride, 0.25)
			for p := 0; p < n; p++ {
				var want, mag float64
				for j := 0; j < k; j++ {
					v := float64(x[j]) * float64(m[p*stride+j])
					want += v
					mag += math.Abs(v)
				}
				want *= 0.25
				if e := math.Abs(float64(dst[p]) - want); e > tolF32(k, mag)*0.25+u*math.Abs(want) {
					t.Fatalf("DotRows k %d n %d: row %d = %v, want %v", k, n, p, dst[p], want)
				}
			}
			if dst[n] != 42 {
				t.Fatalf("DotRows k %d n %d wrote past its output", k, n)
			}
			w := make([]float32, n)
			for i := range w {
				w[i] = rng.Float32()
			}
			y := make([]float32, k+1)
			want := make([]float64, k)
			mag := make([]float64, k)
			for j := 0; j < k; j++ {
				y[j] = float32(rng.NormFloat64())
				want[j], mag[j] = float64(y[j]), math.Abs(float64(y[j]))
				for p := 0; p < n; p++ {
					v := float64(w[p]) * float64(m[p*stride+j])
					want[j] += v
					mag[j] += math.Abs(v)
				}
			}
			y[k] = 42
			AddScaledRows(y[:k], w, m, stride)
			for j := 0; j < k; j++ {
				if e := math.Abs(float64(y[j]) - want[j]); e > 2*tolF32(n+1, mag[j]) {
					t.Fatalf("AddScaledRows k %d n %d: element %d = %v, want %v", k, n, j, y[j], want[j])
				}
			}
			if y[k] != 42 {
				t.Fatalf("AddScaledRows k %d n %d wrote past its output", k, n)
			}
		}
	}
}
