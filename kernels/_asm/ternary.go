package main

import "fmt"

// Ternary x int8 tile kernels.
//
// Every kernel multiplies four weight rows (w0..w3, each a pointer to the
// first block to process) by T int8 activation rows (q, q+qstride, ...) over
// nblk blocks, using the unsigned weight codes c = w+1 in {0, 1, 2} (a
// corrupt 2-bit code 3 is used as it stands, c = 3, w = +2, as the scalar
// oracle reads it):
//
//	total kernels:  dst[t*dstride + r] = float32(S[r,t] - sums[t]) * d / scales[t]
//	                with S[r,t] = sum over the nblk blocks of c[r,k]*q[t,k]
//	                (out is scratch for the 4T integer totals)
//	blocks kernels: out[(b*T + t)*4 + r] = sum over block b of (c[r,k]-1)*q[t,k]
//
// sum(q) comes from QuantizedRows.Sum for the totals; the blocks kernels
// compute each block's activation sum themselves, with a multiply by an
// all-ones code vector. Accumulators are kept token-major (four rows of a
// token together) so that a token's four outputs are one 128-bit store.
//
// Both 2-bit formats store 32 consecutive code bytes per group, and shift 2s
// of byte m of a group holds the code of element act[s]+m of the block, so
// one 256-bit load, a shift and a mask give the codes of 32 consecutive
// elements, matching a plain load of 32 activations.

// ternaryFormat describes a packed 2-bit ternary encoding.
type ternaryFormat struct {
	name       string // function name prefix
	title      string // for comments
	blockBytes int
	blockElems int
	groups     []codeGroup
}

// codeGroup is 32 code bytes of a block.
type codeGroup struct {
	off int    // byte offset in the block
	act [4]int // element offset in the block of the codes at shift 0, 2, 4, 6
}

var (
	// TQ2_0: 66-byte blocks of 256; element j*128 + l*32 + m comes from
	// (qs[j*32+m] >> 2l) & 3, then the fp16 scale.
	formatTQ2 = ternaryFormat{"tq2", "TQ2_0", 66, 256, []codeGroup{
		{0, [4]int{0, 32, 64, 96}},
		{32, [4]int{128, 160, 192, 224}},
	}}
	// I2_S: 32-byte blocks of 128; element j sits in byte j%32 at shift
	// 6 - 2*(j/32).
	formatI2S = ternaryFormat{"i2s", "I2_S", 32, 128, []codeGroup{
		{0, [4]int{96, 64, 32, 0}},
	}}
)

// tileRows is the number of weight rows every ternary kernel handles.
const tileRows = 4

// Register plan shared by the ternary kernels.
var weightRegs = [tileRows]string{"AX", "BX", "CX", "DX"}

const (
	regMask  = 0 // 0x03 in every byte
	regCode  = 1 // codes of row r in register regCode+r
	regAct   = 5 // activations
	regTmp   = 6 // scratch
	regOnes  = 7 // 0x01 in every byte (blocks kernels)
	regAcc0  = 8 // first accumulator
	ternArgs = 8
)

// ternaryParams are the parameters of the blocks kernels; the total kernels
// take ternaryTotalParams, which add what their epilogue needs.
const (
	ternaryParams      = "w0, w1, w2, w3 *byte, q *int8, qstride, nblk uintptr, out *int32"
	ternaryTotalParams = ternaryParams + ", sums *int32, scales *float32, d float32, dst *float32, dstride uintptr"
	ternTotalArgs      = ternArgs + 5
)

// totalEpilogue turns the integer totals at out (token-major: four rows per
// token) into outputs: dst[t*dstride + r] = float32(total - sums[t]) * d /
// scales[t], the scalar oracle's arithmetic for one scale per matrix, four
// rows at a time.
func totalEpilogue(f *asmFile, tokens int) {
	f.arg("sums", 8, "AX")
	f.arg("scales", 9, "BX")
	f.ins("VBROADCASTSS d+80(FP), X0")
	f.arg("dst", 11, "CX")
	f.arg("dstride", 12, "DX")
	for t := 0; t < tokens; t++ {
		f.ins("VPBROADCASTD %d(AX), X1", 4*t)
		f.ins("VMOVDQU %d(R10), X2", 16*t)
		f.ins("VPSUBD X1, X2, X2")
		f.ins("VCVTDQ2PS X2, X2")
		f.ins("VMULPS X0, X2, X2")
		f.ins("VBROADCASTSS %d(BX), X1", 4*t)
		f.ins("VDIVPS X1, X2, X2")
		f.ins("VMOVUPS X2, (CX)")
		if t+1 < tokens {
			f.ins("ADDQ DX, CX")
		}
	}
}

