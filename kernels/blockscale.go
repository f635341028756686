package kernels

import "math"

// Block-scale analysis of ternary matrices.
//
// TQ1_0 and TQ2_0 store an fp16 scale in every block of 256 weights, but a
// ternary model written from absmean-quantised weights stores the same scale
// (the tensor's gamma) in every block. Then a row's product is that scale
// times one integer sum over the whole row, which the SIMD kernels compute
// without stopping at block boundaries. Matrices whose blocks differ take the
// per-block path, which reproduces the scalar oracle's arithmetic exactly.

// uniformScale returns the scale shared by every block of a ternary matrix
// and true, or false when the blocks need their own scales. An I2_S matrix
// has one scale by construction. A TQ block counts as sharing scale d when
// its stored scale is d, or when all its weights are zero and its scale is
// finite (it then contributes exactly zero either way); a non-finite d is
// never shared, since the oracle's d*0 = NaN must then show. The answer is
// computed once, on first use, by whichever worker gets there first.
func (m *Matrix) uniformScale() (float32, bool) {
	m.scaleOnce.Do(func() { m.uniform, m.isUniform = m.analyseScales() })
	return m.uniform, m.isUniform
}

func (m *Matrix) analyseScales() (float32, bool) {
	switch m.Type {
	case I2_S:
		return m.scale, true
	case TQ1_0, TQ2_0:
	default:
		return 0, false
	}
	bb := m.Type.BlockBytes()
	var common uint16
	found := false
	for off := 0; off < len(m.data); off += bb {
		blk := m.data[off : off+bb]
		bits := le16(blk[bb-2:])
		d := F16ToF32(bits)
		if math.IsNaN(float64(d)) || math.IsInf(float64(d), 0) {
			return 0, false
		}
		if found && bits == common {
			continue
		}
		if zeroTernaryBlock(m.Type, blk) {
			continue
		}
		if found {
			return 0, false
		}
		common, found = bits, true
	}
	// A matrix of zero weights only: any scale gives zero.
	return F16ToF32(common), true
}

// zeroTernaryBlock reports whether every weight of a TQ1_0 or TQ2_0 block is 0.
func zeroTernaryBlock(t Type, blk []byte) bool {
	if t == TQ2_0 {
		for _, b := range blk[:64] {
			if b != 0x55 { // four codes of 1, i.e. four zeros
				return false
			}
		}
		return true
	}
	var trits [QK_K]int8
	tq1Trits(blk, &trits)
	for _, v := range trits {
		if v != 0 {
			return false
		}
	}
	return true
}
