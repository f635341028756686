package bitnet

import (
	"math"

	"github.com/bitnet-go/bitnet/kernels"
)

// QuantizedWeights is a weight matrix in quantised form: for a column k in
// group g, W[r, k] ≈ Codes[r, k] * Scale[g].
type QuantizedWeights struct {
	// Codes holds Rows×Cols values: ±1 for BitLinear (sign(W - α)), -1, 0 or
	// +1 for BitLinear1_58 (RoundClip(W / γ, -1, 1)).
	Codes []float32
	// Scale holds one value per group: β = mean|W| for BitLinear, γ =
	// max(mean|W|, ε) for BitLinear1_58.
	Scale []float32
	// Mean holds BitLinear's α = mean(W) per group, the centre the signs are
	// taken around; it is zero for BitLinear1_58.
	Mean []float32

	Rows, Cols, Groups int
}

// QuantizedActivations is a batch of activation rows in quantised form: for
// a column k in group g of row t, x[t, k] ≈ Q[t, k] / Scale[t*Groups+g] +
// Shift[t*Groups+g].
type QuantizedActivations struct {
	Q     []float32 // Rows×Cols integers in [-Qb, Qb-1], or [0, Qb-1] when shifted
	Scale []float32 // Rows×Groups: q = round((x - shift) * scale)
	Shift []float32 // Rows×Groups: η = min x with UseBeforeNonlinear, else 0

	Rows, Cols, Groups int
}

func (a *QuantizedActivations) resize(rows, cols, groups int) {
	a.Rows, a.Cols, a.Groups = rows, cols, groups
	a.Q = grow(a.Q, rows*cols)
	a.Scale = grow(a.Scale, rows*groups)
	a.Shift = grow(a.Shift, rows*groups)
}

// Dequantize writes the activations the quantised values stand for,
// q / scale + shift, into dst (Rows×Cols).
func (a *QuantizedActivations) Dequantize(p *kernels.Pool, dst []float32) {
	gs := a.Cols / a.Groups
	parallelFor(p, a.Rows, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			for g := range a.Groups {
				s, eta := a.Scale[t*a.Groups+g], a.Shift[t*a.Groups+g]
				off := t*a.Cols + g*gs
				for k, q := range a.Q[off : off+gs] {
					dst[off+k] = q/s + eta
				}
			}
		}
	})
}

func (w *QuantizedWeights) resize(rows, cols, groups int) {
	w.Rows, w.Cols, w.Groups = rows, cols, groups
	w.Codes = grow(w.Codes, rows*cols)
	w.Scale = grow(w.Scale, groups)
	w.Mean = grow(w.Mean, groups)
}

// Dequantize writes the weights the codes stand for, code * scale, into dst
// (Rows×Cols).
func (w *QuantizedWeights) Dequantize(p *kernels.Pool, dst []float32) {
	gs := w.Cols / w.Groups
	parallelFor(p, w.Rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			for k, c := range w.Codes[r*w.Cols : (r+1)*w.Cols] {
				dst[r*w.Cols+k] = c * w.Scale[k/gs]
			}
		}
	})
}

// groupStats returns, for each group of columns of the rows×cols matrix w,
// the mean and the mean absolute value. Per-row partial sums are combined in
// row order, so the result does not depend on the number of threads.
func groupStats(p *kernels.Pool, w []float32, rows, cols, groups int, mean, absMean []float32) {
	gs := cols / groups
	partial := make([]float64, 2*rows*groups)
	parallelFor(p, rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			for g := range groups {
				partial[2*(r*groups+g)], partial[2*(r*groups+g)+1] = sumAndAbsSum(w[r*cols+g*gs : r*cols+(g+1)*gs])
			}
		}
	})
	n := float64(rows * gs)
	for g := range groups {
		var sum, abs float64
		for r := range rows {
			sum += partial[2*(r*groups+g)]
			abs += partial[2*(r*groups+g)+1]
		}
		mean[g] = float32(sum / n)
		absMean[g] = float32(abs / n)
	}
}

// sumAndAbsSum returns Σx and Σ|x| in float64, in four interleaved partial
// sums so that the additions do not wait on each other.
func sumAndAbsSum(x []float32) (sum, abs float64) {
	var s, a [4]float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		for j := range 4 {
			v := float64(x[i+j])
			s[j] += v
			a[j] += math.Abs(v)
		}
	}
	for ; i < len(x); i++ {
		s[0] += float64(x[i])
		a[0] += math.Abs(float64(x[i]))
	}
	return (s[0] + s[1]) + (s[2] + s[3]), (a[0] + a[1]) + (a[2] + a[3])
}

// binarizeWeights quantises w (rows×cols) as BitLinear does, per group g of
// columns: α = mean(W_g), β = mean|W_g|, code = sign(W - α) with sign(0) = -1
// (BitNet paper, eqs. 1-3 and 12).
func binarizeWeights(p *kernels.Pool, dst *QuantizedWeights, w []float32, rows, cols, groups int) {
	dst.resize(rows, cols, groups)
	groupStats(p, w, rows, cols, groups, dst.Mean, dst.Scale)
	gs := cols / groups
	parallelFor(p, rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			for g, alpha := range dst.Mean {
				codes := dst.Codes[r*cols+g*gs : r*cols+(g+1)*gs]
				for k, v := range w[r*cols+g*gs : r*cols+(g+1)*gs] {
					c := -1 // an integer select compiles without a branch
					if v > alpha {
						c = 1
					}
					codes[k] = float32(c)
				}
			}
		}
	})
}

