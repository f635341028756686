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
// arithmetic of the engine, so a file exported with I2_S projections and F32
// embeddings, which holds the trained values themselves, gives the logits of
// Model.Logits. Other encodings round what they store: F16 embeddings (and
// with them the tied output head), the fp16 scales of TQ2_0 and TQ1_0, F16
// float projections. Model.Exported returns the copy of a model that computes
// with exactly the values a file exported with given options holds; its
// logits match the engine's on that file just as closely, and the trainer's
// validation scores it when told the export options (RunOptions.Export), so
// that the validation loss it reports is the exported model's.
//
// Training does not fake-quantise to those encodings: the float32 latent
// weights are trained as they are. Rounding to fp16 moves a value by at most
// 2^-11 of itself, far below the ternary and int8 quantisation the forward
// pass does model; it can flip an int8 activation and so move single logits
// by a few percent, but on a trained model it changes the held-out loss by
// less than 0.01% (TestTrainExportMatchesEngine logs both), so a network has
// nothing to gain from adapting to it. Kept out of training, the encoding
// stays an export choice: a checkpoint can be exported in any of them, a
// resumed run continues bit for bit, and earlier runs reproduce.
//
// Trainer runs the training loop: AdamW with linear warmup and cosine decay,
// global gradient-norm clipping, gradient accumulation, periodic validation
// (loss and perplexity scored as llama-perplexity does), progress on a
// writer, and checkpoints that resume bit for bit (parameters, optimizer
// moments, the step and with it the data position).
package lm
