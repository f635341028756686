package kernels

import (
	"fmt"
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
