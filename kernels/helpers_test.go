package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// This file holds what the kernel tests share: deterministic random data in
// every tensor encoding, built byte by byte from the format descriptions
// (DESIGN.md §5) rather than with the encoders under test, and float64
// reference products computed from the reference decoders.

// u is the unit roundoff of float32.
const u = 0x1p-24

// newRand returns a deterministic generator, so failures reproduce.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

// scaleGen draws the block (or tensor) scales and plain float weights of a
// random tensor.
type scaleGen func(rng *rand.Rand) float32

// ordinaryScales are moderate positive scales, exactly representable in fp16.
func ordinaryScales(rng *rand.Rand) float32 {
	return F16ToF32(F32ToF16(0.01 + 2*rng.Float32()))
}

// extremeScales are the fp16 extremes and zero: the largest finite value,
// the smallest subnormal and normal, and 0 (an all-zero block).
func extremeScales(rng *rand.Rand) float32 {
	v := [...]float32{65504, 0x1p-24, 0x1p-14, 0, 1, 0x3ffp-24}
	s := v[rng.IntN(len(v))]
	if rng.IntN(2) == 0 {
		s = -s
	}
	return s
}

// zeroScales makes every block scale 0 (all-zero blocks and I2_S scale 0).
func zeroScales(*rand.Rand) float32 { return 0 }

// tq1Byte is the TQ1_0 storage of up to five base-3 digits (each a ternary
// value plus one), the first digit most significant; a byte that holds fewer
// digits has them in its top positions. Storage is ceil(c * 256 / 243).
func tq1Byte(digits ...int) byte {
	c := 0
	for n := 0; n < 5; n++ {
		c *= 3
		if n < len(digits) {
			c += digits[n]
		}
	}
	return byte((c*256 + 242) / 243)
}

// codes2 packs four 2-bit codes, the first in the lowest bits.
func codes2(c0, c1, c2, c3 int) byte { return byte(c0 | c1<<2 | c2<<4 | c3<<6) }

// randomTensor returns the encoded bytes of a rows x cols tensor of type t
// whose content is random but valid for the type: ternary codes in {0, 1, 2},
// block scales drawn from gen (and rounded to fp16 where the format stores
// fp16), plain values gen() times a uniform factor in [-1, 1].
func randomTensor(rng *rand.Rand, t Type, rows, cols int, gen scaleGen) []byte {
	n := rows * cols
	size, err := EncodedSize(t, rows, cols)
	if err != nil {
		panic(err)
	}
	b := make([]byte, size)
	f16 := func(p []byte) { binary.LittleEndian.PutUint16(p, F32ToF16(gen(rng))) }
	plain := func() float32 { return gen(rng) * (2*rng.Float32() - 1) }
	code := func() int { return rng.IntN(3) }
	switch t {
	case F32:
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(plain()))
		}
	case F16:
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint16(b[2*i:], F32ToF16(plain()))
		}
	case BF16:
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint16(b[2*i:], F32ToBF16(plain()))
		}
	case Q8_0:
		for blk := b; len(blk) > 0; blk = blk[34:] {
			f16(blk)
			for j := 2; j < 34; j++ {
				blk[j] = byte(rng.IntN(256)) // every int8, -128 included
			}
		}
	case Q6_K:
		for blk := b; len(blk) > 0; blk = blk[210:] {
			for j := 0; j < 208; j++ {
				blk[j] = byte(rng.IntN(256)) // every quant and sub-scale is valid
			}
			f16(blk[208:])
		}
	case TQ2_0:
		for blk := b; len(blk) > 0; blk = blk[66:] {
			for j := 0; j < 64; j++ {
				blk[j] = codes2(code(), code(), code(), code())
			}
			f16(blk[64:])
		}
	case TQ1_0:
		for blk := b; len(blk) > 0; blk = blk[54:] {
			for j := 0; j < 48; j++ {
				blk[j] = tq1Byte(code(), code(), code(), code(), code())
			}
			for j := 48; j < 52; j++ {
				blk[j] = tq1Byte(code(), code(), code(), code())
			}
			f16(blk[52:])
		}
	case I2_S:
		for i := 0; i < n/4; i++ {
			b[i] = codes2(code(), code(), code(), code())
		}
		binary.LittleEndian.PutUint32(b[n/4:], math.Float32bits(gen(rng)))
		for i := n/4 + 4; i < len(b); i++ {
			b[i] = byte(rng.IntN(256)) // padding content must not matter
		}
	default:
		panic("randomTensor: unsupported type " + t.String())
	}
	return b
}

