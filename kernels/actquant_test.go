package kernels

import (
	"math"
	"testing"
)

// rowQuantizer is the signature of per-row int8 activation quantisers.
type rowQuantizer func(q []int8, x []float32) (scale float32, sum int32)

// rowQuantizers lists the scalar oracle and the dispatched quantiser, so a
// faster path registered in quantizeRowI8 is held to the same hand-computed
// values as the oracle.
func rowQuantizers() []struct {
	name string
	f    rowQuantizer
} {
	return []struct {
		name string
		f    rowQuantizer
	}{
		{"generic", quantizeRowI8Generic},
		{"dispatched", quantizeRowI8},
	}
}

func TestQuantizeRowI8HandComputed(t *testing.T) {
	zeroScale := float32(127) / float32(ActEps)
	cases := []struct {
		name  string
		x     []float32
		scale float32
		q     []int8
	}{
		{"unit scale, ties to even",
			[]float32{127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49, -127, 126.5},
			1, []int8{127, 0, 2, 2, 0, -2, -2, 3, -127, 126}},
		{"scale 1/2",
			[]float32{254, 1, 3, -5, -254, 0},
			0.5, []int8{127, 0, 2, -2, -127, 0}},
		{"scale 1/4",
			[]float32{508, 2, 6, 10, -2, 14},
			0.25, []int8{127, 0, 2, 2, 0, 4}},
		{"negative absmax",
			[]float32{-127, 63.5, -63.5},
			1, []int8{-127, 64, -64}},
		{"all zero uses ActEps",
			[]float32{0, 0, 0, 0, 0},
			zeroScale, []int8{0, 0, 0, 0, 0}},
		{"below ActEps",
			[]float32{1e-6, -2e-6, 4e-6},
			zeroScale, []int8{13, -25, 51}},
		{"huge",
			[]float32{1e30, -1e30, 2.5e29},
			127 / float32(1e30), []int8{127, -127, 32}},
		{"tiny rounds to zero",
			[]float32{1e-30, -1e-30},
			zeroScale, []int8{0, 0}},
		{"single element",
			[]float32{-3},
			127 / float32(3), []int8{-127}},
	}
	for _, impl := range rowQuantizers() {
		for _, c := range cases {
			q := make([]int8, len(c.x))
			scale, sum := impl.f(q, c.x)
			var wantSum int32
			for _, v := range c.q {
				wantSum += int32(v)
			}
			if scale != c.scale || sum != wantSum || string(int8Bytes(q)) != string(int8Bytes(c.q)) {
				t.Errorf("%s %s: got scale %v, q %v, sum %d; want %v, %v, %d", impl.name, c.name, scale, q, sum, c.scale, c.q, wantSum)
			}
		}
	}
}

func int8Bytes(q []int8) []byte {
	b := make([]byte, len(q))
	for i, v := range q {
		b[i] = byte(v)
	}
	return b
}

// TestQuantizeRowI8Random checks the definition on random rows of every
// magnitude: q = roundHalfEven(x * scale) with scale = 127 / max(max|x|,
// ActEps), never -128 (|q| <= 127 because the largest |x| maps to 127), the
// sum of q, and the reconstruction error of at most half a step.
func TestQuantizeRowI8Random(t *testing.T) {
	rng := newRand(4)
	for _, impl := range rowQuantizers() {
		for trial := 0; trial < 2000; trial++ {
			n := 1 + rng.IntN(300)
			x := make([]float32, n)
			mag := math.Pow(2, float64(rng.IntN(250)-125))
			for i := range x {
				x[i] = float32(rng.NormFloat64() * mag)
			}
			if trial%3 == 0 { // the absmax is negative
				x[rng.IntN(n)] = -float32(mag) * 10
			}
			q := make([]int8, n)
			scale, sum := impl.f(q, x)
			var amax float32
			for _, v := range x {
				amax = max(amax, float32(math.Abs(float64(v))))
			}
			if want := 127 / max(amax, ActEps); scale != want {
				t.Fatalf("%s: scale %v, want %v", impl.name, scale, want)
			}
			var s int32
			for i, v := range q {
				if v < -127 {
					t.Fatalf("%s: q[%d] = %d for x = %v (amax %v)", impl.name, i, v, x[i], amax)
				}
				if want := math.RoundToEven(float64(x[i] * scale)); float64(v) != want {
					t.Fatalf("%s: q[%d] = %d, want round(%v * %v) = %v", impl.name, i, v, x[i], scale, want)
				}
				if e := math.Abs(float64(x[i]) - float64(v)/float64(scale)); e > 0.5/float64(scale)*(1+1e-6) {
					t.Fatalf("%s: x[%d] = %v reconstructs as %v", impl.name, i, x[i], float64(v)/float64(scale))
				}
				s += int32(v)
			}
			if s != sum {
				t.Fatalf("%s: sum %d, want %d", impl.name, sum, s)
			}
		}
	}
}

