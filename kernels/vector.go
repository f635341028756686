package kernels

import "math"

// Dot returns the float32 dot product of a and b[:len(a)].
func Dot(a, b []float32) float32 {
	return dot(a, b[:len(a)])
}

// dotGeneric is the scalar oracle of Dot.
func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// AddScaled adds alpha*x to y element-wise: y[i] += alpha * x[i].
func AddScaled(y []float32, alpha float32, x []float32) {
	addScaled(y, alpha, x[:len(y)])
}

// addScaledGeneric is the scalar oracle of AddScaled.
func addScaledGeneric(y []float32, alpha float32, x []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += alpha * x[i]
	}
}

// Add adds x to y element-wise.
func Add(y, x []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += x[i]
	}
}

// Scale multiplies every element of x by s.
func Scale(x []float32, s float32) { scale(x, s) }

// scaleGeneric is the scalar oracle of Scale.
func scaleGeneric(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

// RMSNorm writes x / sqrt(mean(x^2) + eps) * weight to dst (which may be x).
// The mean of squares is accumulated in float64.
func RMSNorm(dst, x, weight []float32, eps float32) {
	inv := float32(1 / math.Sqrt(sumSquares(x)/float64(len(x))+float64(eps)))
	scaleMul(dst[:len(x)], x, inv, weight[:len(x)])
}

// sumSquaresGeneric is the scalar oracle of the sum of squares of RMSNorm.
func sumSquaresGeneric(x []float32) float64 {
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	return ss
}

// scaleMulGeneric is the scalar oracle of dst[i] = x[i] * s * w[i], rounded
// after each product.
func scaleMulGeneric(dst, x []float32, s float32, w []float32) {
	w = w[:len(x)]
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = v * s * w[i]
	}
}

// Softmax replaces x by exp(x - max) / sum, in place.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	softmax(x)
}

// softmaxGeneric is the scalar oracle of Softmax.
func softmaxGeneric(x []float32) {
	m := x[0]
	for _, v := range x[1:] {
		m = max(m, v)
	}
	var sum float32
	for i, v := range x {
		e := float32(math.Exp(float64(v - m)))
		x[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range x {
		x[i] *= inv
	}
}

// SiLU returns x * sigmoid(x).
func SiLU(x float32) float32 {
	return x / (1 + float32(math.Exp(float64(-x))))
}

// ReLU2Mul replaces each gate[i] by ReLU2(gate[i]) * up[i], the gated
// feed-forward activation of BitNet b1.58 2B4T.
func ReLU2Mul(gate, up []float32) {
	relu2Mul(gate, up[:len(gate)])
}

// relu2MulGeneric is the scalar oracle of ReLU2Mul.
func relu2MulGeneric(gate, up []float32) {
	up = up[:len(gate)]
	for i, g := range gate {
		gate[i] = ReLU2(g) * up[i]
	}
}

// ReLU2 returns max(x, 0)^2, the squared ReLU of BitNet b1.58 2B4T.
func ReLU2(x float32) float32 {
	if x <= 0 {
		return 0
	}
	return x * x
}
