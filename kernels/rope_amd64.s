//go:build amd64 && !purego

#include "textflag.h"

// AVX2 rotary position embedding (rope_amd64.go). Each pair (a, b) becomes
// (a*c - b*s, a*s + b*c) with every product rounded before the sum, as the
// scalar rotatePair computes it: no FMA, so the results agree bit for bit.

// func ropeNeoxAVX2(x, cs *float32, heads, stride, half, n uintptr)
// Pairs (i, i+half), 8 per step: a and b are contiguous vectors.
TEXT ·ropeNeoxAVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), DI
	MOVQ cs+8(FP), SI
	MOVQ heads+16(FP), CX
	MOVQ stride+24(FP), R8
	MOVQ half+32(FP), R9
	SHLQ $2, R9               // half in bytes
	MOVQ n+40(FP), R10
	SHLQ $2, R10              // n in bytes
	LEAQ (SI)(R9*1), R11      // sines
	LEAQ (DI)(R9*1), R12      // b of the first head

neoxHead:
	XORQ AX, AX

neoxStep:
	VMOVUPS (SI)(AX*1), Y0    // c
	VMOVUPS (R11)(AX*1), Y1   // s
	VMOVUPS (DI)(AX*1), Y2    // a
	VMOVUPS (R12)(AX*1), Y3   // b
	VMULPS  Y0, Y2, Y4        // a*c
	VMULPS  Y1, Y3, Y5        // b*s
	VSUBPS  Y5, Y4, Y4        // a*c - b*s
	VMULPS  Y1, Y2, Y6        // a*s
	VMULPS  Y0, Y3, Y7        // b*c
	VADDPS  Y7, Y6, Y6        // a*s + b*c
	VMOVUPS Y4, (DI)(AX*1)
	VMOVUPS Y6, (R12)(AX*1)
	ADDQ    $32, AX
	CMPQ    AX, R10
	JLT     neoxStep
	ADDQ    R8, DI
	ADDQ    R8, R12
	DECQ    CX
	JNZ     neoxHead
	VZEROUPPER
	RET

// func ropeNormAVX2(x, cs *float32, heads, stride, half, n uintptr)
// Pairs (2i, 2i+1), 4 per step: x = (a0 b0 a1 b1 ...) is multiplied by
// (c0 c0 c1 c1 ...), its pair-swapped copy (b0 a0 b1 a1 ...) by
// (s0 s0 s1 s1 ...), and VADDSUBPS subtracts in the even lanes (a*c - b*s)
// and adds in the odd ones (b*c + a*s).
TEXT ·ropeNormAVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), DI
	MOVQ cs+8(FP), SI
	MOVQ heads+16(FP), CX
	MOVQ stride+24(FP), R8
	MOVQ half+32(FP), R9
	SHLQ $2, R9               // half in bytes
	MOVQ n+40(FP), R10
	SHLQ $2, R10              // n in bytes
	LEAQ (SI)(R9*1), R11      // sines

normHead:
	XORQ AX, AX               // table offset; x offset is 2*AX

normStep:
	VPMOVZXDQ (SI)(AX*1), Y0  // c0 0 c1 0 c2 0 c3 0
	VMOVSLDUP Y0, Y0          // c0 c0 c1 c1 c2 c2 c3 c3
	VPMOVZXDQ (R11)(AX*1), Y1
	VMOVSLDUP Y1, Y1          // s0 s0 s1 s1 ...
	VMOVUPS   (DI)(AX*2), Y2  // a0 b0 a1 b1 ...
	VPERMILPS $0xb1, Y2, Y3   // b0 a0 b1 a1 ...
	VMULPS    Y0, Y2, Y4      // a*c, b*c
	VMULPS    Y1, Y3, Y5      // b*s, a*s
	VADDSUBPS Y5, Y4, Y4      // a*c - b*s, b*c + a*s
	VMOVUPS   Y4, (DI)(AX*2)
	ADDQ      $16, AX
	CMPQ      AX, R10
	JLT       normStep
	ADDQ      R8, DI
	DECQ      CX
	JNZ       normHead
	VZEROUPPER
	RET
