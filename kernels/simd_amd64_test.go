//go:build amd64 && !purego

package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Tests of the amd64 kernels against the scalar oracles. Every instruction
// set the CPU supports is tested, not only the dispatched one: integer
// results must be equal exactly, and float results must equal the oracle's
// arithmetic applied to them. The dispatch-table tests of matmul_test.go
// cover the dispatched kernels as well. `go test -tags purego` runs the
// package with the assembly left out.

// ternarySet is a tile kernel set under test.
type ternarySet struct {
	name string
	k    *ternaryKernels
}

// ternarySets returns the kernel sets of format t this CPU can run.
func ternarySets(t Type) []ternarySet {
	var sets []ternarySet
	add := func(name string, ok bool, k *ternaryKernels) {
		if ok {
			sets = append(sets, ternarySet{name, k})
		}
	}
	switch t {
	case TQ2_0:
		add("vnni", cpuVNNI, &tq2VNNI)
		add("avx2", cpuAVX2, &tq2AVX2)
	case TQ1_0:
		add("vnni", cpuVNNI, &tq1VNNI)
		add("avx2", cpuAVX2, &tq1AVX2)
	case I2_S:
		add("vnni", cpuVNNI, &i2sVNNI)
		add("avx2", cpuAVX2, &i2sAVX2)
	}
	return sets
}

func TestSIMDLevel(t *testing.T) {
	want := "generic"
	switch {
	case cpuVNNI:
		want = "avx512-vnni"
	case cpuAVX2:
		want = "avx2"
	}
	if SIMD() != want {
		t.Errorf("SIMD() = %q, want %q", SIMD(), want)
	}
	if cpuAVX2 && len(ternarySets(TQ2_0)) == 0 {
		t.Error("no TQ2_0 kernels registered for an AVX2 CPU")
	}
	t.Logf("dispatched kernels: %s", SIMD())
}

// trits returns the ternary weights of row r of m, from the reference
// decoders (kept as integers, unlike Dequantize, so that zero scales do not
// hide them).
func trits(m *Matrix, r int) []int8 {
	out := make([]int8, m.Cols)
	row := m.Row(r)
	switch m.Type {
	case TQ2_0, TQ1_0:
		var blk [QK_K]int8
		bb := m.Type.BlockBytes()
		for b := 0; b < m.Cols/QK_K; b++ {
			if m.Type == TQ2_0 {
				tq2Trits(row[b*bb:], &blk)
			} else {
				tq1Trits(row[b*bb:], &blk)
			}
			copy(out[b*QK_K:], blk[:])
		}
	case I2_S:
		var blk [I2SBlock]int8
		for b := 0; b < m.Cols/I2SBlock; b++ {
			i2sTrits(row[b*32:], &blk)
			copy(out[b*I2SBlock:], blk[:])
		}
	}
	return out
}

// intDots is the integer oracle: per token and row, the dot product of the
// trits with q over each block of be elements.
func intDots(m *Matrix, a *QuantizedRows, be int) [][][]int32 {
	nb := m.Cols / be
	dots := make([][][]int32, a.Rows)
	for t := range dots {
		q := a.Row(t)
		dots[t] = make([][]int32, m.Rows)
		for r := range dots[t] {
			w := trits(m, r)
			dots[t][r] = make([]int32, nb)
			for k, v := range w {
				dots[t][r][k/be] += int32(v) * int32(q[k])
			}
		}
	}
	return dots
}

// ternaryCase is a weight matrix for the kernel tests, built byte by byte.
type ternaryCase struct {
	name string
	m    *Matrix
}