// TestQuantizeRowsI8 checks that rows are quantised independently, and that
// the buffers are reused once large enough.
func TestQuantizeRowsI8(t *testing.T) {
	const cols = 6
	x := []float32{
		127, 0.5, 1.5, -2.5, 0, 1, // scale 1
		0, 0, 0, 0, 0, 0, // ActEps
		-1e30, 0, 2.5e29, 0, 0, 0, // scale 127e-30
	}
	var a QuantizedRows
	QuantizeRowsI8(&a, x, 3, cols)
	if a.Rows != 3 || a.Cols != cols || len(a.Q) != 18 || len(a.Scale) != 3 || len(a.Sum) != 3 {
		t.Fatalf("shape: rows %d cols %d, len Q %d, Scale %d, Sum %d", a.Rows, a.Cols, len(a.Q), len(a.Scale), len(a.Sum))
	}
	want := [][]int8{{127, 0, 2, -2, 0, 1}, {0, 0, 0, 0, 0, 0}, {-127, 0, 32, 0, 0, 0}}
	wantScale := []float32{1, 127 / float32(ActEps), 127 / float32(1e30)}
	wantSum := []int32{128, 0, -95}
	for r := range want {
		if string(int8Bytes(a.Row(r))) != string(int8Bytes(want[r])) || a.Scale[r] != wantScale[r] || a.Sum[r] != wantSum[r] {
			t.Errorf("row %d: q %v scale %v sum %d; want %v %v %d", r, a.Row(r), a.Scale[r], a.Sum[r], want[r], wantScale[r], wantSum[r])
		}
	}
	q0 := &a.Q[0]
	QuantizeRowsI8(&a, x[:cols], 1, cols)
	if a.Rows != 1 || len(a.Q) != cols || &a.Q[0] != q0 {
		t.Errorf("a smaller batch did not reuse the buffers")
	}
	if allocs := testing.AllocsPerRun(20, func() { QuantizeRowsI8(&a, x, 3, cols) }); allocs != 0 {
		t.Errorf("QuantizeRowsI8 into a large enough buffer allocates %v times", allocs)
	}
}

// TestFakeQuantizeQ8K checks llama.cpp's Q8_K activation round trip on
// hand-computed blocks: m = the value of largest magnitude, iscale = -127/m,
// q = min(roundHalfEven(iscale*x), 127), x' = q/iscale, per block of 256.
func TestFakeQuantizeQ8K(t *testing.T) {
	block := func(vals ...float32) []float32 {
		b := make([]float32, QK_K)
		copy(b, vals)
		return b
	}
	cases := []struct {
		name string
		x    []float32
		want []float32
	}{
		{"negative extreme, iscale 1, ties to even",
			block(-127, 0.5, 1.5, 2.5, -0.5, -3.5, 126.6, 0),
			block(-127, 0, 2, 2, 0, -4, 127, 0)},
		{"positive extreme, iscale -1",
			block(127, 0.5, 2.5, -126.5, -127),
			block(127, 0, 2, -126, -127)},
		{"iscale -63.5",
			block(2, 1, -0.5, 0.25),
			block(2, float32(-64)/-63.5, float32(32)/-63.5, float32(-16)/-63.5)},
		{"all zero", block(), block()},
		{"partial trailing block of 44",
			append(block(-127, 1.5), 4, -1, 2, 0.015625),
			// Second block: m = 4, iscale = -31.75: 4 -> -127, -1 -> 31.75 -> 32,
			// 2 -> -63.5 -> -64 (tie to even), 0.015625 -> -0.496 -> 0.
			append(block(-127, 2), 4, float32(32)/-31.75, float32(-64)/-31.75, 0)},
	}
	for _, c := range cases {
		x := append([]float32(nil), c.x...)
		FakeQuantizeQ8K(x)
		for i := range x {
			if x[i] != c.want[i] {
				t.Errorf("%s: element %d: %v -> %v, want %v", c.name, i, c.x[i], x[i], c.want[i])
			}
		}
	}
	// A block whose largest magnitude is below 127/MaxFloat32 has an
	// infinite iscale; llama.cpp's block scale 1/iscale is then 0, so the
	// block becomes zero (not NaN, as q/iscale would give).
	for _, tiny := range []float32{1e-37, -3e-38, 0x1p-149} {
		x := block(tiny, tiny/2, 0, -tiny)
		FakeQuantizeQ8K(x)
		for i, v := range x {
			if v != 0 {
				t.Fatalf("block of largest magnitude %g: element %d = %v, want 0", tiny, i, v)
			}
		}
	}
	// Blocks are independent: a huge block does not affect its neighbour.
	x := append(block(1e30), block(-127, 3)...)
	FakeQuantizeQ8K(x)
	if math.Abs(float64(x[0])/1e30-1) > 1e-6 || x[QK_K] != -127 || x[QK_K+1] != 3 {
		t.Errorf("blocks interact: %v %v %v", x[0], x[QK_K], x[QK_K+1])
	}
}