// ternarizeWeights quantises w (rows×cols) as BitLinear1_58 does, per group g
// of columns: γ = max(mean|W_g|, eps), code = clamp(round(W / γ), -1, 1)
// (BitNet b1.58 paper, eqs. 1-3; DESIGN.md §4). Rounding is half to even.
func ternarizeWeights(p *kernels.Pool, dst *QuantizedWeights, w []float32, rows, cols, groups int, eps float32) {
	dst.resize(rows, cols, groups)
	groupStats(p, w, rows, cols, groups, dst.Mean, dst.Scale)
	clear(dst.Mean)
	for g := range dst.Scale {
		dst.Scale[g] = max(dst.Scale[g], eps)
	}
	gs := cols / groups
	parallelFor(p, rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			for g, gamma := range dst.Scale {
				codes := dst.Codes[r*cols+g*gs : r*cols+(g+1)*gs]
				for k, v := range w[r*cols+g*gs : r*cols+(g+1)*gs] {
					codes[k] = ternaryCode(v, gamma)
				}
			}
		}
	})
}

// ternaryCode returns clamp(roundHalfEven(w/γ), -1, 1) for γ > 0: 0 when
// |w/γ| <= 0.5 (a tie rounds to the even 0), the sign of w otherwise. It
// compares w with γ/2 instead of dividing: float32 division is correctly
// rounded and 0.5 is representable, so fl(w/γ) > 0.5 exactly when w > γ/2.
func ternaryCode(w, gamma float32) float32 {
	half := gamma / 2
	c := 0 // integer selects compile without branches
	if w > half {
		c = 1
	}
	if w < -half {
		c = -1
	}
	return float32(c)
}

// actQuantizer quantises activations to b-bit integers with per-token
// (per-group) absmax scales: γ = max(max|x|, eps), s = num / γ,
// q = clamp(round((x - η) * s), lo, hi), η = min x when shifting, else 0.
// Rounding is half to even.
type actQuantizer struct {
	num    float32 // Qb for BitLinear, Qb - 1 for BitLinear1_58
	lo, hi float64
	eps    float32
	shift  bool
}

// bitNetActivations is BitLinear's activation quantiser (BitNet paper,
// eqs. 4 and 7): x·Qb/γ clipped to [-Qb+ε, Qb-ε] ([ε, Qb-ε] for x-η) and
// stored as the nearest b-bit integer, which is clamp(round(x·Qb/γ), -Qb,
// Qb-1) (clamp(round((x-η)·Qb/γ), 0, Qb-1)).
func bitNetActivations(cfg BitLinearConfig) actQuantizer {
	qb := float64(cfg.qb())
	aq := actQuantizer{num: float32(qb), lo: -qb, hi: qb - 1, eps: float32(cfg.Eps), shift: cfg.UseBeforeNonlinear}
	if aq.shift {
		aq.lo = 0
	}
	return aq
}

// ternaryActivations is BitLinear1_58's activation quantiser, the b-bit
// generalisation of DESIGN.md §4: s = (Qb-1)/γ, q = clamp(round(x·s), -Qb,
// Qb-1) (with a shift: clamp(round((x-η)·s), 0, Qb-1)). At 8 bits it is
// kernels.QuantizeRowsI8.
func ternaryActivations(cfg BitLinearConfig) actQuantizer {
	qb := float64(cfg.qb())
	aq := actQuantizer{num: float32(qb - 1), lo: -qb, hi: qb - 1, eps: float32(cfg.Eps), shift: cfg.UseBeforeNonlinear}
	if aq.shift {
		aq.lo = 0
	}
	return aq
}

// quantize quantises the rows×cols activations x in groups groups per row.
func (aq actQuantizer) quantize(p *kernels.Pool, dst *QuantizedActivations, x []float32, rows, cols, groups int) {
	dst.resize(rows, cols, groups)
	gs := cols / groups
	parallelFor(p, rows, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			for g := range groups {
				off := t*cols + g*gs
				s, eta := aq.quantizeGroup(dst.Q[off:off+gs], x[off:off+gs])
				dst.Scale[t*groups+g], dst.Shift[t*groups+g] = s, eta
			}
		}
	})
}

// quantizeGroup quantises one group of one row into q and returns its scale
// and shift.
func (aq actQuantizer) quantizeGroup(q, x []float32) (scale, shift float32) {
	var amax float32
	lowest := float32(math.Inf(1))
	for _, v := range x {
		if a := float32(math.Abs(float64(v))); a > amax {
			amax = a
		}
		if v < lowest {
			lowest = v
		}
	}
	scale = aq.num / max(amax, aq.eps)
	if aq.shift {
		shift = lowest
	}
	lo, hi := float32(aq.lo), float32(aq.hi)
	for k, v := range x {
		r := roundHalfEven(float32((v - shift) * scale))
		if r > hi {
			r = hi
		}
		if r < lo {
			r = lo
		}
		q[k] = r
	}
	return scale, shift
}

// roundHalfEven rounds v to the nearest integer, ties to even, for |v| <
// 2^22: adding and subtracting 1.5·2^23 leaves no fraction bits, so the
// addition rounds in the default mode, which is half to even. Larger
// magnitudes (never produced by the quantisers, whose values are at most
// 2·Qb) fall back to math.RoundToEven.
func roundHalfEven(v float32) float32 {
	const magic = 0x1.8p23
	if v > -0x1p22 && v < 0x1p22 {
		return (v + magic) - magic
	}
	return float32(math.RoundToEven(float64(v)))
}
