package safetensors

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestF16KnownValues(t *testing.T) {
	cases := []struct {
		h uint16
		f float32
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x3555, 0.333251953125},
		{0x7bff, 65504}, {0x0001, 0x1p-24}, {0x03ff, 1023 * 0x1p-24}, {0x0400, 0x1p-14},
		{0x7c00, float32(math.Inf(1))}, {0xfc00, float32(math.Inf(-1))},
	}
	for _, c := range cases {
		if got := F16ToFloat32(c.h); got != c.f {
			t.Errorf("F16ToFloat32(%#04x) = %v, want %v", c.h, got, c.f)
		}
		if got := Float32ToF16(c.f); got != c.h {
			t.Errorf("Float32ToF16(%v) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
	rounding := []struct {
		f float32
		h uint16
	}{
		{1 + 0x1p-11, 0x3c00},   // tie, rounds to even (down)
		{1 + 3*0x1p-11, 0x3c02}, // tie, rounds to even (up)
		{1 + 0x1p-11 + 0x1p-20, 0x3c01},
		{65519, 0x7bff},   // below the midpoint to infinity
		{65520, 0x7c00},   // the midpoint rounds to infinity
		{0x1p-25, 0x0000}, // half the smallest subnormal: tie to even zero
		{0x1p-25 + 0x1p-35, 0x0001},
		{3 * 0x1p-25, 0x0002},       // 1.5 units: tie to even 2
		{0x1p-14 - 0x1p-26, 0x0400}, // rounds up from the largest subnormal into the normals
		{1e-30, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
	}
	for _, c := range rounding {
		if got := Float32ToF16(c.f); got != c.h {
			t.Errorf("Float32ToF16(%g) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
	if h := Float32ToF16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("NaN became %#04x", h)
	}
}

func TestF16RoundTripsEveryValue(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := F16ToFloat32(h)
		if f != f { // NaN: only the class must survive
			if g := Float32ToF16(f); g&0x7c00 != 0x7c00 || g&0x3ff == 0 {
				t.Errorf("NaN %#04x became %#04x", h, g)
			}
			continue
		}
		if g := Float32ToF16(f); g != h {
			t.Errorf("%#04x -> %v -> %#04x", h, f, g)
		}
	}
}

// TestF16RoundsToNearest checks random float32s against the definition:
// no binary16 value is closer than the chosen one.
func TestF16RoundsToNearest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		f := math.Float32frombits(rng.Uint32())
		if f != f || math.Abs(float64(f)) >= 65520 {
			continue
		}
		h := Float32ToF16(f)
		d := math.Abs(float64(F16ToFloat32(h)) - float64(f))
		for _, n := range []uint16{h + 1, h - 1} {
			v := F16ToFloat32(n)
			if n&0x7c00 == 0x7c00 || (n^h)&0x8000 != 0 {
				continue
			}
			if dn := math.Abs(float64(v) - float64(f)); dn < d {
				t.Fatalf("Float32ToF16(%g) = %#04x (%g) but %#04x (%g) is closer", f, h, F16ToFloat32(h), n, v)
			}
		}
	}
}

func TestBF16(t *testing.T) {
	cases := []struct {
		f float32
		h uint16
	}{
		{1, 0x3f80}, {-2, 0xc000}, {0, 0},
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie to even (down)
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie to even (up)
		{math.Float32frombits(0x3f808001), 0x3f81},
		{float32(math.Inf(1)), 0x7f80},
	}
	for _, c := range cases {
		if got := Float32ToBF16(c.f); got != c.h {
			t.Errorf("Float32ToBF16(%v) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := BF16ToFloat32(h)
		if f != f {
			continue
		}
		if g := Float32ToBF16(f); g != h {
			t.Errorf("%#04x -> %v -> %#04x", h, f, g)
		}
	}
	if h := Float32ToBF16(float32(math.NaN())); h&0x7f80 != 0x7f80 || h&0x7f == 0 {
		t.Errorf("NaN became %#04x", h)
	}
}

func BenchmarkDecodeF16(b *testing.B) {
	benchmarkDecode(b, F16)
}

func BenchmarkDecodeBF16(b *testing.B) {
	benchmarkDecode(b, BF16)
}

func benchmarkDecode(b *testing.B, dt DType) {
	const n = 1 << 20
	src := make([]float32, n)
	for i := range src {
		src[i] = float32(i%2000)*0.01 - 10
	}
	var data []byte
	if dt == F16 {
		data = EncodeF16(src)
	} else {
		data = EncodeBF16(src)
	}
	tn := &Tensor{Name: "x", DType: dt, Shape: []uint64{n}, Data: data}
	dst := make([]float32, n)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := tn.DecodeFloat32(dst); err != nil {
			b.Fatal(err)
		}
	}
}
