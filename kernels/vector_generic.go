//go:build !amd64 || purego

package kernels

func dot(a, b []float32) float32 { return dotGeneric(a, b) }

func addScaled(y []float32, alpha float32, x []float32) { addScaledGeneric(y, alpha, x) }

func sumSquares(x []float32) float64 { return sumSquaresGeneric(x) }

func scaleMul(dst, x []float32, s float32, w []float32) { scaleMulGeneric(dst, x, s, w) }

func dotRows(dst, x, m []float32, stride int, scale float32) {
	dotRowsGeneric(dst, x, m, stride, scale)
}

func addScaledRows(y, w, m []float32, stride int) { addScaledRowsGeneric(y, w, m, stride) }

func relu2Mul(gate, up []float32) { relu2MulGeneric(gate, up) }

func softmax(x []float32) { softmaxGeneric(x) }

func scale(x []float32, s float32) { scaleGeneric(x, s) }
