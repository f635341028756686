package kernels

import (
	"fmt"
	"math"
	"slices"
)

// RoPEStyle selects which elements of a head rotary position embedding pairs.
type RoPEStyle int

const (
	// RoPENeox pairs element i with element i + dim/2 (rotate-half), as in
	// GPT-NeoX, Hugging Face LLaMA and the bitnet architectures.
	RoPENeox RoPEStyle = iota
	// RoPENorm pairs element 2i with 2i+1, as in llama.cpp's arch "llama"
	// files, whose converter permuted Q and K rows to match.
	RoPENorm
)

// RoPE rotates the first Dims elements of each head of a vector. It holds the
// per-pair frequencies, computed once, and is not modified afterwards, so one
// RoPE serves any number of goroutines.
type RoPE struct {
	Style   RoPEStyle
	HeadDim int
	Dims    int // rotated dimensions per head (<= HeadDim, even)

	invFreqs []float64 // Dims/2 values: theta^(-2i/Dims) / FreqFactors[i]
	scale    float64   // position scale (RoPEOptions.PositionScale)
}

// RoPEOptions adjust the frequencies of a RoPE (see NewRoPEWithOptions). The
// zero value adjusts nothing.
type RoPEOptions struct {
	// FreqFactors, when not nil, holds one factor per rotated pair (Dims/2
	// finite positive values) that divides the pair's frequency: pair i turns
	// by pos * theta^(-2i/Dims) / FreqFactors[i]. It is the rope_freqs tensor
	// of Llama 3.1-style GGUF files (<arch>.rope.freqs), applied as llama.cpp
	// applies it. Default nil: every factor 1.
	FreqFactors []float32
	// PositionScale multiplies every position before the rotation. Linear
	// RoPE scaling by a factor f (Hugging Face rope_scaling {"type":
	// "linear", "factor": f}, GGUF <arch>.rope.scaling.factor with type
	// linear) is PositionScale = 1/f, llama.cpp's freq_scale. It must be
	// finite and positive; 0 means the default, 1.
	PositionScale float64
}

// NewRoPE prepares rotary embeddings with base theta over the first dims
// elements of every head of headDim elements, with no frequency adjustment.
// The caller checks the shape (dims even, 0 < dims <= headDim) and that
// theta is positive; NewRoPEWithOptions checks them itself.
func NewRoPE(style RoPEStyle, headDim, dims int, theta float64) *RoPE {
	return newRoPE(style, headDim, dims, theta, RoPEOptions{})
}

// NewRoPEWithOptions is NewRoPE with frequency factors and a position scale
// (see RoPEOptions): pair i of a head at position pos turns by the angle
//
//	pos * PositionScale * theta^(-2i/dims) / FreqFactors[i]
//
// computed in float64. A bad shape, base or option (as read from a corrupt
// file) is an error naming it.
func NewRoPEWithOptions(style RoPEStyle, headDim, dims int, theta float64, opts RoPEOptions) (*RoPE, error) {
	switch {
	case style != RoPENeox && style != RoPENorm:
		return nil, fmt.Errorf("rope: unknown style %d", style)
	case dims <= 0 || dims%2 != 0 || dims > headDim:
		return nil, fmt.Errorf("rope: %d rotated dimensions must be even, positive and at most the head dimension %d", dims, headDim)
	case !(theta > 0) || math.IsInf(theta, 0):
		return nil, fmt.Errorf("rope: base %v must be finite and positive", theta)
	case !(opts.PositionScale >= 0) || math.IsInf(opts.PositionScale, 0):
		return nil, fmt.Errorf("rope: position scale %v must be finite and positive", opts.PositionScale)
	case opts.FreqFactors != nil && len(opts.FreqFactors) != dims/2:
		return nil, fmt.Errorf("rope: %d frequency factors for %d rotated pairs", len(opts.FreqFactors), dims/2)
	}
	for i, f := range opts.FreqFactors {
		if !(f > 0) || math.IsInf(float64(f), 0) {
			return nil, fmt.Errorf("rope: frequency factor %d is %v, want a finite positive value", i, f)
		}
	}
	return newRoPE(style, headDim, dims, theta, opts), nil
}

func newRoPE(style RoPEStyle, headDim, dims int, theta float64, opts RoPEOptions) *RoPE {
	r := &RoPE{Style: style, HeadDim: headDim, Dims: dims, invFreqs: make([]float64, dims/2), scale: opts.PositionScale}
	if r.scale == 0 {
		r.scale = 1
	}
	for i := range r.invFreqs {
		r.invFreqs[i] = math.Pow(theta, -2*float64(i)/float64(dims))
		if opts.FreqFactors != nil {
			r.invFreqs[i] /= float64(opts.FreqFactors[i])
		}
	}
	return r
}

