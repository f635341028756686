package model

import (
	"fmt"
	"math"
	"strings"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/gguf"
)

// Activation is the non-linearity of the feed-forward gate.
type Activation int

const (
	// SiLU gives the SwiGLU feed-forward of LLaMA and 1bitLLM's BitNet.
	SiLU Activation = iota
	// ReLU2 is relu(x)^2, the gate of BitNet b1.58 2B4T.
	ReLU2
)

// String returns "silu" or "relu2".
func (a Activation) String() string {
	if a == ReLU2 {
		return "relu2"
	}
	return "silu"
}

// ParseActivation reads an activation name as found in GGUF metadata and HF
// configs ("silu", "swish", "relu2", "relu_squared", ...).
func ParseActivation(s string) (Activation, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "silu", "swish", "swiglu":
		return SiLU, nil
	case "relu2", "relu_squared", "squared_relu", "relu²", "relusquared":
		return ReLU2, nil
	}
	return 0, fmt.Errorf("unknown FFN activation %q (want silu or relu2)", s)
}

// Config is the shape and arithmetic of a model, read from its file.
type Config struct {
	Arch          string // architecture name as in the file
	VocabSize     int
	Hidden        int // embedding length
	FFN           int // feed-forward length
	Layers        int
	Heads         int
	KVHeads       int
	HeadDim       int
	ContextLength int // training context length from the file
	RMSEps        float32
	RopeTheta     float64
	RopeDims      int // rotated dimensions per head
	RopeStyle     kernels.RoPEStyle
	// RopeLinearFactor is linear RoPE scaling (`<arch>.rope.scaling.type`
	// linear with `<arch>.rope.scaling.factor`): positions are divided by it
	// before rotating. 0 or 1 means no scaling.
	RopeLinearFactor float64
	Activation       Activation
	SubNorms         bool // attn_sub_norm and ffn_sub_norm before the output projections
}

// KVDim returns the width of a key or value row: KVHeads * HeadDim.
func (c *Config) KVDim() int { return c.KVHeads * c.HeadDim }

// archFamily is what an architecture name implies about the graph.
type archFamily struct {
	subNorms   bool
	rope       kernels.RoPEStyle
	activation Activation
	// fixedActivation means the name itself implies the activation and no
	// metadata key may change it.
	fixedActivation bool
}

var architectures = map[string]archFamily{
	"bitnet-b1.58": {subNorms: true, rope: kernels.RoPENeox, activation: ReLU2, fixedActivation: true},
	"bitnet-25":    {subNorms: true, rope: kernels.RoPENeox, activation: ReLU2, fixedActivation: true},
	"bitnet":       {subNorms: true, rope: kernels.RoPENeox, activation: SiLU},
	"llama":        {subNorms: false, rope: kernels.RoPENorm, activation: SiLU},
}

// SupportedArchitectures lists the architecture names bitnet runs.
func SupportedArchitectures() []string {
	return []string{"bitnet-b1.58", "bitnet-25", "bitnet", "llama"}
}

// activationKeys are the metadata keys (after the architecture prefix) that
// may name the FFN activation.
var activationKeys = []string{"hidden_activation", "hidden_act", "activation", "ffn_activation"}

// ConfigFromGGUF reads the model configuration from GGUF metadata.
func ConfigFromGGUF(f *gguf.File) (Config, error) {
	arch := f.Architecture()
	fam, ok := architectures[arch]
	if !ok {
		if arch == "" {
			return Config{}, fmt.Errorf("no general.architecture in the file")
		}
		return Config{}, fmt.Errorf("unsupported architecture %q (supported: %s)", arch, strings.Join(SupportedArchitectures(), ", "))
	}
	c := Config{Arch: arch, SubNorms: fam.subNorms, RopeStyle: fam.rope, Activation: fam.activation}
	key := func(k string) string { return arch + "." + k }
	req := func(k string) (int, error) {
		v, ok := f.Int(key(k))
		if !ok {
			return 0, fmt.Errorf("missing or non-integer metadata %s", key(k))
		}
		if v <= 0 || v > 1<<24 {
			return 0, fmt.Errorf("metadata %s = %d is out of range", key(k), v)
		}
		return int(v), nil
	}
	var err error
	if c.Hidden, err = req("embedding_length"); err != nil {
		return c, err
	}
	if c.FFN, err = req("feed_forward_length"); err != nil {
		return c, err
	}
	if c.Layers, err = req("block_count"); err != nil {
		return c, err
	}
	if c.Heads, err = req("attention.head_count"); err != nil {
		return c, err
	}
	if c.ContextLength, err = req("context_length"); err != nil {
		return c, err
	}
	c.KVHeads = c.Heads
	if _, ok := f.Get(key("attention.head_count_kv")); ok {
		if c.KVHeads, err = req("attention.head_count_kv"); err != nil {
			return c, err
		}
	}
	if _, ok := f.Get(key("attention.key_length")); ok {
		if c.HeadDim, err = req("attention.key_length"); err != nil {
			return c, err
		}
	} else {
		if c.Hidden%c.Heads != 0 {
			return c, fmt.Errorf("embedding length %d is not a multiple of the head count %d (and no %s gives the head dimension)", c.Hidden, c.Heads, key("attention.key_length"))
		}
		c.HeadDim = c.Hidden / c.Heads
	}
	c.RopeDims = c.HeadDim
	if _, ok := f.Get(key("rope.dimension_count")); ok {
		if c.RopeDims, err = req("rope.dimension_count"); err != nil {
			return c, err
		}
	}
	c.RMSEps = 1e-5
	if v, ok := f.Float(key("attention.layer_norm_rms_epsilon")); ok {
		c.RMSEps = float32(v)
	}
	c.RopeTheta = 10000
	if v, ok := f.Float(key("rope.freq_base")); ok {
		c.RopeTheta = v
	}
	if c.RopeLinearFactor, err = ropeScaling(f, key); err != nil {
		return c, err
	}
	toks, haveToks := f.Strings("tokenizer.ggml.tokens")
	if _, ok := f.Get(key("vocab_size")); ok {
		if c.VocabSize, err = req("vocab_size"); err != nil {
			return c, err
		}
		// Fewer tokens than embedding rows is padding (HF checkpoints pad
		// their embeddings); more would produce ids without embeddings.
		if haveToks && len(toks) > c.VocabSize {
			return c, fmt.Errorf("the tokenizer has %d tokens but %s is %d: token ids beyond it have no embeddings", len(toks), key("vocab_size"), c.VocabSize)
		}
	} else if haveToks {
		c.VocabSize = len(toks)
	}
	for _, k := range activationKeys {
		s, ok := f.String(key(k))
		if !ok {
			continue
		}
		act, err := ParseActivation(s)
		if err != nil {
			return c, fmt.Errorf("metadata %s: %w", key(k), err)
		}
		if fam.fixedActivation && act != fam.activation {
			return c, fmt.Errorf("metadata %s = %q contradicts architecture %s, which uses %v", key(k), s, arch, fam.activation)
		}
		c.Activation = act
		break
	}
	return c, c.validate()
}

