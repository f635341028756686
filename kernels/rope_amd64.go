//go:build amd64 && !purego

package kernels

// ropeVector rotates, with AVX2, the pairs of every head of x (heads heads
// of headDim elements, half pairs each) that whole vector steps cover: 8
// pairs per step for RoPENeox, 4 for RoPENorm. It returns how many pairs of
// each head it rotated, from the first; the caller rotates the rest. cs is
// the table of RoPE.fillAngles. The kernels round like rotatePair (no fused
// multiply-adds), so the results are the scalar code's bit for bit.
func ropeVector(style RoPEStyle, x, cs []float32, heads, headDim, half int) int {
	if !hasAVX2 {
		return 0
	}
	if style == RoPENeox {
		n := half &^ 7
		if n > 0 {
			ropeNeoxAVX2(&x[0], &cs[0], uintptr(heads), uintptr(4*headDim), uintptr(half), uintptr(n))
		}
		return n
	}
	n := half &^ 3
	if n > 0 {
		ropeNormAVX2(&x[0], &cs[0], uintptr(heads), uintptr(4*headDim), uintptr(half), uintptr(n))
	}
	return n
}

// ropeNeoxAVX2 rotates pairs (i, i+half) for i < n (a positive multiple of
// 8) of heads heads stride bytes apart, starting at x, with the cosines at
// cs[i] and the sines at cs[half+i].
//
//go:noescape
func ropeNeoxAVX2(x, cs *float32, heads, stride, half, n uintptr)

// ropeNormAVX2 rotates pairs (2i, 2i+1) for i < n (a positive multiple of
// 4) of heads heads stride bytes apart, starting at x, with the cosines at
// cs[i] and the sines at cs[half+i].
//
//go:noescape
func ropeNormAVX2(x, cs *float32, heads, stride, half, n uintptr)
