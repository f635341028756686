package kernels

// SIMD names the instruction set of the fastest kernels dispatched on this
// machine: "avx512-vnni", "avx2" or "generic" (the portable Go kernels, also
// chosen by the purego build tag). The choice is made once, at start-up,
// from the CPU's features.
func SIMD() string { return simdLevel() }