// angle is the rotation of pair i at position pos, in float64.
func (r *RoPE) angle(pos, i int) float64 { return float64(pos) * r.scale * r.invFreqs[i] }

// rotatePair turns (a, b) by the angle whose cosine is c and sine s. Each
// product is rounded to float32 before the sum (the conversions forbid
// fused multiply-adds), which is what the vector kernels compute too.
func rotatePair(a, b, c, s float32) (float32, float32) {
	return float32(a*c) - float32(b*s), float32(a*s) + float32(b*c)
}

// pair returns the indices of pair i of the head starting at h.
func (r *RoPE) pair(h, i int) (int, int) {
	if r.Style == RoPENeox {
		return h + i, h + i + r.Dims/2
	}
	return h + 2*i, h + 2*i + 1
}

// Apply rotates, in place, every head of x (a multiple of HeadDim elements)
// for position pos: each pair (a, b) becomes (a cos - b sin, a sin + b cos)
// with the pair's angle at pos (see NewRoPEWithOptions), its cosine and sine
// computed in float64 and rounded to float32. Apply is the plain scalar form
// and the oracle of Rotate, which gives the same results bit for bit and is
// what inference uses.
func (r *RoPE) Apply(x []float32, pos int) {
	for i := 0; i < r.Dims/2; i++ {
		sin, cos := math.Sincos(r.angle(pos, i))
		c, s := float32(cos), float32(sin)
		for h := 0; h+r.HeadDim <= len(x); h += r.HeadDim {
			ia, ib := r.pair(h, i)
			x[ia], x[ib] = rotatePair(x[ia], x[ib], c, s)
		}
	}
}

// Rotate is Apply, with the cosines and sines taken from c, which computes
// those of a position once and keeps them for the next calls (the q and k of
// a token, in every layer), and with the rotation vectorised where the CPU
// allows. It allocates nothing after c's first use.
func (r *RoPE) Rotate(x []float32, pos int, c *RoPECache) {
	r.rotate(x, c.angles(r, pos))
}

// rotate turns every head of x by the angles of table cs (cosines of the
// Dims/2 pairs, then their sines): the vector kernel takes the pairs it
// can, the scalar code the rest.
func (r *RoPE) rotate(x, cs []float32) {
	heads := len(x) / r.HeadDim
	if heads == 0 {
		return
	}
	half := r.Dims / 2
	cos, sin := cs[:half], cs[half:2*half]
	_ = x[heads*r.HeadDim-1]
	for i := ropeVector(r.Style, x, cs, heads, r.HeadDim, half); i < half; i++ {
		c, s := cos[i], sin[i]
		for h := 0; h < heads*r.HeadDim; h += r.HeadDim {
			ia, ib := r.pair(h, i)
			x[ia], x[ib] = rotatePair(x[ia], x[ib], c, s)
		}
	}
}

// fillAngles writes the table of position pos to cs (Dims values): the
// cosines of the pairs' angles, then their sines.
func (r *RoPE) fillAngles(cs []float32, pos int) {
	half := r.Dims / 2
	for i := 0; i < half; i++ {
		sin, cos := math.Sincos(r.angle(pos, i))
		cs[i], cs[half+i] = float32(cos), float32(sin)
	}
}

// ropeCachePositions is the most positions a RoPECache holds: a prompt batch
// of up to this many tokens computes its angles once for all layers.
const ropeCachePositions = 256

// RoPECache holds the cosines and sines of a RoPE's pairs at a run of
// consecutive positions, for RoPE.Rotate. A prompt batch computes them in
// its first layer and every later layer reuses them; decoding adds one
// position per token. The run restarts at a position that does not extend it
// and after ropeCachePositions (256) positions; the cache allocates its
// 256 x Dims floats on first use and nothing afterwards. The zero value is
// ready to use. A RoPECache belongs to one goroutine at a time (a model
// session owns one).
type RoPECache struct {
	rope  *RoPE
	first int       // the first position held
	n     int       // positions held
	tab   []float32 // n tables of rope.Dims values (see RoPE.fillAngles)
}

// angles returns the table of r at position pos, computing it if c does not
// hold it.
func (c *RoPECache) angles(r *RoPE, pos int) []float32 {
	d := r.Dims
	if c.rope == r && pos >= c.first && pos < c.first+c.n {
		i := pos - c.first
		return c.tab[i*d : (i+1)*d]
	}
	if c.rope != r || pos != c.first+c.n || c.n == ropeCachePositions {
		c.rope, c.first, c.n = r, pos, 0
	}
	if cap(c.tab) < ropeCachePositions*d {
		// Room for the longest run at once, so that only a session's first
		// token allocates.
		c.tab = slices.Grow(c.tab[:0], ropeCachePositions*d)
	}
	c.tab = c.tab[:(c.n+1)*d]
	t := c.tab[c.n*d:]
	r.fillAngles(t, pos)
	c.n++
	return t
}
