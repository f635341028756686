package kernels

import (
	"math"
	"testing"
)

// ropeReference rotates one head in float64: pair i (elements i and
// i + dims/2 for NEOX, 2i and 2i+1 for the interleaved style) turns by
// pos * theta^(-2i/dims); elements from dims on are left alone.
func ropeReference(style RoPEStyle, head []float32, dims, pos int, theta float64) []float64 {
	out := f64s(head)
	for i := 0; i < dims/2; i++ {
		ang := float64(pos) * math.Pow(theta, -2*float64(i)/float64(dims))
		ia, ib := 2*i, 2*i+1
		if style == RoPENeox {
			ia, ib = i, i+dims/2
		}
		a, b := float64(head[ia]), float64(head[ib])
		out[ia] = a*math.Cos(ang) - b*math.Sin(ang)
		out[ib] = a*math.Sin(ang) + b*math.Cos(ang)
	}
	return out
}

func TestRoPE(t *testing.T) {
	rng := newRand(40)
	for _, style := range []RoPEStyle{RoPENeox, RoPENorm} {
		for _, c := range []struct {
			headDim, dims, heads int
			theta                float64
		}{
			{64, 64, 4, 10000},
			{128, 128, 2, 500000},
			{64, 32, 3, 10000}, // partial rotation
			{2, 2, 5, 10000},
		} {
			r := NewRoPE(style, c.headDim, c.dims, c.theta)
			for _, pos := range []int{0, 1, 2, 17, 255, 4095, 131071} {
				x := make([]float32, c.headDim*c.heads)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				orig := append([]float32(nil), x...)
				r.Apply(x, pos)
				for h := 0; h < c.heads; h++ {
					head := orig[h*c.headDim : (h+1)*c.headDim]
					got := x[h*c.headDim : (h+1)*c.headDim]
					want := ropeReference(style, head, c.dims, pos, c.theta)
					for i := range got {
						// float32 sin/cos and two rounded products and a sum.
						tol := 4 * u * (math.Abs(float64(head[i])) + maxAbs(head))
						if i >= c.dims || pos == 0 {
							tol = 0 // untouched, and position 0 is the identity
						}
						if math.Abs(float64(got[i])-want[i]) > tol {
							t.Fatalf("style %d head dim %d dims %d pos %d: head %d element %d = %v, want %v",
								style, c.headDim, c.dims, pos, h, i, got[i], want[i])
						}
					}
					// A rotation preserves the norm of each pair, hence of the head.
					var n0, n1 float64
					for i := range head {
						n0 += float64(head[i]) * float64(head[i])
						n1 += float64(got[i]) * float64(got[i])
					}
					if math.Abs(math.Sqrt(n1)-math.Sqrt(n0)) > 8*u*math.Sqrt(n0) {
						t.Errorf("style %d pos %d: norm %v became %v", style, pos, math.Sqrt(n0), math.Sqrt(n1))
					}
				}
			}
		}
	}
}

// TestRoPEPairs checks which elements each style pairs on a basis vector:
// at position 1 with dims 4, pair 0 turns by 1 radian.
func TestRoPEPairs(t *testing.T) {
	s, c := float32(math.Sin(1)), float32(math.Cos(1))
	x := []float32{1, 0, 0, 0}
	NewRoPE(RoPENeox, 4, 4, 10000).Apply(x, 1)
	if x[0] != c || x[2] != s || x[1] != 0 || x[3] != 0 {
		t.Errorf("NEOX rotates element 0 into %v, want it paired with element 2", x)
	}
	x = []float32{1, 0, 0, 0}
	NewRoPE(RoPENorm, 4, 4, 10000).Apply(x, 1)
	if x[0] != c || x[1] != s || x[2] != 0 || x[3] != 0 {
		t.Errorf("interleaved style rotates element 0 into %v, want it paired with element 1", x)
	}
}

// TestRoPEComposes checks that rotating by p then q equals rotating by p+q.
func TestRoPEComposes(t *testing.T) {
	rng := newRand(41)
	r := NewRoPE(RoPENeox, 64, 64, 10000)
	x := make([]float32, 64)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	a := append([]float32(nil), x...)
	r.Apply(a, 5)
	r.Apply(a, 7)
	b := append([]float32(nil), x...)
	r.Apply(b, 12)
	for i := range a {
		if math.Abs(float64(a[i])-float64(b[i])) > 16*u*maxAbs(x) {
			t.Errorf("element %d: rotate 5 then 7 = %v, rotate 12 = %v", i, a[i], b[i])
		}
	}
}

func maxAbs(x []float32) float64 {
	var m float64
	for _, v := range x {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}
