package lm

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bitnet-go/bitnet/bitnet"
	"github.com/bitnet-go/bitnet/kernels"
)

// initStd is the standard deviation of every initial weight (embeddings and
// projections); the output projections of each block are further divided by
// sqrt(2·Layers) so that the residual stream does not grow with depth
// (GPT-2's scheme).
const initStd = 0.02

// projection is a BitLinear1_58 layer, or a bitnet.Linear in float models;
// in the copies Exported returns, a packed layer (packedProjection) or a
// bitnet.Linear holding the decoded weights.
type projection interface {
	Forward(p *kernels.Pool, x []float32) []float32
	Backward(p *kernels.Pool, dy []float32) []float32
	Params() []*bitnet.Param
}

// Model is a trainable BitNet b1.58 transformer (see the package
// documentation). It is not safe for concurrent use: Forward keeps what
// Backward needs.
type Model struct {
	// Config is the model's shape, defaults filled in.
	Config Config

	embedding *bitnet.Embedding // token_embd, tied to head
	head      *bitnet.Linear    // the output projection, sharing embedding's weight
	outNorm   *bitnet.RMSNorm
	rope      *bitnet.RoPE
	blocks    []*block
	params    []*bitnet.Param
	// exported is set on the inference-only copies Exported returns.
	exported bool

	// State of the last Forward.
	batch, seq int
	inference  bool // the last forward was Logits, which Backward cannot follow
	pos        []int
	x, dx      []float32 // residual stream and its gradient, batch·seq × Dim
}

// NewModel returns a model of shape cfg with weights drawn from rng.
func NewModel(cfg Config, rng *rand.Rand) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model config: %w", err)
	}
	cfg = cfg.withDefaults()
	m := &Model{
		Config:    cfg,
		embedding: bitnet.NewEmbedding(cfg.Vocab, cfg.Dim, rng),
		outNorm:   bitnet.NewRMSNorm(cfg.Dim, cfg.NormEps),
		rope:      bitnet.NewRoPE(cfg.HeadDim(), cfg.RopeTheta),
	}
	normal(rng, m.embedding.Weight, initStd)
	m.head = &bitnet.Linear{In: cfg.Dim, Out: cfg.Vocab, Weight: m.embedding.Weight}
	m.add("token_embd.weight", m.embedding.Weight)
	residualStd := initStd / math.Sqrt(2*float64(cfg.Layers))
	for l := range cfg.Layers {
		b, err := newBlock(cfg, randomProjections(cfg, rng), residualStd)
		if err != nil {
			return nil, err
		}
		m.blocks = append(m.blocks, b)
		for _, np := range b.namedParams() {
			m.add(fmt.Sprintf("blk.%d.%s", l, np.name), np.param)
		}
	}
	m.add("output_norm.weight", m.outNorm.Weight)
	return m, nil
}

// add registers a parameter under its GGUF tensor name.
func (m *Model) add(name string, p *bitnet.Param) {
	p.Name = name
	m.params = append(m.params, p)
}

// normal refills p with normal values of standard deviation std.
func normal(rng *rand.Rand, p *bitnet.Param, std float64) {
	for i := range p.Data {
		p.Data[i] = float32(rng.NormFloat64() * std)
	}
}

// Params returns the trainable parameters in a fixed order, each named after
// the GGUF tensor it exports to. The tied embedding appears once.
func (m *Model) Params() []*bitnet.Param { return m.params }

// ParamCount returns the number of trainable values.
func (m *Model) ParamCount() int {
	n := 0
	for _, p := range m.params {
		n += len(p.Data)
	}
	return n
}

// ZeroGrad clears every parameter's gradient.
func (m *Model) ZeroGrad() {
	for _, p := range m.params {
		p.ZeroGrad()
	}
}

// Forward runs batch sequences of seq tokens each (tokens holds batch·seq
// ids, sequence after sequence) and returns the logits of every position,
// batch·seq rows of Vocab values owned by the model (valid until the next
// Forward; Backward may overwrite them). It panics on a token id outside the
// vocabulary or a token count other than batch·seq.
func (m *Model) Forward(p *kernels.Pool, tokens []int, batch, seq int) []float32 {
	return m.forward(p, tokens, batch, seq, false)
}

// Logits is the inference-mode forward pass of one sequence: it returns the
// logits of every position (len(tokens) rows of Vocab values, owned by the
// model). Attention sums in the engine's order (one dot product per cached
// position, then a weighted sum of values), so that every value up to the
// output head equals the engine's bit for bit when the engine runs a file
// that holds exactly this model's values: for a ternary model one exported
// with I2_S projections and F32 embeddings. For any other encoding call
// Logits on Exported's copy, which computes with the values the file holds.
func (m *Model) Logits(p *kernels.Pool, tokens []int) []float32 {
	return m.forward(p, tokens, 1, len(tokens), true)
}

func (m *Model) forward(p *kernels.Pool, tokens []int, batch, seq int, engineOrder bool) []float32 {
	if batch <= 0 || seq <= 0 || len(tokens) != batch*seq {
		panic(fmt.Sprintf("lm: forward of %d tokens as %d sequences of %d", len(tokens), batch, seq))
	}
	m.batch, m.seq, m.inference = batch, seq, engineOrder
	m.pos = m.pos[:0]
	for range batch {
		for i := range seq {
			m.pos = append(m.pos, i)
		}
	}
	m.x = append(m.x[:0], m.embedding.Forward(tokens)...)
	for _, b := range m.blocks {
		b.forward(p, m.x, m.rope, m.pos, batch, seq, engineOrder)
	}
	return m.head.Forward(p, m.outNorm.Forward(p, m.x))
}

// Backward takes the gradient of the loss with respect to the last
// Forward's logits (which it may overwrite) and adds every parameter's
// gradient into its Grad.
func (m *Model) Backward(p *kernels.Pool, dlogits []float32) {
	if m.exported {
		panic("lm: Backward on an exported model, which is for inference only")
	}
	if m.inference {
		panic("lm: Backward after Logits; call Forward first")
	}
	if m.batch == 0 || len(dlogits) != m.batch*m.seq*m.Config.Vocab {
		panic(fmt.Sprintf("lm: backward of %d logits after a forward of %d×%d positions", len(dlogits), m.batch, m.seq))
	}
	m.dx = append(m.dx[:0], m.outNorm.Backward(p, m.head.Backward(p, dlogits))...)
	for l := len(m.blocks) - 1; l >= 0; l-- {
		m.blocks[l].backward(p, m.dx, m.rope, m.pos)
	}
	m.embedding.Backward(m.dx)
}
