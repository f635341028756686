package lm

import (
	"fmt"

	"github.com/bitnet-go/bitnet/bitnet"
)

// Default values of Config fields left zero.
const (
	DefaultRopeTheta = 10000
	DefaultNormEps   = 1e-5
)

// Config is the shape of a model. Vocab, Dim, Layers, Heads, FFN and Context
// are required; the other fields have defaults.
type Config struct {
	// Vocab is the number of tokens (the tokenizer's vocabulary size).
	Vocab int
	// Dim is the width of the residual stream (embedding length).
	Dim int
	// Layers is the number of transformer blocks.
	Layers int
	// Heads is the number of query heads; Dim must be a multiple of it and
	// the head dimension Dim/Heads even.
	Heads int
	// KVHeads is the number of key/value heads (grouped-query attention); 0
	// means Heads. Heads must be a multiple of it.
	KVHeads int
	// FFN is the hidden width of the feed-forward block.
	FFN int
	// Context is the training sequence length, stored in the exported file
	// as the model's context length.
	Context int
	// Activation is the feed-forward gate: bitnet.ReLU2 (the default zero
	// value is SiLU, so set it) exports as arch bitnet-b1.58, bitnet.SiLU
	// as arch bitnet.
	Activation bitnet.Activation
	// RopeTheta is the RoPE base; 0 means DefaultRopeTheta.
	RopeTheta float64
	// NormEps is the RMSNorm epsilon; 0 means DefaultNormEps.
	NormEps float32
	// Float trains unquantised float projections instead of BitLinear1_58:
	// the full-precision baseline of the same model.
	Float bool
}

// withDefaults fills the fields whose zero value means a default.
func (c Config) withDefaults() Config {
	if c.KVHeads == 0 {
		c.KVHeads = c.Heads
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = DefaultRopeTheta
	}
	if c.NormEps == 0 {
		c.NormEps = DefaultNormEps
	}
	return c
}

// HeadDim returns the width of one attention head, Dim/Heads.
func (c Config) HeadDim() int { return c.Dim / c.Heads }

// KVDim returns the width of the key and value projections.
func (c Config) KVDim() int { return c.KVHeads * c.HeadDim() }

// Arch returns the GGUF architecture the model exports as: bitnet-b1.58 for
// ReLU², bitnet for SiLU.
func (c Config) Arch() string {
	if c.Activation == bitnet.ReLU2 {
		return "bitnet-b1.58"
	}
	return "bitnet"
}

// maxDim bounds every size and maxParams the parameter count, so that
// products of sizes stay far from overflow and a mistyped flag (or a
// damaged checkpoint) fails fast instead of allocating terabytes.
const (
	maxDim    = 1 << 20
	maxParams = 1 << 31
)

// ParamCount returns the number of trainable values of a model of this
// shape, without building it.
func (c Config) ParamCount() int {
	c = c.withDefaults()
	perLayer := 2*c.Dim*c.Dim + 2*c.Dim*c.KVDim() + 3*c.Dim*c.FFN + 3*c.Dim + c.FFN
	return c.Vocab*c.Dim + c.Layers*perLayer + c.Dim
}

// Validate checks that the shape is complete and self-consistent.
func (c Config) Validate() error {
	c = c.withDefaults()
	for _, f := range []struct {
		name string
		v    int
	}{{"vocabulary size", c.Vocab}, {"dimension", c.Dim}, {"layer count", c.Layers}, {"head count", c.Heads},
		{"key/value head count", c.KVHeads}, {"feed-forward width", c.FFN}, {"context length", c.Context}} {
		if f.v <= 0 || f.v > maxDim {
			return fmt.Errorf("%s %d is outside [1, %d]", f.name, f.v, maxDim)
		}
	}
	switch {
	case c.Dim%c.Heads != 0:
		return fmt.Errorf("dimension %d is not a multiple of the head count %d", c.Dim, c.Heads)
	case c.HeadDim()%2 != 0:
		return fmt.Errorf("head dimension %d is odd; RoPE needs pairs", c.HeadDim())
	case c.Heads%c.KVHeads != 0:
		return fmt.Errorf("head count %d is not a multiple of the key/value head count %d", c.Heads, c.KVHeads)
	case c.Activation != bitnet.SiLU && c.Activation != bitnet.ReLU2:
		return fmt.Errorf("unknown activation %v", c.Activation)
	case !(c.RopeTheta > 0) || c.RopeTheta > 1e9:
		return fmt.Errorf("RoPE base %v is out of range", c.RopeTheta)
	case !(c.NormEps > 0 && c.NormEps < 1):
		return fmt.Errorf("norm epsilon %v is out of range", c.NormEps)
	case c.ParamCount() > maxParams:
		return fmt.Errorf("%d parameters are more than this trainer handles (%d)", c.ParamCount(), maxParams)
	}
	return nil
}

// String describes the shape in one line.
func (c Config) String() string {
	c = c.withDefaults()
	kind := "ternary"
	if c.Float {
		kind = "float"
	}
	return fmt.Sprintf("%s %s: vocab %d, dim %d, %d layers, %d heads (%d kv), ffn %d, context %d",
		kind, c.Arch(), c.Vocab, c.Dim, c.Layers, c.Heads, c.KVHeads, c.FFN, c.Context)
}

// ParseActivation reads "relu2" or "silu".
func ParseActivation(s string) (bitnet.Activation, error) {
	switch s {
	case "relu2":
		return bitnet.ReLU2, nil
	case "silu":
		return bitnet.SiLU, nil
	}
	return 0, fmt.Errorf("unknown activation %q (want relu2 or silu)", s)
}