// ternaryCases returns matrices of format t with rows x cols weights: random
// codes with one shared scale, every weight +1 (the largest sums), every
// weight -1, all-zero blocks among random ones, and for TQ2_0 random
// per-block scales (including zero and the fp16 extremes). Corrupt files are
// covered too: every code byte 0xff (in the 2-bit formats code 3, which the
// oracle reads as +2, the largest products a kernel can meet; in TQ1_0 a
// byte above 242, past the largest five-digit value) and uniformly random
// code bytes, with a shared scale and, for the TQ formats, per-block scales.
func ternaryCases(tb testing.TB, rng *rand.Rand, t Type, rows, cols int) []ternaryCase {
	code := func(string) func() int {
		return func() int { return rng.IntN(3) }
	}
	var cases []ternaryCase
	// build fills the code bytes from raw when it is not nil, otherwise
	// from valid codes drawn from codeOf.
	build := func(name string, codeOf func() int, raw func() byte, scale func(blk int) float32) {
		size, err := EncodedSize(t, rows, cols)
		if err != nil {
			tb.Fatal(err)
		}
		b := make([]byte, size)
		c2 := func() byte {
			if raw != nil {
				return raw()
			}
			return codes2(codeOf(), codeOf(), codeOf(), codeOf())
		}
		switch t {
		case TQ2_0:
			for i := 0; i < rows*cols/QK_K; i++ {
				blk := b[i*66:]
				for j := 0; j < 64; j++ {
					blk[j] = c2()
				}
				binary.LittleEndian.PutUint16(blk[64:], F32ToF16(scale(i)))
			}
		case TQ1_0:
			for i := 0; i < rows*cols/QK_K; i++ {
				blk := b[i*54:]
				for j := 0; j < 52; j++ {
					switch {
					case raw != nil:
						blk[j] = raw()
					case j < 48:
						blk[j] = tq1Byte(codeOf(), codeOf(), codeOf(), codeOf(), codeOf())
					default:
						blk[j] = tq1Byte(codeOf(), codeOf(), codeOf(), codeOf())
					}
				}
				binary.LittleEndian.PutUint16(blk[52:], F32ToF16(scale(i)))
			}
		case I2_S:
			for i := 0; i < rows*cols/4; i++ {
				b[i] = c2()
			}
			binary.LittleEndian.PutUint32(b[rows*cols/4:], math.Float32bits(scale(0)))
		}
		m, err := NewMatrix(t, rows, cols, b)
		if err != nil {
			tb.Fatal(err)
		}
		cases = append(cases, ternaryCase{name, m})
	}
	shared := func(int) float32 { return 0.03125 }
	perBlock := func(int) float32 {
		return [...]float32{0, 1, -2.5, 65504, 0x1p-24, 0.01}[rng.IntN(6)]
	}
	ff := func() byte { return 0xff }
	randomByte := func() byte { return byte(rng.IntN(256)) }
	build("random", code(""), nil, shared)
	build("all +1", func() int { return 2 }, nil, shared)
	build("all -1", func() int { return 0 }, nil, shared)
	build("all 0", func() int { return 1 }, nil, shared)
	build("all 0xff", nil, ff, shared)
	build("random bytes", nil, randomByte, shared)
	if t != I2_S {
		// Blocks alternate between random weights and zeros whose scale
		// differs: the matrix still has one scale.
		n := 0
		build("zero blocks", func() int {
			i := n
			n++
			if (i/256)%2 == 1 {
				return 1
			}
			return rng.IntN(3)
		}, nil, func(blk int) float32 { return [2]float32{0.5, 7}[blk%2] })
		build("per-block scales", code(""), nil, perBlock)
		build("all 0xff, per-block scales", nil, ff, perBlock)
		build("random bytes, per-block scales", nil, randomByte, perBlock)
	}
	return cases
}

// activationCases returns tokens x cols int8 activations: random, all -128
// (the most negative products), all 127, and alternating extremes.
func activationCases(rng *rand.Rand, tokens, cols int) map[string]*QuantizedRows {
	out := map[string]*QuantizedRows{}
	mk := func(name string, v func(t, k int) int8) {
		a := &QuantizedRows{}
		a.Resize(tokens, cols)
		for t := 0; t < tokens; t++ {
			var sum int32
			for k := 0; k < cols; k++ {
				q := v(t, k)
				a.Q[t*cols+k] = q
				sum += int32(q)
			}
			a.Sum[t] = sum
			a.Scale[t] = 1 + float32(t)/3
		}
		out[name] = a
	}
	mk("random", func(int, int) int8 { return int8(rng.IntN(256) - 128) })
	mk("all -128", func(int, int) int8 { return -128 })
	mk("all 127", func(int, int) int8 { return 127 })
	mk("alternating", func(t, k int) int8 { return [2]int8{-128, 127}[(t+k)%2] })
	return out
}

