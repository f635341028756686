package kernels

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
)

// TestEncodeKnownVectors encodes the values of the hand-built tensors of
// dequant_test.go and expects exactly the hand-built bytes back.
func TestEncodeKnownVectors(t *testing.T) {
	tq2, tq2Values := handTQ2_0Block()
	tq1, tq1Values := handTQ1_0Block()
	i2s, i2sValues := handI2S()
	q80 := make([]byte, 34)
	q80Values := make([]float32, 32)
	q80[0], q80[1] = 0x00, 0x38 // d = 63.5/127 = 0.5
	for i := range q80Values {
		k := i*8 - 127 // -127, -119, ..., 121
		if i == 31 {
			k = 127
		}
		q80Values[i] = 0.5 * float32(k)
		q80[2+i] = byte(int8(k))
	}
	for _, c := range []struct {
		typ    Type
		cols   int
		data   []byte
		values []float32
	}{
		{TQ2_0, 256, tq2, tq2Values},
		{TQ1_0, 256, tq1, tq1Values},
		{I2_S, 256, i2s, i2sValues},
		{Q8_0, 32, q80, q80Values},
	} {
		m := mustMatrix(t, c.typ, len(c.values)/c.cols, c.cols, c.data)
		if got := m.Dequantize(); !equalF32(got, c.values) {
			t.Fatalf("%v: the hand-built bytes decode to %v, want %v", c.typ, got, c.values)
		}
		enc, err := Encode(c.typ, c.values, c.cols)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, c.data) {
			t.Errorf("%v: Encode = %x\nwant %x", c.typ, enc, c.data)
		}
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestEncodeTernaryRoundTrip encodes W = s*T (T ternary) and expects the
// decoder to give back exactly the same values, for one scale per tensor (the
// model's own weights) and, for the block types, one scale per block.
func TestEncodeTernaryRoundTrip(t *testing.T) {
	rng := newRand(2)
	for _, typ := range []Type{TQ1_0, TQ2_0, I2_S} {
		for _, shape := range [][2]int{{1, 256}, {3, 768}, {5, 2560}} {
			rows, cols := shape[0], shape[1]
			for _, perBlock := range []bool{false, true} {
				if perBlock && typ == I2_S {
					continue // one scale per tensor
				}
				x := make([]float32, rows*cols)
				s := ordinaryScales(rng)
				for i := range x {
					if perBlock && i%QK_K == 0 {
						s = extremeScales(rng)
					}
					x[i] = s * float32(rng.IntN(3)-1)
					if i%QK_K == 0 {
						// The scale is the block (tensor) absmax; make sure it occurs.
						x[i] = float32(math.Abs(float64(s)))
					}
				}
				data, err := Encode(typ, x, cols)
				if err != nil {
					t.Fatal(err)
				}
				if want, _ := EncodedSize(typ, rows, cols); len(data) != want {
					t.Fatalf("%v: encoded %d bytes, want %d", typ, len(data), want)
				}
				got := mustMatrix(t, typ, rows, cols, data).Dequantize()
				for i := range x {
					if got[i] != x[i] {
						t.Fatalf("%v %dx%d (per-block scales %v): element %d = %v, want %v", typ, rows, cols, perBlock, i, got[i], x[i])
					}
				}
			}
		}
	}
}

// TestEncodeTernaryRounding checks how the ternary encoders map values that
// are not exactly ternary: TQ types round x/d half away from zero (C's
// lroundf), I2_S keeps only the sign of values with |x| >= 1e-6.
func TestEncodeTernaryRounding(t *testing.T) {
	x := make([]float32, 256)
	copy(x, []float32{1, 0.5, -0.5, 0.49, -0.51, 1e-7, -2e-6, -1})
	tqWant := []float32{1, 1, -1, 0, -1, 0, 0, -1}
	i2sWant := []float32{1, 1, -1, 1, -1, 0, -1, -1}
	for _, typ := range []Type{TQ1_0, TQ2_0, I2_S} {
		data, err := Encode(typ, x, 256)
		if err != nil {
			t.Fatal(err)
		}
		got := mustMatrix(t, typ, 1, 256, data).Dequantize()
		want := tqWant
		if typ == I2_S {
			want = i2sWant
		}
		for i, w := range want {
			if got[i] != w {
				t.Errorf("%v: %v encodes as %v, want %v", typ, x[i], got[i], w)
			}
		}
	}
}

// TestEncodeZeroBlocks checks that all-zero input gives d = 0 blocks (and a
// zero I2_S scale) that decode to zeros.
func TestEncodeZeroBlocks(t *testing.T) {
	x := make([]float32, 512)
	x[300] = -63.5 // block 1 is not zero; Q8_0 stores it exactly with d = 0.5
	for _, typ := range []Type{TQ1_0, TQ2_0, Q8_0} {
		data, err := Encode(typ, x, 512)
		if err != nil {
			t.Fatal(err)
		}
		bb := typ.BlockBytes()
		dOff := bb - 2
		if typ == Q8_0 {
			dOff = 0
		}
		if d := binary.LittleEndian.Uint16(data[dOff:]); d != 0 {
			t.Errorf("%v: first (zero) block has d = %#04x", typ, d)
		}
		got := mustMatrix(t, typ, 1, 512, data).Dequantize()
		if !equalF32(got, x) {
			t.Errorf("%v: zero blocks do not round-trip", typ)
		}
	}
	data, err := Encode(I2_S, make([]float32, 256), 128)
	if err != nil {
		t.Fatal(err)
	}
	m := mustMatrix(t, I2_S, 2, 128, data)
	if m.Scale() != 0 || !equalF32(m.Dequantize(), make([]float32, 256)) {
		t.Errorf("zero I2_S tensor: scale %v, values not zero", m.Scale())
	}
}

// TestEncodeQ8_0 checks Q8_0's rounding (half away from zero, like roundf)
// and its error bound on random data.
func TestEncodeQ8_0(t *testing.T) {
	x := make([]float32, 32)
	copy(x, []float32{127, 2.5, -2.5, 0.5, -0.5, 1.49})
	data, err := Encode(Q8_0, x, 32)
	if err != nil {
		t.Fatal(err)
	}
	wantQ := []int8{127, 3, -3, 1, -1, 1}
	if d := F16ToF32(binary.LittleEndian.Uint16(data)); d != 1 {
		t.Errorf("d = %v, want 1", d)
	}
	for i, w := range wantQ {
		if q := int8(data[2+i]); q != w {
			t.Errorf("Q8_0 of %v = %d, want %d", x[i], q, w)
		}
	}

	rng := newRand(3)
	x = make([]float32, 32*40)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(i/32%7-3)))
	}
	data, err = Encode(Q8_0, x, 32*8)
	if err != nil {
		t.Fatal(err)
	}
	got := mustMatrix(t, Q8_0, 5, 32*8, data).Dequantize()
	for b := 0; b < len(x)/32; b++ {
		var amax float64
		for _, v := range x[b*32 : b*32+32] {
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		d := amax / 127
		// Half a step, plus 127 steps times the fp16 rounding of d: relative
		// 2^-11 for normal values, absolute 2^-25 for subnormal ones.
		tol := d/2 + 127*math.Max(d*0x1p-11, 0x1p-25) + d*1e-6
		for i := b * 32; i < b*32+32; i++ {
			if e := math.Abs(float64(got[i]) - float64(x[i])); e > tol {
				t.Fatalf("Q8_0 element %d: %v -> %v, error %g > %g", i, x[i], got[i], e, tol)
			}
		}
	}
}

