package lm

import (
	"fmt"
	"math/rand/v2"

	"github.com/bitnet-go/bitnet/bitnet"
	"github.com/bitnet-go/bitnet/kernels"
)

// block is one transformer block of DESIGN.md §3:
//
//	h   = x + W_o(attn_sub_norm(Attention(RoPE(W_q n1), RoPE(W_k n1), W_v n1))),  n1 = attn_norm(x)
//	out = h + W_down(ffn_sub_norm(act(W_gate n2) ⊙ W_up n2)),                    n2 = ffn_norm(h)
type block struct {
	attnNorm, attnSub, ffnNorm, ffnSub *bitnet.RMSNorm
	q, k, v, o, gate, up, down         projection
	attn                               *bitnet.Attention
	glu                                bitnet.GLU
	engine                             engineAttention

	dn []float32 // gradient of a norm's output, summed over the projections reading it
}

// namedParam is a parameter and its tensor name inside a block.
type namedParam struct {
	name  string
	param *bitnet.Param
}

// projectionConfig is the BitLinear1_58 configuration of the engine's
// arithmetic: 8-bit per-token activations, per-tensor absmean weights, no
// bias, and no input norm (the block normalises explicitly).
var projectionConfig = bitnet.BitLinearConfig{BitWidth: 8, InputNorm: bitnet.NormNone, Method: bitnet.PerTensor()}

// newProjection makes one projection with in inputs and out outputs; std
// is the standard deviation of its initial weights (ignored by projections
// built from stored values).
type newProjection func(in, out int, std float64) (projection, error)

// randomProjections returns the projections of a new model: BitLinear1_58
// layers (bitnet.Linear for a float model) with normal weights from rng.
func randomProjections(cfg Config, rng *rand.Rand) newProjection {
	return func(in, out int, std float64) (projection, error) {
		var pr projection
		if cfg.Float {
			pr = &bitnet.Linear{In: in, Out: out, Weight: bitnet.NewParam("weight", out, in)}
		} else {
			l, err := bitnet.NewBitLinear1_58(in, out, projectionConfig, rng)
			if err != nil {
				return nil, err
			}
			pr = l
		}
		normal(rng, pr.Params()[0], std)
		return pr, nil
	}
}

// newBlock returns a block of shape cfg whose projections proj makes, in
// the order q, k, v, o, gate, up, down.
func newBlock(cfg Config, proj newProjection, residualStd float64) (*block, error) {
	attn, err := bitnet.NewAttention(cfg.Heads, cfg.KVHeads, cfg.HeadDim())
	if err != nil {
		return nil, err
	}
	eps := cfg.NormEps
	b := &block{
		attnNorm: bitnet.NewRMSNorm(cfg.Dim, eps), attnSub: bitnet.NewRMSNorm(cfg.Dim, eps),
		ffnNorm: bitnet.NewRMSNorm(cfg.Dim, eps), ffnSub: bitnet.NewRMSNorm(cfg.FFN, eps),
		attn: attn, glu: bitnet.GLU{Fn: cfg.Activation},
		engine: engineAttention{heads: cfg.Heads, kvHeads: cfg.KVHeads, headDim: cfg.HeadDim()},
	}
	for _, p := range []struct {
		dst      *projection
		in, out  int
		residual bool
	}{
		{&b.q, cfg.Dim, cfg.Dim, false}, {&b.k, cfg.Dim, cfg.KVDim(), false}, {&b.v, cfg.Dim, cfg.KVDim(), false},
		{&b.o, cfg.Dim, cfg.Dim, true},
		{&b.gate, cfg.Dim, cfg.FFN, false}, {&b.up, cfg.Dim, cfg.FFN, false}, {&b.down, cfg.FFN, cfg.Dim, true},
	} {
		std := initStd
		if p.residual {
			std = residualStd
		}
		if *p.dst, err = proj(p.in, p.out, std); err != nil {
			return nil, fmt.Errorf("block projection %d -> %d: %w", p.in, p.out, err)
		}
	}
	return b, nil
}

// namedParams lists the block's parameters under their GGUF names, in
// the order of the forward pass.
func (b *block) namedParams() []namedParam {
	w := func(p projection) *bitnet.Param { return p.Params()[0] }
	return []namedParam{
		{"attn_norm.weight", b.attnNorm.Weight},
		{"attn_q.weight", w(b.q)}, {"attn_k.weight", w(b.k)}, {"attn_v.weight", w(b.v)},
		{"attn_sub_norm.weight", b.attnSub.Weight},
		{"attn_output.weight", w(b.o)},
		{"ffn_norm.weight", b.ffnNorm.Weight},
		{"ffn_gate.weight", w(b.gate)}, {"ffn_up.weight", w(b.up)},
		{"ffn_sub_norm.weight", b.ffnSub.Weight},
		{"ffn_down.weight", w(b.down)},
	}
}

// forward updates the residual stream x (batch·seq rows) in place.
func (b *block) forward(p *kernels.Pool, x []float32, rope *bitnet.RoPE, pos []int, batch, seq int, engineOrder bool) {
	n1 := b.attnNorm.Forward(p, x)
	q, k, v := b.q.Forward(p, n1), b.k.Forward(p, n1), b.v.Forward(p, n1)
	rope.Rotate(p, q, pos)
	rope.Rotate(p, k, pos)
	var a []float32
	if engineOrder {
		a = b.engine.forward(p, q, k, v, seq)
	} else {
		a = b.attn.Forward(p, q, k, v, batch, seq)
	}
	add(p, x, b.o.Forward(p, b.attnSub.Forward(p, a)))

	n2 := b.ffnNorm.Forward(p, x)
	g := b.glu.Forward(p, b.gate.Forward(p, n2), b.up.Forward(p, n2))
	add(p, x, b.down.Forward(p, b.ffnSub.Forward(p, g)))
}

// backward turns dx, the gradient of the block's output, into the gradient
// of its input in place, adding the parameters' gradients. It must follow a
// training Forward (not Logits).
func (b *block) backward(p *kernels.Pool, dx []float32, rope *bitnet.RoPE, pos []int) {
	dg, du := b.glu.Backward(p, b.ffnSub.Backward(p, b.down.Backward(p, dx)))
	b.dn = append(b.dn[:0], b.gate.Backward(p, dg)...)
	add(p, b.dn, b.up.Backward(p, du))
	add(p, dx, b.ffnNorm.Backward(p, b.dn))

	dq, dk, dv := b.attn.Backward(p, b.attnSub.Backward(p, b.o.Backward(p, dx)))
	rope.Unrotate(p, dq, pos)
	rope.Unrotate(p, dk, pos)
	b.dn = append(b.dn[:0], b.q.Backward(p, dq)...)
	add(p, b.dn, b.k.Backward(p, dk))
	add(p, b.dn, b.v.Backward(p, dv))
	add(p, dx, b.attnNorm.Backward(p, b.dn))
}
