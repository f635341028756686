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

// func maxAVX2(x *float32, n uintptr) (m float32, nan bool)
// The largest of n values (a multiple of 8, at least 8) and whether any is
// NaN, which VMAXPS would not report.
TEXT ·maxAVX2(SB), NOSPLIT, $0-21
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	VMOVUPS (SI), Y0
	VXORPS  Y2, Y2, Y2

maxloop:
	VMOVUPS (SI), Y1
	VCMPPS  $3, Y1, Y1, Y3 // unordered: NaN
	VORPS   Y3, Y2, Y2
	VMAXPS  Y1, Y0, Y0
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNZ     maxloop

	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXSS       X1, X0, X0
	MOVSS        X0, m+16(FP)
	VMOVMSKPS    Y2, AX
	TESTL        AX, AX
	SETNE        nan+20(FP)
	VZEROUPPER
	RET

// Constants of expShiftAVX2 (Cephes expf): exp(v) = 2^k * p(r) with
// k = round(v * log2(e)) and r = v - k*ln2 (ln2 split in two).
DATA expConst<>+0(SB)/4, $1.44269504088896341    // log2(e)
DATA expConst<>+4(SB)/4, $0.693359375            // ln2, high part
DATA expConst<>+8(SB)/4, $-2.12194440e-4         // ln2, low part
DATA expConst<>+12(SB)/4, $1.9875691500e-4       // p0
DATA expConst<>+16(SB)/4, $1.3981999507e-3       // p1
DATA expConst<>+20(SB)/4, $8.3334519073e-3       // p2
DATA expConst<>+24(SB)/4, $4.1665795894e-2       // p3
DATA expConst<>+28(SB)/4, $1.6666665459e-1       // p4
DATA expConst<>+32(SB)/4, $5.0000001201e-1       // p5
DATA expConst<>+36(SB)/4, $1.0
DATA expConst<>+40(SB)/4, $-174.0                // below: 2^k underflows in two steps
GLOBL expConst<>(SB), RODATA|NOPTR, $44

// func expShiftAVX2(x *float32, n uintptr, m float32) float32
// x[i] = exp(x[i] - m) for n values (a multiple of 8, all x[i] - m <= 0 or
// -Inf) and returns their sum. 2^k is applied as 2^max(k,-126) * 2^rest so
// that results in the subnormal range are rounded once, correctly.
TEXT ·expShiftAVX2(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS m+16(FP), Y15
	VBROADCASTSS expConst<>+0(SB), Y14
	VBROADCASTSS expConst<>+4(SB), Y13
	VBROADCASTSS expConst<>+8(SB), Y12
	VBROADCASTSS expConst<>+36(SB), Y11
	VBROADCASTSS expConst<>+40(SB), Y10
	MOVL         $127, AX
	MOVQ         AX, X9
	VPBROADCASTD X9, Y9
	MOVL         $-126, AX
	MOVQ         AX, X8
	VPBROADCASTD X8, Y8
	VXORPS       Y7, Y7, Y7

exploop:
	VMOVUPS      (SI), Y0
	VSUBPS       Y15, Y0, Y0
	VMAXPS       Y10, Y0, Y0
	VMULPS       Y14, Y0, Y1
	VROUNDPS     $0, Y1, Y1
	VFNMADD231PS Y13, Y1, Y0
	VFNMADD231PS Y12, Y1, Y0
	VBROADCASTSS expConst<>+12(SB), Y2
	VBROADCASTSS expConst<>+16(SB), Y3
	VFMADD213PS  Y3, Y0, Y2
	VBROADCASTSS expConst<>+20(SB), Y3
	VFMADD213PS  Y3, Y0, Y2
	VBROADCASTSS expConst<>+24(SB), Y3
	VFMADD213PS  Y3, Y0, Y2
	VBROADCASTSS expConst<>+28(SB), Y3
	VFMADD213PS  Y3, Y0, Y2
	VBROADCASTSS expConst<>+32(SB), Y3
	VFMADD213PS  Y3, Y0, Y2
	VMULPS       Y0, Y0, Y3
	VFMADD213PS  Y0, Y3, Y2
	VADDPS       Y11, Y2, Y2
	VCVTPS2DQ    Y1, Y1
	VPMAXSD      Y8, Y1, Y4
	VPSUBD       Y4, Y1, Y1
	VPADDD       Y9, Y4, Y4
	VPSLLD       $23, Y4, Y4
	VPADDD       Y9, Y1, Y1
	VPSLLD       $23, Y1, Y1
	VMULPS       Y4, Y2, Y2
	VMULPS       Y1, Y2, Y2
	VMOVUPS      Y2, (SI)
	VADDPS       Y2, Y7, Y7
	ADDQ         $32, SI
	SUBQ         $8, CX
	JNZ          exploop

	VEXTRACTF128 $1, Y7, X1
	VADDPS       X1, X7, X7
	VPERMILPS    $0x4e, X7, X1
	VADDPS       X1, X7, X7
	VPERMILPS    $0xb1, X7, X1
	VADDSS       X1, X7, X7
	MOVSS        X7, ret+24(FP)
	VZEROUPPER
	RET

// func scaleAVX2(x *float32, s float32, n uintptr)
// x[i] *= s; n: multiple of 8.
TEXT ·scaleAVX2(SB), NOSPLIT, $0-24
	MOVQ         x+0(FP), SI
	VBROADCASTSS s+8(FP), Y0
	MOVQ         n+16(FP), CX

scaleloop:
	VMULPS  (SI), Y0, Y1
	VMOVUPS Y1, (SI)
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNZ     scaleloop
	VZEROUPPER
	RET
