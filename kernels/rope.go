package kernels

import "math"

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
// per-pair inverse frequencies, computed once.
type RoPE struct {
	Style    RoPEStyle
	HeadDim  int
	Dims     int       // rotated dimensions per head (<= HeadDim, even)
	invFreqs []float64 // Dims/2 values: theta^(-2i/Dims)
}

// NewRoPE prepares rotary embeddings with base theta over the first dims
// elements of every head of headDim elements.
func NewRoPE(style RoPEStyle, headDim, dims int, theta float64) *RoPE {
	r := &RoPE{Style: style, HeadDim: headDim, Dims: dims, invFreqs: make([]float64, dims/2)}
	for i := range r.invFreqs {
		r.invFreqs[i] = math.Pow(theta, -2*float64(i)/float64(dims))
	}
	return r
}

// Apply rotates, in place, every head of x (a multiple of HeadDim elements)
// for position pos: each pair (a, b) becomes (a cos - b sin, a sin + b cos)
// with angle pos * theta^(-2i/Dims).
func (r *RoPE) Apply(x []float32, pos int) {
	half := r.Dims / 2
	for i := 0; i < half; i++ {
		sin, cos := math.Sincos(float64(pos) * r.invFreqs[i])
		s, c := float32(sin), float32(cos)
		for h := 0; h+r.HeadDim <= len(x); h += r.HeadDim {
			var ia, ib int
			if r.Style == RoPENeox {
				ia, ib = h+i, h+i+half
			} else {
				ia, ib = h+2*i, h+2*i+1
			}
			a, b := x[ia], x[ib]
			x[ia] = a*c - b*s
			x[ib] = a*s + b*c
		}
	}
}
