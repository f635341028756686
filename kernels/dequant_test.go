package kernels

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// The tests in this file build tensors byte by byte from the format
// descriptions (DESIGN.md §5, ggml's block layouts) and check the reference
// decoder element by element, including where each format keeps its scale.

// checkRow compares a decoded row with the expected nonzero elements; every
// other element must be exactly zero.
func checkRow(t *testing.T, what string, got []float32, nonzero map[int]float32) {
	t.Helper()
	for i, v := range got {
		want := nonzero[i]
		if v != want || math.IsNaN(float64(v)) {
			t.Errorf("%s: element %d = %v, want %v", what, i, v, want)
		}
	}
}

func mustMatrix(t *testing.T, typ Type, rows, cols int, data []byte) *Matrix {
	t.Helper()
	m, err := NewMatrix(typ, rows, cols, data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func decodeRows(m *Matrix) [][]float32 {
	out := make([][]float32, m.Rows)
	for r := range out {
		out[r] = make([]float32, m.Cols)
		m.DequantizeRow(r, out[r])
	}
	return out
}

// handI2S is a 2 x 256 I2_S tensor with scale 0.25 built from the layout
// description, and its row-major values.
func handI2S() (data []byte, values []float32) {
	const rows, cols = 2, 256                      // two blocks per row, n/4 = 128 code bytes
	data = bytes.Repeat([]byte{0x55}, rows*cols/4) // code 1 everywhere: all zero
	// Row 0, block 0.
	data[0] = 0b10_01_00_10  // elements 0 (+1), 32 (0), 64 (-1), 96 (+1)
	data[31] = 0b00_10_01_00 // elements 31 (-1), 63 (+1), 95 (0), 127 (-1)
	// Row 0, block 1 (bytes 32..63): byte 7 holds elements 128+7+32k.
	data[32+7] = 0b01_01_10_01 // element 128+7+64 = 199 (+1)
	// Row 1 starts at byte 64.
	data[64] = 0b00_01_01_01                    // row 1 element 0 (-1)
	data[127] = 0b01_01_01_10                   // row 1 block 1 byte 31, shift 0: element 128+31+96 = 255 (+1)
	data = append(data, 0x00, 0x00, 0x80, 0x3e) // f32 0.25, little-endian
	data = append(data, make([]byte, 28)...)

	values = make([]float32, rows*cols)
	for i, v := range map[int]float32{0: 0.25, 64: -0.25, 96: 0.25, 31: -0.25, 63: 0.25, 127: -0.25, 199: 0.25, 256: -0.25, 256 + 255: 0.25} {
		values[i] = v
	}
	return data, values
}

// TestI2SHandBuilt checks I2_S's layout: element j of a 128-element block is
// in byte j%32 at shift 6 - 2*(j/32), codes 0/1/2 = -1/0/+1, and one f32
// scale for the whole tensor right after its n/4 code bytes, then 28 bytes of
// padding.
func TestI2SHandBuilt(t *testing.T) {
	const rows, cols = 2, 256
	data, _ := handI2S()
	m := mustMatrix(t, I2_S, rows, cols, data)
	if m.Scale() != 0.25 {
		t.Fatalf("scale = %v, want 0.25 (the f32 at byte n/4)", m.Scale())
	}
	if m.Bytes() != rows*cols/4 {
		t.Errorf("Bytes() = %d, want %d (codes only)", m.Bytes(), rows*cols/4)
	}
	got := decodeRows(m)
	const s = 0.25
	checkRow(t, "row 0", got[0], map[int]float32{0: s, 64: -s, 96: s, 31: -s, 63: s, 127: -s, 199: s})
	checkRow(t, "row 1", got[1], map[int]float32{0: -s, 255: s})

	// The padding is not part of the tensor's values.
	for i := rows*cols/4 + 4; i < len(data); i++ {
		data[i] = 0x13
	}
	m = mustMatrix(t, I2_S, rows, cols, data)
	checkRow(t, "row 0 after changing the padding", decodeRows(m)[0], map[int]float32{0: s, 64: -s, 96: s, 31: -s, 63: s, 127: -s, 199: s})

	// A single-row view of the same first 64 code bytes keeps its scale at byte n/4 = 64.
	one := append(append([]byte(nil), data[:64]...), 0x00, 0x00, 0x00, 0xc0) // f32 -2
	one = append(one, make([]byte, 28)...)
	m = mustMatrix(t, I2_S, 1, cols, one)
	checkRow(t, "single row, scale -2", decodeRows(m)[0], map[int]float32{0: -2, 64: 2, 96: -2, 31: 2, 63: -2, 127: 2, 199: -2})
}

// TestTQ2_0HandBuilt checks TQ2_0: element j*128 + l*32 + m is code
// (qs[j*32+m] >> 2l) & 3 minus one, and each 66-byte block ends with its
// own fp16 scale d.
func TestTQ2_0HandBuilt(t *testing.T) {
	blk0, _ := handTQ2_0Block()
	blk1 := bytes.Repeat([]byte{0x55}, 66)
	blk1[1] = 0b01_01_10_00         // m=1: elements 256+1 (-1), 256+33 (+1)
	blk1[64], blk1[65] = 0x00, 0xc0 // d = -2
	m := mustMatrix(t, TQ2_0, 1, 512, append(blk0, blk1...))
	checkRow(t, "TQ2_0", decodeRows(m)[0], map[int]float32{
		0: 0.5, 32: -0.5, 96: 0.5, 165: 0.5, 197: -0.5, 159: 0.5,
		257: 2, 289: -2,
	})
}

// handTQ2_0Block is one TQ2_0 block with d = 0.5 built from the layout
// description, and its values.
func handTQ2_0Block() ([]byte, []float32) {
	blk := bytes.Repeat([]byte{0x55}, 66)
	blk[0] = 0b10_01_00_10        // l=0..3 at m=0: elements 0 (+1), 32 (-1), 64 (0), 96 (+1)
	blk[32+5] = 0b01_00_10_01     // j=1, m=5: elements 133 (0), 165 (+1), 197 (-1), 229 (0)
	blk[63] = 0b01_01_01_10       // j=1, m=31, l=0: element 159 (+1)
	blk[64], blk[65] = 0x00, 0x38 // d = 0.5
	values := make([]float32, QK_K)
	for i, v := range map[int]float32{0: 0.5, 32: -0.5, 96: 0.5, 165: 0.5, 197: -0.5, 159: 0.5} {
		values[i] = v
	}
	return blk, values
}

// TestTQ1_0Digits checks the base-3 storage rule on hand-computed bytes.
func TestTQ1_0Digits(t *testing.T) {
	cases := []struct {
		digits []int
		b      byte
	}{
		{[]int{2, 0, 1, 2, 1}, 188}, // c = 178, 178*256/243 = 187.5 -> 188
		{[]int{0, 2, 1, 1, 0}, 70},  // c = 66
		{[]int{2, 2, 2, 2, 2}, 255}, // c = 242
		{[]int{0, 0, 0, 0, 0}, 0},
		{[]int{1, 1, 1, 1, 1}, 128}, // all zero values: c = 121
		{[]int{1, 1, 1, 1}, 127},    // qh filler: c = 120
		{[]int{2, 1, 0, 1}, 203},    // c = 192
		{[]int{0, 0, 2, 2}, 26},     // c = 24
	}
	for _, c := range cases {
		if got := tq1Byte(c.digits...); got != c.b {
			t.Errorf("tq1Byte(%v) = %d, want %d", c.digits, got, c.b)
		}
		for n, want := range c.digits {
			if got := tq1Trit(c.b, n); int(got) != want-1 {
				t.Errorf("digit %d of byte %d = %d, want %d", n, c.b, got, want-1)
			}
		}
	}
	// Every byte decodes to digits 0..2, including 243..255 that encoders
	// never write, and every digit string round-trips.
	for b := 0; b < 256; b++ {
		for n := 0; n < 5; n++ {
			if v := tq1Trit(byte(b), n); v < -1 || v > 1 {
				t.Fatalf("byte %d digit %d decodes to %d", b, n, v)
			}
		}
	}
	for c := 0; c < 243; c++ {
		d := []int{c / 81, c / 27 % 3, c / 9 % 3, c / 3 % 3, c % 3}
		b := tq1Byte(d...)
		for n := range d {
			if got := tq1Trit(b, n); int(got) != d[n]-1 {
				t.Fatalf("digits %v stored as %d: digit %d decodes to %d", d, b, n, got)
			}
		}
	}
}

// TestTQ1_0HandBuilt checks TQ1_0's three regions: qs[0:32] hold elements
// m + 32n, qs[32:48] hold 160 + m + 16n, qh[0:4] hold 240 + j + 4n, with
// digit n = 0 the most significant, and the fp16 d in the last two bytes of
// each 54-byte block.
func TestTQ1_0HandBuilt(t *testing.T) {
	blk0, _ := handTQ1_0Block()
	blk1 := tq1Filler()
	blk1[16] = 188                  // elements 256+16+32n: +1, -1, 0, +1, 0
	blk1[52], blk1[53] = 0x00, 0x3e // d = 1.5
	m := mustMatrix(t, TQ1_0, 1, 512, append(blk0, blk1...))
	const d = 0.125
	checkRow(t, "TQ1_0", decodeRows(m)[0], map[int]float32{
		0: d, 32: -d, 96: d,
		31: -d, 63: d, 159: -d,
		160: d, 176: d, 192: d, 208: d, 224: d,
		175: -d, 191: -d, 207: -d, 223: -d, 239: -d,
		240: d, 248: -d,
		243: -d, 247: -d, 251: d, 255: d,
		272: 1.5, 304: -1.5, 368: 1.5,
	})
}

// tq1Filler is a TQ1_0 block of zero values with d = 0, as the encoder
// writes it: 128 in qs (five zero digits), 127 in qh (four).
func tq1Filler() []byte {
	b := make([]byte, 54)
	for i := 0; i < 48; i++ {
		b[i] = 128
	}
	for i := 48; i < 52; i++ {
		b[i] = 127
	}
	return b
}

// handTQ1_0Block is one TQ1_0 block with d = 0.125 built from the layout
// description, and its values.
func handTQ1_0Block() ([]byte, []float32) {
	blk := tq1Filler()
	blk[0] = 188                  // digits 2,0,1,2,1: elements 0 (+1), 32 (-1), 64 (0), 96 (+1), 128 (0)
	blk[31] = 70                  // digits 0,2,1,1,0: elements 31 (-1), 63 (+1), 95, 127 (0), 159 (-1)
	blk[32] = 255                 // digits 2,2,2,2,2: elements 160, 176, 192, 208, 224 (+1)
	blk[47] = 0                   // digits 0,0,0,0,0: elements 175, 191, 207, 223, 239 (-1)
	blk[48] = 203                 // digits 2,1,0,1: elements 240 (+1), 244 (0), 248 (-1), 252 (0)
	blk[51] = 26                  // digits 0,0,2,2: elements 243, 247 (-1), 251, 255 (+1)
	blk[52], blk[53] = 0x00, 0x30 // d = 0.125
	const d = 0.125
	values := make([]float32, QK_K)
	for _, i := range []int{0, 96, 63, 160, 176, 192, 208, 224, 240, 251, 255} {
		values[i] = d
	}
	for _, i := range []int{32, 31, 159, 175, 191, 207, 223, 239, 248, 243, 247} {
		values[i] = -d
	}
	return blk, values
}

// TestQ8_0HandBuilt checks Q8_0: an fp16 scale first, then 32 int8 values.
func TestQ8_0HandBuilt(t *testing.T) {
	blk0 := make([]byte, 34)
	blk0[0], blk0[1] = 0x00, 0x38 // d = 0.5
	blk0[2+0] = 0x80              // -128
	blk0[2+1] = 0x7f              // 127
	blk0[2+2] = 1
	blk0[2+31] = 0xff // -1
	blk1 := make([]byte, 34)
	blk1[0], blk1[1] = 0x01, 0x00 // d = 2^-24, the smallest fp16 subnormal
	blk1[2] = 100
	m := mustMatrix(t, Q8_0, 1, 64, append(blk0, blk1...))
	checkRow(t, "Q8_0", decodeRows(m)[0], map[int]float32{0: -64, 1: 63.5, 2: 0.5, 31: -0.5, 32: 100 * 0x1p-24})
}

// q6kPack stores 256 values q in [-32, 31] with 16 sub-block scales and an
// fp16 scale in the ggml block_q6_K layout: ql[128] low four bits, qh[64]
// high two bits, scales[16] int8, d fp16. Element e = 128h + 32k + l (h the
// half, k the quarter, l < 32) keeps its low nibble in ql[64h + l + 32(k&1)]
// (high nibble when k >= 2), its high bits in qh[32h + l] at shift 2k, and
// uses scales[e/16].
func q6kPack(q *[256]int, scales *[16]int8, d uint16) []byte {
	b := make([]byte, 210)
	for e, v := range q {
		h, k, l := e/128, e%128/32, e%32
		c := v + 32
		b[64*h+l+32*(k&1)] |= byte(c&0xF) << (4 * (k >> 1))
		b[128+32*h+l] |= byte(c>>4) << (2 * k)
	}
	for i, s := range scales {
		b[192+i] = byte(s)
	}
	binary.LittleEndian.PutUint16(b[208:], d)
	return b
}

// TestQ6_KHandBuilt checks Q6_K on literal bytes and on a random block
// packed independently of the decoder.
func TestQ6_KHandBuilt(t *testing.T) {
	// All values zero: quant 32 = low nibble 0, high bits 2.
	blk := make([]byte, 210)
	for i := 128; i < 192; i++ {
		blk[i] = 0xAA
	}
	for i := 0; i < 15; i++ {
		blk[192+i] = byte(i + 1) // sub-block i has scale i+1 ...
	}
	blk[207] = 0xfd                 // ... except the last, -3
	blk[208], blk[209] = 0x00, 0x38 // d = 0.5
	blk[0] = 0x0F                   // element 0: low nibble 15 ...
	blk[128] = 0x2B                 // ... high bits 3 (q = 63-32 = 31); element 96 high bits 0 (q = -32)
	blk[72] = 0x50                  // element 200 (h=1, k=2, l=8): high nibble of ql[64+8] = 5, q = 37-32 = 5
	blk[127] = 0xF0                 // element 255 (h=1, k=3, l=31): high nibble of ql[127] = 15 ...
	blk[191] = 0x6A                 // ... high bits (qh[63] >> 6) = 1: q = 31-32 = -1
	m := mustMatrix(t, Q6_K, 1, 256, blk)
	checkRow(t, "Q6_K literal", decodeRows(m)[0], map[int]float32{
		0:   31 * 1 * 0.5,
		96:  -32 * 7 * 0.5,
		200: 5 * 13 * 0.5,
		255: -1 * -3 * 0.5,
	})

	rng := newRand(6)
	var q [256]int
	var sc [16]int8
	for i := range q {
		q[i] = rng.IntN(64) - 32
	}
	for i := range sc {
		sc[i] = int8(rng.IntN(256) - 128)
	}
	const d = 0.0078125
	data := append(q6kPack(&q, &sc, F32ToF16(d)), q6kPack(&q, &sc, F32ToF16(-d))...)
	m = mustMatrix(t, Q6_K, 1, 512, data)
	got := decodeRows(m)[0]
	for e := 0; e < 512; e++ {
		sign := float32(1)
		if e >= 256 {
			sign = -1
		}
		want := sign * d * float32(sc[e%256/16]) * float32(q[e%256])
		if got[e] != want {
			t.Fatalf("Q6_K element %d = %v, want %v", e, got[e], want)
		}
	}
}

// TestPlainHandBuilt checks F32, F16 and BF16 rows, little-endian.
func TestPlainHandBuilt(t *testing.T) {
	f32 := []byte{0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x00}
	checkRow(t, "F32", decodeRows(mustMatrix(t, F32, 1, 3, f32))[0], map[int]float32{0: 1, 1: -2, 2: math.Float32frombits(1)})
	f16 := []byte{0x00, 0x3c, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x80, 0x00, 0xfc}
	got := decodeRows(mustMatrix(t, F16, 1, 5, f16))[0]
	checkRow(t, "F16", got[:4], map[int]float32{0: 1, 1: 65504, 2: 0x1p-24})
	if !math.Signbit(float64(got[3])) || !math.IsInf(float64(got[4]), -1) {
		t.Errorf("F16 -0 and -inf decoded as %v, %v", got[3], got[4])
	}
	bf16 := []byte{0x80, 0x3f, 0x00, 0xc0, 0x80, 0x7f}
	got = decodeRows(mustMatrix(t, BF16, 2, 3, append(bf16, bf16...)))[1]
	if got[0] != 1 || got[1] != -2 || !math.IsInf(float64(got[2]), 1) {
		t.Errorf("BF16 row 1 = %v, want [1 -2 +Inf]", got)
	}
}

// TestScalePlacement scales every format's values by rewriting only the bytes
// where DESIGN.md §5 says the scale lives, and checks that every decoded
// value follows.
func TestScalePlacement(t *testing.T) {
	rng := newRand(7)
	for _, c := range []struct {
		typ  Type
		cols int
		// scaleAt lists the byte offsets of the fp16 (or I2_S f32) scales of
		// a one-row tensor of cols elements.
		scaleAt func(size int) []int
	}{
		{Q8_0, 64, func(int) []int { return []int{0, 34} }},
		{Q6_K, 512, func(int) []int { return []int{208, 210 + 208} }},
		{TQ1_0, 512, func(int) []int { return []int{52, 54 + 52} }},
		{TQ2_0, 512, func(int) []int { return []int{64, 66 + 64} }},
		{I2_S, 256, func(int) []int { return []int{256 / 4} }},
	} {
		data := randomTensor(rng, c.typ, 1, c.cols, func(*rand.Rand) float32 { return 1 })
		before := decodeRows(mustMatrix(t, c.typ, 1, c.cols, data))[0]
		for _, off := range c.scaleAt(len(data)) {
			if c.typ == I2_S {
				binary.LittleEndian.PutUint32(data[off:], math.Float32bits(-3))
			} else {
				if got := F16ToF32(binary.LittleEndian.Uint16(data[off:])); got != 1 {
					t.Fatalf("%v: the fp16 at byte %d is %v, not the scale 1", c.typ, off, got)
				}
				binary.LittleEndian.PutUint16(data[off:], F32ToF16(-3))
			}
		}
		after := decodeRows(mustMatrix(t, c.typ, 1, c.cols, data))[0]
		for i := range before {
			if after[i] != -3*before[i] {
				t.Fatalf("%v element %d: %v with scale 1, %v with scale -3", c.typ, i, before[i], after[i])
			}
		}
	}
}

// TestNewMatrix checks the validation of shapes, sizes and I2_S scales.
func TestNewMatrix(t *testing.T) {
	good := func(typ Type, rows, cols int) []byte {
		n, err := EncodedSize(typ, rows, cols)
		if err != nil {
			t.Fatal(err)
		}
		return make([]byte, n)
	}
	if _, err := NewMatrix(Type(2), 1, 32, make([]byte, 18)); err == nil {
		t.Error("unknown type accepted")
	}
	if _, err := NewMatrix(F32, 0, 4, nil); err == nil {
		t.Error("zero rows accepted")
	}
	if _, err := NewMatrix(F32, 2, -1, nil); err == nil {
		t.Error("negative cols accepted")
	}
	if _, err := NewMatrix(Q8_0, 1, 33, make([]byte, 68)); err == nil {
		t.Error("Q8_0 row of 33 accepted")
	}
	if _, err := NewMatrix(I2_S, 1, 64, make([]byte, 48)); err == nil {
		t.Error("I2_S row of 64 (half a block) accepted")
	}
	for _, typ := range SupportedTypes() {
		cols := testCols(typ)[0]
		b := good(typ, 3, cols)
		if _, err := NewMatrix(typ, 3, cols, b); err != nil {
			t.Errorf("%v 3x%d: %v", typ, cols, err)
		}
		if _, err := NewMatrix(typ, 3, cols, b[:len(b)-1]); err == nil {
			t.Errorf("%v: short data accepted", typ)
		}
		if _, err := NewMatrix(typ, 3, cols, append(b, 0)); err == nil {
			t.Errorf("%v: long data accepted", typ)
		}
	}
	for _, bits := range []uint32{0x7f800000, 0xff800000, 0x7fc00000} {
		b := good(I2_S, 1, 128)
		binary.LittleEndian.PutUint32(b[32:], bits)
		if _, err := NewMatrix(I2_S, 1, 128, b); err == nil {
			t.Errorf("I2_S with scale bits %#08x accepted", bits)
		}
	}
	// The data is used in place.
	b := good(F32, 1, 2)
	m := mustMatrix(t, F32, 1, 2, b)
	binary.LittleEndian.PutUint32(b[4:], math.Float32bits(5))
	if got := decodeRows(m)[0][1]; got != 5 {
		t.Errorf("NewMatrix copied its data: element 1 = %v after writing 5 into the buffer", got)
	}
}