// ropeScaling reads `<arch>.rope.scaling.type` and `.factor` (or the older
// `.rope.scale_linear`) as llama.cpp does: no type with a factor means
// linear, a factor of 0 means none, and "none" ignores the factor. It
// returns the linear factor (0 for none) and refuses the schemes bitnet does
// not implement (yarn, longrope, ...).
func ropeScaling(f *gguf.File, key func(string) string) (float64, error) {
	typ := "linear"
	if _, ok := f.Get(key("rope.scaling.type")); ok {
		s, ok := f.String(key("rope.scaling.type"))
		if !ok {
			return 0, fmt.Errorf("metadata %s is not a string", key("rope.scaling.type"))
		}
		typ = strings.ToLower(strings.TrimSpace(s))
	}
	factorKey := key("rope.scaling.factor")
	if _, ok := f.Get(factorKey); !ok {
		factorKey = key("rope.scale_linear")
	}
	var factor float64
	if _, ok := f.Get(factorKey); ok {
		if factor, ok = f.Float(factorKey); !ok {
			return 0, fmt.Errorf("metadata %s is not a number", factorKey)
		}
	}
	switch typ {
	case "none":
		return 0, nil
	case "linear":
		if math.IsNaN(factor) || math.IsInf(factor, 0) || factor < 0 || factor > 1<<20 {
			return 0, fmt.Errorf("metadata %s = %v is out of range (want a positive factor)", factorKey, factor)
		}
		if factor == 1 {
			factor = 0
		}
		return factor, nil
	}
	return 0, fmt.Errorf("RoPE scaling type %q (%s) is not supported: bitnet runs none and linear, not yarn, longrope or others", typ, key("rope.scaling.type"))
}

// validate checks that the shape is self-consistent.
func (c *Config) validate() error {
	switch {
	case c.Layers <= 0 || c.Hidden <= 0 || c.FFN <= 0 || c.Heads <= 0:
		return fmt.Errorf("shape %d layers, hidden %d, feed-forward %d, %d heads must be positive", c.Layers, c.Hidden, c.FFN, c.Heads)
	case c.KVHeads <= 0 || c.Heads%c.KVHeads != 0:
		return fmt.Errorf("head count %d is not a multiple of the KV head count %d", c.Heads, c.KVHeads)
	case c.HeadDim <= 0 || c.HeadDim%2 != 0:
		return fmt.Errorf("head dimension %d must be even and positive", c.HeadDim)
	case c.RopeDims <= 0 || c.RopeDims > c.HeadDim || c.RopeDims%2 != 0:
		return fmt.Errorf("RoPE dimension count %d must be even and at most the head dimension %d", c.RopeDims, c.HeadDim)
	case !(c.RMSEps > 0 && c.RMSEps < 1):
		return fmt.Errorf("RMS epsilon %v is out of range", c.RMSEps)
	case !(c.RopeTheta > 0) || math.IsInf(c.RopeTheta, 0):
		return fmt.Errorf("RoPE base %v must be positive", c.RopeTheta)
	case !(c.RopeLinearFactor >= 0) || math.IsInf(c.RopeLinearFactor, 0):
		return fmt.Errorf("RoPE linear scaling factor %v must be positive", c.RopeLinearFactor)
	case c.VocabSize <= 0:
		return fmt.Errorf("vocabulary size unknown")
	}
	return nil
}
