package bitnet

import (
	"math/rand/v2"

	"github.com/bitnet-go/bitnet/kernels"
)

// BitLinear is the 1-bit linear layer of BitNet (arXiv 2310.11453) in its
// training form. The forward pass is
//
//	x̃ = Quant(LN(x)),  W̃ = Sign(W - α),  y = W̃ x̃ · βγ/Qb + b
//
// with α = mean(W), β = mean|W| (per group), γ = max|x| per token (per group),
// Qb = 2^(BitWidth-1) and Sign(v) = +1 for v > 0, -1 otherwise. Activations
// are stored as the nearest b-bit integer to the paper's clipped value:
// clamp(round(x·Qb/γ), -Qb, Qb-1). With UseBeforeNonlinear they are shifted by
// their minimum η first, clamp(round((x-η)·Qb/γ), 0, Qb-1), and the output
// adds back β·η·ΣW̃, so that y still approximates W x. Backward passes the
// gradient straight through both quantisers.
type BitLinear struct {
	In, Out int
	// Weight holds the latent float weights, [Out, In].
	Weight *Param
	// Bias is [Out], nil when the config has Bias off.
	Bias *Param
	// NormGain is the RMSNorm gain of an InputNorm of NormRMS, else nil.
	NormGain *Param

	l *quantLinear
}

// NewBitLinear returns a BitLinear layer with in inputs and out outputs,
// initialised from rng as the seed does: Kaiming-normal weights (std
// sqrt(2/in)) and a bias uniform in ±1/sqrt(in).
func NewBitLinear(in, out int, cfg BitLinearConfig, rng *rand.Rand) (*BitLinear, error) {
	l, err := newQuantLinearRandom(binaryWeights, in, out, cfg, rng)
	if err != nil {
		return nil, err
	}
	return wrapBitLinear(l), nil
}

// NewBitLinearFrom returns a BitLinear layer holding a copy of loaded
// weights ([out, in], row-major) and bias (nil when cfg.Bias is off).
func NewBitLinearFrom(in, out int, cfg BitLinearConfig, weight, bias []float32) (*BitLinear, error) {
	l, err := newQuantLinearFrom(binaryWeights, in, out, cfg, weight, bias)
	if err != nil {
		return nil, err
	}
	return wrapBitLinear(l), nil
}

func wrapBitLinear(l *quantLinear) *BitLinear {
	return &BitLinear{In: l.in, Out: l.out, Weight: l.weight, Bias: l.bias, NormGain: l.normGain(), l: l}
}

// Config returns the layer's configuration, defaults filled in.
func (b *BitLinear) Config() BitLinearConfig { return b.l.cfg }

// Params returns the trainable parameters: weight, bias and norm gain, those
// the configuration has.
func (b *BitLinear) Params() []*Param { return b.l.params() }

// Forward computes the fake-quantised output for the rows of x (n×In) and
// returns it (n×Out, owned by the layer).
func (b *BitLinear) Forward(p *kernels.Pool, x []float32) []float32 { return b.l.forward(p, x) }

// Backward takes the gradient of the last Forward's output, adds the
// parameters' gradients and returns the gradient of its input (owned by the
// layer).
func (b *BitLinear) Backward(p *kernels.Pool, dy []float32) []float32 { return b.l.backward(p, dy) }

// QuantizeWeights returns the binarised weights: codes ±1 and, per group, α
// and β.
func (b *BitLinear) QuantizeWeights(p *kernels.Pool) *QuantizedWeights {
	w := new(QuantizedWeights)
	b.l.quantizeWeights(p, w)
	return w
}

// QuantizeActivations quantises rows of already normalised activations (n×In)
// as the forward pass does.
func (b *BitLinear) QuantizeActivations(p *kernels.Pool, x []float32) *QuantizedActivations {
	a := new(QuantizedActivations)
	b.l.act.quantize(p, a, x, rowsOf("BitLinear", x, b.In), b.In, b.l.groups())
	return a
}

