package bitnet

import (
	"fmt"
	"math"

	"github.com/bitnet-go/bitnet/bitnet/gemm"
	"github.com/bitnet-go/bitnet/kernels"
)

// Attention is causal multi-head scaled dot-product attention with grouped
// key/value heads (GQA): query head h reads key/value head h/(Heads/KVHeads),
// scores are q·k/sqrt(HeadDim), and position i attends to positions 0..i of
// its own sequence. It has no parameters; the projections around it are
// separate layers.
type Attention struct {
	Heads, KVHeads, HeadDim int

	batch, seq int
	q, k, v    []float32 // copies of the last inputs
	probs      []float32 // [batch, Heads, seq, seq] attention weights, zero above the diagonal
	out        []float32
	dout       []float32 // the gradient being propagated, read by the backward task
	dq, dk, dv []float32
}

// NewAttention returns attention over heads query heads and kvHeads key/value
// heads of headDim values each. heads must be a multiple of kvHeads.
func NewAttention(heads, kvHeads, headDim int) (*Attention, error) {
	if heads <= 0 || kvHeads <= 0 || headDim <= 0 || heads%kvHeads != 0 {
		return nil, fmt.Errorf("attention with %d query heads, %d key/value heads of %d: query heads must be a positive multiple of key/value heads", heads, kvHeads, headDim)
	}
	return &Attention{Heads: heads, KVHeads: kvHeads, HeadDim: headDim}, nil
}

// attnBlock is the number of query rows whose scores are computed together:
// rows i0..i0+attnBlock only need keys 0..i0+attnBlock, which skips most of
// the masked upper triangle.
const attnBlock = 64

// Forward attends batch sequences of seq positions each. q holds batch·seq
// rows of Heads·HeadDim values, k and v rows of KVHeads·HeadDim values (all
// after RoPE). It returns the attended values, batch·seq rows of
// Heads·HeadDim, owned by the layer.
func (a *Attention) Forward(p *kernels.Pool, q, k, v []float32, batch, seq int) []float32 {
	qDim, kvDim := a.Heads*a.HeadDim, a.KVHeads*a.HeadDim
	if batch <= 0 || seq <= 0 || len(q) != batch*seq*qDim || len(k) != batch*seq*kvDim || len(v) != len(k) {
		panic(fmt.Sprintf("bitnet: attention of %d×%d positions with q %d, k %d, v %d values", batch, seq, len(q), len(k), len(v)))
	}
	a.batch, a.seq = batch, seq
	a.q = append(a.q[:0], q...)
	a.k = append(a.k[:0], k...)
	a.v = append(a.v[:0], v...)
	a.probs = grow(a.probs, batch*a.Heads*seq*seq)
	a.out = grow(a.out, len(q))
	parallelFor(p, batch*a.KVHeads, a.forwardUnits)
	return a.out
}

// headView returns the seq×HeadDim matrix of head h of sequence b in a
// tensor whose rows hold heads heads.
func (a *Attention) headView(x []float32, b, h, heads int) gemm.Mat {
	stride := heads * a.HeadDim
	off := b*a.seq*stride + h*a.HeadDim
	return gemm.Mat{Data: x[off : off+(a.seq-1)*stride+a.HeadDim], Rows: a.seq, Cols: a.HeadDim, Stride: stride}
}

// probsView returns the seq×seq attention weights of query head h of
// sequence b.
func (a *Attention) probsView(b, h int) gemm.Mat {
	n := a.seq * a.seq
	off := (b*a.Heads + h) * n
	return gemm.View(a.probs[off:off+n], a.seq, a.seq)
}

// forwardUnits handles the (sequence, key/value head) pairs [lo, hi).
func (a *Attention) forwardUnits(lo, hi int) {
	seq, hd := a.seq, a.HeadDim
	group := a.Heads / a.KVHeads
	scale := float32(1 / math.Sqrt(float64(hd)))
	for u := lo; u < hi; u++ {
		b, g := u/a.KVHeads, u%a.KVHeads
		kg, vg := a.headView(a.k, b, g, a.KVHeads), a.headView(a.v, b, g, a.KVHeads)
		for h := g * group; h < (g+1)*group; h++ {
			qh, oh, pr := a.headView(a.q, b, h, a.Heads), a.headView(a.out, b, h, a.Heads), a.probsView(b, h)
			for i0 := 0; i0 < seq; i0 += attnBlock {
				i1 := min(i0+attnBlock, seq)
				gemm.MulT(nil, pr.Sub(i0, 0, i1-i0, i1), qh.Sub(i0, 0, i1-i0, hd), kg.Sub(0, 0, i1, hd), false)
			}
			for i := range seq {
				row := pr.Row(i)
				for j := range row[:i+1] {
					row[j] *= scale
				}
				kernels.Softmax(row[:i+1])
				clear(row[i+1:])
			}
			for i0 := 0; i0 < seq; i0 += attnBlock {
				i1 := min(i0+attnBlock, seq)
				gemm.Mul(nil, oh.Sub(i0, 0, i1-i0, hd), pr.Sub(i0, 0, i1-i0, i1), vg.Sub(0, 0, i1, hd), false)
			}
		}
	}
}

