package kernels

import (
	"math"
	"sort"
	"testing"
)

// f16Exact is the value of a binary16 bit pattern computed from the IEEE-754
// definition in float64, independent of the conversion under test.
func f16Exact(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0x1f:
		if mant != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	case 0:
		return sign * math.Ldexp(mant, -24)
	}
	return sign * math.Ldexp(1024+mant, exp-25)
}

func TestF16ToF32AllPatterns(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		got, want := F16ToF32(h), f16Exact(h)
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) {
				t.Errorf("F16ToF32(%#04x) = %v, want NaN", h, got)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != math.Signbit(want) {
			t.Errorf("F16ToF32(%#04x) = %v, want %v", h, got, want)
		}
	}
}

func TestF16KnownValues(t *testing.T) {
	cases := []struct {
		h uint16
		f float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x3800, 0.5},
		{0x3555, 0.333251953125},
		{0x7bff, 65504},     // largest finite
		{0xfbff, -65504},    // most negative finite
		{0x0400, 0x1p-14},   // smallest normal
		{0x0001, 0x1p-24},   // smallest subnormal
		{0x03ff, 0x3ffp-24}, // largest subnormal
		{0x8001, -0x1p-24},  // negative subnormal
		{0x7c00, float32(math.Inf(1))},
		{0xfc00, float32(math.Inf(-1))},
	}
	for _, c := range cases {
		if got := F16ToF32(c.h); got != c.f {
			t.Errorf("F16ToF32(%#04x) = %v, want %v", c.h, got, c.f)
		}
		if got := F32ToF16(c.f); got != c.h {
			t.Errorf("F32ToF16(%v) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
	if got := F16ToF32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("F16ToF32(0x8000) = %v, want -0", got)
	}
	if got := F32ToF16(float32(math.Copysign(0, -1))); got != 0x8000 {
		t.Errorf("F32ToF16(-0) = %#04x, want 0x8000", got)
	}
	for _, h := range []uint16{0x7e00, 0x7c01, 0xfe00, 0x7fff} {
		if f := F16ToF32(h); !math.IsNaN(float64(f)) {
			t.Errorf("F16ToF32(%#04x) = %v, want NaN", h, f)
		}
	}
}

func TestF32ToF16Rounding(t *testing.T) {
	cases := []struct {
		name string
		f    float32
		h    uint16
	}{
		{"tie below 1+ulp rounds to even 1", 1 + 0x1p-11, 0x3c00},
		{"tie above odd rounds up to even", 1 + 3*0x1p-11, 0x3c02},
		{"just above a tie rounds up", 1 + 0x1p-11 + 0x1p-20, 0x3c01},
		{"just below a tie rounds down", 1 + 0x1p-11 - 0x1p-23, 0x3c00},
		{"negative tie to even", -(1 + 0x1p-11), 0xbc00},
		{"below the overflow tie", 65519, 0x7bff},
		{"overflow tie rounds to inf", 65520, 0x7c00},
		{"far overflow", 1e10, 0x7c00},
		{"negative overflow", -1e10, 0xfc00},
		{"max float32", math.MaxFloat32, 0x7c00},
		{"half the smallest subnormal ties to 0", 0x1p-25, 0x0000},
		{"just above half the smallest subnormal", 0x1p-25 + 0x1p-40, 0x0001},
		{"1.5 subnormal spacings tie to even 2", 3 * 0x1p-25, 0x0002},
		{"2.5 subnormal spacings tie to even 2", 5 * 0x1p-25, 0x0002},
		{"subnormal tie into the smallest normal", 0x7ffp-25, 0x0400},
		{"below a quarter subnormal", 0x1p-27, 0x0000},
		{"float32 subnormal", 0x1p-140, 0x0000},
		{"negative tiny keeps its sign", -0x1p-30, 0x8000},
		{"tie that carries into the exponent", 1 - 0x1p-12, 0x3c00}, // between 0x3bff (odd) and 1.0
	}
	for _, c := range cases {
		if got := F32ToF16(c.f); got != c.h {
			t.Errorf("%s: F32ToF16(%g) = %#04x, want %#04x", c.name, c.f, got, c.h)
		}
	}
	for _, f := range []float32{float32(math.NaN()), math.Float32frombits(0x7f800001), math.Float32frombits(0xffc00000)} {
		h := F32ToF16(f)
		if h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
			t.Errorf("F32ToF16(NaN %#08x) = %#04x, want a NaN", math.Float32bits(f), h)
		}
	}
}

