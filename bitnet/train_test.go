package bitnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
)

// These tests train small models with every layer type and assert that the
// loss falls below stated thresholds. A plain Adam stands in for the
// trainer's optimizer.

type adam struct {
	lr   float64
	step int
	m, v map[*Param][]float64
}

func newAdam(lr float64) *adam {
	return &adam{lr: lr, m: map[*Param][]float64{}, v: map[*Param][]float64{}}
}

func (o *adam) update(params []*Param) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	o.step++
	c1, c2 := 1-math.Pow(b1, float64(o.step)), 1-math.Pow(b2, float64(o.step))
	for _, p := range params {
		if o.m[p] == nil {
			o.m[p], o.v[p] = make([]float64, len(p.Data)), make([]float64, len(p.Data))
		}
		m, v := o.m[p], o.v[p]
		for i, g := range p.Grad {
			m[i] = b1*m[i] + (1-b1)*float64(g)
			v[i] = b2*v[i] + (1-b2)*float64(g)*float64(g)
			p.Data[i] -= float32(o.lr * m[i] / c1 / (math.Sqrt(v[i]/c2) + eps))
		}
		p.ZeroGrad()
	}
}

// layer is what the tests train: a BitLinear, a BitLinear1_58 or a Linear.
type layer interface {
	Forward(*kernels.Pool, []float32) []float32
	Backward(*kernels.Pool, []float32) []float32
	Params() []*Param
}

func newLayer(t *testing.T, kind string, in, out int, cfg BitLinearConfig, rng *rand.Rand) layer {
	t.Helper()
	var l layer
	var err error
	switch kind {
	case "BitLinear":
		l, err = NewBitLinear(in, out, cfg, rng)
	case "BitLinear1_58":
		l, err = NewBitLinear1_58(in, out, cfg, rng)
	default:
		l = NewLinear(in, out, cfg.Bias, rng)
	}
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// blobs returns n points of dim values around classes random centres and
// their labels.
func blobs(rng *rand.Rand, centres [][]float32, n int) ([]float32, []int) {
	dim := len(centres[0])
	x, labels := make([]float32, n*dim), make([]int, n)
	for i := range n {
		c := rng.IntN(len(centres))
		labels[i] = c
		for k := range dim {
			x[i*dim+k] = centres[c][k] + float32(rng.NormFloat64())
		}
	}
	return x, labels
}

// Classification of Gaussian blobs by a two-layer network: layer, SiLU,
// layer, cross-entropy. The loss starts near ln 4 = 1.39.
func TestTrainClassifier(t *testing.T) {
	const (
		dim, hidden, classes = 16, 64, 4
		samples, steps       = 256, 150
		lossThreshold        = 0.05
		accuracyThreshold    = 0.95
	)
	pool := kernels.NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(10, 10))
	centres := make([][]float32, classes)
	for c := range centres {
		centres[c] = randVec(rng, dim, 1)
	}
	x, labels := blobs(rng, centres, samples)
	xTest, labelsTest := blobs(rng, centres, samples)

	for _, kind := range []string{"BitLinear", "BitLinear1_58", "Linear"} {
		for _, cfg := range []BitLinearConfig{DefaultBitLinearConfig(), {BitWidth: 4, InputNorm: NormRMS, Method: PerGroup(4), UseBeforeNonlinear: true}} {
			if kind == "Linear" && cfg.BitWidth == 4 {
				continue
			}
			name := fmt.Sprintf("%s (second layer: %d bits, %v, %v, shifted %v)", kind, cfg.BitWidth, cfg.InputNorm, cfg.Method, cfg.UseBeforeNonlinear)
			l1 := newLayer(t, kind, dim, hidden, DefaultBitLinearConfig(), rng)
			act := &Act{Fn: SiLU}
			l2 := newLayer(t, kind, hidden, classes, cfg, rng)
			params := append(l1.Params(), l2.Params()...)
			opt := newAdam(0.01)
			grad := make([]float32, samples*classes)
			var loss float64
			forward := func(x []float32) []float32 { return l2.Forward(pool, act.Forward(pool, l1.Forward(pool, x))) }
			for range steps {
				logits := forward(x)
				loss = CrossEntropy(pool, grad, logits, labels, classes)
				l1.Backward(pool, act.Backward(pool, l2.Backward(pool, grad)))
				opt.update(params)
			}
			logits := forward(xTest)
			correct := 0
			for i, want := range labelsTest {
				row := logits[i*classes : (i+1)*classes]
				best := 0
				for c := range row {
					if row[c] > row[best] {
						best = c
					}
				}
				if best == want {
					correct++
				}
			}
			acc := float64(correct) / samples
			t.Logf("%s: training loss %.4f, held-out accuracy %.3f", name, loss, acc)
			if loss > lossThreshold || acc < accuracyThreshold {
				t.Errorf("%s: training loss %.4f (want < %v), held-out accuracy %.3f (want >= %v)", name, loss, lossThreshold, acc, accuracyThreshold)
			}
		}
	}
}