// BitLinear1_58 is the ternary linear layer of BitNet b1.58 (arXiv
// 2402.17764) in its training form. The forward pass is
//
//	W̃ = RoundClip(W/γ, -1, 1),  x̃ = clamp(round(x·s), -Qb, Qb-1),  y = W̃ x̃ · γ/s + b
//
// with γ = max(mean|W|, Eps) per group, s = (Qb-1)/max(max|x|, Eps) per token
// (per group) and Qb = 2^(BitWidth-1); at 8 bits this is exactly the int8
// arithmetic of DESIGN.md §4 and of the engine. Rounding is half to even.
// UseBeforeNonlinear shifts the activations by their minimum as in BitLinear.
// Backward passes the gradient straight through both quantisers.
type BitLinear1_58 struct {
	In, Out int
	// Weight holds the latent float weights, [Out, In].
	Weight *Param
	// Bias is [Out], nil when the config has Bias off.
	Bias *Param
	// NormGain is the RMSNorm gain of an InputNorm of NormRMS, else nil.
	NormGain *Param

	l *quantLinear
}

// NewBitLinear1_58 returns a BitLinear1_58 layer with in inputs and out
// outputs, initialised from rng as the seed does: Kaiming-normal weights
// (std sqrt(2/in)) and a bias uniform in ±1/sqrt(in).
func NewBitLinear1_58(in, out int, cfg BitLinearConfig, rng *rand.Rand) (*BitLinear1_58, error) {
	l, err := newQuantLinearRandom(ternaryWeights, in, out, cfg, rng)
	if err != nil {
		return nil, err
	}
	return wrapBitLinear1_58(l), nil
}

// NewBitLinear1_58From returns a BitLinear1_58 layer holding a copy of loaded
// weights ([out, in], row-major) and bias (nil when cfg.Bias is off).
func NewBitLinear1_58From(in, out int, cfg BitLinearConfig, weight, bias []float32) (*BitLinear1_58, error) {
	l, err := newQuantLinearFrom(ternaryWeights, in, out, cfg, weight, bias)
	if err != nil {
		return nil, err
	}
	return wrapBitLinear1_58(l), nil
}

func wrapBitLinear1_58(l *quantLinear) *BitLinear1_58 {
	return &BitLinear1_58{In: l.in, Out: l.out, Weight: l.weight, Bias: l.bias, NormGain: l.normGain(), l: l}
}

// Config returns the layer's configuration, defaults filled in.
func (b *BitLinear1_58) Config() BitLinearConfig { return b.l.cfg }

// Params returns the trainable parameters: weight, bias and norm gain, those
// the configuration has.
func (b *BitLinear1_58) Params() []*Param { return b.l.params() }

// Forward computes the fake-quantised output for the rows of x (n×In) and
// returns it (n×Out, owned by the layer).
func (b *BitLinear1_58) Forward(p *kernels.Pool, x []float32) []float32 { return b.l.forward(p, x) }

// Backward takes the gradient of the last Forward's output, adds the
// parameters' gradients and returns the gradient of its input (owned by the
// layer).
func (b *BitLinear1_58) Backward(p *kernels.Pool, dy []float32) []float32 {
	return b.l.backward(p, dy)
}

// QuantizeWeights returns the ternary weights: codes in {-1, 0, +1} and γ per
// group.
func (b *BitLinear1_58) QuantizeWeights(p *kernels.Pool) *QuantizedWeights {
	w := new(QuantizedWeights)
	b.l.quantizeWeights(p, w)
	return w
}

// QuantizeActivations quantises rows of already normalised activations (n×In)
// as the forward pass does.
func (b *BitLinear1_58) QuantizeActivations(p *kernels.Pool, x []float32) *QuantizedActivations {
	a := new(QuantizedActivations)
	b.l.act.quantize(p, a, x, rowsOf("BitLinear1_58", x, b.In), b.In, b.l.groups())
	return a
}
