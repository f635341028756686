package main

import "fmt"

// TQ1_0 kernels. A TQ1_0 block of 256 weights is 54 bytes: qs[0:32] hold
// five base-3 digits per byte for elements m + 32n, qs[32:48] five digits
// for elements 160 + m + 16n, qh[0:4] four digits for 240 + j + 4n, then the
// fp16 scale. A byte stores ceil(v * 256/243) for the digits' value v, so
// digit n (most significant first) is the code c = (3q) >> 8 of
// q = byte * 3^n mod 256, in {0, 1, 2}: the same unsigned codes as the 2-bit
// formats, so the products are those of ternary.go.
//
// Per row and block, eight code vectors of 32 consecutive elements are made:
//
//	elements   0..159: qs[0:32] times 1, 3, 9, 27, 81
//	elements 160..223: qs[32:48] in both halves, times (1 | 3) and (9 | 27)
//	elements 224..255: qs[32:48] times 81 in the low half, qh times
//	                   (1, 3, 9, 27) per 32-bit lane in the high half
//
// Byte multiplies by 3 are two byte additions (wrapping), and the code of a
// byte q is (q >= 86) + (q >= 171), two compares. The kernels walk the rows of a tile one after another within a
// block, keeping one digit register; activations are read from memory.

// Registers of the TQ1_0 kernels.
const (
	tq1Flip  = 0 // 0x80 in every byte
	tq1Lo    = 1 // -43: q >= 86 is (q^0x80) > -43
	tq1Hi    = 2 // 42: q >= 171 is (q^0x80) > 42
	tq1Q     = 3 // digits times a power of three
	tq1Code  = 4 // the codes
	tq1Mask  = 5 // scratch
	tq1Tmp   = 6 // scratch
	tq1Ones  = 7 // 0x01 in every byte (blocks kernels)
	tq1Block = 54
)

// times3 multiplies the bytes of v by 3 (modulo 256), n times.
func times3(f *asmFile, v string, tmp string, n int) {
	for i := 0; i < n; i++ {
		f.ins("VPADDB %s, %s, %s", v, v, tmp)
		f.ins("VPADDB %s, %s, %s", tmp, v, v)
	}
}

// tq1Codes writes the codes of the digits in tq1Q to tq1Code. With AVX-512
// the two unsigned compares go to mask registers and the code is built with
// a zeroing move and a masked add of ones (4 instructions); with AVX2 the
// compares are signed, after flipping the top bit (5 instructions).
func tq1Codes(f *asmFile, isa vecISA) {
	q, c, m := y(tq1Q), y(tq1Code), y(tq1Mask)
	if isa == isaEVEX {
		f.ins("VPCMPUB $5, %s, %s, K1", y(tq1Lo), q) // q >= 86
		f.ins("VPCMPUB $5, %s, %s, K2", y(tq1Hi), q) // q >= 171
		f.ins("VMOVDQU8.Z %s, K1, %s", y(tq1Flip), c)
		f.ins("VPADDB %s, %s, K2, %s", y(tq1Flip), c, c)
		return
	}
	f.ins("VPXOR %s, %s, %s", y(tq1Flip), q, c)
	f.ins("VPCMPGTB %s, %s, %s", y(tq1Lo), c, m)
	f.ins("VPCMPGTB %s, %s, %s", y(tq1Hi), c, c)
	f.ins("VPADDB %s, %s, %s", m, c, c)
	f.ins("VPABSB %s, %s", c, c)
}

// tq1Row writes the code vectors of one row's block (at reg) in order,
// calling use with the element offset of each.
func tq1Row(f *asmFile, isa vecISA, reg string, use func(off int)) {
	q, tmp := y(tq1Q), y(tq1Tmp)
	f.ins("VMOVDQU (%s), %s", reg, q)
	for n := 0; n < 5; n++ {
		if n > 0 {
			times3(f, q, tmp, 1)
		}
		tq1Codes(f, isa)
		use(32 * n)
	}
	f.ins("VBROADCASTI128 32(%s), %s", reg, q)
	f.ins("VPADDB %s, %s, %s", q, q, tmp)
	f.ins("VPADDB %s, %s, %s", q, tmp, tmp)
	f.ins("VPBLENDD $0xf0, %s, %s, %s", tmp, q, q)
	tq1Codes(f, isa)
	use(160)
	times3(f, q, tmp, 2)
	tq1Codes(f, isa)
	use(192)
	times3(f, q, tmp, 2)
	// qh: (h, 3h, 9h, 27h) in the four 32-bit lanes of an XMM register.
	h, t := x(tq1Code), x(tq1Mask)
	f.ins("VPBROADCASTD 48(%s), %s", reg, h)
	for i, mask := range []int{0xe, 0xc, 0x8} {
		_ = i
		f.ins("VPADDB %s, %s, %s", h, h, t)
		f.ins("VPADDB %s, %s, %s", h, t, t)
		f.ins("VPBLENDD $0x%x, %s, %s, %s", mask, t, h, h)
	}
	f.ins("VINSERTI128 $1, %s, %s, %s", h, q, q)
	tq1Codes(f, isa)
	use(224)
}

