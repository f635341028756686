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
	// value: exactly the trained values) or kernels.F16 (half the size,
	// each value rounded to fp16; Model.Exported computes with the rounded
	// table).
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

// Validate checks that a model of shape c can be written with these
// options: the projection encoding suits the model's kind (ternary or
// float), the embedding encoding is F32 or F16, and the projections' input
// widths (Dim, and FFN for the down projection) are whole blocks of the
// projection encoding. Export, Exported and Job.Execute all check with it,
// Job.Execute before it reads any data, so that a run does not train only
// to fail at the end.
func (o ExportOptions) Validate(c Config) error {
	o = o.exportDefaults(c.Float)
	switch {
	case c.Float && o.Weights != kernels.F32 && o.Weights != kernels.F16:
		return fmt.Errorf("export: a float model's projections are written as F32 or F16, not %v", o.Weights)
	case !c.Float && !o.Weights.Ternary():
		return fmt.Errorf("export: a ternary model's projections are written as I2_S, TQ2_0 or TQ1_0, not %v", o.Weights)
	case o.Embeddings != kernels.F32 && o.Embeddings != kernels.F16:
		return fmt.Errorf("export: embeddings are written as F32 or F16, not %v", o.Embeddings)
	}
	for _, w := range []struct {
		name  string
		width int
	}{{"dimension", c.Dim}, {"feed-forward width", c.FFN}} {
		if _, err := o.Weights.RowBytes(w.width); err != nil {
			return fmt.Errorf("export: the model's %s %d is an input width of its projections: %w", w.name, w.width, err)
		}
	}
	return nil
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
	switch {
	case m.exported:
		return nil, fmt.Errorf("export: the model is an exported copy, which holds no latent weights to write")
	case tok.VocabSize() != c.Vocab:
		return nil, fmt.Errorf("export: the tokenizer has %d tokens, the model %d", tok.VocabSize(), c.Vocab)
	}
	if err := o.Validate(c); err != nil {
		return nil, err
	}
	o = o.exportDefaults(c.Float)
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

// Exported returns an inference-only copy of the model that computes with
// exactly the tensors Export writes with o: the embedding table (and so the
// tied output head) as o.Embeddings decodes, F16 rounding included, ternary
// projections packed in o.Weights and multiplied by the engine's kernels
// (bitnet.PackedBitLinear1_58; for TQ2_0 and TQ1_0 with γ as the fp16 value
// each block stores), float projections as o.Weights decodes. Its Logits
// therefore equal the engine's on the exported file up to the summation
// order of the output head, whatever the encoding, and its Evaluate scores
// the model that ships. The copy shares nothing with m; Backward panics on
// it and it cannot be exported again.
//
// Training itself keeps the float32 latent weights and does not round the
// embeddings to fp16: see the package documentation.
func (m *Model) Exported(o ExportOptions) (*Model, error) {
	c := m.Config
	if m.exported {
		return nil, fmt.Errorf("export: the model is already an exported copy")
	}
	if err := o.Validate(c); err != nil {
		return nil, err
	}
	o = o.exportDefaults(c.Float)
	decode := func(prm *bitnet.Param) (*kernels.Matrix, error) {
		data, typ, err := m.encodeParam(prm, o)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", prm.Name, err)
		}
		mat, err := kernels.NewMatrix(typ, prm.Shape[0], prm.Shape[1], data)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", prm.Name, err)
		}
		return mat, nil
	}
	table, err := decode(m.embedding.Weight)
	if err != nil {
		return nil, err
	}
	// The copy is never trained: its parameters have no gradients.
	emb := &bitnet.Param{Name: m.embedding.Weight.Name, Shape: []int{c.Vocab, c.Dim}, Data: table.Dequantize()}
	v := &Model{
		Config:    c,
		embedding: &bitnet.Embedding{Vocab: c.Vocab, Dim: c.Dim, Weight: emb},
		head:      &bitnet.Linear{In: c.Dim, Out: c.Vocab, Weight: emb},
		outNorm:   bitnet.NewRMSNorm(c.Dim, c.NormEps),
		rope:      bitnet.NewRoPE(c.HeadDim(), c.RopeTheta),
		exported:  true,
	}
	copy(v.outNorm.Weight.Data, m.outNorm.Weight.Data)
	for _, src := range m.blocks {
		trained := []projection{src.q, src.k, src.v, src.o, src.gate, src.up, src.down}
		next := func(in, out int, _ float64) (projection, error) {
			prm := trained[0].Params()[0]
			trained = trained[1:]
			mat, err := decode(prm)
			if err != nil {
				return nil, err
			}
			if !c.Float {
				l, err := bitnet.NewPackedBitLinear1_58(mat, projectionConfig, nil)
				if err != nil {
					return nil, fmt.Errorf("export %s: %w", prm.Name, err)
				}
				return packedProjection{l}, nil
			}
			w := &bitnet.Param{Name: prm.Name, Shape: []int{out, in}, Data: mat.Dequantize()}
			return &bitnet.Linear{In: in, Out: out, Weight: w}, nil
		}
		b, err := newBlock(c, next, 0)
		if err != nil {
			return nil, err
		}
		for _, n := range [][2]*bitnet.RMSNorm{{b.attnNorm, src.attnNorm}, {b.attnSub, src.attnSub}, {b.ffnNorm, src.ffnNorm}, {b.ffnSub, src.ffnSub}} {
			copy(n[0].Weight.Data, n[1].Weight.Data)
		}
		v.blocks = append(v.blocks, b)
	}
	return v, nil
}

// packedProjection is a ternary projection of an exported copy: the packed
// inference form, which has no backward pass and no trainable parameters.
type packedProjection struct{ *bitnet.PackedBitLinear1_58 }

func (packedProjection) Backward(*kernels.Pool, []float32) []float32 {
	panic("lm: Backward on an exported model, which is for inference only")
}

func (packedProjection) Params() []*bitnet.Param { return nil }