// TestEncodePlain checks that F32, F16 and BF16 encode each value with the
// scalar conversions.
func TestEncodePlain(t *testing.T) {
	x := []float32{1, -2.5, 65504, 1e-8, float32(math.Inf(-1)), 3.14159}
	for _, typ := range []Type{F32, F16, BF16} {
		data, err := Encode(typ, x, 3)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range x {
			var ok bool
			switch typ {
			case F32:
				ok = binary.LittleEndian.Uint32(data[4*i:]) == math.Float32bits(v)
			case F16:
				ok = binary.LittleEndian.Uint16(data[2*i:]) == F32ToF16(v)
			case BF16:
				ok = binary.LittleEndian.Uint16(data[2*i:]) == F32ToBF16(v)
			}
			if !ok {
				t.Errorf("%v: element %d (%v) encoded as % x", typ, i, v, data)
			}
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	cases := []struct {
		name string
		typ  Type
		n    int
		cols int
	}{
		{"Q6_K is not an output type", Q6_K, 256, 256},
		{"unknown type", Type(2), 32, 32},
		{"zero cols", F32, 4, 0},
		{"values do not form rows", F32, 5, 2},
		{"row is not whole blocks", TQ2_0, 512, 128},
		{"I2_S half block", I2_S, 128, 64},
	}
	for _, c := range cases {
		if _, err := Encode(c.typ, make([]float32, c.n), c.cols); err == nil {
			t.Errorf("%s: Encode(%v, %d values, cols %d) succeeded", c.name, c.typ, c.n, c.cols)
		}
	}
	if n, err := EncodedSize(I2_S, 3, 256); err != nil || n != 3*256/4+32 {
		t.Errorf("EncodedSize(I2_S, 3, 256) = %d, %v", n, err)
	}
	if _, err := EncodedSize(Q8_0, 1, 31); err == nil {
		t.Error("EncodedSize(Q8_0, 1, 31) succeeded")
	}
}
