package kernels

import (
	"math"
	"testing"
)

func TestDot(t *testing.T) {
	rng := newRand(30)
	for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 9, 1001} {
		a, b := make([]float32, n), make([]float32, n+2) // b may be longer
		var want, mag float64
		for i := range a {
			a[i] = float32(rng.NormFloat64())
			b[i] = float32(rng.NormFloat64())
			want += float64(a[i]) * float64(b[i])
			mag += math.Abs(float64(a[i]) * float64(b[i]))
		}
		if got := Dot(a, b); math.Abs(float64(got)-want) > tolF32(n, mag) {
			t.Errorf("Dot of length %d = %v, want %v", n, got, want)
		}
	}
	if got := Dot([]float32{1, 2, 3}, []float32{4, 5, 6}); got != 32 {
		t.Errorf("Dot([1 2 3], [4 5 6]) = %v", got)
	}
}

func TestElementwise(t *testing.T) {
	y := []float32{1, 2, 3}
	AddScaled(y, 2, []float32{1, -1, 0.5, 99})
	if y[0] != 3 || y[1] != 0 || y[2] != 4 {
		t.Errorf("AddScaled = %v, want [3 0 4]", y)
	}
	Add(y, []float32{1, 1, 1, 99})
	if y[0] != 4 || y[1] != 1 || y[2] != 5 {
		t.Errorf("Add = %v, want [4 1 5]", y)
	}
	Scale(y, -0.5)
	if y[0] != -2 || y[1] != -0.5 || y[2] != -2.5 {
		t.Errorf("Scale = %v, want [-2 -0.5 -2.5]", y)
	}
}

func TestActivations(t *testing.T) {
	for _, x := range []float32{-20, -3, -1, -0.5, 0, 0.5, 1, 3, 20} {
		want := float64(x) / (1 + math.Exp(-float64(x)))
		if got := SiLU(x); math.Abs(float64(got)-want) > 4*u*math.Abs(want)+1e-45 {
			t.Errorf("SiLU(%v) = %v, want %v", x, got, want)
		}
		want = math.Pow(math.Max(float64(x), 0), 2)
		if got := ReLU2(x); float64(got) != want {
			t.Errorf("ReLU2(%v) = %v, want %v", x, got, want)
		}
	}
	if got := SiLU(-200); got != 0 {
		t.Errorf("SiLU(-200) = %v, want 0", got)
	}
	if got := SiLU(200); got != 200 {
		t.Errorf("SiLU(200) = %v, want 200", got)
	}
}

// TestRMSNorm compares with the float64 formula x / sqrt(mean(x^2) + eps) *
// weight, in place and out of place.
func TestRMSNorm(t *testing.T) {
	rng := newRand(31)
	for _, n := range []int{1, 7, 256, 2560} {
		for _, scale := range []float64{1, 1e-20, 1e18} {
			x := make([]float32, n)
			w := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * scale)
				w[i] = float32(1 + 0.1*rng.NormFloat64())
			}
			const eps = 1e-5
			var ss float64
			for _, v := range x {
				ss += float64(v) * float64(v)
			}
			inv := 1 / math.Sqrt(ss/float64(n)+float64(float32(eps)))
			dst := make([]float32, n)
			RMSNorm(dst, x, w, eps)
			inPlace := append([]float32(nil), x...)
			RMSNorm(inPlace, inPlace, w, eps)
			for i := range x {
				want := float64(x[i]) * inv * float64(w[i])
				// inv and two products are rounded to float32.
				tol := 4*u*math.Abs(want) + 1e-45
				if math.Abs(float64(dst[i])-want) > tol || dst[i] != inPlace[i] {
					t.Fatalf("n %d scale %g: element %d = %v (in place %v), want %v", n, scale, i, dst[i], inPlace[i], want)
				}
			}
		}
	}
	// A zero vector stays zero (eps avoids 0/0).
	z := make([]float32, 8)
	RMSNorm(z, z, []float32{1, 1, 1, 1, 1, 1, 1, 1}, 1e-6)
	for _, v := range z {
		if v != 0 {
			t.Fatalf("RMSNorm of zeros = %v", z)
		}
	}
	// Known value: x = [3, 4], mean square 12.5, eps 0.
	d := make([]float32, 2)
	RMSNorm(d, []float32{3, 4}, []float32{1, 2}, 0)
	if want0, want1 := 3/math.Sqrt(12.5), 8/math.Sqrt(12.5); math.Abs(float64(d[0])-want0) > 1e-6 || math.Abs(float64(d[1])-want1) > 1e-6 {
		t.Errorf("RMSNorm([3 4], [1 2]) = %v, want [%v %v]", d, want0, want1)
	}
}

// TestSoftmax compares with the float64 formula and checks the edge cases:
// a single element, huge and hugely negative values, and shift invariance.
func TestSoftmax(t *testing.T) {
	check := func(name string, x []float32) []float32 {
		t.Helper()
		orig := append([]float64(nil), f64s(x)...)
		Softmax(x)
		m := math.Inf(-1)
		for _, v := range orig {
			m = math.Max(m, v)
		}
		var sum float64
		for _, v := range orig {
			sum += math.Exp(v - m)
		}
		var total float64
		for i, v := range orig {
			want := math.Exp(v-m) / sum
			// exp(x - max) of a float32 difference, summed over n terms, then a
			// reciprocal and a product: bound relative to each output.
			tol := (float64(len(x))+4+math.Abs(v-m))*u*want + float64(len(x))*u*want + 1e-45
			if math.Abs(float64(x[i])-want) > tol {
				t.Errorf("%s: element %d = %v, want %v", name, i, x[i], want)
			}
			total += float64(x[i])
		}
		if math.Abs(total-1) > float64(len(x)+4)*u*2 {
			t.Errorf("%s: sums to %v", name, total)
		}
		return x
	}
	if got := check("single", []float32{42}); got[0] != 1 {
		t.Errorf("softmax of one element = %v", got[0])
	}
	if got := check("huge", []float32{1e30, 0, -1e30}); got[0] != 1 || got[1] != 0 || got[2] != 0 {
		t.Errorf("softmax [1e30 0 -1e30] = %v", got)
	}
	if got := check("equal huge negatives", []float32{-1e30, -1e30}); got[0] != 0.5 || got[1] != 0.5 {
		t.Errorf("softmax [-1e30 -1e30] = %v", got)
	}
	check("large values", []float32{1000, 999, 998.5, 990})
	check("max float", []float32{math.MaxFloat32, math.MaxFloat32 / 2})
	rng := newRand(32)
	for _, n := range []int{2, 7, 128, 1000} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 5)
		}
		check("random", x)
		for i := range x {
			x[i] = float32(rng.NormFloat64()*5) + 1e4
		}
		check("random large", x)
	}
	Softmax(nil) // an empty slice is a no-op
}

func f64s(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
