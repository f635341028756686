//go:build !amd64

package gemm

const useAVX2 = false

func tile4x3AVX2(a *float32, lda int, b *float32, ldb int, k int, sums *[12]float32) {
	panic("gemm: no AVX2 kernel on this architecture")
}

func dotAVX2(x, y *float32, n int) float32 {
	panic("gemm: no AVX2 kernel on this architecture")
}
