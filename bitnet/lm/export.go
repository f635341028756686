package lm

import (
	"fmt"

	"github.com/bitnet-go/bitnet/bitnet"
	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/gguf"
	"github.com/bitnet-go/bitnet/tokenizer"
)

// ExportOptions choose how a model is written. The zero value writes I2_S
// projections (F32 for a float model) and F32 embeddings.
type ExportOptions struct {
	// Weights encodes the projections: kernels.I2_S (the default; input
	// widths must be multiples of 128), kernels.TQ2_0 or kernels.TQ1_0
	// (multiples of 256) for a ternary model; kernels.F32 (the default) or
	// kernels.F16 for a float model.
	Weights kernels.Type
	// Embeddings encodes the tied token embeddings: kernels.F32 (the zero
	// value: exactly the trained values) or kernels.F16 (half the size).
	Embeddings kernels.Type
	// Name is general.name; Description is general.description.
	Name, Description string
	// Training, when set, is recorded as training.* metadata.
	Training *TrainingRecord
}

// TrainingRecord describes how a model was trained, for its file's metadata.
type TrainingRecord struct {
	Steps       int
	Tokens      int64
	WallSeconds float64
	ValidLoss   float64 // mean NLL on held-out text (llama-perplexity method); 0 when not measured
	Command     string
}

// exportDefaults chooses I2_S for the zero Weights (kernels.F32) of a
// ternary model, which F32 cannot encode.
func (o ExportOptions) exportDefaults(float bool) ExportOptions {
	if o.Weights == kernels.F32 && !float {
		o.Weights = kernels.I2_S
	}
	return o
}

// Export writes the model and its tokenizer to path as a GGUF file the
// engine loads (arch bitnet-b1.58 for ReLU², bitnet for SiLU), atomically.
func Export(path string, m *Model, tok *tokenizer.Tokenizer, o ExportOptions) error {
	w, err := m.GGUF(tok, o)
	if err != nil {
		return err
	}
	if err := w.WriteFile(path); err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	return nil
}

// GGUF returns a writer holding the model as Export writes it.
func (m *Model) GGUF(tok *tokenizer.Tokenizer, o ExportOptions) (*gguf.Writer, error) {
	c := m.Config
	o = o.exportDefaults(c.Float)
	switch {
	case tok.VocabSize() != c.Vocab:
		return nil, fmt.Errorf("export: the tokenizer has %d tokens, the model %d", tok.VocabSize(), c.Vocab)
	case c.Float && o.Weights != kernels.F32 && o.Weights != kernels.F16:
		return nil, fmt.Errorf("export: a float model's projections are written as F32 or F16, not %v", o.Weights)
	case !c.Float && !o.Weights.Ternary():
		return nil, fmt.Errorf("export: a ternary model's projections are written as I2_S, TQ2_0 or TQ1_0, not %v", o.Weights)
	case o.Embeddings != kernels.F32 && o.Embeddings != kernels.F16:
		return nil, fmt.Errorf("export: embeddings are written as F32 or F16, not %v", o.Embeddings)
	}
	arch := c.Arch()
	w := gguf.NewWriter()
	w.AddKV("general.architecture", arch)
	if o.Name != "" {
		w.AddKV("general.name", o.Name)
	}
	if o.Description != "" {
		w.AddKV("general.description", o.Description)
	}
	key := func(k string) string { return arch + "." + k }
	w.AddKV(key("vocab_size"), uint32(c.Vocab))
	w.AddKV(key("context_length"), uint32(c.Context))
	w.AddKV(key("embedding_length"), uint32(c.Dim))
	w.AddKV(key("feed_forward_length"), uint32(c.FFN))
	w.AddKV(key("block_count"), uint32(c.Layers))
	w.AddKV(key("attention.head_count"), uint32(c.Heads))
	w.AddKV(key("attention.head_count_kv"), uint32(c.KVHeads))
	w.AddKV(key("attention.layer_norm_rms_epsilon"), c.NormEps)
	w.AddKV(key("rope.freq_base"), float32(c.RopeTheta))
	w.AddKV(key("rope.dimension_count"), uint32(c.HeadDim()))
	if arch == "bitnet" {
		w.AddKV(key("hidden_activation"), c.Activation.String())
	}
	if r := o.Training; r != nil {
		w.AddKV("training.steps", uint64(r.Steps))
		w.AddKV("training.tokens", uint64(r.Tokens))
		w.AddKV("training.wall_seconds", r.WallSeconds)
		if r.ValidLoss > 0 {
			w.AddKV("training.valid_loss", r.ValidLoss)
		}
		if r.Command != "" {
			w.AddKV("training.command", r.Command)
		}
	}
	tok.AddToGGUF(w)

	for _, prm := range m.params {
		data, typ, err := m.encodeParam(prm, o)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", prm.Name, err)
		}
		dims := make([]uint64, len(prm.Shape))
		for i, d := range prm.Shape {
			dims[len(dims)-1-i] = uint64(d) // GGUF lists the contiguous dimension first
		}
		w.AddTensor(prm.Name, typ, dims, data)
	}
	return w, nil
}

// encodeParam encodes one parameter for export: norms as F32, the
// embedding table as o.Embeddings, projections as o.Weights (ternary
// projections quantised with absmean first).
func (m *Model) encodeParam(prm *bitnet.Param, o ExportOptions) ([]byte, kernels.Type, error) {
	switch {
	case len(prm.Shape) == 1:
		data, err := kernels.Encode(kernels.F32, prm.Data, len(prm.Data))
		return data, kernels.F32, err
	case prm == m.embedding.Weight:
		data, err := kernels.Encode(o.Embeddings, prm.Data, m.Config.Dim)
		return data, o.Embeddings, err
	}
	rows, cols := prm.Shape[0], prm.Shape[1]
	values := prm.Data
	if !m.Config.Float {
		l, err := bitnet.NewBitLinear1_58From(cols, rows, projectionConfig, prm.Data, nil)
		if err != nil {
			return nil, 0, err
		}
		q := l.QuantizeWeights(nil)
		values = make([]float32, len(q.Codes))
		q.Dequantize(nil, values)
	}
	data, err := kernels.Encode(o.Weights, values, cols)
	if err != nil {
		return nil, 0, fmt.Errorf("%w (input width %d; I2_S needs multiples of 128, TQ types of 256)", err, cols)
	}
	return data, o.Weights, nil
}
