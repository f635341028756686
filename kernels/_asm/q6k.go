package main

import "fmt"

// Q6_K x float32 kernels. A Q6_K block of 256 weights is 210 bytes: ql[128]
// (low four bits), qh[64] (high two bits), 16 int8 sub-block scales and the
// fp16 scale d. In each half of a block, ql[0:32], ql[32:64] and qh[0:32]
// hold four groups of 32 consecutive elements:
//
//	group 0: ql[l] & 15       | (qh[l] & 3) << 4
//	group 1: ql[l+32] & 15    | (qh[l] >> 2 & 3) << 4
//	group 2: ql[l] >> 4       | (qh[l] >> 4 & 3) << 4
//	group 3: ql[l+32] >> 4    | (qh[l] >> 6 & 3) << 4
//
// minus 32, and sub-block j (16 elements, in order) has scale d * sc[j]. Each
// row's block is decoded to int8 in a stack buffer (and its 16 scales to
// floats), then multiplied like the int8 rows of float.go.

const (
	q6Block = 210
	q6Frame = 256 + 64 // decoded weights, then the 16 scales
	q6Sc    = 256      // offset of the scales in the frame
)

// q6Decode writes the 256 int8 weights of the block at reg to 0(SP).
// Y0-Y5 are scratch; Y13 = 0x0f, Y14 = 0x30, Y15 = 32 in every byte.
func q6Decode(f *asmFile, reg string) {
	for h := 0; h < 2; h++ {
		ql0, ql1, qh := 128*0+64*h, 32+64*h, 128+32*h
		f.ins("VMOVDQU %d(%s), Y0", ql0, reg)
		f.ins("VMOVDQU %d(%s), Y1", ql1, reg)
		f.ins("VMOVDQU %d(%s), Y2", qh, reg)
		// group 0: (ql0 & 15) | (qh << 4 & 0x30)
		f.ins("VPAND Y13, Y0, Y3")
		f.ins("VPSLLW $4, Y2, Y4")
		f.ins("VPAND Y14, Y4, Y4")
		f.ins("VPOR Y4, Y3, Y3")
		f.ins("VPSUBB Y15, Y3, Y3")
		f.ins("VMOVDQU Y3, %d(SP)", 128*h)
		// group 1: (ql1 & 15) | (qh << 2 & 0x30)
		f.ins("VPAND Y13, Y1, Y3")
		f.ins("VPSLLW $2, Y2, Y4")
		f.ins("VPAND Y14, Y4, Y4")
		f.ins("VPOR Y4, Y3, Y3")
		f.ins("VPSUBB Y15, Y3, Y3")
		f.ins("VMOVDQU Y3, %d(SP)", 128*h+32)
		// group 2: (ql0 >> 4 & 15) | (qh & 0x30)
		f.ins("VPSRLW $4, Y0, Y3")
		f.ins("VPAND Y13, Y3, Y3")
		f.ins("VPAND Y14, Y2, Y4")
		f.ins("VPOR Y4, Y3, Y3")
		f.ins("VPSUBB Y15, Y3, Y3")
		f.ins("VMOVDQU Y3, %d(SP)", 128*h+64)
		// group 3: (ql1 >> 4 & 15) | (qh >> 2 & 0x30)
		f.ins("VPSRLW $4, Y1, Y3")
		f.ins("VPAND Y13, Y3, Y3")
		f.ins("VPSRLW $2, Y2, Y4")
		f.ins("VPAND Y14, Y4, Y4")
		f.ins("VPOR Y4, Y3, Y3")
		f.ins("VPSUBB Y15, Y3, Y3")
		f.ins("VMOVDQU Y3, %d(SP)", 128*h+96)
	}
	// Scales: d * sc[j], j = 0..15.
	f.ins("VPBROADCASTW 208(%s), X0", reg)
	f.ins("VCVTPH2PS X0, Y0")
	for i := 0; i < 2; i++ {
		f.ins("VPMOVSXBD %d(%s), Y1", 192+8*i, reg)
		f.ins("VCVTDQ2PS Y1, Y1")
		f.ins("VMULPS Y0, Y1, Y1")
		f.ins("VMOVUPS Y1, %d(SP)", q6Sc+32*i)
	}
}

// q6Kernel writes the Q6_K kernel for T tokens (at most 2): accumulators of
// row r and token t in Y(5 + t*4 + r).
func q6Kernel(f *asmFile, tokens int) string {
	name := fmt.Sprintf("q6kDotAVX2%d", tokens)
	f.text(name, fmt.Sprintf("%s is the AVX2 Q6_K x float32 kernel of %d weight rows and %d activation rows.", name, tileRows, tokens),
		floatParams, 8, q6Frame)
	for r, reg := range weightRegs {
		f.arg(fmt.Sprintf("w%d", r), r, reg)
	}
	f.arg("x", 4, "SI")
	f.arg("xstride", 5, "DI")
	f.arg("n", 6, "R9")
	f.arg("out", 7, "R10")
	floatPrefetch.start(f, q6Block)
	const acc0 = 5
	if acc0+tileRows*tokens > 13 {
		panic("q6Kernel: too many tokens")
	}
	acc := func(r, t int) string { return y(acc0 + t*tileRows + r) }
	zero(f, isaAVX2, seq(acc0, tileRows*tokens))
	broadcastByte(f, isaAVX2, 0x0f, 13)
	broadcastByte(f, isaAVX2, 0x30, 14)
	broadcastByte(f, isaAVX2, 0x20, 15)
	f.label("loop")
	floatPrefetch.step(f, q6Block)
	for r, reg := range weightRegs {
		q6Decode(f, reg)
		for j := 0; j < 16; j++ {
			f.ins("VBROADCASTSS %d(SP), Y0", q6Sc+4*j)
			for k := 0; k < 2; k++ {
				e := 16*j + 8*k
				f.ins("VPMOVSXBD %d(SP), Y1", e)
				f.ins("VCVTDQ2PS Y1, Y1")
				f.ins("VMULPS Y0, Y1, Y1")
				for t := 0; t < tokens; t++ {
					f.ins("VFMADD231PS %s, Y1, %s", actAddr(t, 4*e), acc(r, t))
				}
			}
		}
	}
	for _, reg := range weightRegs {
		f.ins("ADDQ $%d, %s", q6Block, reg)
	}
	f.ins("ADDQ $%d, SI", 4*256)
	f.ins("DECQ R9")
	f.ins("JNZ loop")
	// Accumulators are token-major; the reducer stores them in that order,
	// which the caller reads as out[t*4 + r].
	red := reducer{f: f, isa: isaAVX2, float: true, out: "R10", tmp: 0}
	red.reduce(seq(acc0, tileRows*tokens), 0)
	f.ins("VZEROUPPER")
	f.ins("RET")
	return name
}
