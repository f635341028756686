//go:build amd64 && !purego

#include "textflag.h"

// AVX2/FMA vector kernels for float32 rows. Every function takes an element
// count n that is a positive multiple of its step; the Go callers handle the
// remaining elements (vector_amd64.go).

// func dotAVX2(a, b *float32, n uintptr) float32
// n: multiple of 8. Four accumulators over 32 elements per iteration.
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	MOVQ   a+0(FP), SI
	MOVQ   b+8(FP), DI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $32
	JLT    dot8

dot32:
	VMOVUPS     0(SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS 0(DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JGE         dot32

dot8:
	TESTQ       CX, CX
	JZ          dotsum
	VMOVUPS     0(SI), Y4
	VFMADD231PS 0(DI), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         dot8

dotsum:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VADDPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VADDSS       X1, X0, X0
	MOVSS        X0, ret+24(FP)
	VZEROUPPER
	RET

// func axpyAVX2(y, x *float32, alpha float32, n uintptr)
// y[i] += alpha * x[i]; n: multiple of 8.
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	VBROADCASTSS alpha+16(FP), Y0
	MOVQ         n+24(FP), CX
	CMPQ         CX, $32
	JLT          axpy8

axpy32:
	VMOVUPS     0(DI), Y1
	VMOVUPS     32(DI), Y2
	VMOVUPS     64(DI), Y3
	VMOVUPS     96(DI), Y4
	VFMADD231PS 0(SI), Y0, Y1
	VFMADD231PS 32(SI), Y0, Y2
	VFMADD231PS 64(SI), Y0, Y3
	VFMADD231PS 96(SI), Y0, Y4
	VMOVUPS     Y1, 0(DI)
	VMOVUPS     Y2, 32(DI)
	VMOVUPS     Y3, 64(DI)
	VMOVUPS     Y4, 96(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JGE         axpy32

axpy8:
	TESTQ       CX, CX
	JZ          axpydone
	VMOVUPS     0(DI), Y1
	VFMADD231PS 0(SI), Y0, Y1
	VMOVUPS     Y1, 0(DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         axpy8

axpydone:
	VZEROUPPER
	RET

// func absMaxBitsAVX2(x *float32, n uintptr) uint32
// The largest of the bit patterns of |x[i]| (sign cleared), as unsigned
// integers: for non-negative floats that order is the numeric one, with +Inf
// above every finite value and NaNs above +Inf. n: multiple of 8.
TEXT ·absMaxBitsAVX2(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	MOVL         $0x7fffffff, AX
	MOVQ         AX, X4
	VPBROADCASTD X4, Y4
	VPXOR        Y0, Y0, Y0
	VPXOR        Y1, Y1, Y1

amax:
	VPAND   0(SI), Y4, Y2
	VPMAXUD Y2, Y0, Y0
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNZ     amax

	VEXTRACTI128 $1, Y0, X1
	VPMAXUD      X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPMAXUD      X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPMAXUD      X1, X0, X0
	MOVL         X0, ret+16(FP)
	VZEROUPPER
	RET

// func quantizeI8AVX2(q *int8, x *float32, n uintptr, scale float32) int32
// q[i] = saturate(roundHalfEven(x[i] * scale)) and returns the sum of q.
// VCVTPS2DQ rounds to nearest even (the MXCSR default). n: multiple of 32.
TEXT ·quantizeI8AVX2(SB), NOSPLIT, $0-36
	MOVQ         q+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS scale+24(FP), Y0
	VMOVDQU      packOrder<>(SB), Y7
	VPXOR        Y8, Y8, Y8

quant:
	VMULPS      0(SI), Y0, Y1
	VMULPS      32(SI), Y0, Y2
	VMULPS      64(SI), Y0, Y3
	VMULPS      96(SI), Y0, Y4
	VCVTPS2DQ   Y1, Y1
	VCVTPS2DQ   Y2, Y2
	VCVTPS2DQ   Y3, Y3
	VCVTPS2DQ   Y4, Y4
	VPADDD      Y1, Y8, Y8
	VPADDD      Y2, Y8, Y8
	VPADDD      Y3, Y8, Y8
	VPADDD      Y4, Y8, Y8
	VPACKSSDW   Y2, Y1, Y1
	VPACKSSDW   Y4, Y3, Y3
	VPACKSSWB   Y3, Y1, Y1
	VPERMD      Y1, Y7, Y1
	VMOVDQU     Y1, 0(DI)
	ADDQ        $128, SI
	ADDQ        $32, DI
	SUBQ        $32, CX
	JNZ         quant

	VEXTRACTI128 $1, Y8, X1
	VPADDD       X1, X8, X8
	VPSHUFD      $0x4e, X8, X1
	VPADDD       X1, X8, X8
	VPSHUFD      $0xb1, X8, X1
	VPADDD       X1, X8, X8
	MOVL         X8, ret+32(FP)
	VZEROUPPER
	RET

// The dword order that undoes the lane interleaving of VPACKSSDW+VPACKSSWB.
DATA packOrder<>+0(SB)/4, $0
DATA packOrder<>+4(SB)/4, $4
DATA packOrder<>+8(SB)/4, $1
DATA packOrder<>+12(SB)/4, $5
DATA packOrder<>+16(SB)/4, $2
DATA packOrder<>+20(SB)/4, $6
DATA packOrder<>+24(SB)/4, $3
DATA packOrder<>+28(SB)/4, $7
GLOBL packOrder<>(SB), RODATA|NOPTR, $32

// func sumSquaresAVX2(x *float32, n uintptr) float64
// The sum of x[i]^2 in float64; n: multiple of 8.
TEXT ·sumSquaresAVX2(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1

sumsq:
	VCVTPS2PD   0(SI), Y2
	VCVTPS2PD   16(SI), Y3
	VFMADD231PD Y2, Y2, Y0
	VFMADD231PD Y3, Y3, Y1
	ADDQ        $32, SI
	SUBQ        $8, CX
	JNZ         sumsq

	VADDPD       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VPERMILPD    $1, X0, X1
	VADDSD       X1, X0, X0
	MOVSD        X0, ret+16(FP)
	VZEROUPPER
	RET

// func scaleMulAVX2(dst, x, w *float32, s float32, n uintptr)
// dst[i] = x[i] * s * w[i], rounding after each product; n: multiple of 8.
TEXT ·scaleMulAVX2(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         w+16(FP), DX
	VBROADCASTSS s+24(FP), Y0
	MOVQ         n+32(FP), CX

scalemul:
	VMULPS  0(SI), Y0, Y1
	VMULPS  0(DX), Y1, Y1
	VMOVUPS Y1, 0(DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     scalemul
	VZEROUPPER
	RET

// func relu2MulAVX2(gate, up *float32, n uintptr)
// gate[i] = max(gate[i], 0)^2 * up[i]; n: multiple of 8. VMAXPS returns its
// second source when either is NaN or both are zeros, so gate is put there:
// NaN propagates and -0 squares to +0, as in the scalar code.
TEXT ·relu2MulAVX2(SB), NOSPLIT, $0-24
	MOVQ   gate+0(FP), DI
	MOVQ   up+8(FP), SI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0

relu2:
	VMOVUPS 0(DI), Y1
	VMAXPS  Y1, Y0, Y1
	VMULPS  Y1, Y1, Y1
	VMULPS  0(SI), Y1, Y1
	VMOVUPS Y1, 0(DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNZ     relu2
	VZEROUPPER
	RET
