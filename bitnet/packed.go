package bitnet

import (
	"fmt"

	"github.com/bitnet-go/bitnet/kernels"
)

// serialPool runs the kernels of a packed layer called with a nil pool: a
// pool of one thread starts no goroutines and runs every loop inline.
var serialPool = kernels.NewPool(1)

func orSerial(p *kernels.Pool) *kernels.Pool {
	if p == nil {
		return serialPool
	}
	return p
}

// packedCommon is what both packed layers share: the input norm, the
// activation quantiser and the rescaling of the integer products.
type packedCommon struct {
	In, Out int
	cfg     BitLinearConfig
	norm    normLayer
	act     actQuantizer
	wScale  []float32 // per group: the weight scale the training form used
	rowSum  []float32 // out×groups code sums, for shifted inputs only
	bias    []float32

	xq    QuantizedActivations
	rows  []kernels.QuantizedRows // per group, int8 copies of xq
	terms []float32
	y     []float32
}

// newPackedCommon takes the layer's configuration, bias and norm, the weight
// scales and, for shifted inputs, the code sums of the weight rows.
func newPackedCommon(l *quantLinear, wScale, rowSum []float32) packedCommon {
	c := packedCommon{In: l.in, Out: l.out, cfg: l.cfg, act: l.act}
	c.wScale = append([]float32(nil), wScale...)
	c.rowSum = rowSum
	if l.bias != nil {
		c.bias = append([]float32(nil), l.bias.Data...)
	}
	c.norm = newNorm(l.cfg.InputNorm, l.in, float32(l.cfg.Eps))
	if g := l.normGain(); g != nil {
		copy(c.norm.(*RMSNorm).Weight.Data, g.Data)
	}
	c.rows = make([]kernels.QuantizedRows, l.groups())
	return c
}

func (c *packedCommon) groups() int { return len(c.rows) }

// NormGain returns the gain of an RMSNorm input norm, which the caller may
// fill in (for example from a loaded model); nil for other norms.
func (c *packedCommon) NormGain() []float32 {
	if n, ok := c.norm.(*RMSNorm); ok {
		return n.Weight.Data
	}
	return nil
}

// quantize normalises x and quantises it into one int8 QuantizedRows per
// group. It returns the number of rows.
func (c *packedCommon) quantize(p *kernels.Pool, x []float32, layer string) int {
	rows := rowsOf(layer, x, c.In)
	if c.norm != nil {
		x = c.norm.Forward(p, x)
	}
	g := c.groups()
	gs := c.In / g
	c.act.quantize(p, &c.xq, x, rows, c.In, g)
	for j := range c.rows {
		qr := &c.rows[j]
		qr.Resize(rows, gs)
		for t := range rows {
			var sum int32
			dst := qr.Row(t)
			for k, v := range c.xq.Q[t*c.In+j*gs : t*c.In+(j+1)*gs] {
				dst[k] = int8(v)
				sum += int32(v)
			}
			qr.Scale[t], qr.Sum[t] = c.xq.Scale[t*g+j], sum
		}
	}
	return rows
}

// PackedBitLinear is BitLinear's inference form: ±1 weights packed one bit
// each (kernels.BinaryMatrix, one per group), activations quantised to int8
// and multiplied with kernels.Pool.MatMulBinaryI8. Its output equals the
// training form's forward pass bit for bit. It is not safe for concurrent
// use.
type PackedBitLinear struct {
	packedCommon
	mats []*kernels.BinaryMatrix
	dots []int32
}

