package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// ropeReference rotates one head in float64: pair i (elements i and
// i + dims/2 for NEOX, 2i and 2i+1 for the interleaved style) turns by
// pos * theta^(-2i/dims); elements from dims on are left alone.
func ropeReference(style RoPEStyle, head []float32, dims, pos int, theta float64) []float64 {
	return ropeReferenceOpts(style, head, dims, pos, theta, RoPEOptions{})
}

// ropeReferenceOpts is ropeReference with frequency factors and a position
// scale: pair i turns by pos * scale * theta^(-2i/dims) / factor_i.
func ropeReferenceOpts(style RoPEStyle, head []float32, dims, pos int, theta float64, o RoPEOptions) []float64 {
	out := f64s(head)
	scale := o.PositionScale
	if scale == 0 {
		scale = 1
	}
	for i := 0; i < dims/2; i++ {
		ang := float64(pos) * scale * math.Pow(theta, -2*float64(i)/float64(dims))
		if o.FreqFactors != nil {
			ang /= float64(o.FreqFactors[i])
		}
		ia, ib := 2*i, 2*i+1
		if style == RoPENeox {
			ia, ib = i, i+dims/2
		}
		a, b := float64(head[ia]), float64(head[ib])
		out[ia] = a*math.Cos(ang) - b*math.Sin(ang)
		out[ib] = a*math.Sin(ang) + b*math.Cos(ang)
	}
	return out
}

func TestRoPE(t *testing.T) {
	rng := newRand(40)
	for _, style := range []RoPEStyle{RoPENeox, RoPENorm} {
		for _, c := range []struct {
			headDim, dims, heads int
			theta                float64
		}{
			{64, 64, 4, 10000},
			{128, 128, 2, 500000},
			{64, 32, 3, 10000}, // partial rotation
			{2, 2, 5, 10000},
		} {
			r := NewRoPE(style, c.headDim, c.dims, c.theta)
			for _, pos := range []int{0, 1, 2, 17, 255, 4095, 131071} {
				x := make([]float32, c.headDim*c.heads)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				orig := append([]float32(nil), x...)
				r.Apply(x, pos)
				for h := 0; h < c.heads; h++ {
					head := orig[h*c.headDim : (h+1)*c.headDim]
					got := x[h*c.headDim : (h+1)*c.headDim]
					want := ropeReference(style, head, c.dims, pos, c.theta)
					for i := range got {
						// float32 sin/cos and two rounded products and a sum.
						tol := 4 * u * (math.Abs(float64(head[i])) + maxAbs(head))
						if i >= c.dims || pos == 0 {
							tol = 0 // untouched, and position 0 is the identity
						}
						if math.Abs(float64(got[i])-want[i]) > tol {
							t.Fatalf("style %d head dim %d dims %d pos %d: head %d element %d = %v, want %v",
								style, c.headDim, c.dims, pos, h, i, got[i], want[i])
						}
					}
					// A rotation preserves the norm of each pair, hence of the head.
					var n0, n1 float64
					for i := range head {
						n0 += float64(head[i]) * float64(head[i])
						n1 += float64(got[i]) * float64(got[i])
					}
					if math.Abs(math.Sqrt(n1)-math.Sqrt(n0)) > 8*u*math.Sqrt(n0) {
						t.Errorf("style %d pos %d: norm %v became %v", style, pos, math.Sqrt(n0), math.Sqrt(n1))
					}
				}
			}
		}
	}
}

// TestRoPEPairs checks which elements each style pairs on a basis vector:
// at position 1 with dims 4, pair 0 turns by 1 radian.
func TestRoPEPairs(t *testing.T) {
	s, c := float32(math.Sin(1)), float32(math.Cos(1))
	x := []float32{1, 0, 0, 0}
	NewRoPE(RoPENeox, 4, 4, 10000).Apply(x, 1)
	if x[0] != c || x[2] != s || x[1] != 0 || x[3] != 0 {
		t.Errorf("NEOX rotates element 0 into %v, want it paired with element 2", x)
	}
	x = []float32{1, 0, 0, 0}
	NewRoPE(RoPENorm, 4, 4, 10000).Apply(x, 1)
	if x[0] != c || x[1] != s || x[2] != 0 || x[3] != 0 {
		t.Errorf("interleaved style rotates element 0 into %v, want it paired with element 1", x)
	}
}

