package kernels

import (
	"math"
	"testing"
)

func TestReLU2Mul(t *testing.T) {
	g := []float32{-2, -0.5, 0, 0.5, 3, 1, -1, 2, 4, -3}
	up := []float32{1, 2, 3, 4, 5, -1, 7, 0.25, -2, 9, 99}
	want := make([]float32, len(g))
	for i, v := range g {
		want[i] = float32(math.Max(float64(v), 0)*math.Max(float64(v), 0)) * up[i]
	}
	ReLU2Mul(g, up)
	for i := range g {
		if g[i] != want[i] {
			t.Errorf("ReLU2Mul element %d = %v, want %v", i, g[i], want[i])
		}
	}
}