// actAddr addresses activation row t at element offset off: rows 0-2 from
// SI, rows 3-5 from R8 = SI + 3*qstride, with DI = qstride.
func actAddr(t, off int) string {
	base := "SI"
	if t >= 3 {
		base, t = "R8", t-3
	}
	switch t {
	case 0:
		return fmt.Sprintf("%d(%s)", off, base)
	case 1:
		return fmt.Sprintf("%d(%s)(DI*1)", off, base)
	default:
		return fmt.Sprintf("%d(%s)(DI*2)", off, base)
	}
}

// ternaryPrologue loads the arguments and the byte mask.
func ternaryPrologue(f *asmFile, isa vecISA, tokens int) {
	for r, reg := range weightRegs {
		f.arg(fmt.Sprintf("w%d", r), r, reg)
	}
	f.arg("q", 4, "SI")
	f.arg("qstride", 5, "DI")
	f.arg("nblk", 6, "R9")
	f.arg("out", 7, "R10")
	if tokens > 3 {
		f.ins("LEAQ (SI)(DI*2), R8")
		f.ins("ADDQ DI, R8")
	}
	broadcastByte(f, isa, 0x03, regMask)
}

// broadcastByte fills vector register v with the byte b.
func broadcastByte(f *asmFile, isa vecISA, b byte, v int) {
	f.ins("MOVL $0x%02x%02x%02x%02x, R11", b, b, b, b)
	if isa == isaEVEX {
		f.ins("VPBROADCASTD R11, %s", y(v))
	} else {
		f.ins("MOVQ R11, %s", x(v))
		f.ins("VPBROADCASTD %s, %s", x(v), y(v))
	}
}

// Prefetching. A tile's four rows are consecutive in memory and the kernels
// read them as four interleaved streams, which the hardware prefetchers
// follow poorly. The kernels therefore request the tiles after the current
// one in address order: when a call covers whole rows (as in a row range of
// a product), the next tile starts where row 3 ends, n steps after w3. R13
// walks some tiles ahead, advancing by four rows' worth of a step
// per step, which keeps a steady distance without knowing the row length.

// prefetcher is how a kernel family prefetches: how many tiles ahead, with
// which instruction. Measured on the 2B4T shapes (a tile of TQ2_0 rows is
// 2.6 KB, of F16 rows 20 KB): small tiles stream best into L1 with
// PREFETCHNTA two tiles ahead, large ones into L2 with PREFETCHT1.
type prefetcher struct {
	tiles int
	op    string
}

var (
	ternaryPrefetch = prefetcher{2, "PREFETCHNTA"}
	floatPrefetch   = prefetcher{2, "PREFETCHT1"}
)

// start sets R13 from w3 (DX) and the step count in R9, for steps of
// stepBytes per row.
func (p prefetcher) start(f *asmFile, stepBytes int) {
	if p.tiles == 0 {
		return
	}
	f.ins("IMUL3Q $%d, R9, R13", stepBytes*(1+tileRows*(p.tiles-1)))
	f.ins("ADDQ DX, R13")
}

// step requests the lines of the next stepBytes*tileRows bytes at R13 and
// advances R13 past them.
func (p prefetcher) step(f *asmFile, stepBytes int) {
	if p.tiles == 0 {
		return
	}
	for off := 0; off < tileRows*stepBytes; off += 64 {
		f.ins("%s %d(R13)", p.op, off)
	}
	f.ins("ADDQ $%d, R13", tileRows*stepBytes)
}

// advance moves the weight and activation pointers to the next block.
func advance(f *asmFile, ft ternaryFormat, tokens int) {
	for _, reg := range weightRegs {
		f.ins("ADDQ $%d, %s", ft.blockBytes, reg)
	}
	f.ins("ADDQ $%d, SI", ft.blockElems)
	if tokens > 3 {
		f.ins("ADDQ $%d, R8", ft.blockElems)
	}
}

func zero(f *asmFile, isa vecISA, regs []int) {
	op := "VPXOR"
	if isa == isaEVEX {
		op = "VPXORD"
	}
	for _, v := range regs {
		f.ins("%s %s, %s, %s", op, y(v), y(v), y(v))
	}
}

func seq(from, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = from + i
	}
	return s
}