// Regression onto a teacher the layer can represent, y = s·T·x + b: T
// ternary for BitLinear1_58, ±1 for BitLinear, real for Linear. The loss
// (mean squared error) starts above 1.
func TestTrainRegression(t *testing.T) {
	const (
		in, out, samples, steps = 32, 8, 512, 300
		lossThreshold           = 1e-3
	)
	pool := kernels.NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(11, 11))
	x := randVec(rng, samples*in, 1)
	for _, kind := range []string{"BitLinear", "BitLinear1_58", "Linear"} {
		teacher := make([]float64, out*in)
		for i := range teacher {
			switch kind {
			case "BitLinear":
				teacher[i] = float64(2*rng.IntN(2)-1) / math.Sqrt(in)
			case "BitLinear1_58":
				teacher[i] = float64(rng.IntN(3)-1) / math.Sqrt(in*2.0/3)
			default:
				teacher[i] = rng.NormFloat64() / math.Sqrt(in)
			}
		}
		target := make([]float32, samples*out)
		for s := range samples {
			for r := range out {
				v := 0.5 * float64(r%3)
				for k := range in {
					v += teacher[r*in+k] * float64(x[s*in+k])
				}
				target[s*out+r] = float32(v)
			}
		}
		cfg := BitLinearConfig{BitWidth: 8, Bias: true, InputNorm: NormNone}
		l := newLayer(t, kind, in, out, cfg, rng)
		opt := newAdam(0.01)
		grad := make([]float32, samples*out)
		var first, loss float64
		for step := range steps {
			y := l.Forward(pool, x)
			loss = 0
			for i, v := range y {
				d := float64(v - target[i])
				loss += d * d
				grad[i] = float32(2 * d / float64(len(y)))
			}
			loss /= float64(len(y))
			if step == 0 {
				first = loss
			}
			l.Backward(pool, grad)
			opt.update(l.Params())
		}
		t.Logf("%s: mean squared error %.5f -> %.5f", kind, first, loss)
		if loss > lossThreshold {
			t.Errorf("%s: mean squared error %.5f, want < %v", kind, loss, lossThreshold)
		}
	}
}

// tinyLM is a one-block LLaMA-style BitNet b1.58 language model assembled from
// the package's pieces, as the trainer assembles larger ones (DESIGN.md §3).
type tinyLM struct {
	batch, seq, dim, vocab int
	emb                    *Embedding
	attnNorm, ffnNorm      *RMSNorm
	attnSub, ffnSub        *RMSNorm
	q, k, v, o             *BitLinear1_58
	gate, up, down         *BitLinear1_58
	rope                   *RoPE
	attn                   *Attention
	glu                    *GLU
	outNorm                *RMSNorm
	head                   *Linear
	pos                    []int
	h                      []float32
}

