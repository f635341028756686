package kernels

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"
)

// The product tests iterate over the dispatch tables: every kernel registered
// in matMulI8Kernels and matMulF32Kernels (a SIMD path included, once one is
// registered) is compared with a float64 reference computed from the
// reference decoder, both called directly on row ranges and through pools of
// 1, 2 and 3 threads, on odd shapes, many token counts and extreme values.

// i8Impl and f32Impl name a product kernel under test.
type i8Impl struct {
	name string
	k    matMulI8Kernel
}

type f32Impl struct {
	name string
	k    matMulF32Kernel
}

// i8Impls returns the scalar oracle and the kernel dispatched for t.
func i8Impls(t Type) []i8Impl {
	return []i8Impl{{"generic", matMulI8Generic}, {"dispatched", matMulI8Kernels[t]}}
}

// f32Impls returns the scalar oracle and the kernel dispatched for t.
func f32Impls(t Type) []f32Impl {
	return []f32Impl{{"generic", matMulF32Generic}, {"dispatched", matMulF32Kernels[t]}}
}

// testRows are the matrix heights of the product tests: one row, and odd
// counts that do not divide evenly among threads or chunks.
var testRows = []int{1, 3, 7, 33}

// testTokens are the activation batch sizes of the product tests.
var testTokens = []int{1, 2, 5, 17}

// weightGens are the weight distributions of the product tests.
var weightGens = []struct {
	name string
	gen  scaleGen
}{
	{"ordinary", ordinaryScales},
	{"extreme", extremeScales},
	{"zero", zeroScales},
}

func testPools(t *testing.T) []*Pool {
	pools := []*Pool{NewPool(1), NewPool(2), NewPool(3)}
	t.Cleanup(func() {
		for _, p := range pools {
			p.Close()
		}
	})
	return pools
}

// checkProduct compares a product with its reference within tol and checks
// that the len(dst) - len(want) elements after the output were not written.
func checkProduct(t *testing.T, what string, dst []float32, want, mag []float64, tol func(float64) float64) {
	t.Helper()
	bad := 0
	for i, w := range want {
		g := float64(dst[i])
		if e := math.Abs(g - w); !(e <= tol(mag[i])) {
			if bad++; bad <= 3 {
				t.Errorf("%s: output %d = %v, want %v (error %.3g, tolerance %.3g)", what, i, g, w, e, tol(mag[i]))
			}
		}
	}
	for i := len(want); i < len(dst); i++ {
		if !isSentinel(dst[i]) {
			t.Errorf("%s: wrote past the output, at %d", what, i)
			break
		}
	}
	if bad > 3 {
		t.Errorf("%s: %d outputs wrong in all", what, bad)
	}
}

// checkRange checks that a kernel run on rows [lo, hi) wrote exactly those
// rows of every token's output.
func checkRange(t *testing.T, what string, dst []float32, rows, tokens, lo, hi int) {
	t.Helper()
	for tk := 0; tk < tokens; tk++ {
		for r := 0; r < rows; r++ {
			if written := !isSentinel(dst[tk*rows+r]); written != (r >= lo && r < hi) {
				t.Fatalf("%s: kernel on rows [%d, %d) wrote=%v at token %d row %d", what, lo, hi, written, tk, r)
			}
		}
	}
}

func TestMatMulKernelsRegistered(t *testing.T) {
	for _, typ := range SupportedTypes() {
		if _, ok := matMulF32Kernels[typ]; !ok {
			t.Errorf("no float product kernel for %v", typ)
		}
		if _, ok := matMulI8Kernels[typ]; ok != typ.Ternary() {
			t.Errorf("%v: int8 product kernel registered = %v, ternary = %v", typ, ok, typ.Ternary())
		}
	}
}

func TestMatMulI8MatchesOracle(t *testing.T) {
	pools := testPools(t)
	rng := newRand(10)
	var a QuantizedRows
	for _, typ := range slices.Sorted(maps.Keys(matMulI8Kernels)) {
		for _, rows := range testRows {
			for _, cols := range testCols(typ) {
				for _, wg := range weightGens {
					m := randomMatrix(t, rng, typ, rows, cols, wg.gen)
					tol := func(mag float64) float64 { return tolI8(m, mag) }
					for _, tokens := range testTokens {
						x := randomActivations(rng, tokens, cols, true)
						QuantizeRowsI8(&a, x, tokens, cols)
						want, mag := refMatMulI8(m, &a)
						name := fmt.Sprintf("%v %dx%d %s weights, %d tokens", typ, rows, cols, wg.name, tokens)
						dst := make([]float32, tokens*rows+3)
						for _, impl := range i8Impls(typ) {
							fillSentinel(dst)
							mid := rows / 2
							impl.k(dst, m, &a, mid, rows)
							checkRange(t, name+" "+impl.name, dst, rows, tokens, mid, rows)
							impl.k(dst, m, &a, 0, mid)
							checkProduct(t, name+" "+impl.name, dst, want, mag, tol)
						}
						for _, p := range pools {
							fillSentinel(dst)
							p.MatMulI8(dst, m, &a)
							checkProduct(t, fmt.Sprintf("%s, pool of %d", name, p.Threads()), dst, want, mag, tol)
						}
					}
				}
			}
		}
	}
}

