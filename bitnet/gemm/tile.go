package gemm

// tile4x3 sets sums[r*3+j] to the dot product of a[r*lda : r*lda+k] with
// b[j*ldb : j*ldb+k] for r < 4, j < 3.
func tile4x3(a []float32, lda int, b []float32, ldb int, k int, sums *[12]float32) {
	_ = a[3*lda+k-1]
	_ = b[2*ldb+k-1]
	done := 0
	if useAVX2 {
		done = k &^ 7
		tile4x3AVX2(&a[0], lda, &b[0], ldb, done, sums)
	}
	if done < k {
		tile4x3Go(a[done:], lda, b[done:], ldb, k-done, sums, done > 0)
	}
}

// dot returns the dot product of x and y, which have the same length.
func dot(x, y []float32) float32 {
	y = y[:len(x)]
	done := 0
	var s float32
	if useAVX2 {
		done = len(x) &^ 7
		if done > 0 {
			s = dotAVX2(&x[0], &y[0], done)
		}
	}
	for i := done; i < len(x); i++ {
		s += x[i] * y[i]
	}
	return s
}

// tile4x3Go is the portable tile4x3: it adds to sums when add is true.
func tile4x3Go(a []float32, lda int, b []float32, ldb int, k int, sums *[12]float32, add bool) {
	a0, a1, a2, a3 := a[:k], a[lda:lda+k], a[2*lda:2*lda+k], a[3*lda:3*lda+k]
	b0, b1, b2 := b[:k], b[ldb:ldb+k], b[2*ldb:2*ldb+k]
	var s [12]float32
	if add {
		s = *sums
	}
	for i := range k {
		x0, x1, x2 := b0[i], b1[i], b2[i]
		y := a0[i]
		s[0] += y * x0
		s[1] += y * x1
		s[2] += y * x2
		y = a1[i]
		s[3] += y * x0
		s[4] += y * x1
		s[5] += y * x2
		y = a2[i]
		s[6] += y * x0
		s[7] += y * x1
		s[8] += y * x2
		y = a3[i]
		s[9] += y * x0
		s[10] += y * x1
		s[11] += y * x2
	}
	*sums = s
}
