//go:build !amd64 || purego

package kernels

// readMemoryBlocks sums whole 256-byte blocks.
func readMemoryBlocks(b []byte) uint64 { return readMemoryGeneric(b) }