// ternaryVNNI writes a kernel on 256-bit registers with VPDPBUSD (AVX-512
// VNNI + VL + BW). The accumulator of row r and token t is Y(8 + r*T + t);
// blocks kernels keep the activation sum of token t in Y(8 + 4T + t).
func ternaryVNNI(f *asmFile, ft ternaryFormat, tokens int, blocks bool) string {
	kind := "Total"
	if blocks {
		kind = "Blocks"
	}
	name := fmt.Sprintf("%s%sVNNI%d", ft.name, kind, tokens)
	params, nargs := ternaryTotalParams, ternTotalArgs
	if blocks {
		params, nargs = ternaryParams, ternArgs
	}
	f.text(name, fmt.Sprintf("%s is the AVX-512 VNNI %s x int8 kernel of %d weight rows and %d activation rows (%s).",
		name, ft.title, tileRows, tokens, map[bool]string{false: "outputs of a matrix with one scale", true: "ternary dot per block"}[blocks]),
		params, nargs, 0)
	ternaryPrologue(f, isaEVEX, tokens)
	ternaryPrefetch.start(f, ft.blockBytes)
	acc := func(r, t int) string { return y(regAcc0 + t*tileRows + r) }
	nacc := tileRows * tokens
	sum := func(t int) string { return y(regAcc0 + nacc + t) }
	if blocks {
		broadcastByte(f, isaEVEX, 0x01, regOnes)
		zero(f, isaEVEX, seq(regAcc0, nacc+tokens))
	} else {
		zero(f, isaEVEX, seq(regAcc0, nacc))
	}
	// TQ2_0's 66-byte blocks put many 32-byte groups across cache lines; with
	// few tokens (registers to spare) such a group is loaded once into
	// Y25..Y28 and shifted there, rather than loaded again for each shift
	// (about 4% faster decoding; I2_S's aligned groups gain nothing).
	held := tokens <= 4 && !blocks && ft.blockBytes%32 != 0
	f.label("loop")
	ternaryPrefetch.step(f, ft.blockBytes)
	for _, g := range ft.groups {
		if held {
			for r, reg := range weightRegs {
				f.ins("VMOVDQU32 %d(%s), %s", g.off, reg, y(25+r))
			}
		}
		for s := 0; s < 4; s++ {
			for r, reg := range weightRegs {
				c := y(regCode + r)
				if held {
					if s == 0 {
						f.ins("VPANDD %s, %s, %s", y(25+r), y(regMask), c)
					} else {
						f.ins("VPSRLW $%d, %s, %s", 2*s, y(25+r), c)
						f.ins("VPANDD %s, %s, %s", y(regMask), c, c)
					}
					continue
				}
				if s == 0 {
					f.ins("VPANDD %d(%s), %s, %s", g.off, reg, y(regMask), c)
				} else {
					f.ins("VPSRLW $%d, %d(%s), %s", 2*s, g.off, reg, c)
					f.ins("VPANDD %s, %s, %s", y(regMask), c, c)
				}
			}
			for t := 0; t < tokens; t++ {
				f.ins("VMOVDQU %s, %s", actAddr(t, g.act[s]), y(regAct))
				for r := 0; r < tileRows; r++ {
					f.ins("VPDPBUSD %s, %s, %s", y(regAct), y(regCode+r), acc(r, t))
				}
				if blocks {
					f.ins("VPDPBUSD %s, %s, %s", y(regAct), y(regOnes), sum(t))
				}
			}
		}
	}
	advance(f, ft, tokens)
	red := reducer{f: f, isa: isaEVEX, out: "R10", tmp: regTmp}
	if blocks {
		for r := 0; r < tileRows; r++ {
			for t := 0; t < tokens; t++ {
				f.ins("VPSUBD %s, %s, %s", sum(t), acc(r, t), acc(r, t))
			}
		}
		red.reduce(seq(regAcc0, nacc), 0)
		f.ins("ADDQ $%d, R10", 4*nacc)
		zero(f, isaEVEX, seq(regAcc0, nacc+tokens))
	}
	f.ins("DECQ R9")
	f.ins("JNZ loop")
	if !blocks {
		red.reduce(seq(regAcc0, nacc), 0)
		totalEpilogue(f, tokens)
	}
	f.ins("VZEROUPPER")
	f.ins("RET")
	return name
}

// maxAVX2Steps is the most 32-element steps whose VPMADDUBSW pair sums
// VPADDW may add in a 16-bit lane. A valid code is at most 2, but a corrupt
// file may hold the 2-bit code 3, which the scalar oracle reads as +2 (c-1);
// so a pair c0*q0 + c1*q1 lies in [-768, 762] (3 * -128 * 2, 3 * 127 * 2)
// and 42 of them stay in int16 (42 * 768 = 32256 < 32768): the kernels then
// agree with the oracle whatever the bytes. (VPMADDUBSW itself never
// saturates: 768 < 32767.)
const maxAVX2Steps = 42

