package gemm

// useAVX2 reports whether the CPU and the operating system support the AVX2
// and FMA instructions the assembly kernels use.
var useAVX2 = detectAVX2()

func detectAVX2() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // the OS saves XMM and YMM state
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

// cpuid executes the CPUID instruction for the given leaf and sub-leaf.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads extended control register 0.
func xgetbv() (eax, edx uint32)

// tile4x3AVX2 is tile4x3 for k a multiple of 8 (it stores, never adds).
//
//go:noescape
func tile4x3AVX2(a *float32, lda int, b *float32, ldb int, k int, sums *[12]float32)

// dotAVX2 returns the dot product of n values at x and y, n a multiple of 8.
//
//go:noescape
func dotAVX2(x, y *float32, n int) float32

// mulTile6x16AVX2 computes C[0:6, 0:16] = op(A)[0:6, 0:k]·B[0:k, 0:16] (or
// adds it to C), with op(A)(i, p) at a[i*aRow + p*aCol]; k >= 1.
//
//go:noescape
func mulTile6x16AVX2(a *float32, aRow, aCol int, b *float32, ldb, k int, c *float32, ldc int, add bool)

// mulTile1x16AVX2 is mulTile6x16AVX2 for a single row.
//
//go:noescape
func mulTile1x16AVX2(a *float32, aCol int, b *float32, ldb, k int, c *float32, add bool)
