//go:build amd64 && !purego

package kernels

// readMemoryBlocks sums whole 256-byte blocks with 256-bit loads when the
// CPU has AVX2.
func readMemoryBlocks(b []byte) uint64 {
	if !hasAVX2 || len(b) == 0 {
		return readMemoryGeneric(b)
	}
	return readMemoryAVX2(&b[0], uintptr(len(b)))
}

// readMemoryAVX2 returns the sum of the 64-bit words of n bytes at p, n a
// positive multiple of 256.
//
//go:noescape
func readMemoryAVX2(p *byte, n uintptr) uint64
