package model

import (
	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/mmapfile"
)

// The lm head is the largest matrix a decode step reads: BitNet b1.58 2B4T
// ties it to its F16 token embeddings, 128256 x 2560, two thirds of the bytes
// of a token. Options.Int8Head re-encodes a float head to int8 with one scale
// per row (kernels.Int8RowMatrix), halving those bytes. The float weights
// stay in place for the embedding lookup, which reads one row per token, so
// their pages, all read once by the re-encoding, are handed back to the
// operating system.
//
// Cost, measured on the ten golden test models (TestInt8HeadCost, float
// activations against the float64 reference): a mean logit error of 0.55% of
// the logits' standard deviation (at most 0.12 on logits of std 3), and the
// perplexity of the cases' sequences moves by 0.04% to 0.3%. Those models'
// embeddings are Gaussian; rows with outliers have coarser steps. On the
// embedded trained model (models/bitnet-tinystories-5m, F16 tied embeddings)
// the perplexity of the 139k tokens of TinyStories' first 1000 validation
// lines goes from 15.8283 to 15.8329 (+0.03%; the NLL's standard error is
// 0.008).

// quantizeHead builds m.head8 when the head is stored as floats.
func (m *Model) quantizeHead() {
	out := m.Weights.Output
	switch out.Type {
	case kernels.F32, kernels.F16, kernels.BF16:
	default:
		return // already quantised: re-encoding would only lose precision
	}
	m.head8 = kernels.NewInt8RowMatrix(m.pool, out)
	// Only tensors mapped from a file are released; the row lookups of tied
	// embeddings read their pages back as needed. A failure only costs
	// memory, so it is not an error.
	_ = mmapfile.Release(out.Data())
}

// lmHead computes the logits of the rows of xn (already normalised).
func (m *Model) lmHead(dst, xn []float32, rows int) {
	if m.head8 != nil {
		m.pool.MatMulInt8Row(dst, m.head8, xn, rows)
		return
	}
	m.pool.MatMulF32(dst, m.Weights.Output, xn, rows)
}

// Int8Head reports whether the lm head runs re-encoded to int8
// (Options.Int8Head with a float head).
func (m *Model) Int8Head() bool { return m.head8 != nil }