// Pack returns the layer's inference form for its current weights.
func (b *BitLinear) Pack() (*PackedBitLinear, error) {
	l := b.l
	var wq QuantizedWeights
	l.quantizeWeights(nil, &wq)
	pl := &PackedBitLinear{packedCommon: newPackedCommon(l, wq.Scale, codeRowSums(nil, &wq, l.cfg.UseBeforeNonlinear))}
	g := l.groups()
	gs := l.in / g
	block := make([]float32, l.out*gs)
	for j := range g {
		for r := range l.out {
			copy(block[r*gs:(r+1)*gs], wq.Codes[r*l.in+j*gs:r*l.in+(j+1)*gs])
		}
		data := make([]byte, l.out*kernels.BinaryRowBytes(gs))
		kernels.PackBinary(data, block, l.out, gs)
		m, err := kernels.NewBinaryMatrix(l.out, gs, data)
		if err != nil {
			return nil, fmt.Errorf("pack BitLinear %d -> %d: %w", l.in, l.out, err)
		}
		pl.mats = append(pl.mats, m)
	}
	return pl, nil
}

// WeightBytes returns the size of the packed weights.
func (pl *PackedBitLinear) WeightBytes() int {
	n := 0
	for _, m := range pl.mats {
		n += m.Bytes()
	}
	return n
}

// Forward returns the layer's output for the rows of x (n×In), n×Out, owned
// by the layer.
func (pl *PackedBitLinear) Forward(p *kernels.Pool, x []float32) []float32 {
	p = orSerial(p)
	rows := pl.quantize(p, x, "PackedBitLinear")
	g := pl.groups()
	n := rows * pl.Out
	if cap(pl.dots) < n {
		pl.dots = make([]int32, n)
	}
	pl.terms = grow(pl.terms, g*n)
	for j, m := range pl.mats {
		p.MatMulBinaryI8(pl.dots[:n], m, &pl.rows[j])
		for i, d := range pl.dots[:n] {
			pl.terms[j*n+i] = float32(d)
		}
	}
	pl.y = grow(pl.y, n)
	w := QuantizedWeights{Scale: pl.wScale, Rows: pl.Out, Cols: pl.In, Groups: g}
	dequantizeDots(p, pl.y, pl.terms, &w, &pl.xq, pl.rowSum, pl.bias)
	return pl.y
}

// PackedBitLinear1_58 is BitLinear1_58's inference form: ternary weights in
// a kernels.Matrix (I2_S, TQ2_0 or TQ1_0; one per group), activations
// quantised to int8 per token and multiplied with kernels.Pool.MatMulI8, the
// engine's arithmetic. With I2_S weights its output equals the training
// form's forward pass bit for bit. The TQ types store γ as fp16 in each block
// of 256 and MatMulI8 sums their blocks in float, so there the integer block
// sums agree exactly and the output to fp16 precision of γ. It is not safe
// for concurrent use.
type PackedBitLinear1_58 struct {
	packedCommon
	mats []*kernels.Matrix
	// engineQuant is set when the activations are the engine's
	// (kernels.QuantizeRowsI8: 8 bits, eps 1e-5, per tensor, unshifted).
	engineQuant bool
}

// Pack returns the layer's inference form for its current weights, stored
// as t: kernels.I2_S (each group's width a multiple of 128), kernels.TQ2_0
// or kernels.TQ1_0 (multiples of 256).
func (b *BitLinear1_58) Pack(t kernels.Type) (*PackedBitLinear1_58, error) {
	l := b.l
	if !t.Ternary() {
		return nil, fmt.Errorf("pack BitLinear1_58 %d -> %d: %v is not a ternary type", l.in, l.out, t)
	}
	var wq QuantizedWeights
	l.quantizeWeights(nil, &wq)
	pl := &PackedBitLinear1_58{packedCommon: newPackedCommon(l, wq.Scale, codeRowSums(nil, &wq, l.cfg.UseBeforeNonlinear))}
	g := l.groups()
	gs := l.in / g
	block := make([]float32, l.out*gs)
	for j := range g {
		for r := range l.out {
			for k, c := range wq.Codes[r*l.in+j*gs : r*l.in+(j+1)*gs] {
				block[r*gs+k] = c * wq.Scale[j]
			}
		}
		data, err := kernels.Encode(t, block, gs)
		if err != nil {
			return nil, fmt.Errorf("pack BitLinear1_58 %d -> %d (group %d of %d): %w", l.in, l.out, j, g, err)
		}
		m, err := kernels.NewMatrix(t, l.out, gs, data)
		if err != nil {
			return nil, fmt.Errorf("pack BitLinear1_58 %d -> %d (group %d of %d): %w", l.in, l.out, j, g, err)
		}
		pl.mats = append(pl.mats, m)
	}
	pl.setEngineQuant()
	return pl, nil
}

