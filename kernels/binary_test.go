package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// randomSigns returns rows×cols weights of random sign and magnitude, with
// some exact zeros (which pack as -1).
func randomSigns(seed uint64, rows, cols int) []float32 {
	rng := newRand(seed)
	w := make([]float32, rows*cols)
	for i := range w {
		if rng.IntN(10) > 0 {
			w[i] = float32(rng.NormFloat64())
		}
	}
	return w
}

func TestPackBinaryLayout(t *testing.T) {
	// Row 0: + - - + + + - - | + (bit 0 of byte 1); row 1 all -1 but the last.
	w := []float32{1, -1, 0, 2, 3, 4, -5, -6, 7, -1, -1, -1, -1, -1, -1, -1, -1, 0.5}
	dst := make([]byte, 4)
	PackBinary(dst, w, 2, 9)
	want := []byte{0b00111001, 0b1, 0, 0b1}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("packed %08b, want %08b", dst, want)
		}
	}
	if _, err := NewBinaryMatrix(2, 9, dst[:3]); err == nil {
		t.Fatal("NewBinaryMatrix accepted 3 bytes for a 2x9 matrix")
	}
}

func TestMatMulBinaryI8(t *testing.T) {
	pools := testPools(t)
	for _, rows := range testRows {
		for _, cols := range []int{1, 8, 13, 64, 259} {
			w := randomSigns(uint64(rows*1000+cols), rows, cols)
			data := make([]byte, rows*BinaryRowBytes(cols))
			PackBinary(data, w, rows, cols)
			m, err := NewBinaryMatrix(rows, cols, data)
			if err != nil {
				t.Fatal(err)
			}
			for _, tokens := range testTokens {
				rng := newRand(uint64(tokens))
				var a QuantizedRows
				a.Resize(tokens, cols)
				for i := range a.Q {
					a.Q[i] = int8(rng.IntN(256) - 128)
				}
				if tokens == 2 { // the extremes of int8 in every position
					for i := range a.Q {
						a.Q[i] = int8(-128 + 255*(i%2))
					}
				}
				for i := 0; i < tokens; i++ {
					a.Sum[i] = 0
					for _, q := range a.Row(i) {
						a.Sum[i] += int32(q)
					}
				}
				want := make([]int32, tokens*rows)
				for i := 0; i < tokens; i++ {
					for r := 0; r < rows; r++ {
						for k, v := range w[r*cols : (r+1)*cols] {
							s := int32(-1)
							if v > 0 {
								s = 1
							}
							want[i*rows+r] += s * int32(a.Q[i*cols+k])
						}
					}
				}
				name := fmt.Sprintf("%dx%d, %d tokens", rows, cols, tokens)
				check := func(how string, got []int32) {
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("%s %s: dst[%d] = %d, want %d", name, how, i, got[i], want[i])
						}
					}
				}
				got := make([]int32, len(want))
				matMulBinaryI8Generic(got, m, &a, 0, rows)
				check("generic", got)
				clear(got)
				matMulBinaryI8SWAR(got, m, &a, 0, rows)
				check("SWAR", got)
				for _, p := range pools {
					clear(got)
					p.MatMulBinaryI8(got, m, &a)
					check(fmt.Sprintf("pool of %d", p.Threads()), got)
				}
			}
		}
	}
}

// binaryWeights returns the packed bytes of a rows×cols binary matrix: bits
// all 0 (every weight -1), all 1 (every weight +1) or random. The bits
// after the last column of a row are random too (in all three patterns), so
// a kernel that read them would disagree with the oracle.
func binaryWeights(rng *rand.Rand, pattern string, rows, cols int) []byte {
	rb := BinaryRowBytes(cols)
	data := make([]byte, rows*rb)
	for i := range data {
		switch pattern {
		case "ones":
			data[i] = 0xFF
		case "random":
			data[i] = byte(rng.IntN(256))
		}
		if c := cols % 8; c != 0 && i%rb == rb-1 {
			data[i] = data[i]&(1<<c-1) | byte(rng.IntN(256))&^(1<<c-1)
		}
	}
	return data
}

// binaryActivations returns tokens×cols int8 activations with their row
// sums: random, all -128, all 127, or alternating -128 and 127.
func binaryActivations(rng *rand.Rand, pattern string, tokens, cols int) *QuantizedRows {
	var a QuantizedRows
	a.Resize(tokens, cols)
	for i := range a.Q {
		switch pattern {
		case "random":
			a.Q[i] = int8(rng.IntN(256) - 128)
		case "min":
			a.Q[i] = -128
		case "max":
			a.Q[i] = 127
		case "alternating":
			a.Q[i] = int8(-128 + 255*(i%2))
		}
	}
	for t := 0; t < tokens; t++ {
		a.Sum[t] = 0
		for _, q := range a.Row(t) {
			a.Sum[t] += int32(q)
		}
	}
	return &a
}

