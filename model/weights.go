package model

import (
	"fmt"
	"math"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/gguf"
)

// Linear is one projection y = Scale * (W x). W stays in its stored encoding.
type Linear struct {
	W *kernels.Matrix
	// Scale multiplies the product; it comes from an optional
	// `<name>.scale` tensor and is 1 otherwise.
	Scale float32
}

// Layer holds the weights of one transformer block, named after their GGUF
// tensors (blk.N.<name>.weight).
type Layer struct {
	AttnNorm    []float32 // attn_norm
	AttnSubNorm []float32 // attn_sub_norm (nil without sub-norms)
	FFNNorm     []float32 // ffn_norm
	FFNSubNorm  []float32 // ffn_sub_norm (nil without sub-norms)

	Q, K, V, O     Linear // attn_q, attn_k, attn_v, attn_output
	Gate, Up, Down Linear // ffn_gate, ffn_up, ffn_down
}

// Weights are all the tensors of a model.
type Weights struct {
	TokenEmbd  *kernels.Matrix // token_embd: one row per token
	OutputNorm []float32       // output_norm
	// Output is the lm head: output.weight, or TokenEmbd when the embeddings
	// are tied.
	Output *kernels.Matrix
	// RopeFreqs are the per-pair RoPE frequency factors of rope_freqs
	// (Llama 3.1 / 3.2 long-context scaling): pair i rotates by
	// pos * theta^(-2i/RopeDims) / RopeFreqs[i]. nil when the file has none.
	RopeFreqs []float32
	Layers    []Layer
}

// TensorSource gives the loader access to named tensors: a GGUF file, or a
// Hugging Face directory adapted to GGUF names.
type TensorSource interface {
	// Tensor returns the tensor's type, dimensions (contiguous first) and
	// encoded bytes.
	Tensor(name string) (typ kernels.Type, dims []uint64, data []byte, ok bool)
}

// TensorCounter is implemented by tensor sources that know how many tensors
// they hold; LoadWeights then refuses a layer count the source cannot
// contain before it builds anything.
type TensorCounter interface {
	NumTensors() int
}

// GGUFTensors adapts a GGUF file to TensorSource.
type GGUFTensors struct{ File *gguf.File }

// NumTensors returns the number of tensors in the file (TensorCounter).
func (g GGUFTensors) NumTensors() int { return len(g.File.Tensors) }

// Tensor implements TensorSource.
func (g GGUFTensors) Tensor(name string) (kernels.Type, []uint64, []byte, bool) {
	t, ok := g.File.Tensor(name)
	if !ok {
		return 0, nil, nil, false
	}
	return t.Type, t.Dims, t.Data, true
}

