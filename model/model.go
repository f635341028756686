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

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/gguf"
)

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
	// Refuse bad options before reading any weights. The session memory is
	// checked by New, once the tensors have shown that the shape is real.
	if _, err := opts.withDefaults(&cfg); err != nil {
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
	if w == nil || len(w.Layers) != cfg.Layers {
		return nil, fmt.Errorf("the weights do not hold the %d layers of the configuration", cfg.Layers)
	}
	opts, err := opts.withDefaults(&cfg)
	if err != nil {
		return nil, err
	}
	if err := checkSessionMemory(&cfg, opts); err != nil {
		return nil, err
	}
	ropeOpts := kernels.RoPEOptions{FreqFactors: w.RopeFreqs}
	if cfg.RopeLinearFactor != 0 {
		ropeOpts.PositionScale = 1 / cfg.RopeLinearFactor
	}
	rope, err := kernels.NewRoPEWithOptions(cfg.RopeStyle, cfg.HeadDim, cfg.RopeDims, cfg.RopeTheta, ropeOpts)
	if err != nil {
		return nil, err
	}
	m := &Model{
		Config:  cfg,
		Weights: w,
		opts:    opts,
		pool:    kernels.NewPool(opts.Threads),
		rope:    rope,
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