func newTinyLM(t testing.TB, rng *rand.Rand, batch, seq, vocab, dim, heads, kvHeads, ffn int) *tinyLM {
	cfg := BitLinearConfig{BitWidth: 8, InputNorm: NormNone} // no bias, norms outside
	bl := func(in, out int) *BitLinear1_58 {
		l, err := NewBitLinear1_58(in, out, cfg, rng)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	hd := dim / heads
	attn, err := NewAttention(heads, kvHeads, hd)
	if err != nil {
		t.Fatal(err)
	}
	m := &tinyLM{
		batch: batch, seq: seq, dim: dim, vocab: vocab,
		emb:      NewEmbedding(vocab, dim, rng),
		attnNorm: NewRMSNorm(dim, 1e-5), ffnNorm: NewRMSNorm(dim, 1e-5),
		attnSub: NewRMSNorm(dim, 1e-5), ffnSub: NewRMSNorm(ffn, 1e-5),
		q: bl(dim, dim), k: bl(dim, kvHeads*hd), v: bl(dim, kvHeads*hd), o: bl(dim, dim),
		gate: bl(dim, ffn), up: bl(dim, ffn), down: bl(ffn, dim),
		rope: NewRoPE(hd, 10000), attn: attn, glu: &GLU{Fn: ReLU2},
		outNorm: NewRMSNorm(dim, 1e-5), head: NewLinear(dim, vocab, false, rng),
	}
	for range batch {
		for i := range seq {
			m.pos = append(m.pos, i)
		}
	}
	return m
}

func (m *tinyLM) params() []*Param {
	var ps []*Param
	for _, l := range []interface{ Params() []*Param }{m.emb, m.attnNorm, m.ffnNorm, m.attnSub, m.ffnSub, m.q, m.k, m.v, m.o, m.gate, m.up, m.down, m.outNorm, m.head} {
		ps = append(ps, l.Params()...)
	}
	return ps
}

func addInto(dst, src []float32) []float32 {
	for i, v := range src {
		dst[i] += v
	}
	return dst
}

func (m *tinyLM) forward(p *kernels.Pool, tokens []int) []float32 {
	x := append([]float32(nil), m.emb.Forward(tokens)...)
	n1 := m.attnNorm.Forward(p, x)
	q := m.q.Forward(p, n1)
	k := m.k.Forward(p, n1)
	v := m.v.Forward(p, n1)
	m.rope.Rotate(p, q, m.pos)
	m.rope.Rotate(p, k, m.pos)
	a := m.attn.Forward(p, q, k, v, m.batch, m.seq)
	h := addInto(x, m.o.Forward(p, m.attnSub.Forward(p, a)))
	n2 := m.ffnNorm.Forward(p, h)
	g := m.glu.Forward(p, m.gate.Forward(p, n2), m.up.Forward(p, n2))
	out := addInto(h, m.down.Forward(p, m.ffnSub.Forward(p, g)))
	m.h = out
	return m.head.Forward(p, m.outNorm.Forward(p, out))
}

func (m *tinyLM) backward(p *kernels.Pool, dlogits []float32) {
	dOut := append([]float32(nil), m.outNorm.Backward(p, m.head.Backward(p, dlogits))...)
	// FFN branch: out = h + down(ffnSub(glu(gate(n2), up(n2)))).
	dg, du := m.glu.Backward(p, m.ffnSub.Backward(p, m.down.Backward(p, dOut)))
	dn2 := append([]float32(nil), m.gate.Backward(p, dg)...)
	addInto(dn2, m.up.Backward(p, du))
	dh := addInto(dOut, m.ffnNorm.Backward(p, dn2))
	// Attention branch: h = x + o(attnSub(attn(rope q, rope k, v))).
	dq, dk, dv := m.attn.Backward(p, m.attnSub.Backward(p, m.o.Backward(p, dh)))
	m.rope.Unrotate(p, dq, m.pos)
	m.rope.Unrotate(p, dk, m.pos)
	dn1 := append([]float32(nil), m.q.Backward(p, dq)...)
	addInto(dn1, m.k.Backward(p, dk))
	addInto(dn1, m.v.Backward(p, dv))
	m.emb.Backward(addInto(dh, m.attnNorm.Backward(p, dn1)))
}

// A one-block ternary transformer learns to predict the token two positions
// back, which it can only do by attending by relative position. The loss
// starts near ln 16 = 2.77.
func TestTrainTinyTransformer(t *testing.T) {
	const (
		batch, seq, vocab   = 16, 24, 16
		dim, heads, kvHeads = 32, 4, 2
		ffn, steps          = 64, 250
		lossThreshold       = 0.1
	)
	pool := kernels.NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(12, 12))
	m := newTinyLM(t, rng, batch, seq, vocab, dim, heads, kvHeads, ffn)
	for i := range m.emb.Weight.Data {
		m.emb.Weight.Data[i] *= 0.1
	}
	opt := newAdam(0.01)
	tokens, targets := make([]int, batch*seq), make([]int, batch*seq)
	grad := make([]float32, batch*seq*vocab)
	var first, loss float64
	for step := range steps {
		for i := range tokens {
			tokens[i] = rng.IntN(vocab)
		}
		for i := range targets {
			targets[i] = IgnoreTarget
			if i%seq >= 2 {
				targets[i] = tokens[i-2]
			}
		}
		loss = CrossEntropy(pool, grad, m.forward(pool, tokens), targets, vocab)
		if step == 0 {
			first = loss
		}
		m.backward(pool, grad)
		opt.update(m.params())
	}
	t.Logf("loss %.4f -> %.4f after %d steps", first, loss, steps)
	if loss > lossThreshold {
		t.Errorf("loss %.4f after %d steps, want < %v (started at %.4f)", loss, steps, lossThreshold, first)
	}
}
