package model

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/bitnet-go/bitnet/kernels"
)

// ErrContextFull is returned when tokens would not fit in the KV cache.
var ErrContextFull = errors.New("context window is full")

// Session is one sequence being evaluated: its KV cache, the tokens in it,
// and scratch buffers sized once so that evaluating tokens allocates nothing.
// A Session is not safe for concurrent use; several sessions may share a
// Model.
type Session struct {
	m      *Model
	cache  kvCache
	tokens []int  // the tokens whose keys and values are in the cache
	next   [1]int // the token being generated, so decoding allocates nothing

	// Scratch for a batch of up to batch tokens.
	batch   int
	x       []float32 // residual stream, batch x Hidden
	xn      []float32 // normalised input of a sub-layer, batch x max(Hidden, Heads*HeadDim)
	q       []float32 // batch x Heads*HeadDim
	k, v    []float32 // batch x KVDim
	att     []float32 // attention output, batch x Heads*HeadDim
	proj    []float32 // output projection result, batch x Hidden
	gate    []float32 // batch x FFN
	up      []float32 // batch x FFN
	fq      []float32 // Q8_K round-tripped input (ActQ8K), batch x max(Hidden, FFN)
	act     kernels.QuantizedRows
	logits  []float32 // VocabSize: the prediction after the last token
	attTask attentionTask

	// rope holds the cosines and sines of the batch's positions: computed
	// in the first layer, shared by q, k and every later layer.
	rope kernels.RoPECache

	// Arguments of projectAll, kept here so that passing them allocates
	// nothing.
	multiDst [3][]float32
	multiW   [3]*kernels.Matrix
}

// NewSession returns an empty session with a KV cache of the model's
// context length.
func (m *Model) NewSession() *Session {
	c := &m.Config
	b := m.opts.BatchSize
	qDim := c.Heads * c.HeadDim
	s := &Session{
		m:      m,
		cache:  newKVCache(c.Layers, m.opts.ContextLength, c.KVDim()),
		tokens: make([]int, 0, m.opts.ContextLength),
		batch:  b,
		x:      make([]float32, b*c.Hidden),
		xn:     make([]float32, b*max(c.Hidden, qDim)),
		q:      make([]float32, b*qDim),
		k:      make([]float32, b*c.KVDim()),
		v:      make([]float32, b*c.KVDim()),
		att:    make([]float32, b*qDim),
		proj:   make([]float32, b*c.Hidden),
		gate:   make([]float32, b*c.FFN),
		up:     make([]float32, b*c.FFN),
		logits: make([]float32, c.VocabSize),
	}
	if m.opts.Activations == ActQ8K {
		s.fq = make([]float32, b*max(c.Hidden, c.FFN, qDim))
	}
	s.act.Resize(b, max(c.Hidden, c.FFN, qDim))
	s.attTask.init(m, &s.cache)
	return s
}

// Model returns the model the session runs.
func (s *Session) Model() *Model { return s.m }

// Tokens returns the tokens evaluated so far, in order. The slice must not
// be modified.
func (s *Session) Tokens() []int { return s.tokens }

// Len returns the number of positions in use.
func (s *Session) Len() int { return len(s.tokens) }

// Cap returns the number of positions the KV cache holds.
func (s *Session) Cap() int { return s.cache.ctx }

// Truncate forgets every position from n on, so that evaluation continues at
// position n. It is how a caller reuses a shared prefix of a new prompt.
func (s *Session) Truncate(n int) {
	if n < len(s.tokens) {
		s.tokens = s.tokens[:max(n, 0)]
	}
}

// Logits returns the logits after the last evaluated token. The slice is
// overwritten by the next Forward.
func (s *Session) Logits() []float32 {
	if len(s.tokens) == 0 {
		return nil
	}
	return s.logits
}

// Forward evaluates tokens at the next positions. Afterwards Logits holds the
// prediction after the last of them. If all is not nil it must have room for
// len(tokens) x VocabSize values and receives the logits of every position.
// On error (including cancellation of ctx) the session keeps the tokens
// evaluated before the failing batch.
func (s *Session) Forward(ctx context.Context, tokens []int, all []float32) error {
	c := &s.m.Config
	if len(s.tokens)+len(tokens) > s.cache.ctx {
		return fmt.Errorf("%w: %d positions in use + %d new > %d", ErrContextFull, len(s.tokens), len(tokens), s.cache.ctx)
	}
	if all != nil && len(all) < len(tokens)*c.VocabSize {
		return fmt.Errorf("logits buffer holds %d values, need %d", len(all), len(tokens)*c.VocabSize)
	}
	for _, t := range tokens {
		if t < 0 || t >= c.VocabSize {
			return fmt.Errorf("token id %d is outside the vocabulary (size %d)", t, c.VocabSize)
		}
	}
	vocab := c.VocabSize
	for lo := 0; lo < len(tokens); lo += s.batch {
		hi := min(lo+s.batch, len(tokens))
		// Logits are computed for every row when the caller wants them all,
		// otherwise only after the very last token.
		var dst []float32
		switch {
		case all != nil:
			dst = all[lo*vocab : hi*vocab]
		case hi == len(tokens):
			dst = s.logits
		}
		if err := s.forwardBatch(ctx, tokens[lo:hi], dst); err != nil {
			return err
		}
	}
	if all != nil && len(tokens) > 0 {
		copy(s.logits, all[(len(tokens)-1)*vocab:len(tokens)*vocab])
	}
	return nil
}

