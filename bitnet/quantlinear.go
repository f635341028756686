package bitnet

import (
	"fmt"
	"math/rand/v2"

	"github.com/bitnet-go/bitnet/bitnet/gemm"
	"github.com/bitnet-go/bitnet/kernels"
)

// weightKind tells the two BitLinear flavours apart.
type weightKind int

const (
	binaryWeights  weightKind = iota // BitLinear: sign(W - α), scale β
	ternaryWeights                   // BitLinear1_58: RoundClip(W/γ, -1, 1), scale γ
)

func (k weightKind) layerName() string {
	if k == binaryWeights {
		return "BitLinear"
	}
	return "BitLinear1_58"
}

// quantLinear is the training form shared by BitLinear and BitLinear1_58:
// y = dequant(Q(Norm(x)) · codes(W)ᵀ) + b, with gradients passed straight
// through both quantisers.
type quantLinear struct {
	in, out int
	cfg     BitLinearConfig // with defaults filled in
	kind    weightKind
	weight  *Param // [out, in] latent float weights
	bias    *Param // [out], nil without bias
	norm    normLayer
	act     actQuantizer

	// State of the last Forward, read by Backward.
	rows   int
	wq     QuantizedWeights
	xq     QuantizedActivations
	rowSum []float32 // [out×groups] sums of each row's codes per group (shifted inputs only)
	terms  []float32 // [groups×rows×out] dequantised per-group dot products
	y, dx  []float32
}

func newQuantLinear(kind weightKind, in, out int, cfg BitLinearConfig) (*quantLinear, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(in, out); err != nil {
		return nil, fmt.Errorf("%s: %w", kind.layerName(), err)
	}
	l := &quantLinear{in: in, out: out, cfg: cfg, kind: kind, weight: NewParam("weight", out, in)}
	if cfg.Bias {
		l.bias = NewParam("bias", out)
	}
	l.norm = newNorm(cfg.InputNorm, in, float32(cfg.Eps))
	if kind == binaryWeights {
		l.act = bitNetActivations(cfg)
	} else {
		l.act = ternaryActivations(cfg)
	}
	return l, nil
}

// newQuantLinearRandom initialises the weights as the seed does.
func newQuantLinearRandom(kind weightKind, in, out int, cfg BitLinearConfig, rng *rand.Rand) (*quantLinear, error) {
	l, err := newQuantLinear(kind, in, out, cfg)
	if err != nil {
		return nil, err
	}
	initLinear(rng, l.weight, l.bias, in)
	return l, nil
}

// newQuantLinearFrom copies loaded weights ([out, in], row-major) and bias.
func newQuantLinearFrom(kind weightKind, in, out int, cfg BitLinearConfig, weight, bias []float32) (*quantLinear, error) {
	l, err := newQuantLinear(kind, in, out, cfg)
	if err != nil {
		return nil, err
	}
	if len(weight) != in*out {
		return nil, fmt.Errorf("%s %d -> %d: weight has %d values, want %d", kind.layerName(), in, out, len(weight), in*out)
	}
	copy(l.weight.Data, weight)
	switch {
	case l.bias != nil && len(bias) != out:
		return nil, fmt.Errorf("%s %d -> %d: bias has %d values, want %d", kind.layerName(), in, out, len(bias), out)
	case l.bias == nil && bias != nil:
		return nil, fmt.Errorf("%s %d -> %d: a bias was given but the config has Bias off", kind.layerName(), in, out)
	case l.bias != nil:
		copy(l.bias.Data, bias)
	}
	return l, nil
}

func (l *quantLinear) params() []*Param {
	ps := []*Param{l.weight}
	if l.bias != nil {
		ps = append(ps, l.bias)
	}
	if l.norm != nil {
		ps = append(ps, l.norm.Params()...)
	}
	return ps
}

func (l *quantLinear) groups() int { return l.cfg.Method.groups() }

// normGain returns the learned gain of an RMSNorm input norm, nil otherwise.
func (l *quantLinear) normGain() *Param {
	if n, ok := l.norm.(*RMSNorm); ok {
		return n.Weight
	}
	return nil
}

// quantizeWeights quantises the latent weights as the layer's paper does.
func (l *quantLinear) quantizeWeights(p *kernels.Pool, dst *QuantizedWeights) {
	if l.kind == binaryWeights {
		binarizeWeights(p, dst, l.weight.Data, l.out, l.in, l.groups())
	} else {
		ternarizeWeights(p, dst, l.weight.Data, l.out, l.in, l.groups(), float32(l.cfg.Eps))
	}
}

// normalize applies the input norm (if any) to x.
func (l *quantLinear) normalize(p *kernels.Pool, x []float32) []float32 {
	if l.norm == nil {
		return x
	}
	return l.norm.Forward(p, x)
}

// forward is the training-form forward pass. The integer dot products of
// the quantised activations and weight codes are computed by a float32
// matrix product, which is exact: every operand is a small integer and every
// partial sum stays below 2^24 (see maxGroupWidth).
func (l *quantLinear) forward(p *kernels.Pool, x []float32) []float32 {
	rows := rowsOf(l.kind.layerName(), x, l.in)
	l.rows = rows
	n := l.normalize(p, x)
	l.quantizeWeights(p, &l.wq)
	l.act.quantize(p, &l.xq, n, rows, l.in, l.groups())

	g, gs := l.groups(), l.in/l.groups()
	l.terms = grow(l.terms, g*rows*l.out)
	q := gemm.View(l.xq.Q, rows, l.in)
	codes := gemm.View(l.wq.Codes, l.out, l.in)
	for j := range g {
		dots := gemm.View(l.terms[j*rows*l.out:(j+1)*rows*l.out], rows, l.out)
		gemm.MulT(p, dots, q.Sub(0, j*gs, rows, gs), codes.Sub(0, j*gs, l.out, gs), false)
	}
	l.rowSum = codeRowSums(l.rowSum, &l.wq, l.cfg.UseBeforeNonlinear)
	l.y = grow(l.y, rows*l.out)
	dequantizeDots(p, l.y, l.terms, &l.wq, &l.xq, l.rowSum, l.biasData())
	return l.y
}