// TestTernaryTileKernels calls every tile kernel directly, for every token
// count it supports, on rows that include repeated (partial-tile) pointers,
// and compares the integer results with the oracle.
func TestTernaryTileKernels(t *testing.T) {
	rng := newRand(40)
	for _, typ := range []Type{TQ2_0, TQ1_0, I2_S} {
		be := typ.BlockElems()
		for _, set := range ternarySets(typ) {
			// The AVX2 totals sum 16 bits over chunks of 5 TQ2_0, 10 I2_S or
			// 8 TQ1_0 blocks: 23 blocks end in a partial chunk, and are more
			// steps than 16 bits hold for code 3 times -128.
			for _, nblk := range []int{1, 3, 23} {
				cols := nblk * be
				for _, c := range ternaryCases(t, rng, typ, 5, cols) {
					for aname, a := range activationCases(rng, 7, cols) {
						dots := intDots(c.m, a, be)
						name := fmt.Sprintf("%v %s %d blocks, %s weights, %s activations", typ, set.name, nblk, c.name, aname)
						for nt := 1; nt <= set.k.maxTotal; nt++ {
							for t0 := 0; t0+nt <= a.Rows; t0 += 3 {
								// Rows 2, 3, 4, 4: a partial tile repeats its last row.
								w0, w1, w2, w3 := tileRowPointers(c.m, 2, 5, 0)
								var scratch [tileRows * 8]int32
								out := make([]float32, nt*5) // rows of 5 floats: checks the stride
								ternaryTotalTile(set.k.id, nt, w0, w1, w2, w3, &a.Q[t0*cols], uintptr(cols), uintptr(nblk), &scratch[0],
									&a.Sum[t0], &a.Scale[t0], 0.375, &out[0], 5*4)
								for r := 0; r < tileRows; r++ {
									for tk := 0; tk < nt; tk++ {
										var want int32
										for _, d := range dots[t0+tk][min(2+r, 4)] {
											want += d
										}
										if got := scratch[tk*tileRows+r] - a.Sum[t0+tk]; got != want {
											t.Fatalf("%s: total kernel for %d tokens, row %d token %d: %d, want %d", name, nt, r, t0+tk, got, want)
										}
										if got, want := out[tk*5+r], float32(want)*0.375/a.Scale[t0+tk]; math.Float32bits(got) != math.Float32bits(want) {
											t.Fatalf("%s: total kernel for %d tokens, row %d token %d: output %v, want %v", name, nt, r, t0+tk, got, want)
										}
									}
								}
								for tk := 0; tk < nt; tk++ {
									if v := out[tk*5+4]; v != 0 {
										t.Fatalf("%s: total kernel wrote %v between output rows", name, v)
									}
								}
							}
						}
						for nt := 1; nt <= set.k.maxBlocks; nt++ {
							for t0 := 0; t0+nt <= a.Rows; t0 += 2 {
								w0, w1, w2, w3 := tileRowPointers(c.m, 1, 4, 0)
								out := make([]int32, nblk*tileRows*nt)
								ternaryBlocksTile(set.k.id, nt, w0, w1, w2, w3, &a.Q[t0*cols], uintptr(cols), uintptr(nblk), &out[0])
								for b := 0; b < nblk; b++ {
									for r := 0; r < tileRows; r++ {
										for tk := 0; tk < nt; tk++ {
											want := dots[t0+tk][min(1+r, 3)][b]
											if got := out[(b*nt+tk)*tileRows+r]; got != want {
												t.Fatalf("%s: blocks kernel for %d tokens, block %d row %d token %d: %d, want %d", name, nt, b, r, t0+tk, got, want)
											}
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestTernaryMatMulExact runs each kernel set's matMul over every row range
// shape and token count up to 13 (all tile remainders) and checks the floats:
// with one shared scale d, float32(dot)*d/s from the exact integer dot; with
// per-block scales, bit for bit the scalar oracle.
func TestTernaryMatMulExact(t *testing.T) {
	rng := newRand(41)
	for _, typ := range []Type{TQ2_0, TQ1_0, I2_S} {
		be := typ.BlockElems()
		cols := 3 * be
		for _, set := range ternarySets(typ) {
			for _, rows := range []int{1, 2, 3, 4, 5, 8, 9, 11} {
				for _, c := range ternaryCases(t, rng, typ, rows, cols) {
					d, uniform := c.m.uniformScale()
					for _, tokens := range []int{1, 2, 3, 5, 6, 7, 12, 13} {
						x := randomActivations(rng, tokens, cols, true)
						var a QuantizedRows
						QuantizeRowsI8(&a, x, tokens, cols)
						dots := intDots(c.m, &a, be)
						oracle := make([]float32, tokens*rows)
						matMulI8Generic(oracle, c.m, &a, 0, rows)
						for _, rg := range [][2]int{{0, rows}, {rows / 2, rows}, {1, rows}} {
							lo, hi := rg[0], rg[1]
							if lo >= hi {
								continue
							}
							dst := make([]float32, tokens*rows+2)
							fillSentinel(dst)
							set.k.matMul(dst, c.m, &a, lo, hi)
							name := fmt.Sprintf("%v %s %dx%d %s, %d tokens, rows [%d,%d)", typ, set.name, rows, cols, c.name, tokens, lo, hi)
							checkRange(t, name, dst, rows, tokens, lo, hi)
							for tk := 0; tk < tokens; tk++ {
								for r := lo; r < hi; r++ {
									got := dst[tk*rows+r]
									want := oracle[tk*rows+r]
									if uniform {
										var sum int32
										for _, v := range dots[tk][r] {
											sum += v
										}
										want = float32(sum) * d / a.Scale[tk]
									}
									if math.Float32bits(got) != math.Float32bits(want) && !(got == 0 && want == 0) {
										t.Fatalf("%s: token %d row %d = %v, want %v (uniform scale %v)", name, tk, r, got, want, uniform)
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestTernaryNoTokens checks that a product with no activation rows writes
// nothing.
func TestTernaryNoTokens(t *testing.T) {
	for _, typ := range []Type{TQ2_0, TQ1_0, I2_S} {
		for _, set := range ternarySets(typ) {
			c := ternaryCases(t, newRand(48), typ, 5, 2*typ.BlockElems())[0]
			var a QuantizedRows
			QuantizeRowsI8(&a, nil, 0, c.m.Cols)
			dst := make([]float32, 4)
			fillSentinel(dst)
			set.k.matMul(dst, c.m, &a, 0, 5)
			for i, v := range dst {
				if !isSentinel(v) {
					t.Errorf("%v %s: wrote %v at %d with no tokens", typ, set.name, v, i)
				}
			}
		}
	}
}

// TestUniformScale checks the block-scale analysis that picks the kernels'
// whole-row path.
func TestUniformScale(t *testing.T) {
	rng := newRand(42)
	cases := ternaryCases(t, rng, TQ2_0, 3, 512)
	want := map[string]bool{"random": true, "all +1": true, "all -1": true, "all 0": true, "all 0xff": true, "random bytes": true,
		"zero blocks": true, "per-block scales": false, "all 0xff, per-block scales": false, "random bytes, per-block scales": false}
	for _, c := range cases {
		d, ok := c.m.uniformScale()
		if ok != want[c.name] {
			t.Errorf("%s: uniform = %v, want %v", c.name, ok, want[c.name])
		}
		if ok && c.name == "all 0" && d != 0 {
			t.Errorf("all 0: scale %v, want 0 (no block has a weight)", d)
		}
		if ok && c.name != "zero blocks" && c.name != "all 0" && d != 0.03125 {
			t.Errorf("%s: scale %v, want 0.03125", c.name, d)
		}
		if ok && c.name == "zero blocks" && d != 0.5 {
			t.Errorf("zero blocks: scale %v, want 0.5 (the scale of the non-zero blocks)", d)
		}
	}
	// A non-finite scale is never shared, even on a zero block.
	b := make([]byte, 66)
	for i := range 64 {
		b[i] = 0x55
	}
	binary.LittleEndian.PutUint16(b[64:], 0x7c00) // +Inf
	m, err := NewMatrix(TQ2_0, 1, 256, b)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.uniformScale(); ok {
		t.Error("a block with an infinite scale was treated as sharing a scale")
	}
	i2s := randomMatrix(t, rng, I2_S, 2, 128, ordinaryScales)
	if d, ok := i2s.uniformScale(); !ok || d != i2s.Scale() {
		t.Errorf("I2_S: uniformScale = %v, %v; want the tensor scale %v", d, ok, i2s.Scale())
	}
}

// floatSets returns the float kernel sets this CPU can run, by type.
func floatSets() map[Type]*floatKernels {
	if !cpuAVX2 {
		return nil
	}
	return map[Type]*floatKernels{F32: &f32AVX2, F16: &f16AVX2, BF16: &bf16AVX2, Q8_0: &q8AVX2, Q6_K: &q6kAVX2}
}

// TestFloatKernels compares the float tile kernels with the scalar oracle on
// every unrolled-loop remainder (row lengths around multiples of 8 and 32),
// every token remainder and partial tiles.
func TestFloatKernels(t *testing.T) {
	rng := newRand(43)
	for typ, k := range floatSets() {
		colsList := []int{1, 7, 8, 9, 24, 31, 32, 33, 40, 100, 257}
		switch typ {
		case Q8_0:
			colsList = []int{32, 64, 96, 128, 160, 320}
		case Q6_K:
			colsList = []int{256, 512, 768}
		}
		for _, cols := range colsList {
			for _, rows := range []int{1, 3, 4, 5, 9} {
				m := randomMatrix(t, rng, typ, rows, cols, ordinaryScales)
				for _, tokens := range []int{1, 2, 3, 4, 7} {
					x := randomActivations(rng, tokens, cols, false)
					want, mag := refMatMulF32(m, x, tokens)
					dst := make([]float32, tokens*rows+1)
					fillSentinel(dst)
					k.matMul(dst, m, x, tokens, 1, rows)
					checkRange(t, fmt.Sprintf("%v %dx%d", typ, rows, cols), dst, rows, tokens, 1, rows)
					k.matMul(dst, m, x, tokens, 0, 1)
					checkProduct(t, fmt.Sprintf("%v avx2 %dx%d, %d tokens", typ, rows, cols, tokens), dst, want, mag,
						func(mag float64) float64 { return tolF32(cols, mag) })
				}
			}
		}
	}
}

// TestInt8RowKernel compares the dispatched Int8RowMatrix product with the
// scalar oracle.
func TestInt8RowKernel(t *testing.T) {
	rng := newRand(44)
	p := NewPool(2)
	defer p.Close()
	for _, cols := range []int{1, 8, 31, 64, 300} {
		for _, rows := range []int{1, 4, 6, 13} {
			m := NewInt8RowMatrix(p, randomMatrix(t, rng, F16, rows, cols, ordinaryScales))
			for _, tokens := range []int{1, 2, 3, 5} {
				x := randomActivations(rng, tokens, cols, false)
				want := make([]float32, tokens*rows)
				matMulInt8RowGeneric(want, m, x, tokens, 0, rows)
				got := make([]float32, tokens*rows)
				matMulInt8Row(got, m, x, tokens, 0, rows)
				for i := range want {
					var mag float64
					r, tk := i%rows, i/rows
					for k, q := range m.Row(r) {
						mag += math.Abs(float64(q) * float64(x[tk*cols+k]))
					}
					mag /= float64(m.Scale(r))
					if e := math.Abs(float64(got[i] - want[i])); e > 2*tolF32(cols, mag) {
						t.Errorf("%dx%d, %d tokens: output %d = %v, want %v", rows, cols, tokens, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestQuantizeRowI8AVX2 checks the vector quantiser against the scalar
// oracle bit for bit: every length up to 100 (all remainders of 8 and 32),
// and rows with ties at .5, extremes, subnormals, zeros, infinities and NaN.
func TestQuantizeRowI8AVX2(t *testing.T) {
	if !cpuAVX2 {
		t.Skip("no AVX2")
	}
	rng := newRand(45)
	kinds := []func(i int) float32{
		func(int) float32 { return float32(rng.NormFloat64()) },
		func(i int) float32 { return float32(i%17-8) * 0.5 }, // many exact .5 products
		func(int) float32 { return 0 },
		func(int) float32 { return float32(rng.NormFloat64()) * 1e-40 }, // subnormal
		func(int) float32 { return float32(rng.NormFloat64()) * 3e38 },
		func(i int) float32 { return [2]float32{math.MaxFloat32, -math.MaxFloat32}[i%2] },
	}
	for n := 0; n <= 100; n++ {
		for k, kind := range kinds {
			for _, special := range []float32{0, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())} {
				x := make([]float32, n)
				for i := range x {
					x[i] = kind(i)
				}
				if special != 0 && n > 0 {
					x[rng.IntN(n)] = special
				}
				want := make([]int8, n)
				got := make([]int8, n)
				ws, wsum := quantizeRowI8Generic(want, x)
				gs, gsum := quantizeRowI8AVX2(got, x)
				same := math.Float32bits(ws) == math.Float32bits(gs) || (math.IsNaN(float64(ws)) && math.IsNaN(float64(gs)))
				if !same || wsum != gsum || string(int8Bytes(got)) != string(int8Bytes(want)) {
					t.Fatalf("n %d kind %d special %v: got scale %v sum %d q %v; want %v %d %v", n, k, special, gs, gsum, got, ws, wsum, want)
				}
			}
		}
	}
}

// TestVectorKernels compares the vector kernels with their scalar oracles on
// every length up to 80.
func TestVectorKernels(t *testing.T) {
	rng := newRand(46)
	for n := 0; n <= 80; n++ {
		a, b := make([]float32, n), make([]float32, n)
		var mag float64
		for i := range a {
			a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			mag += math.Abs(float64(a[i]) * float64(b[i]))
		}
		if got, want := dot(a, b), dotGeneric(a, b); math.Abs(float64(got-want)) > 2*tolF32(n, mag) {
			t.Errorf("dot of %d: %v, want %v", n, got, want)
		}
		y1, y2 := append([]float32(nil), b...), append([]float32(nil), b...)
		addScaled(y1, 0.7, a)
		addScaledGeneric(y2, 0.7, a)
		for i := range y1 {
			// FMA rounds once where the scalar code rounds twice.
			if math.Abs(float64(y1[i]-y2[i])) > 2*u*(math.Abs(float64(y2[i]))+math.Abs(0.7*float64(a[i]))) {
				t.Errorf("addScaled of %d at %d: %v, want %v", n, i, y1[i], y2[i])
			}
		}
		if got, want := sumSquares(a), sumSquaresGeneric(a); math.Abs(got-want) > 1e-12*want {
			t.Errorf("sumSquares of %d: %v, want %v", n, got, want)
		}
		d1, d2 := make([]float32, n), make([]float32, n)
		scaleMul(d1, a, 1.3, b)
		scaleMulGeneric(d2, a, 1.3, b)
		for i := range d1 {
			if math.Float32bits(d1[i]) != math.Float32bits(d2[i]) {
				t.Errorf("scaleMul of %d at %d: %v, want %v", n, i, d1[i], d2[i])
			}
		}
	}
}

// TestReLU2MulAVX2 checks the vector squared-ReLU gate bit for bit against
// the scalar code, zeros of both signs, NaN and infinities included.
func TestReLU2MulAVX2(t *testing.T) {
	rng := newRand(47)
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-40, -1e-40, 3e38}
	for n := 0; n <= 40; n++ {
		g, up := make([]float32, n), make([]float32, n)
		for i := range g {
			g[i], up[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			if rng.IntN(4) == 0 {
				g[i] = specials[rng.IntN(len(specials))]
			}
			if rng.IntN(8) == 0 {
				up[i] = specials[rng.IntN(len(specials))]
			}
		}
		want := append([]float32(nil), g...)
		relu2MulGeneric(want, up)
		relu2Mul(g, up)
		for i := range g {
			if math.Float32bits(g[i]) != math.Float32bits(want[i]) && !(math.IsNaN(float64(g[i])) && math.IsNaN(float64(want[i]))) {
				t.Fatalf("n %d element %d: %v, want %v", n, i, g[i], want[i])
			}
		}
	}
}

// TestExpShiftAVX2 measures the vector exponential of Softmax against
// math.Exp over its whole domain (x - max from 0 down past the subnormal
// range, and -Inf): within 2 units in the last place for normal results,
// and within one subnormal step below them.
func TestExpShiftAVX2(t *testing.T) {
	if !cpuAVX2 {
		t.Skip("no AVX2")
	}
	var x []float32
	for v := 0.0; v > -110; v -= 0.00731 {
		x = append(x, float32(v))
	}
	x = append(x, -1e30, float32(math.Inf(-1)), -103.97, -103.2789, -87.336, -87.3366)
	for len(x)%8 != 0 {
		x = append(x, 0)
	}
	const m = 1.5
	got := make([]float32, len(x))
	for i, v := range x {
		got[i] = v + m // so that got[i] - m is x[i] (exactly, for these values)
	}
	orig := append([]float32(nil), got...)
	sum := expShiftAVX2(&got[0], uintptr(len(got)), m)
	var want64 float64
	worst := 0.0
	for i := range got {
		want := float32(math.Exp(float64(orig[i] - m)))
		want64 += float64(want)
		diff := math.Abs(float64(got[i]) - float64(want))
		ulp := math.Abs(float64(math.Nextafter32(want, float32(math.Inf(1)))) - float64(want))
		if want < 0x1p-126 {
			ulp = 0x1p-149
		}
		if diff > 2*ulp {
			t.Fatalf("exp(%v) = %v, want %v (%.1f ulp)", orig[i]-m, got[i], want, diff/ulp)
		}
		worst = math.Max(worst, diff/ulp)
	}
	if math.Abs(float64(sum)-want64) > 1e-5*want64 {
		t.Errorf("sum %v, want %v", sum, want64)
	}
	t.Logf("worst error %.2f ulp over %d values", worst, len(got))
}
