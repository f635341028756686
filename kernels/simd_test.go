package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
)

// Tests of UseSIMD: every level the CPU runs is dispatched in turn and the
// public entry points are compared with the scalar oracles, so that the
// slower levels of a fast machine (AVX2 on an AVX-512 CPU, the portable Go
// kernels) are tested end to end too.

// funcPtr identifies a function value, to tell which kernel a table holds.
func funcPtr(f any) uintptr { return reflect.ValueOf(f).Pointer() }

// forEachLevel runs f with each level of SIMDLevels dispatched, restoring the
// start-up level afterwards.
func forEachLevel(t *testing.T, f func(t *testing.T, level string)) {
	t.Helper()
	for _, level := range SIMDLevels() {
		restore, err := UseSIMD(level)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(level, func(t *testing.T) { f(t, level) })
		restore()
	}
}

func TestUseSIMD(t *testing.T) {
	start := SIMD()
	levels := SIMDLevels()
	if len(levels) == 0 || levels[0] != start || levels[len(levels)-1] != "generic" {
		t.Fatalf("SIMDLevels() = %v with %q dispatched at start-up; want the dispatched level first and \"generic\" last", levels, start)
	}
	for _, bad := range []string{"", "avx9", "GENERIC", "avx512"} {
		if restore, err := UseSIMD(bad); err == nil || restore != nil {
			t.Errorf("UseSIMD(%q) = %v; want an error", bad, err)
		}
		if SIMD() != start {
			t.Fatalf("a failed UseSIMD(%q) changed the level to %q", bad, SIMD())
		}
	}
	generic := funcPtr(matMulI8Generic)
	forEachLevel(t, func(t *testing.T, level string) {
		if SIMD() != level {
			t.Fatalf("SIMD() = %q after UseSIMD(%q)", SIMD(), level)
		}
		for _, typ := range []Type{TQ1_0, TQ2_0, I2_S} {
			k, ok := matMulI8Kernels[typ]
			if !ok {
				t.Fatalf("%v: no kernel registered", typ)
			}
			if isGeneric := funcPtr(k) == generic; isGeneric != (level == "generic") {
				t.Errorf("%v: the scalar oracle dispatched = %v at level %q", typ, isGeneric, level)
			}
		}
		if level == "generic" {
			if matMulI8TileRows != 1 || matMulF32TileRows != 1 {
				t.Errorf("generic level: tile rows %d and %d, want 1", matMulI8TileRows, matMulF32TileRows)
			}
			if funcPtr(quantizeRowI8) != funcPtr(quantizeRowI8Generic) || funcPtr(matMulInt8Row) != funcPtr(matMulInt8RowGeneric) {
				t.Error("generic level: a vector kernel is still dispatched")
			}
			for typ, k := range matMulF32Kernels {
				if funcPtr(k) != funcPtr(matMulF32Generic) {
					t.Errorf("generic level: %v float product is not the oracle", typ)
				}
			}
		}
	})
	if SIMD() != start {
		t.Errorf("level %q after restoring, want %q", SIMD(), start)
	}
}

