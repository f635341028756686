//go:build !amd64 || purego

package kernels

// ropeVector rotates nothing: the portable code rotates every pair.
func ropeVector(RoPEStyle, []float32, []float32, int, int, int) int { return 0 }
