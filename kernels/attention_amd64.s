//go:build amd64 && !purego

#include "textflag.h"

// func dotRowsAVX2(dst, x, m *float32, stride, n, k uintptr, scale float32)
TEXT ·dotRowsAVX2(SB), NOSPLIT, $0-52
	MOVQ         dst+0(FP), DI
	MOVQ         m+16(FP), R8
	MOVQ         stride+24(FP), DX
	MOVQ         n+32(FP), BX
	VBROADCASTSS scale+48(FP), X15

four:
	CMPQ   BX, $4
	JLT    one
	MOVQ   x+8(FP), SI
	MOVQ   k+40(FP), CX
	LEAQ   (R8)(DX*1), R9
	LEAQ   (R8)(DX*2), R10
	LEAQ   (R9)(DX*2), R11
	XORQ   AX, AX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

fourloop:
	VMOVUPS     (SI)(AX*1), Y4
	VFMADD231PS (R8)(AX*1), Y4, Y0
	VFMADD231PS (R9)(AX*1), Y4, Y1
	VFMADD231PS (R10)(AX*1), Y4, Y2
	VFMADD231PS (R11)(AX*1), Y4, Y3
	ADDQ        $32, AX
	SUBQ        $8, CX
	JNZ         fourloop

	// Sums of the four accumulators into X0 = [s0 s1 s2 s3].
	VUNPCKLPS    Y1, Y0, Y4
	VUNPCKHPS    Y1, Y0, Y0
	VADDPS       Y4, Y0, Y0
	VUNPCKLPS    Y3, Y2, Y4
	VUNPCKHPS    Y3, Y2, Y2
	VADDPS       Y4, Y2, Y2
	VUNPCKLPD    Y2, Y0, Y4
	VUNPCKHPD    Y2, Y0, Y0
	VADDPS       Y4, Y0, Y0
	VEXTRACTF128 $1, Y0, X4
	VADDPS       X4, X0, X0
	VMULPS       X15, X0, X0
	VMOVUPS      X0, (DI)
	ADDQ         $16, DI
	LEAQ         (R8)(DX*4), R8
	SUBQ         $4, BX
	JMP          four

one:
	TESTQ  BX, BX
	JZ     done
	MOVQ   x+8(FP), SI
	MOVQ   k+40(FP), CX
	XORQ   AX, AX
	VXORPS Y0, Y0, Y0

oneloop:
	VMOVUPS     (SI)(AX*1), Y4
	VFMADD231PS (R8)(AX*1), Y4, Y0
	ADDQ        $32, AX
	SUBQ        $8, CX
	JNZ         oneloop

	VEXTRACTF128 $1, Y0, X4
	VADDPS       X4, X0, X0
	VPERMILPS    $0x4e, X0, X4
	VADDPS       X4, X0, X0
	VPERMILPS    $0xb1, X0, X4
	VADDSS       X4, X0, X0
	VMULSS       X15, X0, X0
	MOVSS        X0, (DI)
	ADDQ         $4, DI
	ADDQ         DX, R8
	DECQ         BX
	JMP          one

done:
	VZEROUPPER
	RET

// func addScaledRowsAVX2(y, w, m *float32, stride, n, k uintptr)
// Columns of y are taken 64 at a time (eight registers), then 8 at a time;
// for each column block every row is added in order.
TEXT ·addScaledRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ m+16(FP), R8
	MOVQ stride+24(FP), DX
	MOVQ k+40(FP), CX

block64:
	CMPQ    CX, $64
	JLT     block8
	VMOVUPS 0(DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VMOVUPS 128(DI), Y4
	VMOVUPS 160(DI), Y5
	VMOVUPS 192(DI), Y6
	VMOVUPS 224(DI), Y7
	MOVQ    w+8(FP), SI
	MOVQ    n+32(FP), BX
	MOVQ    R8, R9

rows64:
	VBROADCASTSS (SI), Y8
	VFMADD231PS  0(R9), Y8, Y0
	VFMADD231PS  32(R9), Y8, Y1
	VFMADD231PS  64(R9), Y8, Y2
	VFMADD231PS  96(R9), Y8, Y3
	VFMADD231PS  128(R9), Y8, Y4
	VFMADD231PS  160(R9), Y8, Y5
	VFMADD231PS  192(R9), Y8, Y6
	VFMADD231PS  224(R9), Y8, Y7
	ADDQ         $4, SI
	ADDQ         DX, R9
	DECQ         BX
	JNZ          rows64

	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ    $256, DI
	ADDQ    $256, R8
	SUBQ    $64, CX
	JMP     block64

block8:
	TESTQ   CX, CX
	JZ      done8
	VMOVUPS (DI), Y0
	MOVQ    w+8(FP), SI
	MOVQ    n+32(FP), BX
	MOVQ    R8, R9

rows8:
	VBROADCASTSS (SI), Y8
	VFMADD231PS  (R9), Y8, Y0
	ADDQ         $4, SI
	ADDQ         DX, R9
	DECQ         BX
	JNZ          rows8

	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, R8
	SUBQ    $8, CX
	JMP     block8

done8:
	VZEROUPPER
	RET
