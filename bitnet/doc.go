// Package bitnet implements the BitLinear layers of the two BitNet papers as a
// trainable Go library, together with the other pieces a LLaMA-style BitNet
// b1.58 transformer needs for training.
//
//   - BitLinear (BitNet, arXiv 2310.11453): weights binarised to ±1 around
//     their mean with scale β = mean|W|, activations absmax-quantised to b bits.
//   - BitLinear1_58 (BitNet b1.58, arXiv 2402.17764): ternary absmean weights
//     in {-1, 0, +1} with scale γ = mean|W|, per-token absmax activations
//     (DESIGN.md §4).
//
// Both layers have a training form, which keeps float latent weights, fake-
// quantises weights and activations in the forward pass and passes gradients
// straight through the quantisers (the straight-through estimator) in the
// backward pass, and an inference form (Pack) that stores the weights packed
// (1 bit per weight for BitLinear, 2 bits for BitLinear1_58) and multiplies
// them with integer activations on the kernels package. The forward pass of
// the training form computes the same integer dot products as the packed form
// and rescales them with the same float operations, so the two agree exactly.
//
// The training pieces (Embedding, RMSNorm, LayerNorm, RoPE, Attention, Act,
// GLU, Linear, CrossEntropy) are plain structs with Forward and Backward
// methods. A layer keeps what its backward pass needs from the last Forward,
// returns outputs in buffers it owns (valid until its next Forward or
// Backward), and adds parameter gradients into Param.Grad, so gradients of
// several micro-batches accumulate until the optimizer clears them. Layers are
// not safe for concurrent use; the work inside each call is split over the
// workers of a kernels.Pool (nil runs on the calling goroutine), so a layer
// must not be called from a task running on that same pool. The float
// products of forward and backward passes run on the blocked AVX2 kernels of
// package bitnet/gemm.
//
// Activations are row-major float32 matrices passed as flat slices: n rows
// (tokens) of a layer's input width.
package bitnet