func (l *quantLinear) biasData() []float32 {
	if l.bias == nil {
		return nil
	}
	return l.bias.Data
}

// backward passes dy straight through both quantisers:
// dW += dyᵀ · x̂, d(norm x) = dy · Ŵ, db += Σ dy, where x̂ and Ŵ are the
// dequantised activations and weights of the forward pass.
func (l *quantLinear) backward(p *kernels.Pool, dy []float32) []float32 {
	rows := rowsOf(l.kind.layerName()+" backward", dy, l.out)
	if rows != l.rows {
		panic(fmt.Sprintf("bitnet: %s backward of %d rows after a forward of %d", l.kind.layerName(), rows, l.rows))
	}
	if l.bias != nil {
		addColumnSums(p, l.bias.Grad, dy, rows, l.out)
	}
	// Weight gradient from the dequantised activations.
	xHat := getScratch(rows * l.in)
	defer putScratch(xHat)
	l.xq.Dequantize(p, *xHat)
	gemm.MulTA(p, gemm.View(l.weight.Grad, l.out, l.in), gemm.View(dy, rows, l.out), gemm.View(*xHat, rows, l.in), true)

	// Input gradient from the dequantised weights.
	wHat := getScratch(l.out * l.in)
	defer putScratch(wHat)
	l.wq.Dequantize(p, *wHat)
	l.dx = grow(l.dx, rows*l.in)
	gemm.Mul(p, gemm.View(l.dx, rows, l.in), gemm.View(dy, rows, l.out), gemm.View(*wHat, l.out, l.in), false)

	if l.norm != nil {
		return l.norm.Backward(p, l.dx)
	}
	return l.dx
}

// addColumnSums adds the column sums of the rows×cols matrix m to dst.
func addColumnSums(p *kernels.Pool, dst, m []float32, rows, cols int) {
	parallelFor(p, cols, func(lo, hi int) {
		d := dst[lo:hi]
		for t := range rows {
			for i, v := range m[t*cols+lo : t*cols+hi] {
				d[i] += v
			}
		}
	})
}

// codeRowSums returns, when the input is shifted, the sum of each weight
// row's codes over each group (out×groups), which carries the shift η
// through the product: Σ_k c_k (q_k/s + η) = (Σ_k c_k q_k)/s + η Σ_k c_k.
func codeRowSums(dst []float32, w *QuantizedWeights, shifted bool) []float32 {
	if !shifted {
		return dst[:0]
	}
	gs := w.Cols / w.Groups
	dst = grow(dst, w.Rows*w.Groups)
	for r := range w.Rows {
		for g := range w.Groups {
			var s float32
			for _, c := range w.Codes[r*w.Cols+g*gs : r*w.Cols+(g+1)*gs] {
				s += c
			}
			dst[r*w.Groups+g] = s
		}
	}
	return dst
}

// dequantizeDots turns integer dot products into the layer's output. terms
// holds groups blocks of rows×out dot products (exact integers as float32);
// they are rescaled in place to float32(dot·w)/s, the arithmetic of
// kernels.Pool.MatMulI8 on I2_S weights, and then combined by combineTerms.
func dequantizeDots(p *kernels.Pool, y, terms []float32, w *QuantizedWeights, a *QuantizedActivations, rowSum, bias []float32) {
	rows, out, groups := a.Rows, w.Rows, w.Groups
	parallelFor(p, rows, func(lo, hi int) {
		for g := range groups {
			ws := w.Scale[g]
			for t := lo; t < hi; t++ {
				s := a.Scale[t*groups+g]
				blk := terms[(g*rows+t)*out : (g*rows+t+1)*out]
				for r, d := range blk {
					blk[r] = float32(d*ws) / s
				}
			}
		}
	})
	combineTerms(p, y, terms, w.Scale, a, rowSum, bias)
}

// combineTerms sums the per-group terms (groups blocks of rows×out values, in
// group order), adds the shift's contribution Σ_g float32(w_g·η_g)·rowSum_g
// when the input was shifted, and then the bias. Training and packed forms
// both end here, so their outputs are the same float operations.
func combineTerms(p *kernels.Pool, y, terms, wScale []float32, a *QuantizedActivations, rowSum, bias []float32) {
	rows, groups := a.Rows, a.Groups
	out := len(y) / max(rows, 1)
	parallelFor(p, rows, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			yr := y[t*out : (t+1)*out]
			copy(yr, terms[t*out:(t+1)*out])
			for g := 1; g < groups; g++ {
				for r, v := range terms[(g*rows+t)*out : (g*rows+t+1)*out] {
					yr[r] += v
				}
			}
			if len(rowSum) > 0 {
				for g := range groups {
					we := wScale[g] * a.Shift[t*groups+g]
					for r := range yr {
						yr[r] += float32(we * rowSum[r*groups+g])
					}
				}
			}
			for r, b := range bias {
				yr[r] += b
			}
		}
	})
}
