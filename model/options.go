package model

import (
	"fmt"
	"runtime"
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
	// Threads is the number of threads for matrix products, at most
	// MaxThreads; 0 means one per logical CPU (at most MaxThreads).
	Threads int
	// ContextLength is the number of positions the KV cache of a session
	// holds, at most MaxContextLength; 0 means the model's training context
	// length, but at most DefaultContextLength (4096), like llama.cpp's
	// default: a Llama 3.1 8B file announces 131072 positions, whose float32
	// KV cache would take 34 GB. A window larger than the training context
	// is allowed. New refuses a window whose session memory (KV cache and
	// scratch, see SessionBytes) cannot be allocated.
	ContextLength int
	// Activations selects the arithmetic of ternary projections (default ActInt8).
	Activations ActivationMode
	// BatchSize is the largest number of prompt tokens evaluated in one pass
	// over the weights; 0 means DefaultBatchSize (64). It is lowered to the
	// context length when larger.
	BatchSize int
	// Int8Head re-encodes a float (F32, F16 or BF16) lm head at load to int8
	// with one scale per row, so that each generated token reads half an F16
	// head's bytes; the logits move slightly (see head.go). Off by default:
	// the engine then computes with the file's own weights.
	Int8Head bool
}

// DefaultBatchSize is the prompt batch size when Options.BatchSize is 0.
const DefaultBatchSize = 64

// DefaultContextLength bounds the context window when Options.ContextLength
// is 0: the window is the model's training context length or this, the
// smaller.
const DefaultContextLength = 4096

// MaxContextLength is the largest Options.ContextLength (2^24 positions, the
// largest context length a model file may announce). Memory usually limits
// the window long before.
const MaxContextLength = 1 << 24

// MaxThreads is the largest thread count Options.Threads and SetThreads
// accept: far beyond any useful count, so that a typing slip cannot start
// millions of goroutines.
const MaxThreads = 1024

// maxBatchSize bounds Options.BatchSize (it is lowered to the context
// length anyway).
const maxBatchSize = MaxContextLength

// ValidateThreads checks a thread count as Options.Threads and SetThreads
// take it: 0 (one per CPU) to MaxThreads.
func ValidateThreads(n int) error {
	if n < 0 || n > MaxThreads {
		return fmt.Errorf("threads %d: want 0 (one per CPU) to %d", n, MaxThreads)
	}
	return nil
}

// Validate checks the options' ranges without a model: threads in
// [0, MaxThreads], context length in [0, MaxContextLength], a batch size
// >= 0 and a known activation mode. New calls it; command lines call it
// to reject flag values before loading anything.
func (o Options) Validate() error {
	if err := ValidateThreads(o.Threads); err != nil {
		return err
	}
	switch {
	case o.ContextLength < 0 || o.ContextLength > MaxContextLength:
		return fmt.Errorf("context length %d: want 0 (the model's, at most %d) to %d", o.ContextLength, DefaultContextLength, MaxContextLength)
	case o.BatchSize < 0 || o.BatchSize > maxBatchSize:
		return fmt.Errorf("batch size %d: want 0 (%d) to %d", o.BatchSize, DefaultBatchSize, maxBatchSize)
	}
	switch o.Activations {
	case ActInt8, ActFloat, ActQ8K:
	default:
		return fmt.Errorf("unknown activation mode %d", o.Activations)
	}
	return nil
}

// withDefaults validates o and fills in its defaults for a model of
// configuration cfg.
func (o Options) withDefaults(cfg *Config) (Options, error) {
	if err := o.Validate(); err != nil {
		return o, err
	}
	if o.Threads == 0 {
		o.Threads = min(runtime.NumCPU(), MaxThreads)
	}
	if o.ContextLength == 0 {
		o.ContextLength = min(cfg.ContextLength, DefaultContextLength)
	}
	if o.ContextLength <= 0 {
		return o, fmt.Errorf("context length unknown; set Options.ContextLength")
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	o.BatchSize = min(o.BatchSize, o.ContextLength)
	return o, nil
}
