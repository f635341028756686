package kernels

// Row-batched vector kernels for attention: a query against many cached keys,
// and the probability-weighted sum of many cached values. Keys and values of
// one head sit at a fixed stride in the KV cache; handling several rows per
// pass lets the query (or the output) stay in registers.

// DotRows writes dst[p] = Dot(x, m[p*stride : p*stride+len(x)]) * scale for
// every p < len(dst): the scaled attention scores of a query x against
// len(dst) keys.
func DotRows(dst, x, m []float32, stride int, scale float32) {
	if len(dst) == 0 {
		return
	}
	_ = m[(len(dst)-1)*stride+len(x)-1]
	dotRows(dst, x, m, stride, scale)
}

// AddScaledRows adds w[p] * m[p*stride : p*stride+len(y)] to y for every
// p < len(w), in order: the attention output of len(w) values weighted by
// their probabilities.
func AddScaledRows(y, w, m []float32, stride int) {
	if len(w) == 0 {
		return
	}
	_ = m[(len(w)-1)*stride+len(y)-1]
	addScaledRows(y, w, m, stride)
}

// dotRowsGeneric is the scalar oracle of DotRows.
func dotRowsGeneric(dst, x, m []float32, stride int, scale float32) {
	for p := range dst {
		dst[p] = dotGeneric(x, m[p*stride:p*stride+len(x)]) * scale
	}
}

// addScaledRowsGeneric is the scalar oracle of AddScaledRows.
func addScaledRowsGeneric(y, w, m []float32, stride int) {
	for p, a := range w {
		addScaledGeneric(y, a, m[p*stride:p*stride+len(y)])
	}
}
