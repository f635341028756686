//go:build amd64 && !purego

package kernels

import "math"

// The vector kernels of vector_amd64.s cover whole steps of 8 (32 for
// quantisation) elements; these wrappers finish the rows with the scalar
// code and fall back to it without AVX2.

func dot(a, b []float32) float32 {
	n := len(a) &^ 7
	if !hasAVX2 || n == 0 {
		return dotGeneric(a, b)
	}
	s := dotAVX2(&a[0], &b[0], uintptr(n))
	for i := n; i < len(a); i++ {
		s += a[i] * b[i]
	}
	return s
}

func addScaled(y []float32, alpha float32, x []float32) {
	n := len(y) &^ 7
	if !hasAVX2 || n == 0 {
		addScaledGeneric(y, alpha, x)
		return
	}
	axpyAVX2(&y[0], &x[0], alpha, uintptr(n))
	addScaledGeneric(y[n:], alpha, x[n:])
}

func sumSquares(x []float32) float64 {
	n := len(x) &^ 7
	if !hasAVX2 || n == 0 {
		return sumSquaresGeneric(x)
	}
	return sumSquaresAVX2(&x[0], uintptr(n)) + sumSquaresGeneric(x[n:])
}

func scaleMul(dst, x []float32, s float32, w []float32) {
	n := len(x) &^ 7
	if !hasAVX2 || n == 0 {
		scaleMulGeneric(dst, x, s, w)
		return
	}
	scaleMulAVX2(&dst[0], &x[0], &w[0], s, uintptr(n))
	scaleMulGeneric(dst[n:], x[n:], s, w[n:])
}

func relu2Mul(gate, up []float32) {
	n := len(gate) &^ 7
	if !hasAVX2 || n == 0 {
		relu2MulGeneric(gate, up)
		return
	}
	relu2MulAVX2(&gate[0], &up[0], uintptr(n))
	relu2MulGeneric(gate[n:], up[n:])
}

func scale(x []float32, s float32) {
	n := len(x) &^ 7
	if !hasAVX2 || n == 0 {
		scaleGeneric(x, s)
		return
	}
	scaleAVX2(&x[0], s, uintptr(n))
	scaleGeneric(x[n:], s)
}

// softmax computes the exponentials with a polynomial (Cephes expf, within
// about 2 ulp of exp) instead of math.Exp in float64; rows with a NaN or an
// infinite maximum take the scalar path, which propagates them the same way.
func softmax(x []float32) {
	n := len(x) &^ 7
	if !hasAVX2 || n == 0 {
		softmaxGeneric(x)
		return
	}
	m, nan := maxAVX2(&x[0], uintptr(n))
	for _, v := range x[n:] {
		nan = nan || v != v
		m = max(m, v)
	}
	if nan || math.IsInf(float64(m), 0) {
		softmaxGeneric(x)
		return
	}
	sum := expShiftAVX2(&x[0], uintptr(n), m)
	for i, v := range x[n:] {
		e := float32(math.Exp(float64(v - m)))
		x[n+i] = e
		sum += e
	}
	scale(x, 1/sum)
}

// quantizeRowI8AVX2 is quantizeRowI8Generic with the maximum and the
// rounding done 8 and 32 elements at a time; it gives the same bytes, scale
// and sum. Rows holding an infinity or NaN take the scalar path, whose
// conversions of NaN the vector instructions do not reproduce.
func quantizeRowI8AVX2(q []int8, x []float32) (float32, int32) {
	n8, n32 := len(x)&^7, len(x)&^31
	if n8 == 0 {
		return quantizeRowI8Generic(q, x)
	}
	bits := absMaxBitsAVX2(&x[0], uintptr(n8))
	amax := math.Float32frombits(bits)
	for _, v := range x[n8:] {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	if bits >= 0x7f800000 || math.IsNaN(float64(amax)) || math.IsInf(float64(amax), 0) {
		return quantizeRowI8Generic(q, x)
	}
	scale := 127 / max(amax, ActEps)
	var sum int32
	if n32 > 0 {
		sum = quantizeI8AVX2(&q[0], &x[0], uintptr(n32), scale)
	}
	for i := n32; i < len(x); i++ {
		r := math.RoundToEven(float64(x[i] * scale))
		r = max(-128, min(127, r))
		q[i] = int8(r)
		sum += int32(q[i])
	}
	return scale, sum
}

// registerVectorKernels registers the vector quantiser when AVX2 is in use
// (the other vector kernels test hasAVX2 on every call).
func registerVectorKernels() {
	if hasAVX2 {
		quantizeRowI8 = quantizeRowI8AVX2
	}
}

//go:noescape
func dotAVX2(a, b *float32, n uintptr) float32

//go:noescape
func axpyAVX2(y, x *float32, alpha float32, n uintptr)

//go:noescape
func absMaxBitsAVX2(x *float32, n uintptr) uint32

//go:noescape
func quantizeI8AVX2(q *int8, x *float32, n uintptr, scale float32) int32

//go:noescape
func sumSquaresAVX2(x *float32, n uintptr) float64

//go:noescape
func scaleMulAVX2(dst, x, w *float32, s float32, n uintptr)

//go:noescape
func relu2MulAVX2(gate, up *float32, n uintptr)

//go:noescape
func maxAVX2(x *float32, n uintptr) (m float32, nan bool)

//go:noescape
func expShiftAVX2(x *float32, n uintptr, m float32) float32

//go:noescape
func scaleAVX2(x *float32, s float32, n uintptr)