// TestF32ToF16Nearest checks F32ToF16 on many float32 values against a search
// of the sorted table of every finite binary16 value: the result must be the
// nearest one, ties to the even pattern, values beyond 65520 infinite.
func TestF32ToF16Nearest(t *testing.T) {
	type entry struct {
		v float64
		h uint16
	}
	var table []entry
	for i := 0; i < 0x7c00; i++ {
		table = append(table, entry{f16Exact(uint16(i)), uint16(i)})
	}
	sort.Slice(table, func(i, j int) bool { return table[i].v < table[j].v })
	nearest := func(x float64) uint16 { // x >= 0
		if x >= 65520 {
			return 0x7c00
		}
		i := sort.Search(len(table), func(i int) bool { return table[i].v >= x })
		if i == len(table) {
			return table[len(table)-1].h
		}
		if table[i].v == x || i == 0 {
			return table[i].h
		}
		lo, hi := table[i-1], table[i]
		switch dl, dh := x-lo.v, hi.v-x; {
		case dl < dh:
			return lo.h
		case dh < dl:
			return hi.h
		case lo.h&1 == 0:
			return lo.h
		}
		return hi.h
	}
	rng := newRand(1)
	check := func(f float32) {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return
		}
		want := nearest(math.Abs(float64(f)))
		if math.Signbit(float64(f)) {
			want |= 0x8000
		}
		if got := F32ToF16(f); got != want {
			t.Fatalf("F32ToF16(%g = %#08x) = %#04x, want %#04x", f, math.Float32bits(f), got, want)
		}
	}
	for i := 0; i < 200000; i++ {
		// Random bit patterns concentrated on the binary16 range and around it.
		exp := uint32(127 - 27 + rng.IntN(46))
		check(math.Float32frombits(uint32(rng.IntN(2))<<31 | exp<<23 | uint32(rng.IntN(1<<23))))
	}
	for i := 0; i < 1<<16; i++ { // every binary16 value and its neighbours
		f := float32(f16Exact(uint16(i)))
		check(f)
		check(math.Nextafter32(f, float32(math.Inf(1))))
		check(math.Nextafter32(f, float32(math.Inf(-1))))
	}
}

func TestF16RoundTripEveryPattern(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			continue // NaN payloads are not preserved
		}
		if got := F32ToF16(F16ToF32(h)); got != h {
			t.Errorf("F32ToF16(F16ToF32(%#04x)) = %#04x", h, got)
		}
	}
}

func TestBF16(t *testing.T) {
	cases := []struct {
		name string
		f    float32
		h    uint16
	}{
		{"one", 1, 0x3f80},
		{"minus two", -2, 0xc000},
		{"tie rounds to even (down)", 1 + 0x1p-8, 0x3f80},
		{"tie rounds to even (up)", 1 + 3*0x1p-8, 0x3f82},
		{"above a tie", 1 + 0x1p-8 + 0x1p-20, 0x3f81},
		{"inf", float32(math.Inf(1)), 0x7f80},
		{"-inf", float32(math.Inf(-1)), 0xff80},
		{"max float32 rounds to inf", math.MaxFloat32, 0x7f80},
		{"largest finite bf16", math.Float32frombits(0x7f7f0000), 0x7f7f},
		{"subnormal", math.Float32frombits(0x00010000), 0x0001},
	}
	for _, c := range cases {
		if got := F32ToBF16(c.f); got != c.h {
			t.Errorf("%s: F32ToBF16(%g) = %#04x, want %#04x", c.name, c.f, got, c.h)
		}
	}
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := BF16ToF32(h)
		if math.Float32bits(f) != uint32(h)<<16 {
			t.Fatalf("BF16ToF32(%#04x) = %#08x", h, math.Float32bits(f))
		}
		if math.IsNaN(float64(f)) {
			if g := F32ToBF16(f); g&0x7f80 != 0x7f80 || g&0x7f == 0 {
				t.Errorf("F32ToBF16(NaN %#08x) = %#04x, want a NaN", math.Float32bits(f), g)
			}
		} else if g := F32ToBF16(f); g != h {
			t.Errorf("F32ToBF16(BF16ToF32(%#04x)) = %#04x", h, g)
		}
	}
	// A signalling NaN whose payload sits only in the low 16 bits must not
	// become an infinity.
	if g := F32ToBF16(math.Float32frombits(0x7f800001)); g == 0x7f80 {
		t.Errorf("F32ToBF16(sNaN) = inf")
	}
}