// ternaryAVX2 writes a kernel with VPMADDUBSW (AVX2). Products of the codes
// and int8 activations are summed in pairs to 16 bits, which VPADDW
// accumulates exactly for up to maxAVX2Steps steps of 32 elements; then
// VPMADDWD widens to 32 bits and the lanes are reduced into out. The
// accumulator of row r and token t is Y(8 + r*T + t); blocks kernels keep the
// activation sum in Y12 (one token) and take one block (at most 8 steps) at a
// time, so their 16-bit sums stay within 8 * [-768, 762] and 8 * [-256, 254],
// and the difference acc - sum within [-8176, 8144].
func ternaryAVX2(f *asmFile, ft ternaryFormat, tokens int, blocks bool) string {
	kind := "Total"
	if blocks {
		kind = "Blocks"
	}
	name := fmt.Sprintf("%s%sAVX2%d", ft.name, kind, tokens)
	params, nargs := ternaryTotalParams, ternTotalArgs
	if blocks {
		params, nargs = ternaryParams, ternArgs
	}
	f.text(name, fmt.Sprintf("%s is the AVX2 %s x int8 kernel of %d weight rows and %d activation rows (%s).",
		name, ft.title, tileRows, tokens, map[bool]string{false: "outputs of a matrix with one scale", true: "ternary dot per block"}[blocks]),
		params, nargs, 0)
	ternaryPrologue(f, isaAVX2, tokens)
	ternaryPrefetch.start(f, ft.blockBytes)
	acc := func(r, t int) string { return y(regAcc0 + t*tileRows + r) }
	nacc := tileRows * tokens
	if nacc+1 > 16-regAcc0 && blocks || nacc > 16-regAcc0 {
		panic("ternaryAVX2: too many accumulators")
	}
	sum := y(regAcc0 + nacc)
	red := reducer{f: f, isa: isaAVX2, out: "R10", tmp: regTmp, accumulate: !blocks}
	body := func() {
		ternaryPrefetch.step(f, ft.blockBytes)
		for _, g := range ft.groups {
			for s := 0; s < 4; s++ {
				for r, reg := range weightRegs {
					c := y(regCode + r)
					f.ins("VMOVDQU %d(%s), %s", g.off, reg, c)
					if s > 0 {
						f.ins("VPSRLW $%d, %s, %s", 2*s, c, c)
					}
					f.ins("VPAND %s, %s, %s", y(regMask), c, c)
				}
				for t := 0; t < tokens; t++ {
					f.ins("VMOVDQU %s, %s", actAddr(t, g.act[s]), y(regAct))
					for r := 0; r < tileRows; r++ {
						f.ins("VPMADDUBSW %s, %s, %s", y(regAct), y(regCode+r), y(regTmp))
						f.ins("VPADDW %s, %s, %s", y(regTmp), acc(r, t), acc(r, t))
					}
					if blocks {
						f.ins("VPMADDUBSW %s, %s, %s", y(regAct), y(regOnes), y(regTmp))
						f.ins("VPADDW %s, %s, %s", y(regTmp), sum, sum)
					}
				}
			}
		}
		advance(f, ft, tokens)
	}
	widen := func() {
		for i := 0; i < nacc; i++ {
			f.ins("VPMADDWD ones16<>(SB), %s, %s", y(regAcc0+i), y(regAcc0+i))
		}
	}
	if blocks {
		if tokens != 1 {
			panic("ternaryAVX2: blocks kernels take one token")
		}
		broadcastByte(f, isaAVX2, 0x01, regOnes)
		f.label("loop")
		zero(f, isaAVX2, seq(regAcc0, nacc+1))
		body()
		for r := 0; r < tileRows; r++ {
			f.ins("VPSUBW %s, %s, %s", sum, acc(r, 0), acc(r, 0))
		}
		widen()
		red.reduce(seq(regAcc0, nacc), 0)
		f.ins("ADDQ $%d, R10", 4*nacc)
		f.ins("DECQ R9")
		f.ins("JNZ loop")
	} else {
		steps := 4 * len(ft.groups)   // 32-element steps per block
		chunk := maxAVX2Steps / steps // blocks per 16-bit accumulation
		f.comment("out = 0")
		zero(f, isaAVX2, []int{regTmp})
		for off := 0; off < 4*nacc; off += 16 {
			f.ins("VMOVDQU %s, %d(R10)", x(regTmp), off)
		}
		f.label("chunk")
		f.ins("MOVQ $%d, R12", chunk)
		f.ins("CMPQ R9, R12")
		f.ins("CMOVQLT R9, R12")
		f.ins("SUBQ R12, R9")
		zero(f, isaAVX2, seq(regAcc0, nacc))
		f.label("loop")
		body()
		f.ins("DECQ R12")
		f.ins("JNZ loop")
		widen()
		red.reduce(seq(regAcc0, nacc), 0)
		f.ins("TESTQ R9, R9")
		f.ins("JNZ chunk")
		totalEpilogue(f, tokens)
	}
	f.ins("VZEROUPPER")
	f.ins("RET")
	return name
}