// randomMatrix wraps randomTensor as a Matrix.
func randomMatrix(tb testing.TB, rng *rand.Rand, t Type, rows, cols int, gen scaleGen) *Matrix {
	tb.Helper()
	m, err := NewMatrix(t, rows, cols, randomTensor(rng, t, rows, cols, gen))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// testCols returns row lengths for type t: a single block, an odd number of
// blocks, and for types with small blocks a length that ends in a partial
// 256-element chunk of the float product.
func testCols(t Type) []int {
	switch t {
	case F32, F16, BF16:
		return []int{1, 7, 300}
	case Q8_0:
		return []int{32, 96, 288}
	case I2_S:
		return []int{128, 384, 640}
	default: // super-blocks of 256
		return []int{256, 768}
	}
}

// refMatMulI8 is the float64 reference of a ternary x int8 product computed
// from the reference decoder: want[t*rows+r] = sum_k W[r,k] q[t,k] / Scale[t],
// and mag the same sum of absolute values, which bounds rounding errors.
func refMatMulI8(m *Matrix, a *QuantizedRows) (want, mag []float64) {
	w := m.Dequantize()
	want = make([]float64, a.Rows*m.Rows)
	mag = make([]float64, a.Rows*m.Rows)
	for t := 0; t < a.Rows; t++ {
		q := a.Row(t)
		for r := 0; r < m.Rows; r++ {
			var s, sa float64
			for k, v := range w[r*m.Cols : (r+1)*m.Cols] {
				p := float64(v) * float64(q[k])
				s += p
				sa += math.Abs(p)
			}
			want[t*m.Rows+r] = s / float64(a.Scale[t])
			mag[t*m.Rows+r] = sa / float64(a.Scale[t])
		}
	}
	return want, mag
}

// refMatMulF32 is the float64 reference of a float product of m with the n
// rows of x, and the matching sums of absolute products.
func refMatMulF32(m *Matrix, x []float32, n int) (want, mag []float64) {
	w := m.Dequantize()
	want = make([]float64, n*m.Rows)
	mag = make([]float64, n*m.Rows)
	for t := 0; t < n; t++ {
		xs := x[t*m.Cols : (t+1)*m.Cols]
		for r := 0; r < m.Rows; r++ {
			var s, sa float64
			for k, v := range w[r*m.Cols : (r+1)*m.Cols] {
				p := float64(v) * float64(xs[k])
				s += p
				sa += math.Abs(p)
			}
			want[t*m.Rows+r] = s
			mag[t*m.Rows+r] = sa
		}
	}
	return want, mag
}

// tolI8 bounds the rounding error of a ternary x int8 product: every block's
// integer sum is exact, so only the nb block products d_b*dot_b, their sum and
// the final division round (at most (nb + 2) float32 roundings of values
// bounded by mag), plus an absolute term for results in the subnormal range.
func tolI8(m *Matrix, mag float64) float64 {
	nb := m.Cols / m.Type.BlockElems()
	return float64(nb+2)*u*mag + 0x1p-126
}

// tolF32 bounds the rounding error of a float32 dot product of length cols:
// gamma_(cols+1) times the sum of absolute products (the classical bound for
// any summation order), plus one subnormal spacing per term.
func tolF32(cols int, mag float64) float64 {
	g := float64(cols+1) * u
	return g/(1-g)*mag + float64(cols)*0x1p-149
}

// sentinel fills dst with a NaN payload that no kernel produces, to detect
// writes outside the output a kernel owns.
const sentinelBits = 0x7fc0dead

func fillSentinel(dst []float32) {
	for i := range dst {
		dst[i] = math.Float32frombits(sentinelBits)
	}
}

func isSentinel(v float32) bool { return math.Float32bits(v) == sentinelBits }

// randomActivations returns n rows of cols values: row kinds cycle through
// ordinary values, an all-zero row, huge (±1e30, only when huge is set, as
// float products of huge activations and extreme weights overflow float32),
// tiny (±1e-30) and mixed magnitudes, so every batch of a few tokens meets
// the edge cases.
func randomActivations(rng *rand.Rand, n, cols int, huge bool) []float32 {
	x := make([]float32, n*cols)
	for t := 0; t < n; t++ {
		row := x[t*cols : (t+1)*cols]
		switch t % 5 {
		case 0:
			for i := range row {
				row[i] = float32(rng.NormFloat64())
			}
		case 1:
			// all zero: QuantizeRowsI8 falls back to ActEps
		case 2:
			if !huge {
				for i := range row {
					row[i] = 1e3 * float32(rng.NormFloat64())
				}
				break
			}
			for i := range row {
				row[i] = 1e30 * (2*rng.Float32() - 1)
			}
			row[rng.IntN(cols)] = -1e30
		case 3:
			for i := range row {
				row[i] = 1e-30 * (2*rng.Float32() - 1)
			}
		case 4:
			for i := range row {
				row[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(7)-3)))
			}
		}
	}
	return x
}