// corruptTernary returns a rows x cols matrix of type t whose code bytes are
// b(i) for the i-th code byte (any value: a corrupt file), with scale 1/32 in
// every block, so that the products of integer dots are exact in float32.
func corruptTernary(t *testing.T, typ Type, rows, cols int, b func(i int) byte) *Matrix {
	t.Helper()
	size, err := EncodedSize(typ, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, size)
	const d = 0.03125
	switch typ {
	case TQ2_0, TQ1_0:
		bb := typ.BlockBytes()
		for i := 0; i < rows*cols/QK_K; i++ {
			blk := data[i*bb : (i+1)*bb]
			for j := range blk[:bb-2] {
				blk[j] = b(i*bb + j)
			}
			binary.LittleEndian.PutUint16(blk[bb-2:], F32ToF16(d))
		}
	case I2_S:
		for i := 0; i < rows*cols/4; i++ {
			data[i] = b(i)
		}
		binary.LittleEndian.PutUint32(data[rows*cols/4:], math.Float32bits(d))
	}
	m, err := NewMatrix(typ, rows, cols, data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTernaryAnyBytesEveryLevel runs ternary products of matrices holding
// arbitrary bytes (the 2-bit code 3, TQ1_0 bytes past 242) through a pool at
// every level, with long rows (more 32-element steps than 16-bit sums of
// code 3 times -128 hold), and requires the scalar oracle's results bit for
// bit.
func TestTernaryAnyBytesEveryLevel(t *testing.T) {
	rng := newRand(60)
	pool := NewPool(2)
	defer pool.Close()
	const rows, tokens = 9, 7
	type product struct {
		name string
		m    *Matrix
		a    QuantizedRows
		want []float32 // the scalar oracle's output
	}
	var products []product
	for _, typ := range []Type{TQ2_0, TQ1_0, I2_S} {
		cols := 23 * typ.BlockElems()
		for _, bytes := range []struct {
			name string
			b    func(int) byte
		}{
			{"0xff", func(int) byte { return 0xff }},
			{"0xfc", func(int) byte { return 0xfc }}, // codes 0, 3, 3, 3
			{"random", func(int) byte { return byte(rng.IntN(256)) }},
		} {
			m := corruptTernary(t, typ, rows, cols, bytes.b)
			for _, act := range []struct {
				name string
				q    func() int8
			}{
				{"-128", func() int8 { return -128 }},
				{"127", func() int8 { return 127 }},
				{"random", func() int8 { return int8(rng.IntN(256) - 128) }},
			} {
				p := product{name: fmt.Sprintf("%v, %s bytes, %s activations", typ, bytes.name, act.name), m: m}
				p.a.Resize(tokens, cols)
				for tk := 0; tk < tokens; tk++ {
					var sum int32
					for k := 0; k < cols; k++ {
						p.a.Q[tk*cols+k] = act.q()
						sum += int32(p.a.Q[tk*cols+k])
					}
					p.a.Sum[tk], p.a.Scale[tk] = sum, 1+float32(tk)/4
				}
				p.want = make([]float32, rows*tokens)
				matMulI8Generic(p.want, m, &p.a, 0, rows)
				products = append(products, p)
			}
		}
	}
	forEachLevel(t, func(t *testing.T, level string) {
		for _, p := range products {
			for _, n := range []int{1, 2, tokens} {
				a := p.a
				a.Rows, a.Q, a.Sum, a.Scale = n, a.Q[:n*a.Cols], a.Sum[:n], a.Scale[:n]
				got := make([]float32, rows*n)
				pool.MatMulI8(got, p.m, &a)
				for i, g := range got {
					if math.Float32bits(g) != math.Float32bits(p.want[i]) {
						t.Fatalf("%s, %d tokens: output %d (token %d row %d) = %v, want %v",
							p.name, n, i, i/rows, i%rows, g, p.want[i])
					}
				}
			}
		}
	})
}

// BenchmarkSIMDLevels runs the main kernels through their public entry points
// at every level the CPU supports, in the same run, so the speed-up of each
// instruction set over the portable Go kernels can be read off directly
// (single thread, 2B4T shapes: one token through a 2560 x 2560 projection).
func BenchmarkSIMDLevels(b *testing.B) {
	pool := NewPool(1)
	defer pool.Close()
	const n = 2560
	x := randomActivations(newRand(5), 1, n, false)
	var a QuantizedRows
	QuantizeRowsI8(&a, x, 1, n)
	dst := make([]float32, n)
	rope := NewRoPE(RoPENeox, 128, 128, 500000)
	var cache RoPECache
	q := slices.Clone(x)
	for _, level := range SIMDLevels() {
		restore, err := UseSIMD(level)
		if err != nil {
			b.Fatal(err)
		}
		for _, typ := range []Type{I2_S, TQ2_0} {
			b.Run(fmt.Sprintf("%v-matvec/%s", typ, level), func(b *testing.B) {
				m := benchMatrix(b, typ, n, n)
				b.SetBytes(int64(m.Bytes()))
				for b.Loop() {
					pool.MatMulI8(dst, m, &a)
				}
			})
		}
		b.Run("F16-matvec/"+level, func(b *testing.B) {
			m := benchMatrix(b, F16, n, n)
			b.SetBytes(int64(m.Bytes()))
			for b.Loop() {
				pool.MatMulF32(dst, m, x, 1)
			}
		})
		b.Run("quantize-2560/"+level, func(b *testing.B) {
			for b.Loop() {
				QuantizeRowsI8(&a, x, 1, n)
			}
		})
		// A decode step's q (20 heads of 128) at a new position, its angles
		// computed, and the k (5 heads) reusing them.
		b.Run("rope-20+5x128/"+level, func(b *testing.B) {
			pos := 0
			for b.Loop() {
				rope.Rotate(q[:20*128], pos, &cache)
				rope.Rotate(q[:5*128], pos, &cache)
				pos++
			}
		})
		restore()
	}
}
