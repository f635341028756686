//go:build amd64 && !purego

package kernels

// The assembly covers rows whose length is a multiple of 8 (a head's
// dimension always is in practice); other lengths take the scalar path.

func dotRows(dst, x, m []float32, stride int, scale float32) {
	if !hasAVX2 || len(x)%8 != 0 || len(x) == 0 {
		dotRowsGeneric(dst, x, m, stride, scale)
		return
	}
	dotRowsAVX2(&dst[0], &x[0], &m[0], uintptr(4*stride), uintptr(len(dst)), uintptr(len(x)), scale)
}

func addScaledRows(y, w, m []float32, stride int) {
	if !hasAVX2 || len(y)%8 != 0 || len(y) == 0 {
		addScaledRowsGeneric(y, w, m, stride)
		return
	}
	addScaledRowsAVX2(&y[0], &w[0], &m[0], uintptr(4*stride), uintptr(len(w)), uintptr(len(y)))
}

// dotRowsAVX2: dst[p] = scale * x . row p for n rows of k floats (k a
// multiple of 8) at stride bytes, four rows per pass.
//
//go:noescape
func dotRowsAVX2(dst, x, m *float32, stride, n, k uintptr, scale float32)

// addScaledRowsAVX2: y += sum_p w[p] * row p for n rows of k floats (k a
// multiple of 8) at stride bytes, 64 columns of y in registers per pass.
//
//go:noescape
func addScaledRowsAVX2(y, w, m *float32, stride, n, k uintptr)