// forwardBatch runs the transformer on up to s.batch tokens at positions
// len(s.tokens)... and writes the logits of the last len(dst)/VocabSize of
// them to dst.
func (s *Session) forwardBatch(ctx context.Context, tokens []int, dst []float32) error {
	m, c, w := s.m, &s.m.Config, s.m.Weights
	n := len(tokens)
	pos0 := len(s.tokens)
	hidden, qDim, kvDim := c.Hidden, c.Heads*c.HeadDim, c.KVDim()

	x := s.x[:n*hidden]
	for i, t := range tokens {
		w.TokenEmbd.DequantizeRow(t, x[i*hidden:])
	}

	for l := range w.Layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		ly := &w.Layers[l]

		// Attention: n1 = RMSNorm(x) * attn_norm; q, k, v = W n1.
		xn := s.xn[:n*hidden]
		rmsNormRows(xn, x, ly.AttnNorm, c.RMSEps, hidden)
		in := s.prepareInput(xn, n, hidden)
		s.projectAll(in, n, proj{s.q[:n*qDim], ly.Q}, proj{s.k[:n*kvDim], ly.K}, proj{s.v[:n*kvDim], ly.V})
		for i := 0; i < n; i++ {
			m.rope.Rotate(s.q[i*qDim:(i+1)*qDim], pos0+i, &s.rope)
			m.rope.Rotate(s.k[i*kvDim:(i+1)*kvDim], pos0+i, &s.rope)
		}
		s.cache.store(l, pos0, n, s.k[:n*kvDim], s.v[:n*kvDim])
		s.attTask.run(m.pool, l, pos0, n, s.q, s.att)

		att := s.att[:n*qDim]
		if ly.AttnSubNorm != nil {
			rmsNormRows(att, att, ly.AttnSubNorm, c.RMSEps, qDim)
		}
		in = s.prepareInput(att, n, qDim)
		s.project(s.proj[:n*hidden], ly.O, in, n)
		kernels.Add(x, s.proj[:n*hidden])

		// Feed-forward: n2 = RMSNorm(h) * ffn_norm; act(W_gate n2) * (W_up n2).
		rmsNormRows(xn, x, ly.FFNNorm, c.RMSEps, hidden)
		in = s.prepareInput(xn, n, hidden)
		gate, up := s.gate[:n*c.FFN], s.up[:n*c.FFN]
		s.projectAll(in, n, proj{gate, ly.Gate}, proj{up, ly.Up})
		if c.Activation == ReLU2 {
			kernels.ReLU2Mul(gate, up)
		} else {
			for i, g := range gate {
				gate[i] = kernels.SiLU(g) * up[i]
			}
		}
		if ly.FFNSubNorm != nil {
			rmsNormRows(gate, gate, ly.FFNSubNorm, c.RMSEps, c.FFN)
		}
		in = s.prepareInput(gate, n, c.FFN)
		s.project(s.proj[:n*hidden], ly.Down, in, n)
		kernels.Add(x, s.proj[:n*hidden])
	}

	s.tokens = append(s.tokens, tokens...)
	// logits = E · (RMSNorm(x) * output_norm), for the rows wanted.
	rows := len(dst) / c.VocabSize
	if rows == 0 {
		return nil
	}
	xn := s.xn[:rows*hidden]
	rmsNormRows(xn, x[(n-rows)*hidden:], w.OutputNorm, c.RMSEps, hidden)
	m.lmHead(dst, xn, rows)
	return nil
}

// projInput is the input of a projection in every form the weights may need.
type projInput struct {
	x     []float32              // float input, n x cols
	fq    []float32              // Q8_K round trip of x (ActQ8K only)
	quant *kernels.QuantizedRows // per-token int8 (ActInt8 only)
}