// TestMatMulBinaryI8Levels compares the dispatched binary kernel of every
// SIMD level with the scalar oracle, exactly, over the whole row range and
// a middle part of it (which must leave the other rows alone), and through
// a pool. The column counts cover partial 32-column steps and bytes, the
// token counts partial and several token tiles, and 4128 and 8200 columns
// more steps than 16-bit sums may hold.
func TestMatMulBinaryI8Levels(t *testing.T) {
	pools := testPools(t)
	type shape struct{ rows, cols, tokens int }
	var shapes []shape
	for _, cols := range []int{1, 7, 8, 31, 32, 33, 255, 256, 1000} {
		for rows := 1; rows <= 9; rows++ {
			for _, tokens := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 17} {
				shapes = append(shapes, shape{rows, cols, tokens})
			}
		}
	}
	for _, tokens := range []int{1, 2, 7, 9} {
		shapes = append(shapes, shape{3, 4128, tokens}, shape{2, 8200, tokens})
	}
	forEachLevel(t, func(t *testing.T, level string) {
		for _, s := range shapes {
			for _, wp := range []string{"random", "zeros", "ones"} {
				for _, ap := range []string{"random", "min", "max", "alternating"} {
					if s.cols > 1000 && wp == "zeros" {
						continue // nothing the other patterns do not cover
					}
					rng := newRand(uint64(s.rows*1e6 + s.cols*100 + s.tokens))
					m, err := NewBinaryMatrix(s.rows, s.cols, binaryWeights(rng, wp, s.rows, s.cols))
					if err != nil {
						t.Fatal(err)
					}
					a := binaryActivations(rng, ap, s.tokens, s.cols)
					name := fmt.Sprintf("%dx%d, %d tokens, %s bits, %s activations", s.rows, s.cols, s.tokens, wp, ap)
					want := make([]int32, s.tokens*s.rows)
					matMulBinaryI8Generic(want, m, a, 0, s.rows)
					got := make([]int32, len(want))
					check := func(how string, lo, hi int, sentinel int32) {
						t.Helper()
						for i, g := range got {
							w := want[i]
							if r := i % s.rows; r < lo || r >= hi {
								w = sentinel
							}
							if g != w {
								t.Fatalf("%s %s: dst[%d] = %d, want %d", name, how, i, g, w)
							}
						}
					}
					clear(got)
					matMulBinaryI8(got, m, a, 0, s.rows)
					check("rows 0-", 0, s.rows, 0)
					if s.rows > 2 {
						for i := range got {
							got[i] = -7
						}
						matMulBinaryI8(got, m, a, 1, s.rows-1)
						check("middle rows", 1, s.rows-1, -7)
					}
					p := pools[s.rows%len(pools)]
					clear(got)
					p.MatMulBinaryI8(got, m, a)
					check(fmt.Sprintf("pool of %d", p.Threads()), 0, s.rows, 0)
				}
			}
		}
	})
}

// BenchmarkMatMulBinaryI8 runs the scalar oracle and the binary kernel of
// every SIMD level ("generic" is the portable SWAR kernel) on one thread,
// at the shapes of the 1-bit BitLinear benchmarks of package bitnet and at
// a 2560×2560 decode step.
func BenchmarkMatMulBinaryI8(b *testing.B) {
	for _, s := range []struct{ rows, cols, tokens int }{{1024, 256, 256}, {256, 1024, 256}, {2560, 2560, 1}} {
		rng := newRand(1)
		m, err := NewBinaryMatrix(s.rows, s.cols, binaryWeights(rng, "random", s.rows, s.cols))
		if err != nil {
			b.Fatal(err)
		}
		a := binaryActivations(rng, "random", s.tokens, s.cols)
		dst := make([]int32, s.tokens*s.rows)
		run := func(name string, k matMulBinaryI8Kernel) {
			b.Run(fmt.Sprintf("%dx%d/tokens=%d/%s", s.rows, s.cols, s.tokens, name), func(b *testing.B) {
				b.SetBytes(int64(m.Bytes()))
				for b.Loop() {
					k(dst, m, a, 0, m.Rows)
				}
				b.ReportMetric(float64(s.tokens*b.N)/b.Elapsed().Seconds(), "tokens/s")
			})
		}
		run("oracle", matMulBinaryI8Generic)
		for _, level := range SIMDLevels() {
			restore, err := UseSIMD(level)
			if err != nil {
				b.Fatal(err)
			}
			name := level
			if level == "generic" {
				name = "swar"
			}
			run(name, matMulBinaryI8)
			restore()
		}
	}
}
