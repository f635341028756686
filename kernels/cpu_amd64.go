//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// The instruction sets the amd64 kernels use. x/sys/cpu reports a feature
// only when the operating system also saves the registers it needs.
var (
	// cpuAVX2 covers the AVX2 kernels: AVX2 integer ops, FMA and F16C.
	cpuAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C
	// cpuVNNI covers the AVX-512 kernels, which run on 256-bit registers
	// (all 32 of them) with VPDPBUSD. Go's assembler encodes VPDPBUSD only in
	// its EVEX (AVX-512) form, so AVX-VNNI-only CPUs take the AVX2 path.
	cpuVNNI = cpuAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI
)

// hasAVX2 and hasVNNI say which of the CPU's instruction sets the dispatched
// kernels use: at start-up all of them; UseSIMD may turn them off. The
// kernel wrappers test them on every call.
var hasAVX2, hasVNNI bool

// simdLevel names the kernels dispatched now.
func simdLevel() string {
	switch {
	case hasVNNI:
		return "avx512-vnni"
	case hasAVX2:
		return "avx2"
	}
	return "generic"
}

// simdLevels lists the levels this CPU runs, fastest first.
func simdLevels() []string {
	var l []string
	if cpuVNNI {
		l = append(l, "avx512-vnni")
	}
	if cpuAVX2 {
		l = append(l, "avx2")
	}
	return append(l, "generic")
}

// setSIMDLevel sets the instruction sets of level, one of simdLevels.
func setSIMDLevel(level string) {
	hasVNNI = level == "avx512-vnni"
	hasAVX2 = hasVNNI || level == "avx2"
}

// registerSIMD puts the kernels of the instruction sets in use in the
// dispatch tables, over the scalar oracles.
func registerSIMD() {
	registerTernaryKernels()
	registerFloatKernels()
	registerVectorKernels()
	registerBinaryKernels()
}
