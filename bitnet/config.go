package bitnet

import (
	"fmt"
	"math"
)

// Default values of BitLinearConfig fields.
const (
	DefaultBitWidth = 8
	DefaultEps      = 1e-5
)

// NormKind selects the normalisation a BitLinear layer applies to its input
// before quantising it.
type NormKind int

const (
	// NormNone leaves the input as it is, for models that normalise
	// explicitly before each projection (LLaMA-style BitNet b1.58, the engine's
	// architecture, DESIGN.md §3).
	NormNone NormKind = iota
	// NormLayer is the BitNet paper's LN (SubLN): (x - mean) / sqrt(var + eps)
	// over each row, without learned parameters.
	NormLayer
	// NormRMS is RMSNorm with a learned gain: x / sqrt(mean(x²) + eps) * g,
	// the normalisation of BitNet b1.58.
	NormRMS
)

// String returns the name of the normalisation.
func (k NormKind) String() string {
	switch k {
	case NormNone:
		return "none"
	case NormLayer:
		return "layernorm"
	case NormRMS:
		return "rmsnorm"
	}
	return fmt.Sprintf("NormKind(%d)", int(k))
}

// QuantMethod selects the granularity of the quantisation scales. Use
// PerTensor or PerGroup to make one.
type QuantMethod struct {
	// Groups is the number of equal, contiguous groups the input features
	// are split into. Each group has its own weight scale (BitLinear: α and
	// β, BitLinear1_58: γ, over the group's columns of W) and, per token, its
	// own activation scale and shift. 0 and 1 both mean per tensor.
	Groups int
}

// PerTensor is per-tensor quantisation: one absmean weight scale for the
// whole matrix and one absmax activation scale per token.
func PerTensor() QuantMethod { return QuantMethod{Groups: 1} }

// PerGroup is the BitNet paper's group quantisation: the input features are
// split into groups contiguous groups with independent weight and activation
// scales, as each model-parallel shard would compute them.
func PerGroup(groups int) QuantMethod { return QuantMethod{Groups: groups} }

// groups returns the number of groups, at least 1.
func (m QuantMethod) groups() int { return max(m.Groups, 1) }

// String describes the method.
func (m QuantMethod) String() string {
	if m.groups() == 1 {
		return "per-tensor"
	}
	return fmt.Sprintf("per-group(%d)", m.Groups)
}

// BitLinearConfig configures BitLinear and BitLinear1_58 layers. There are
// two starting points, which differ only in Bias and InputNorm:
//
//   - DefaultBitLinearConfig, the seed's layer as the BitNet paper describes
//     it: a bias and LayerNorm on the input;
//   - the zero value, the bare projection of LLaMA-style models that
//     normalise before each projection (BitNet b1.58, package bitnet/lm): no
//     bias, no input norm.
//
// In both, a zero BitWidth means DefaultBitWidth (8) and a zero Eps
// DefaultEps (1e-5); quantisation is per tensor and not shifted.
type BitLinearConfig struct {
	// BitWidth is the number of bits b activations are quantised to, from 2
	// to 8 (they are stored as int8). Qb = 2^(b-1). 0 means DefaultBitWidth.
	BitWidth int
	// Eps is the paper's ε: the smallest scale denominator (activation
	// absmax, ternary weight absmean) and the epsilon of the input norm.
	// 0 means DefaultEps.
	Eps float64
	// Bias adds a learned bias to the output. DefaultBitLinearConfig: true;
	// zero value: false.
	Bias bool
	// UseBeforeNonlinear quantises the input as activations that feed a
	// non-linearity: shifted by their minimum η into [0, Qb] (BitNet paper,
	// eq. 7). The shift is added back when dequantising. Default false.
	UseBeforeNonlinear bool
	// Method is per-tensor (the default; the zero QuantMethod is per
	// tensor) or per-group quantisation.
	Method QuantMethod
	// InputNorm normalises the input before quantisation.
	// DefaultBitLinearConfig: the paper's LayerNorm (NormLayer); zero value:
	// NormNone, for models that normalise before their projections.
	InputNorm NormKind
}

// DefaultBitLinearConfig returns the seed's defaults: 8-bit activations,
// Eps 1e-5, a bias, quantisation after the non-linearity, per-tensor scales
// and the paper's LayerNorm on the input.
func DefaultBitLinearConfig() BitLinearConfig {
	return BitLinearConfig{
		BitWidth:  DefaultBitWidth,
		Eps:       DefaultEps,
		Bias:      true,
		Method:    PerTensor(),
		InputNorm: NormLayer,
	}
}

// withDefaults fills the fields whose zero value means their default.
func (c BitLinearConfig) withDefaults() BitLinearConfig {
	if c.BitWidth == 0 {
		c.BitWidth = DefaultBitWidth
	}
	if c.Eps == 0 {
		c.Eps = DefaultEps
	}
	return c
}

// validate checks the configuration for a layer with in input features.
func (c BitLinearConfig) validate(in, out int) error {
	if in <= 0 || out <= 0 {
		return fmt.Errorf("layer shape %d -> %d is empty", in, out)
	}
	if c.BitWidth < 2 || c.BitWidth > 8 {
		return fmt.Errorf("activation bit width %d is outside [2, 8]", c.BitWidth)
	}
	if !(c.Eps > 0) || math.IsInf(c.Eps, 0) || float32(c.Eps) == 0 {
		return fmt.Errorf("eps %v is not a positive float32", c.Eps)
	}
	if c.Method.Groups < 0 || in%c.Method.groups() != 0 {
		return fmt.Errorf("%d input features do not split into %d groups", in, c.Method.Groups)
	}
	if in/c.Method.groups() > maxGroupWidth {
		return fmt.Errorf("groups of %d input features exceed %d, beyond which float32 sums of 8-bit products are inexact", in/c.Method.groups(), maxGroupWidth)
	}
	if c.InputNorm < NormNone || c.InputNorm > NormRMS {
		return fmt.Errorf("unknown input normalisation %v", c.InputNorm)
	}
	return nil
}

// maxGroupWidth bounds the input features of one quantisation group: the
// training form sums up to that many products of an 8-bit activation and a
// weight code in float32, exact while |sum| <= 128·width <= 2^24.
const maxGroupWidth = 1 << 17

// qb returns Qb = 2^(b-1).
func (c BitLinearConfig) qb() int { return 1 << (c.BitWidth - 1) }
