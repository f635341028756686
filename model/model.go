// Package model runs LLaMA-style BitNet b1.58 transformers: configuration and
// weights from GGUF files, the forward pass with a KV cache, sampling and
// streaming generation.
//
// The forward pass follows DESIGN.md §3:
//
//	h   = x + W_o( subnorm_attn( Attention( RoPE(W_q n1), RoPE(W_k n1), W_v n1 ) ) ),  n1 = RMSNorm(x) * attn_norm
//	out = h + W_down( subnorm_ffn( act(W_gate n2) * (W_up n2) ) ),                    n2 = RMSNorm(h) * ffn_norm
//	logits = E · (RMSNorm(out_last) * output_norm)
//
// Ternary projections quantise their input per token to int8 and accumulate
// in integers, the models' own training arithmetic; Options can turn that off
// to compare with float references.
package model

import (
	"fmt"
	"runtime"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/gguf"
)

// ActivationMode selects the arithmetic of ternary projections' inputs.
type ActivationMode int

const (
	// ActInt8 quantises each token's activations to int8 with its absmax
	// (W1.58A8, DESIGN.md §4): the BitNet b1.58 training arithmetic, used by
	// HF transformers and bitnet.cpp. The default.
	ActInt8 ActivationMode = iota
	// ActFloat keeps activations in float32: the weights' exact values times
	// unquantised inputs, for comparison with float references.
	ActFloat
	// ActQ8K quantises activations in blocks of 256 as llama.cpp does for
	// TQ1_0/TQ2_0 (Q8_K), to reproduce its results.
	ActQ8K
)

// String names the mode as the CLI spells it.
func (a ActivationMode) String() string {
	switch a {
	case ActFloat:
		return "float"
	case ActQ8K:
		return "q8k"
	}
	return "int8"
}

// Options configure how a model runs. The zero value gives the defaults.
type Options struct {
	// Threads is the number of threads for matrix products; 0 means one per
	// logical CPU.
	Threads int
	// ContextLength is the number of positions the KV cache holds; 0 means
	// the model's training context length.
	ContextLength int
	// Activations selects the arithmetic of ternary projections (default ActInt8).
	Activations ActivationMode
	// BatchSize is the largest number of prompt tokens evaluated in one pass
	// over the weights; 0 means 64.
	BatchSize int
	// Int8Head re-encodes a float (F32, F16 or BF16) lm head at load to int8
	// with one scale per row, so that each generated token reads half an F16
	// head's bytes; the logits move slightly (see head.go). Off by default:
	// the engine then computes with the file's own weights.
	Int8Head bool
}

// DefaultBatchSize is the prompt batch size when Options.BatchSize is 0.
const DefaultBatchSize = 64

// Model is a loaded model: configuration, weights and the worker pool that
// runs it. Sessions hold the per-conversation state.
type Model struct {
	Config  Config
	Weights *Weights
	// File is the GGUF file the model was loaded from (nil for other
	// sources); its metadata holds the tokenizer.
	File *gguf.File

	opts  Options
	pool  *kernels.Pool
	rope  *kernels.RoPE
	head8 *kernels.Int8RowMatrix // the re-encoded lm head (Options.Int8Head), or nil
}

// Load opens a GGUF model file.
func Load(path string, opts Options) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := FromGGUF(f, opts)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return m, nil
}

// FromGGUF builds a model from a parsed GGUF file. The model takes ownership
// of f and closes it in Close.
func FromGGUF(f *gguf.File, opts Options) (*Model, error) {
	cfg, err := ConfigFromGGUF(f)
	if err != nil {
		return nil, err
	}
	w, err := LoadWeights(&cfg, GGUFTensors{f})
	if err != nil {
		return nil, err
	}
	m, err := New(cfg, w, opts)
	if err != nil {
		return nil, err
	}
	m.File = f
	return m, nil
}

// New assembles a model from a configuration and weights.
func New(cfg Config, w *Weights, opts Options) (*Model, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if opts.Threads <= 0 {
		opts.Threads = runtime.NumCPU()
	}
	if opts.ContextLength <= 0 {
		opts.ContextLength = cfg.ContextLength
	}
	if opts.ContextLength <= 0 {
		return nil, fmt.Errorf("context length unknown; set Options.ContextLength")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	switch opts.Activations {
	case ActInt8, ActFloat, ActQ8K:
	default:
		return nil, fmt.Errorf("unknown activation mode %d", opts.Activations)
	}
	m := &Model{
		Config:  cfg,
		Weights: w,
		opts:    opts,
		pool:    kernels.NewPool(opts.Threads),
		rope:    kernels.NewRoPE(cfg.RopeStyle, cfg.HeadDim, cfg.RopeDims, cfg.RopeTheta),
	}
	if opts.Int8Head {
		m.quantizeHead()
	}
	return m, nil
}

// Options returns the options the model runs with, defaults filled in.
func (m *Model) Options() Options { return m.opts }

// Close stops the worker pool and releases the model file.
func (m *Model) Close() error {
	m.pool.Close()
	if m.File != nil {
		return m.File.Close()
	}
	return nil
}

// WeightBytes returns the encoded size of all weight matrices read by one
// forward pass of a single token: every projection plus the lm head (the
// embedding lookup reads one row only).
func (m *Model) WeightBytes() int64 {
	var n int64
	for i := range m.Weights.Layers {
		ly := &m.Weights.Layers[i]
		for _, lin := range []*Linear{&ly.Q, &ly.K, &ly.V, &ly.O, &ly.Gate, &ly.Up, &ly.Down} {
			n += int64(lin.W.Bytes())
		}
	}
	if m.head8 != nil {
		return n + int64(m.head8.Bytes())
	}
	return n + int64(m.Weights.Output.Bytes())
}