// prepareInput quantises the n x cols input x once for all projections that
// read it, according to the activation mode.
func (s *Session) prepareInput(x []float32, n, cols int) projInput {
	in := projInput{x: x}
	switch s.m.opts.Activations {
	case ActInt8:
		kernels.QuantizeRowsI8(&s.act, x, n, cols)
		in.quant = &s.act
	case ActQ8K:
		in.fq = s.fq[:n*cols]
		copy(in.fq, x)
		for i := 0; i < n; i++ {
			kernels.FakeQuantizeQ8K(in.fq[i*cols : (i+1)*cols])
		}
	}
	return in
}

// project computes dst = lin.Scale * (lin.W in) for n rows. Ternary weights
// use the quantised input of the session's activation mode; float weights
// always multiply the float input.
func (s *Session) project(dst []float32, lin Linear, in projInput, n int) {
	p := s.m.pool
	switch {
	case !lin.W.Type.Ternary():
		p.MatMulF32(dst, lin.W, in.x, n)
	case in.quant != nil:
		p.MatMulI8(dst, lin.W, in.quant)
	case in.fq != nil:
		p.MatMulF32(dst, lin.W, in.fq, n)
	default:
		p.MatMulF32(dst, lin.W, in.x, n)
	}
	if lin.Scale != 1 {
		kernels.Scale(dst, lin.Scale)
	}
}

// proj is one projection of projectAll: dst = lin applied to the input.
type proj struct {
	dst []float32
	lin Linear
}

// projectAll computes several projections of the same input. Ternary
// weights with int8 activations run as one parallel loop
// (kernels.Pool.MatMulI8Multi), which hands work to the pool's threads once
// instead of once per matrix.
func (s *Session) projectAll(in projInput, n int, ps ...proj) {
	fused := in.quant != nil && len(ps) <= len(s.multiW)
	for _, p := range ps {
		fused = fused && p.lin.W.Type.Ternary()
	}
	if !fused {
		for _, p := range ps {
			s.project(p.dst, p.lin, in, n)
		}
		return
	}
	for i, p := range ps {
		s.multiDst[i], s.multiW[i] = p.dst, p.lin.W
	}
	s.m.pool.MatMulI8Multi(s.multiDst[:len(ps)], s.multiW[:len(ps)], in.quant)
	for i, p := range ps {
		if p.lin.Scale != 1 {
			kernels.Scale(p.dst, p.lin.Scale)
		}
		s.multiDst[i], s.multiW[i] = nil, nil
	}
}

// rmsNormRows normalises each row of cols values of x into dst.
func rmsNormRows(dst, x, weight []float32, eps float32, cols int) {
	for i := 0; i+cols <= len(dst); i += cols {
		kernels.RMSNorm(dst[i:i+cols], x[i:i+cols], weight, eps)
	}
}

// attentionTask computes causal grouped-query attention for a batch. Work
// items are (token, head) pairs; each worker takes a fixed share of them so
// it can own one scores buffer.
type attentionTask struct {
	cfg     *Config
	cache   *kvCache
	threads int
	scores  [][]float32 // per worker, one score per cached position

	// Set for each run.
	layer, pos0, n int
	q, out         []float32
}

func (t *attentionTask) init(m *Model, cache *kvCache) {
	t.cfg, t.cache, t.threads = &m.Config, cache, m.pool.Threads()
	t.scores = make([][]float32, t.threads)
	for i := range t.scores {
		t.scores[i] = make([]float32, cache.ctx)
	}
}

func (t *attentionTask) run(p *kernels.Pool, layer, pos0, n int, q, out []float32) {
	t.layer, t.pos0, t.n, t.q, t.out = layer, pos0, n, q, out
	p.Parallel(t.threads, t)
}

// Run handles the items of workers lo..hi-1.
func (t *attentionTask) Run(lo, hi int) {
	c := t.cfg
	hd, qDim, kvDim := c.HeadDim, c.Heads*c.HeadDim, c.KVDim()
	group := c.Heads / c.KVHeads
	scale := float32(1 / math.Sqrt(float64(hd)))
	keys, values := t.cache.layer(t.layer)
	for w := lo; w < hi; w++ {
		scores := t.scores[w]
		for item := w; item < t.n*c.Heads; item += t.threads {
			i, h := item/c.Heads, item%c.Heads
			span := t.pos0 + i + 1 // causal: positions 0..pos0+i
			q := t.q[i*qDim+h*hd : i*qDim+(h+1)*hd]
			kvOff := (h / group) * hd
			kernels.DotRows(scores[:span], q, keys[kvOff:], kvDim, scale)
			kernels.Softmax(scores[:span])
			out := t.out[i*qDim+h*hd : i*qDim+(h+1)*hd]
			clear(out)
			kernels.AddScaledRows(out, scores[:span], values[kvOff:], kvDim)
		}
	}
}
