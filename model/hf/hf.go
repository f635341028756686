// Package hf loads Hugging Face model directories (config.json, safetensors
// weights, tokenizer.json or tokenizer.model) into the engine, and converts
// them to GGUF.
//
// Three families of BitNet b1.58 checkpoints are understood (see Family):
// Microsoft's BitNetForCausalLM (BitNet b1.58 2B4T, packed, and its -bf16
// master weights), 1bitLLM's BitnetForCausalLM (fp16 master weights) and
// LlamaForCausalLM with transformers' "bitnet" quantization (Falcon3-1.58bit,
// Llama3-8B-1.58).
//
// Weights are never expanded to float. Embeddings, norms and the lm head are
// used in place from the memory-mapped files in their stored float type.
// Projections become ternary once, at load: packed uint8 weights (four
// values per byte, DESIGN.md §6) are re-encoded with their weight_scale, and
// float master weights are quantised with absmean (DESIGN.md §4). Both end
// up in a kernels ternary type (I2_S by default: one scale per tensor, as
// the models define it), so a loaded model takes about as much memory as the
// packed checkpoint.
//
// Hugging Face stores Q and K for rotate-half RoPE, so every family runs
// with kernels.RoPENeox; Convert permutes Q and K the way llama.cpp does when
// it writes the "llama" architecture, whose GGUF files pair adjacent
// elements.
package hf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bitnet-go/bitnet/model"
	"github.com/bitnet-go/bitnet/tokenizer"
)

// Model is a model loaded from a Hugging Face directory. Close releases both
// the engine's resources and the memory-mapped weights.
type Model struct {
	*model.Model
	// Dir is the opened directory the weights come from.
	Dir *Dir
}

// Close stops the model and releases its weights.
func (m *Model) Close() error {
	return errors.Join(m.Model.Close(), m.Dir.Close())
}

// Load opens a Hugging Face model directory and builds a model from it.
func Load(dir string, opts model.Options, hopts Options) (*Model, error) {
	d, err := Open(dir, hopts)
	if err != nil {
		return nil, err
	}
	w, err := model.LoadWeights(&d.Config.Model, d)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	m, err := model.New(d.Config.Model, w, opts)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	return &Model{Model: m, Dir: d}, nil
}

// Tokenizer files of a model directory, in the order LoadTokenizer tries
// them.
const (
	TokenizerJSON  = tokenizer.HFTokenizerJSON
	TokenizerModel = tokenizer.HFTokenizerModel
)

// ErrNoTokenizer is returned by LoadTokenizer for a directory with neither
// tokenizer file.
var ErrNoTokenizer = tokenizer.ErrNoTokenizer

// LoadTokenizer loads the tokenizer of a model directory (tokenizer.json,
// else tokenizer.model) with the chat template, BOS setting and stop tokens
// of its tokenizer_config.json and generation_config.json.
func LoadTokenizer(dir string) (*tokenizer.Tokenizer, error) {
	return tokenizer.FromHFDir(dir)
}

// IsModelDir reports whether dir looks like a Hugging Face model directory:
// a directory holding a config.json.
func IsModelDir(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir() && exists(filepath.Join(dir, ConfigFileName))
}

func exists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}