// Backward takes the gradient of the last Forward's output and returns the
// gradients of q, k and v (owned by the layer). With P the attention weights
// and S the scaled scores: dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP - rowsum(dP ⊙ P)),
// dQ = dS·K/sqrt(d), dK = dSᵀ·Q/sqrt(d), summed over the query heads of a
// group for dK and dV.
func (a *Attention) Backward(p *kernels.Pool, dout []float32) (dq, dk, dv []float32) {
	if len(dout) != len(a.q) || a.batch == 0 {
		panic(fmt.Sprintf("bitnet: attention backward of %d values after a forward of %d", len(dout), len(a.q)))
	}
	a.dout = dout
	a.dq = grow(a.dq, len(a.q))
	a.dk = grow(a.dk, len(a.k))
	a.dv = grow(a.dv, len(a.v))
	parallelFor(p, a.batch*a.KVHeads, a.backwardUnits)
	a.dout = nil
	return a.dq, a.dk, a.dv
}

// backwardUnits handles the (sequence, key/value head) pairs [lo, hi); each
// owns its slices of dK and dV, so the group's heads accumulate without races.
func (a *Attention) backwardUnits(lo, hi int) {
	seq, hd := a.seq, a.HeadDim
	group := a.Heads / a.KVHeads
	scale := float32(1 / math.Sqrt(float64(hd)))
	dsBuf := getScratch(seq * seq)
	defer putScratch(dsBuf)
	ds := gemm.View(*dsBuf, seq, seq)
	for u := lo; u < hi; u++ {
		b, g := u/a.KVHeads, u%a.KVHeads
		kg, vg := a.headView(a.k, b, g, a.KVHeads), a.headView(a.v, b, g, a.KVHeads)
		dkg, dvg := a.headView(a.dk, b, g, a.KVHeads), a.headView(a.dv, b, g, a.KVHeads)
		for i := range seq {
			clear(dkg.Row(i))
			clear(dvg.Row(i))
		}
		for h := g * group; h < (g+1)*group; h++ {
			qh, doh, dqh, pr := a.headView(a.q, b, h, a.Heads), a.headView(a.dout, b, h, a.Heads), a.headView(a.dq, b, h, a.Heads), a.probsView(b, h)

			// dV += Pᵀ·dO; column j of P is zero above row j.
			for j0 := 0; j0 < seq; j0 += attnBlock {
				j1 := min(j0+attnBlock, seq)
				gemm.MulTA(nil, dvg.Sub(j0, 0, j1-j0, hd), pr.Sub(j0, j0, seq-j0, j1-j0), doh.Sub(j0, 0, seq-j0, hd), true)
			}

			// dP = dO·Vᵀ, then dS = P ⊙ (dP - Σ dP⊙P) · scale in place.
			for i0 := 0; i0 < seq; i0 += attnBlock {
				i1 := min(i0+attnBlock, seq)
				gemm.MulT(nil, ds.Sub(i0, 0, i1-i0, i1), doh.Sub(i0, 0, i1-i0, hd), vg.Sub(0, 0, i1, hd), false)
			}
			for i := range seq {
				prow, drow := pr.Row(i)[:i+1], ds.Row(i)
				var c float32
				for j, pv := range prow {
					c += pv * drow[j]
				}
				for j, pv := range prow {
					drow[j] = pv * (drow[j] - c) * scale
				}
				clear(drow[i+1:])
			}

			// dQ = dS·K, and dK += dSᵀ·Q (column j of dS is zero above row j).
			for i0 := 0; i0 < seq; i0 += attnBlock {
				i1 := min(i0+attnBlock, seq)
				gemm.Mul(nil, dqh.Sub(i0, 0, i1-i0, hd), ds.Sub(i0, 0, i1-i0, i1), kg.Sub(0, 0, i1, hd), false)
				gemm.MulTA(nil, dkg.Sub(i0, 0, i1-i0, hd), ds.Sub(i0, i0, seq-i0, i1-i0), qh.Sub(i0, 0, seq-i0, hd), true)
			}
		}
	}
}
