//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// The instruction sets the amd64 kernels use, detected once. x/sys/cpu
// reports a feature only when the operating system also saves the registers
// it needs.
var (
	// hasAVX2 covers the AVX2 kernels: AVX2 integer ops, FMA and F16C.
	hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C
	// hasVNNI covers the AVX-512 kernels, which run on 256-bit registers
	// (all 32 of them) with VPDPBUSD. Go's assembler encodes VPDPBUSD only in
	// its EVEX (AVX-512) form, so AVX-VNNI-only CPUs take the AVX2 path.
	hasVNNI = hasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI
)

// simdLevel names the kernels dispatched on this CPU.
func simdLevel() string {
	switch {
	case hasVNNI:
		return "avx512-vnni"
	case hasAVX2:
		return "avx2"
	}
	return "generic"
}