// NewPackedBitLinear1_58 wraps an already packed ternary matrix (as loaded
// from a model file; Rows outputs of Cols inputs) with per-tensor
// quantisation, the input norm of cfg (an RMSNorm gain starts at 1) and an
// optional bias of Rows values.
func NewPackedBitLinear1_58(m *kernels.Matrix, cfg BitLinearConfig, bias []float32) (*PackedBitLinear1_58, error) {
	if !m.Type.Ternary() {
		return nil, fmt.Errorf("packed BitLinear1_58: %v is not a ternary type", m.Type)
	}
	cfg.Method, cfg.Bias = PerTensor(), bias != nil
	l, err := newQuantLinear(ternaryWeights, m.Cols, m.Rows, cfg)
	if err != nil {
		return nil, fmt.Errorf("packed BitLinear1_58: %w", err)
	}
	if bias != nil && len(bias) != m.Rows {
		return nil, fmt.Errorf("packed BitLinear1_58 %d -> %d: bias has %d values", m.Cols, m.Rows, len(bias))
	}
	if bias != nil {
		copy(l.bias.Data, bias)
	}
	// The matrix carries its own scales, so the shift term uses the sums of
	// the dequantised rows with a unit weight scale.
	var rowSum []float32
	if l.cfg.UseBeforeNonlinear {
		row := make([]float32, m.Cols)
		rowSum = make([]float32, m.Rows)
		for r := range m.Rows {
			m.DequantizeRow(r, row)
			for _, v := range row {
				rowSum[r] += v
			}
		}
	}
	pl := &PackedBitLinear1_58{packedCommon: newPackedCommon(l, []float32{1}, rowSum), mats: []*kernels.Matrix{m}}
	pl.setEngineQuant()
	return pl, nil
}

func (pl *PackedBitLinear1_58) setEngineQuant() {
	c := pl.cfg
	pl.engineQuant = c.BitWidth == 8 && float32(c.Eps) == kernels.ActEps && !c.UseBeforeNonlinear && pl.groups() == 1
}

// Matrices returns the packed weights, one matrix per group, for writing to
// a model file.
func (pl *PackedBitLinear1_58) Matrices() []*kernels.Matrix { return pl.mats }

// WeightBytes returns the size of the packed weights.
func (pl *PackedBitLinear1_58) WeightBytes() int {
	n := 0
	for _, m := range pl.mats {
		n += m.Bytes()
	}
	return n
}

// Forward returns the layer's output for the rows of x (n×In), n×Out, owned
// by the layer.
func (pl *PackedBitLinear1_58) Forward(p *kernels.Pool, x []float32) []float32 {
	p = orSerial(p)
	var rows int
	if pl.engineQuant {
		rows = rowsOf("PackedBitLinear1_58", x, pl.In)
		if pl.norm != nil {
			x = pl.norm.Forward(p, x)
		}
		kernels.QuantizeRowsI8(&pl.rows[0], x, rows, pl.In)
		pl.xq.Rows, pl.xq.Groups = rows, 1
	} else {
		rows = pl.quantize(p, x, "PackedBitLinear1_58")
	}
	n := rows * pl.Out
	pl.terms = grow(pl.terms, pl.groups()*n)
	for j, m := range pl.mats {
		p.MatMulI8(pl.terms[j*n:(j+1)*n], m, &pl.rows[j])
	}
	pl.y = grow(pl.y, n)
	combineTerms(p, pl.y, pl.terms, pl.wScale, &pl.xq, pl.rowSum, pl.bias)
	return pl.y
}
