package main

import (
	"fmt"
	"strings"
)

// Binary (±1) x int8 kernels.
//
// A weight row holds one bit per weight, bit j%8 of byte j/8 set where
// weight j is +1. Each kernel call multiplies nrows consecutive rows (w,
// w+rowBytes, ...) by T int8 activation rows (q, q+qstride, ...) over nsteps
// steps of 32 columns and stores
//
//	dst[t*dstride + 4r] = 2*P[r,t] - sums[t],  P[r,t] = Σ_{bit k of row r set} q[t,k]
//
// (dst and dstride in bytes), the ±1 dot product Σ_k (2b_k - 1)·q_k of the
// scalar oracle; the caller adds the columns after the last whole step.
//
// A step expands the 32 bits of a row to 32 bytes of 0 or 1 and multiplies
// them, as unsigned bytes, by each token's 32 signed activations, loaded
// straight from memory: the 32 bits are expanded once per step and feed all
// T tokens. AVX2 expands with VPBROADCASTD (the four bytes to every dword),
// VPSHUFB (byte i/8 to byte i), VPAND with 1<<(i%8) and VPMINUB with 1, and
// multiplies with VPMADDUBSW into 16-bit pair sums that VPADDW accumulates
// for up to binaryChunk steps before VPMADDWD widens them. AVX-512 loads
// the bits into a mask register (KMOVD), expands with a zero-masked move of
// ones and accumulates 32-bit sums with VPDPBUSD.
//
// Registers: Y0 the VPSHUFB indices, Y1 the bit of each byte, Y2 ones,
// Y3 the expanded bits, Y4 scratch, Y5 the token sums, Y6-Y7 the results,
// Y8+t the accumulator of token t (padded to a multiple of four with zeros
// for the reduction; AVX-512 adds Y16 up, see binaryKernel). AX the weights
// of the step, BX the rows left, CX the steps left in the chunk and DX the
// steps left after it (AVX-512: DX the steps left), SI, R8 and R10 the
// activations of tokens 0-2, 3-5 and 6-7 (indexed by DI = qstride), R9 the
// results of the row, R11 dstride, R12 the store address, R13 the row.
// The 32-byte frame holds a row's sums.

// binaryMaxTokens is the most activation rows a binary kernel handles.
const binaryMaxTokens = 8

// binaryChunk is the most steps whose VPMADDUBSW pair sums VPADDW adds in
// a 16-bit lane: a pair b0*q0 + b1*q1 lies in [-256, 254], and 128 of them
// in [-32768, 32512].
const binaryChunk = 128

const binaryParams = "w *byte, rowBytes, nrows uintptr, q *int8, qstride, nsteps uintptr, sums, dst *int32, dstride uintptr"

// binaryAct addresses token t's activations at byte offset off.
func binaryAct(t, off int) string {
	base := []string{"SI", "R8", "R10"}[t/3]
	if t%3 == 0 {
		return fmt.Sprintf("%d(%s)", off, base)
	}
	return fmt.Sprintf("%d(%s)(DI*%d)", off, base, t%3)
}