// TestRoPEComposes checks that rotating by p then q equals rotating by p+q.
func TestRoPEComposes(t *testing.T) {
	rng := newRand(41)
	r := NewRoPE(RoPENeox, 64, 64, 10000)
	x := make([]float32, 64)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	a := append([]float32(nil), x...)
	r.Apply(a, 5)
	r.Apply(a, 7)
	b := append([]float32(nil), x...)
	r.Apply(b, 12)
	for i := range a {
		if math.Abs(float64(a[i])-float64(b[i])) > 16*u*maxAbs(x) {
			t.Errorf("element %d: rotate 5 then 7 = %v, rotate 12 = %v", i, a[i], b[i])
		}
	}
}

func maxAbs(x []float32) float64 {
	var m float64
	for _, v := range x {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}

// ropeShapes are head shapes for the Rotate tests: whole vector steps, odd
// head counts, partial rotation (dims < head dim) with pair counts that
// leave scalar remainders in both styles, and the smallest head.
var ropeShapes = []struct{ headDim, dims, heads int }{
	{64, 64, 4}, {128, 128, 3}, {80, 80, 5}, {2, 2, 7}, {64, 32, 3},
	{128, 64, 1}, {96, 40, 3}, {16, 6, 5}, {48, 48, 1}, {256, 250, 2},
}

// sameBits reports whether got and want are the same float32, any NaN
// matching any NaN.
func sameBits(got, want float32) bool {
	return math.Float32bits(got) == math.Float32bits(want) || (got != got && want != want)
}

// ropeInputs returns heads*headDim values of a kind: normal, extreme
// (the float32 extremes, subnormals, signed zeros, infinities, NaN), or
// large enough that products overflow.
func ropeInputs(rng *rand.Rand, kind string, n int) []float32 {
	x := make([]float32, n)
	specials := []float32{math.MaxFloat32, -math.MaxFloat32, 0x1p-149, -0x1p-149, 0x1p-126, 0,
		float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for i := range x {
		switch kind {
		case "normal":
			x[i] = float32(rng.NormFloat64())
		case "extreme":
			x[i] = specials[rng.IntN(len(specials))]
			if rng.IntN(3) == 0 {
				x[i] = float32(rng.NormFloat64())
			}
		case "huge":
			x[i] = float32(rng.NormFloat64() * 1e38)
		}
	}
	return x
}

// TestRoPERotateMatchesApply compares Rotate (the cached angles and the
// vector kernels) with the scalar Apply bit for bit, at every SIMD level, for
// both styles, every shape of ropeShapes, positions up to 2^40, frequency
// options and extreme values; elements after the last whole head must stay
// untouched.
func TestRoPERotateMatchesApply(t *testing.T) {
	rng := newRand(42)
	forEachLevel(t, func(t *testing.T, level string) {
		for _, style := range []RoPEStyle{RoPENeox, RoPENorm} {
			for _, sh := range ropeShapes {
				factors := make([]float32, sh.dims/2)
				for i := range factors {
					factors[i] = [...]float32{1, 8, 0.25, 3.7}[i%4]
				}
				for _, o := range []RoPEOptions{{}, {FreqFactors: factors, PositionScale: 0.125}} {
					r, err := NewRoPEWithOptions(style, sh.headDim, sh.dims, 500000, o)
					if err != nil {
						t.Fatal(err)
					}
					var cache RoPECache
					for _, pos := range []int{0, 1, 2, 17, 4095, 1000000, 1 << 40} {
						for _, kind := range []string{"normal", "extreme", "huge"} {
							n := sh.heads * sh.headDim
							tail := []float32{7, 8, 9}[:min(3, sh.headDim-1)] // a partial head after the last
							x := append(ropeInputs(rng, kind, n), tail...)
							want := slices.Clone(x)
							r.Apply(want, pos)
							got := slices.Clone(x)
							r.Rotate(got, pos, &cache)
							for i := range got {
								if !sameBits(got[i], want[i]) {
									t.Fatalf("style %d %+v %+v pos %d %s values: element %d (input %v) = %v, want %v",
										style, sh, o, pos, kind, i, x[i], got[i], want[i])
								}
							}
							if !slices.Equal(got[n:], tail) {
								t.Fatalf("style %d %+v: wrote past the last whole head: %v", style, sh, got[n:])
							}
						}
					}
				}
			}
		}
	})
}

// TestRoPECache runs Rotate on the position patterns of a session: prompt
// batches whose positions every layer asks again, batches longer than the
// cache, decoding one position at a time, and going back (Truncate), with
// two RoPEs sharing a cache; every result must equal Apply's.
func TestRoPECache(t *testing.T) {
	rng := newRand(43)
	r1 := NewRoPE(RoPENeox, 64, 64, 10000)
	r2 := NewRoPE(RoPENorm, 64, 48, 500000)
	var cache RoPECache
	check := func(r *RoPE, pos int) {
		t.Helper()
		x := ropeInputs(rng, "normal", 2*64)
		want := slices.Clone(x)
		r.Apply(want, pos)
		r.Rotate(x, pos, &cache)
		for i := range x {
			if !sameBits(x[i], want[i]) {
				t.Fatalf("dims %d pos %d: element %d = %v, want %v", r.Dims, pos, i, x[i], want[i])
			}
		}
	}
	pos := 0
	for _, batch := range []int{5, 64, 300, 1, 1, 1, 257, 3} {
		for layer := 0; layer < 3; layer++ {
			for i := 0; i < batch; i++ {
				check(r1, pos+i)
			}
		}
		pos += batch
	}
	for _, p := range []int{10, 9, 600, 601, 0, 1 << 30} {
		check(r1, p)
		check(r2, p)
		check(r1, p)
	}
	if cache.n > ropeCachePositions || cap(cache.tab) != ropeCachePositions*r1.Dims {
		t.Errorf("the cache holds %d positions in %d floats, want at most %d positions in %d", cache.n, cap(cache.tab),
			ropeCachePositions, ropeCachePositions*r1.Dims)
	}
}

// TestRoPERotateAllocs checks that decoding (a new position per token, q and
// k of every layer) allocates nothing after the first token.
func TestRoPERotateAllocs(t *testing.T) {
	r := NewRoPE(RoPENeox, 128, 128, 500000)
	q, k := make([]float32, 20*128), make([]float32, 5*128)
	var cache RoPECache
	pos := 0
	step := func() {
		for layer := 0; layer < 4; layer++ {
			r.Rotate(q, pos, &cache)
			r.Rotate(k, pos, &cache)
		}
		pos++
	}
	step()
	if n := testing.AllocsPerRun(2*ropeCachePositions, step); n != 0 {
		t.Errorf("%v allocations per decoded token", n)
	}
}

// TestRoPEOptions checks frequency factors and position scaling against the
// float64 reference, and their exact identities: scaling positions by 1/2
// at position 2p, or halving every frequency there, is the unscaled
// rotation at p; zero options are NewRoPE.
func TestRoPEOptions(t *testing.T) {
	rng := newRand(44)
	const headDim, dims, theta = 64, 48, 500000.0
	factors := make([]float32, dims/2)
	for i := range factors {
		factors[i] = 0.5 + 7.5*rng.Float32()
	}
	for _, style := range []RoPEStyle{RoPENeox, RoPENorm} {
		plain := NewRoPE(style, headDim, dims, theta)
		for _, o := range []RoPEOptions{{FreqFactors: factors}, {PositionScale: 0.25}, {FreqFactors: factors, PositionScale: 1.0 / 3}} {
			r, err := NewRoPEWithOptions(style, headDim, dims, theta, o)
			if err != nil {
				t.Fatal(err)
			}
			for _, pos := range []int{1, 3, 100, 8191, 131071, 1000000} {
				head := ropeInputs(rng, "normal", headDim)
				got := slices.Clone(head)
				r.Apply(got, pos)
				want := ropeReferenceOpts(style, head, dims, pos, theta, o)
				for i := range got {
					tol := 4 * u * (math.Abs(float64(head[i])) + maxAbs(head))
					if i >= dims {
						tol = 0
					}
					if math.Abs(float64(got[i])-want[i]) > tol {
						t.Fatalf("style %d %+v pos %d: element %d = %v, want %v", style, o, pos, i, got[i], want[i])
					}
				}
				// Pair 0's frequency is 1/factor_0: at least one pair turns
				// differently from the plain RoPE.
				plainOut := slices.Clone(head)
				plain.Apply(plainOut, pos)
				if slices.Equal(plainOut, got) {
					t.Fatalf("style %d %+v pos %d: the options changed nothing", style, o, pos)
				}
			}
		}
		halfScale, _ := NewRoPEWithOptions(style, headDim, dims, theta, RoPEOptions{PositionScale: 0.5})
		twos := make([]float32, dims/2)
		for i := range twos {
			twos[i] = 2
		}
		halfFreq, _ := NewRoPEWithOptions(style, headDim, dims, theta, RoPEOptions{FreqFactors: twos})
		zero, _ := NewRoPEWithOptions(style, headDim, dims, theta, RoPEOptions{})
		for _, p := range []int{1, 7, 5000, 500000} {
			x := ropeInputs(rng, "normal", 3*headDim)
			want := slices.Clone(x)
			plain.Apply(want, p)
			for name, c := range map[string]struct {
				r   *RoPE
				pos int
			}{"position scale 1/2": {halfScale, 2 * p}, "factors 2": {halfFreq, 2 * p}, "zero options": {zero, p}} {
				got := slices.Clone(x)
				c.r.Apply(got, c.pos)
				if !slices.Equal(got, want) {
					t.Errorf("style %d %s at %d: %v, want the plain rotation at %d %v", style, name, c.pos, got[:4], p, want[:4])
				}
			}
		}
	}
}

// TestNewRoPEWithOptionsErrors checks that bad shapes and options, as a
// corrupt file might give, are errors naming the problem.
func TestNewRoPEWithOptionsErrors(t *testing.T) {
	ok := make([]float32, 32)
	for i := range ok {
		ok[i] = 1
	}
	bad := func(i int, v float32) []float32 {
		f := slices.Clone(ok)
		f[i] = v
		return f
	}
	for _, c := range []struct {
		name          string
		style         RoPEStyle
		headDim, dims int
		theta         float64
		opts          RoPEOptions
		want          string
	}{
		{"odd dims", RoPENeox, 64, 63, 1e4, RoPEOptions{}, "must be even"},
		{"dims past head", RoPENeox, 64, 66, 1e4, RoPEOptions{}, "at most the head dimension 64"},
		{"zero dims", RoPENeox, 64, 0, 1e4, RoPEOptions{}, "positive"},
		{"style", RoPEStyle(7), 64, 64, 1e4, RoPEOptions{}, "unknown style 7"},
		{"theta", RoPENeox, 64, 64, 0, RoPEOptions{}, "base 0"},
		{"theta NaN", RoPENeox, 64, 64, math.NaN(), RoPEOptions{}, "base NaN"},
		{"theta Inf", RoPENeox, 64, 64, math.Inf(1), RoPEOptions{}, "base +Inf"},
		{"factor count", RoPENeox, 64, 64, 1e4, RoPEOptions{FreqFactors: ok[:31]}, "31 frequency factors for 32 rotated pairs"},
		{"no factors", RoPENeox, 64, 64, 1e4, RoPEOptions{FreqFactors: []float32{}}, "0 frequency factors"},
		{"zero factor", RoPENeox, 64, 64, 1e4, RoPEOptions{FreqFactors: bad(5, 0)}, "frequency factor 5 is 0"},
		{"negative factor", RoPENorm, 64, 64, 1e4, RoPEOptions{FreqFactors: bad(0, -1)}, "frequency factor 0 is -1"},
		{"NaN factor", RoPENeox, 64, 64, 1e4, RoPEOptions{FreqFactors: bad(31, float32(math.NaN()))}, "frequency factor 31 is NaN"},
		{"Inf factor", RoPENeox, 64, 64, 1e4, RoPEOptions{FreqFactors: bad(2, float32(math.Inf(1)))}, "frequency factor 2 is +Inf"},
		{"negative scale", RoPENeox, 64, 64, 1e4, RoPEOptions{PositionScale: -0.5}, "position scale -0.5"},
		{"NaN scale", RoPENeox, 64, 64, 1e4, RoPEOptions{PositionScale: math.NaN()}, "position scale NaN"},
		{"Inf scale", RoPENeox, 64, 64, 1e4, RoPEOptions{PositionScale: math.Inf(1)}, "position scale +Inf"},
	} {
		r, err := NewRoPEWithOptions(c.style, c.headDim, c.dims, c.theta, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) || r != nil {
			t.Errorf("%s: %v, %v; want an error containing %q", c.name, r, err, c.want)
		}
	}
}

// BenchmarkRoPE is RoPE's work for one decoded token of BitNet b1.58 2B4T
// (30 layers, q of 20 heads and k of 5 heads of 128): Apply computes every
// angle in every call; Rotate computes a position's angles once and rotates
// with the vector kernel of each SIMD level (generic: the scalar loop).
func BenchmarkRoPE(b *testing.B) {
	const layers, headDim = 30, 128
	r := NewRoPE(RoPENeox, headDim, headDim, 500000)
	x := ropeInputs(newRand(45), "normal", 25*headDim)
	q, k := x[:20*headDim], x[20*headDim:]
	b.Run("apply", func(b *testing.B) {
		pos := 0
		for b.Loop() {
			for range layers {
				r.Apply(q, pos)
				r.Apply(k, pos)
			}
			pos++
		}
	})
	for _, level := range SIMDLevels() {
		restore, err := UseSIMD(level)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("rotate/"+level, func(b *testing.B) {
			var cache RoPECache
			pos := 0
			for b.Loop() {
				for range layers {
					r.Rotate(q, pos, &cache)
					r.Rotate(k, pos, &cache)
				}
				pos++
			}
		})
		restore()
	}
}