// tq1Constants loads the byte constants of the code extraction: for AVX2
// the top-bit flip and the signed thresholds -43 and 42; for AVX-512 ones
// (in the flip register) and the unsigned thresholds 86 and 171.
func tq1Constants(f *asmFile, isa vecISA, blocks bool) {
	if isa == isaEVEX {
		broadcastByte(f, isa, 0x01, tq1Flip)
		broadcastByte(f, isa, 86, tq1Lo)
		broadcastByte(f, isa, 171, tq1Hi)
	} else {
		broadcastByte(f, isa, 0x80, tq1Flip)
		broadcastByte(f, isa, 0xd5, tq1Lo)
		broadcastByte(f, isa, 0x2a, tq1Hi)
	}
	if blocks {
		broadcastByte(f, isa, 0x01, tq1Ones)
	}
}

// tq1Kernel writes a TQ1_0 kernel for T tokens: VPDPBUSD on the 32 AVX-512
// registers (isaEVEX) or VPMADDUBSW with 16-bit sums (isaAVX2), as totals or
// per-block dots (see ternary.go for the contracts).
func tq1Kernel(f *asmFile, isa vecISA, tokens int, blocks bool) string {
	kind, isaName := "Total", "VNNI"
	if blocks {
		kind = "Blocks"
	}
	if isa == isaAVX2 {
		isaName = "AVX2"
	}
	name := fmt.Sprintf("tq1%s%s%d", kind, isaName, tokens)
	params, nargs := ternaryTotalParams, ternTotalArgs
	if blocks {
		params, nargs = ternaryParams, ternArgs
	}
	f.text(name, fmt.Sprintf("%s is the %s TQ1_0 x int8 kernel of %d weight rows and %d activation rows (%s).",
		name, map[vecISA]string{isaEVEX: "AVX-512 VNNI", isaAVX2: "AVX2"}[isa], tileRows, tokens,
		map[bool]string{false: "outputs of a matrix with one scale", true: "ternary dot per block"}[blocks]),
		params, nargs, 0)
	ternaryPrologue(f, isa, tokens)
	ternaryPrefetch.start(f, tq1Block)
	tq1Constants(f, isa, blocks)
	nacc := tileRows * tokens
	acc := func(r, t int) string { return y(regAcc0 + t*tileRows + r) }
	sum := func(t int) string { return y(regAcc0 + nacc + t) }
	if regAcc0+nacc+btoi(blocks)*tokens > map[vecISA]int{isaEVEX: 32, isaAVX2: 16}[isa] {
		panic("tq1Kernel: too many accumulators")
	}
	zeroRegs := seq(regAcc0, nacc+btoi(blocks)*tokens)
	body := func() {
		ternaryPrefetch.step(f, tq1Block)
		for r, reg := range weightRegs {
			tq1Row(f, isa, reg, func(off int) {
				for t := 0; t < tokens; t++ {
					a := actAddr(t, off)
					if isa == isaEVEX {
						f.ins("VPDPBUSD %s, %s, %s", a, y(tq1Code), acc(r, t))
						if blocks && r == 0 {
							f.ins("VPDPBUSD %s, %s, %s", a, y(tq1Ones), sum(t))
						}
						continue
					}
					f.ins("VPMADDUBSW %s, %s, %s", a, y(tq1Code), y(tq1Tmp))
					f.ins("VPADDW %s, %s, %s", y(tq1Tmp), acc(r, t), acc(r, t))
					if blocks && r == 0 {
						f.ins("VPMADDUBSW %s, %s, %s", a, y(tq1Ones), y(tq1Tmp))
						f.ins("VPADDW %s, %s, %s", y(tq1Tmp), sum(t), sum(t))
					}
				}
			})
		}
		advance(f, ternaryFormat{blockBytes: tq1Block, blockElems: 256}, tokens)
	}
	red := reducer{f: f, isa: isa, out: "R10", tmp: regTmp, accumulate: isa == isaAVX2 && !blocks}
	widen := func() {
		for i := 0; i < nacc; i++ {
			f.ins("VPMADDWD ones16<>(SB), %s, %s", y(regAcc0+i), y(regAcc0+i))
		}
	}
	switch {
	case blocks:
		f.label("loop")
		zero(f, isa, zeroRegs)
		body()
		sub := "VPSUBD"
		if isa == isaAVX2 {
			sub = "VPSUBW"
		}
		for r := 0; r < tileRows; r++ {
			for t := 0; t < tokens; t++ {
				f.ins("%s %s, %s, %s", sub, sum(t), acc(r, t), acc(r, t))
			}
		}
		if isa == isaAVX2 {
			widen()
		}
		red.reduce(seq(regAcc0, nacc), 0)
		f.ins("ADDQ $%d, R10", 4*nacc)
		f.ins("DECQ R9")
		f.ins("JNZ loop")
	case isa == isaEVEX:
		zero(f, isa, zeroRegs)
		f.label("loop")
		body()
		f.ins("DECQ R9")
		f.ins("JNZ loop")
		red.reduce(seq(regAcc0, nacc), 0)
		totalEpilogue(f, tokens)
	default:
		// Any byte decodes to codes in {0, 1, 2} ((3q) >> 8 <= 2 for q <= 255),
		// so a VPMADDUBSW pair lies in [-512, 508] and 16-bit sums stay
		// exact for 64 steps, 8 blocks of 8 (unlike the 2-bit formats,
		// whose corrupt code 3 limits them to maxAVX2Steps).
		zero(f, isa, []int{regTmp})
		for off := 0; off < 4*nacc; off += 16 {
			f.ins("VMOVDQU %s, %d(R10)", x(regTmp), off)
		}
		f.label("chunk")
		f.ins("MOVQ $8, R12")
		f.ins("CMPQ R9, R12")
		f.ins("CMOVQLT R9, R12")
		f.ins("SUBQ R12, R9")
		zero(f, isa, zeroRegs)
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

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