// binaryKernel writes the kernel of isa for T tokens.
func binaryKernel(f *asmFile, isa vecISA, tokens int) string {
	set := map[vecISA]string{isaAVX2: "AVX2", isaEVEX: "VNNI"}[isa]
	name := fmt.Sprintf("binary%sT%d", set, tokens)
	title := map[vecISA]string{isaAVX2: "AVX2", isaEVEX: "AVX-512 VNNI"}[isa]
	f.text(name, fmt.Sprintf("%s is the %s binary x int8 kernel of %d activation rows.", name, title, tokens),
		binaryParams, 9, 32)
	nacc := (tokens + 3) &^ 3 // accumulators, padded for the reduction
	f.arg("w", 0, "R13")
	f.arg("nrows", 2, "BX")
	f.arg("qstride", 4, "DI")
	f.arg("sums", 6, "AX")
	f.ins("VMOVDQU (AX), Y5")
	f.arg("dst", 7, "R9")
	f.arg("dstride", 8, "R11")
	if isa == isaAVX2 {
		f.ins("VMOVDQU binIdx<>(SB), Y0")
		f.ins("VMOVDQU binBits<>(SB), Y1")
	}
	f.ins("VMOVDQU binOnes<>(SB), Y2")

	f.label("row")
	f.ins("MOVQ R13, AX")
	f.arg("q", 3, "SI")
	if tokens > 3 {
		f.ins("LEAQ (SI)(DI*2), R8")
		f.ins("ADDQ DI, R8")
	}
	if tokens > 6 {
		f.ins("LEAQ (R8)(DI*2), R10")
		f.ins("ADDQ DI, R10")
	}
	f.arg("nsteps", 5, "DX")
	advance := func(steps int) {
		f.ins("ADDQ $%d, AX", 4*steps)
		f.ins("ADDQ $%d, SI", 32*steps)
		if tokens > 3 {
			f.ins("ADDQ $%d, R8", 32*steps)
		}
		if tokens > 6 {
			f.ins("ADDQ $%d, R10", 32*steps)
		}
	}
	red := reducer{f: f, isa: isaAVX2, out: "SP", tmp: 4}
	if isa == isaAVX2 {
		f.comment("the row's sums = 0")
		zero(f, isaAVX2, []int{4})
		f.ins("VMOVDQU Y4, (SP)")
		f.label("chunk")
		f.ins("MOVQ $%d, CX", binaryChunk)
		f.ins("CMPQ DX, CX")
		f.ins("CMOVQLT DX, CX")
		f.ins("SUBQ CX, DX")
		zero(f, isaAVX2, seq(8, nacc))
		f.label("step")
		f.ins("VPBROADCASTD (AX), Y3")
		f.ins("VPSHUFB Y0, Y3, Y3")
		f.ins("VPAND Y1, Y3, Y3")
		f.ins("VPMINUB Y2, Y3, Y3")
		for t := 0; t < tokens; t++ {
			f.ins("VPMADDUBSW %s, Y3, Y4", binaryAct(t, 0))
			f.ins("VPADDW Y4, %s, %s", y(8+t), y(8+t))
		}
		advance(1)
		f.ins("DECQ CX")
		f.ins("JNZ step")
		for t := 0; t < tokens; t++ { // the padding stays zero
			f.ins("VPMADDWD binOnes16<>(SB), %s, %s", y(8+t), y(8+t))
		}
		red.accumulate = true
		red.reduce(seq(8, nacc), 0)
		f.ins("TESTQ DX, DX")
		f.ins("JNZ chunk")
	} else {
		// VPDPBUSD's latency would bound a chain of one accumulator per
		// token: with few tokens, unroll steps into sets of accumulators,
		// set 0 in Y8+t and set j > 0 in Y16+(j-1)*T+t, at least eight
		// chains in all.
		unroll := max(2, (8+tokens-1)/tokens)
		acc := func(j, t int) string {
			if j == 0 {
				return y(8 + t)
			}
			return y(16 + (j-1)*tokens + t)
		}
		step := func(j int) {
			f.ins("KMOVD %d(AX), K1", 4*j)
			f.ins("VMOVDQU8.Z Y2, K1, Y3")
			for t := 0; t < tokens; t++ {
				f.ins("VPDPBUSD %s, Y3, %s", binaryAct(t, 32*j), acc(j, t))
			}
		}
		zero(f, isaAVX2, seq(8, nacc))
		zero(f, isaEVEX, seq(16, (unroll-1)*tokens))
		f.ins("CMPQ DX, $%d", unroll)
		f.ins("JLT rest")
		f.label("steps")
		for j := 0; j < unroll; j++ {
			step(j)
		}
		advance(unroll)
		f.ins("SUBQ $%d, DX", unroll)
		f.ins("CMPQ DX, $%d", unroll)
		f.ins("JGE steps")
		f.label("rest")
		f.ins("TESTQ DX, DX")
		f.ins("JZ sum")
		step(0)
		advance(1)
		f.ins("DECQ DX")
		f.ins("JMP rest")
		f.label("sum")
		for j := 1; j < unroll; j++ {
			for t := 0; t < tokens; t++ {
				f.ins("VPADDD %s, %s, %s", acc(j, t), acc(0, t), acc(0, t))
			}
		}
		red.reduce(seq(8, nacc), 0)
	}

	f.comment("2*sums - token sums, stored to token t's row at R9 + t*dstride")
	f.ins("VMOVDQU (SP), Y6")
	f.ins("VPSLLD $1, Y6, Y6")
	f.ins("VPSUBD Y5, Y6, Y6")
	if tokens > 4 {
		f.ins("VEXTRACTI128 $1, Y6, X7")
	}
	for t := 0; t < tokens; t++ {
		addr := "(R12)"
		switch {
		case t == 0:
			addr = "(R9)"
		case t < 3:
			addr = fmt.Sprintf("(R9)(R11*%d)", t)
		case t%3 == 0:
			base := "R9"
			if t > 3 {
				base = "R12"
			}
			f.ins("LEAQ (%s)(R11*2), R12", base)
			f.ins("ADDQ R11, R12")
		default:
			addr = fmt.Sprintf("(R12)(R11*%d)", t%3)
		}
		src := x(6 + t/4)
		if t%4 == 0 {
			f.ins("VMOVD %s, %s", src, addr)
		} else {
			f.ins("VPEXTRD $%d, %s, %s", t%4, src, addr)
		}
	}
	f.ins("ADDQ $4, R9")
	f.ins("ADDQ rowBytes+8(FP), R13")
	f.ins("DECQ BX")
	f.ins("JNZ row")
	f.ins("VZEROUPPER")
	f.ins("RET")
	return name
}