// TestMatMulI8ZeroActivations checks that all-zero and tiny activation rows
// (below ActEps) give exactly zero, whatever the weights.
func TestMatMulI8ZeroActivations(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	rng := newRand(11)
	var a QuantizedRows
	for _, typ := range slices.Sorted(maps.Keys(matMulI8Kernels)) {
		cols := testCols(typ)[1]
		m := randomMatrix(t, rng, typ, 5, cols, extremeScales)
		x := make([]float32, 2*cols)
		for i := cols; i < 2*cols; i++ {
			x[i] = 1e-30 * float32(rng.NormFloat64())
		}
		QuantizeRowsI8(&a, x, 2, cols)
		dst := make([]float32, 10)
		for _, impl := range i8Impls(typ) {
			fillSentinel(dst)
			impl.k(dst, m, &a, 0, 5)
			for i, v := range dst {
				if v != 0 {
					t.Errorf("%v %s: output %d = %v for zero activations", typ, impl.name, i, v)
				}
			}
		}
		fillSentinel(dst)
		p.MatMulI8(dst, m, &a)
		for i, v := range dst {
			if v != 0 {
				t.Errorf("%v pool: output %d = %v for zero activations", typ, i, v)
			}
		}
	}
}

func TestMatMulF32MatchesOracle(t *testing.T) {
	pools := testPools(t)
	rng := newRand(12)
	for _, typ := range slices.Sorted(maps.Keys(matMulF32Kernels)) {
		for _, rows := range testRows {
			for _, cols := range testCols(typ) {
				for _, wg := range weightGens {
					m := randomMatrix(t, rng, typ, rows, cols, wg.gen)
					tol := func(mag float64) float64 { return tolF32(cols, mag) }
					for _, tokens := range testTokens {
						// Huge activations times extreme weights overflow float32.
						x := randomActivations(rng, tokens, cols, wg.name != "extreme")
						want, mag := refMatMulF32(m, x, tokens)
						name := fmt.Sprintf("%v %dx%d %s weights, %d tokens", typ, rows, cols, wg.name, tokens)
						dst := make([]float32, tokens*rows+3)
						for _, impl := range f32Impls(typ) {
							fillSentinel(dst)
							mid := (rows + 1) / 2
							impl.k(dst, m, x, tokens, mid, rows)
							checkRange(t, name+" "+impl.name, dst, rows, tokens, mid, rows)
							impl.k(dst, m, x, tokens, 0, mid)
							checkProduct(t, name+" "+impl.name, dst, want, mag, tol)
						}
						for _, p := range pools {
							fillSentinel(dst)
							p.MatMulF32(dst, m, x, tokens)
							checkProduct(t, fmt.Sprintf("%s, pool of %d", name, p.Threads()), dst, want, mag, tol)
						}
					}
				}
			}
		}
	}
}

// TestMatMulI8AgreesWithFloatPath checks the two paths against each other
// on ternary weights: the float product of the dequantised int8 activations
// q/scale must equal the int8 product.
func TestMatMulI8AgreesWithFloatPath(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	rng := newRand(13)
	var a QuantizedRows
	for _, typ := range slices.Sorted(maps.Keys(matMulI8Kernels)) {
		cols := testCols(typ)[1]
		const rows, tokens = 9, 4
		m := randomMatrix(t, rng, typ, rows, cols, ordinaryScales)
		x := randomActivations(rng, tokens, cols, true)
		QuantizeRowsI8(&a, x, tokens, cols)
		xq := make([]float32, tokens*cols)
		for i, q := range a.Q {
			xq[i] = float32(q) / a.Scale[i/cols]
		}
		gotI8 := make([]float32, rows*tokens)
		gotF32 := make([]float32, rows*tokens)
		p.MatMulI8(gotI8, m, &a)
		p.MatMulF32(gotF32, m, xq, tokens)
		_, mag := refMatMulI8(m, &a)
		for i := range gotI8 {
			d := math.Abs(float64(gotI8[i]) - float64(gotF32[i]))
			if tol := tolI8(m, mag[i]) + tolF32(cols, mag[i])*2; d > tol {
				t.Errorf("%v output %d: int8 path %v, float path %v", typ, i, gotI8[i], gotF32[i])
			}
		}
	}
}

func TestMatMulPanicsOnMisuse(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	rng := newRand(14)
	f16 := randomMatrix(t, rng, F16, 2, 128, ordinaryScales)
	i2s := randomMatrix(t, rng, I2_S, 2, 128, ordinaryScales)
	var a QuantizedRows
	QuantizeRowsI8(&a, make([]float32, 128), 1, 128)
	var short QuantizedRows
	QuantizeRowsI8(&short, make([]float32, 64), 1, 64)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"MatMulI8 on F16", func() { p.MatMulI8(make([]float32, 2), f16, &a) }},
		{"MatMulI8 with short activations", func() { p.MatMulI8(make([]float32, 2), i2s, &short) }},
		{"MatMulI8 with short dst", func() { p.MatMulI8(make([]float32, 1), i2s, &a) }},
		{"MatMulF32 with short x", func() { p.MatMulF32(make([]float32, 2), f16, make([]float32, 127), 1) }},
		{"MatMulF32 with short dst", func() { p.MatMulF32(make([]float32, 3), f16, make([]float32, 256), 2) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", c.name)
				}
			}()
			c.f()
		}()
	}
	// The pool still works after a misuse panicked (its lock was released).
	dst := make([]float32, 2)
	p.MatMulI8(dst, i2s, &a)
}