// LoadWeights builds the weights for cfg from src, checking every tensor's
// presence, type and shape. Nothing is allocated in proportion to the
// configuration before the tensors that justify it are found: layers are
// added one at a time, and a source that counts its tensors (TensorCounter)
// must hold enough for cfg.Layers.
func LoadWeights(cfg *Config, src TensorSource) (*Weights, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	// A bound only: the first missing tensor is named by the loop below.
	const perLayer = 9 // at least two norms and seven projections
	if tc, ok := src.(TensorCounter); ok {
		if n := tc.NumTensors(); (n-2)/perLayer < cfg.Layers {
			return nil, fmt.Errorf("%d layers need at least %d tensors (at least %d per layer, plus token_embd and output_norm), but there are %d",
				cfg.Layers, 2+perLayer*min(cfg.Layers, 1<<40), perLayer, n)
		}
	}
	l := loader{src: src}
	w := &Weights{
		TokenEmbd:  l.matrix("token_embd.weight", cfg.VocabSize, cfg.Hidden, false),
		OutputNorm: l.vector("output_norm.weight", cfg.Hidden),
	}
	if _, _, _, ok := src.Tensor("output.weight"); ok {
		w.Output = l.matrix("output.weight", cfg.VocabSize, cfg.Hidden, false)
	} else {
		w.Output = w.TokenEmbd
	}
	if _, _, _, ok := src.Tensor("rope_freqs.weight"); ok {
		w.RopeFreqs = l.vector("rope_freqs.weight", cfg.RopeDims/2)
		for i, f := range w.RopeFreqs {
			if !(f > 0) || math.IsInf(float64(f), 0) {
				l.fail("tensor rope_freqs.weight: factor %d is %v, want a positive finite number", i, f)
				break
			}
		}
	}
	q, kv := cfg.Heads*cfg.HeadDim, cfg.KVDim()
	for i := 0; i < cfg.Layers && l.err == nil; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		var ly Layer
		ly.AttnNorm = l.vector(p+"attn_norm.weight", cfg.Hidden)
		ly.FFNNorm = l.vector(p+"ffn_norm.weight", cfg.Hidden)
		if cfg.SubNorms {
			ly.AttnSubNorm = l.vector(p+"attn_sub_norm.weight", q)
			ly.FFNSubNorm = l.vector(p+"ffn_sub_norm.weight", cfg.FFN)
		}
		ly.Q = l.linear(p+"attn_q", q, cfg.Hidden)
		ly.K = l.linear(p+"attn_k", kv, cfg.Hidden)
		ly.V = l.linear(p+"attn_v", kv, cfg.Hidden)
		ly.O = l.linear(p+"attn_output", cfg.Hidden, q)
		ly.Gate = l.linear(p+"ffn_gate", cfg.FFN, cfg.Hidden)
		ly.Up = l.linear(p+"ffn_up", cfg.FFN, cfg.Hidden)
		ly.Down = l.linear(p+"ffn_down", cfg.Hidden, cfg.FFN)
		w.Layers = append(w.Layers, ly)
	}
	if l.err != nil {
		return nil, l.err
	}
	return w, nil
}

// loader records the first error so LoadWeights reads like a list of tensors.
type loader struct {
	src TensorSource
	err error
}

func (l *loader) fail(format string, args ...any) {
	if l.err == nil {
		l.err = fmt.Errorf(format, args...)
	}
}

// matrix loads a rows x cols matrix (dims [cols, rows] in GGUF order).
func (l *loader) matrix(name string, rows, cols int, ternaryOK bool) *kernels.Matrix {
	if l.err != nil {
		return nil
	}
	typ, dims, data, ok := l.src.Tensor(name)
	if !ok {
		l.fail("missing tensor %s", name)
		return nil
	}
	if len(dims) != 2 || dims[0] != uint64(cols) || dims[1] != uint64(rows) {
		l.fail("tensor %s has shape %v, want [%d %d]", name, dims, cols, rows)
		return nil
	}
	if typ.Ternary() && !ternaryOK {
		l.fail("tensor %s has ternary type %v, which is only supported for projections", name, typ)
		return nil
	}
	m, err := kernels.NewMatrix(typ, rows, cols, data)
	if err != nil {
		l.fail("tensor %s: %v", name, err)
		return nil
	}
	return m
}

// vector loads a 1-D tensor of n elements as float32.
func (l *loader) vector(name string, n int) []float32 {
	if l.err != nil {
		return nil
	}
	typ, dims, data, ok := l.src.Tensor(name)
	if !ok {
		l.fail("missing tensor %s", name)
		return nil
	}
	if len(dims) != 1 || dims[0] != uint64(n) {
		l.fail("tensor %s has shape %v, want [%d]", name, dims, n)
		return nil
	}
	if typ != kernels.F32 && typ != kernels.F16 && typ != kernels.BF16 {
		l.fail("tensor %s has type %v, want a float type", name, typ)
		return nil
	}
	m, err := kernels.NewMatrix(typ, 1, n, data)
	if err != nil {
		l.fail("tensor %s: %v", name, err)
		return nil
	}
	return m.Dequantize()
}

// linear loads <name>.weight and its optional <name>.scale.
func (l *loader) linear(name string, rows, cols int) Linear {
	lin := Linear{W: l.matrix(name+".weight", rows, cols, true), Scale: 1}
	if l.err != nil {
		return lin
	}
	if _, _, _, ok := l.src.Tensor(name + ".scale"); ok {
		s := l.vector(name+".scale", 1)
		if l.err == nil {
			if math.IsNaN(float64(s[0])) || math.IsInf(float64(s[0]), 0) {
				l.fail("tensor %s.scale is not finite", name)
			}
			lin.Scale = s[0]
		}
	}
	return lin
}