// genBinary writes the binary x int8 kernels and their dispatch function.
func genBinary(f *asmFile) {
	data := func(name string, b func(i int) byte) {
		for off := 0; off < 32; off += 8 {
			var v uint64
			for i := 7; i >= 0; i-- {
				v = v<<8 | uint64(b(off+i))
			}
			fmt.Fprintf(&f.s, "DATA %s<>+%d(SB)/8, $0x%016x\n", name, off, v)
		}
		fmt.Fprintf(&f.s, "GLOBL %s<>(SB), RODATA|NOPTR, $32\n", name)
	}
	f.s.WriteString("\n// VPSHUFB indices: byte i of a lane of broadcast dwords from byte i/8.\n")
	data("binIdx", func(i int) byte { return byte(i / 8) })
	f.s.WriteString("\n// The bit of each byte: 1 << (i%8).\n")
	data("binBits", func(i int) byte { return 1 << (i % 8) })
	f.s.WriteString("\n// Byte ones.\n")
	data("binOnes", func(int) byte { return 1 })
	f.s.WriteString("\n// 16-bit ones, for VPMADDWD to widen 16-bit sums to 32 bits.\n")
	data("binOnes16", func(i int) byte { return byte(1 - i%2) })

	d := &f.decls
	fmt.Fprintf(d, "// binaryMaxTokens is the most activation rows a binary kernel handles.\nconst binaryMaxTokens = %d\n\n", binaryMaxTokens)
	var cases []string
	for id, isa := range []vecISA{isaAVX2, isaEVEX} {
		for t := 1; t <= binaryMaxTokens; t++ {
			k := binaryKernel(f, isa, t)
			cases = append(cases, fmt.Sprintf("\tcase %d<<4 | %d:\n\t\t%s(w, rowBytes, nrows, q, qstride, nsteps, sums, dst, dstride)\n", id, t, k))
		}
	}
	d.WriteString("// The binary kernel sets.\nconst (\n\tbinaryAVX2 = 0\n\tbinaryVNNI = 1\n)\n\n")
	fmt.Fprintf(d, "// binaryTile runs the kernel of binary kernel set id for nt tokens.\nfunc binaryTile(id, nt int, %s) {\n\tswitch id<<4 | nt {\n%s", binaryParams, strings.Join(cases, ""))
	d.WriteString("\tdefault:\n\t\tpanic(\"kernels: no such binary tile kernel\")\n\t}\n}\n\n")
}
