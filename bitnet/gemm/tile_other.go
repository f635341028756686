//go:build !amd64

package gemm

const useAVX2 = false

func tile4x3AVX2(a *float32, lda int, b *float32, ldb int, k int, sums *[12]float32) {
	panic("gemm: no AVX2 kernel on this architecture")
}

func dotAVX2(x, y *float32, n int) float32 {
	panic("gemm: no AVX2 kernel on this architecture")
}

func mulTile6x16AVX2(a *float32, aRow, aCol int, b *float32, ldb, k int, c *float32, ldc int, add bool) {
	panic("gemm: no AVX2 kernel on this architecture")
}

func mulTile1x16AVX2(a *float32, aCol int, b *float32, ldb, k int, c *float32, add bool) {
	panic("gemm: no AVX2 kernel on this architecture")
}
