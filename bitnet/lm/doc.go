// Package lm trains small LLaMA-style BitNet b1.58 language models on a CPU
// and exports them as GGUF files that the engine (package model) runs.
//
// A Model is the transformer of DESIGN.md §3 assembled from the layers of
// package bitnet: float token embeddings tied to the output head, RMSNorm
// before each sub-layer and the BitNet sub-norms before the attention output
// and down projections, NEOX RoPE, grouped-query attention, a gated
// feed-forward with ReLU² (arch bitnet-b1.58) or SiLU (arch bitnet), and
// BitLinear1_58 projections (ternary absmean weights, per-token int8
// activations) on float latent weights. With Config.Float the projections
// are plain float layers instead: the unquantised baseline of the same model.
//
// The forward pass of a ternary model computes exactly the integer
// arithmetic of the engine, so the logits of an exported file match
// Model.Logits (see Export).
//
// Trainer runs the training loop: AdamW with linear warmup and cosine decay,
// global gradient-norm clipping, gradient accumulation, periodic validation
// (loss and perplexity scored as llama-perplexity does), progress on a
// writer, and checkpoints that resume bit for bit (parameters, optimizer
// moments, the step and with it the data position).
package lm
