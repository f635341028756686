package main

import (
	"fmt"
	"strings"
)

// Float products: four weight rows of a float-decodable encoding times T
// float32 activation rows, with AVX2, FMA and F16C.
//
//	out[r*T+t] = sum over n steps of decode(w_r) . x_t
//
// A step is 8 elements (one register of float32), or one 32-element block
// for Q8_0. Weights are decoded once per step and multiplied by every token's
// activations straight from memory, so a tile needs 4T accumulators plus the
// decoded weights: T <= 3 on the 16 AVX2 registers.

// floatFormat describes a float-decodable weight encoding.
type floatFormat struct {
	name      string
	title     string
	stepElems int // elements per step
	stepBytes int // weight bytes per step
	// decode writes the instructions that decode the weights of row r at
	// byte offset off of the row pointer reg into vector register v. Q8_0
	// decodes four registers per step in its own loop body instead.
	decode func(f *asmFile, reg string, off, v int)
}

var floatFormats = []floatFormat{
	{"f32", "F32", 8, 32, func(f *asmFile, reg string, off, v int) {
		f.ins("VMOVUPS %d(%s), %s", off, reg, y(v))
	}},
	{"f16", "F16", 8, 16, func(f *asmFile, reg string, off, v int) {
		f.ins("VCVTPH2PS %d(%s), %s", off, reg, y(v))
	}},
	{"bf16", "BF16", 8, 16, func(f *asmFile, reg string, off, v int) {
		f.ins("VPMOVZXWD %d(%s), %s", off, reg, y(v))
		f.ins("VPSLLD $16, %s, %s", y(v), y(v))
	}},
	{"i8", "int8", 8, 8, func(f *asmFile, reg string, off, v int) {
		f.ins("VPMOVSXBD %d(%s), %s", off, reg, y(v))
		f.ins("VCVTDQ2PS %s, %s", y(v), y(v))
	}},
	{"q8", "Q8_0", 32, 34, nil},
}

const floatParams = "w0, w1, w2, w3 *byte, x *float32, xstride, n uintptr, out *float32"

// floatUnroll is how many steps of 8 elements the main loop of the plain
// formats covers per iteration.
const floatUnroll = 4

// floatKernel writes the AVX2 kernel of format ft for T tokens. Registers:
// Y0-Y3 decoded weights (Y0 also the reduction scratch), accumulator of row r
// and token t in Y(4 + r*T + t); Q8_0 uses Y0 for the block scale and Y1 for
// the decoded weights.
func floatKernel(f *asmFile, ft floatFormat, tokens int) string {
	name := fmt.Sprintf("%sDotAVX2%d", ft.name, tokens)
	f.text(name, fmt.Sprintf("%s is the AVX2 %s x float32 kernel of %d weight rows and %d activation rows.", name, ft.title, tileRows, tokens),
		floatParams, 8, 0)
	for r, reg := range weightRegs {
		f.arg(fmt.Sprintf("w%d", r), r, reg)
	}
	f.arg("x", 4, "SI")
	f.arg("xstride", 5, "DI")
	f.arg("n", 6, "R9")
	f.arg("out", 7, "R10")
	if tokens > 3 {
		panic("floatKernel: at most 3 tokens")
	}
	floatPrefetch.start(f, ft.stepBytes)
	const acc0 = 4
	acc := func(r, t int) string { return y(acc0 + r*tokens + t) }
	zero(f, isaAVX2, seq(acc0, tileRows*tokens))
	// step writes one step at weight byte offset woff and activation byte
	// offset xoff.
	fma := func(w int, r, xoff int) {
		for t := 0; t < tokens; t++ {
			f.ins("VFMADD231PS %s, %s, %s", actAddr(t, xoff), y(w), acc(r, t))
		}
	}
	advance := func(steps int) {
		for _, reg := range weightRegs {
			f.ins("ADDQ $%d, %s", steps*ft.stepBytes, reg)
		}
		f.ins("ADDQ $%d, SI", 4*steps*ft.stepElems)
	}
	if ft.name == "q8" {
		f.label("loop")
		floatPrefetch.step(f, ft.stepBytes)
		for r, reg := range weightRegs {
			f.ins("VPBROADCASTW 0(%s), X0", reg)
			f.ins("VCVTPH2PS X0, Y0")
			for j := 0; j < 4; j++ {
				f.ins("VPMOVSXBD %d(%s), Y1", 2+8*j, reg)
				f.ins("VCVTDQ2PS Y1, Y1")
				f.ins("VMULPS Y0, Y1, Y1")
				fma(1, r, 32*j)
			}
		}
		advance(1)
		f.ins("DECQ R9")
		f.ins("JNZ loop")
	} else {
		f.ins("CMPQ R9, $%d", floatUnroll)
		f.ins("JLT tail")
		f.label("loop")
		floatPrefetch.step(f, floatUnroll*ft.stepBytes)
		for u := 0; u < floatUnroll; u++ {
			for r, reg := range weightRegs {
				ft.decode(f, reg, u*ft.stepBytes, r)
			}
			for r := range weightRegs {
				fma(r, r, 32*u)
			}
		}
		advance(floatUnroll)
		f.ins("SUBQ $%d, R9", floatUnroll)
		f.ins("CMPQ R9, $%d", floatUnroll)
		f.ins("JGE loop")
		f.label("tail")
		f.ins("TESTQ R9, R9")
		f.ins("JZ done")
		for r, reg := range weightRegs {
			ft.decode(f, reg, 0, r)
		}
		for r := range weightRegs {
			fma(r, r, 0)
		}
		advance(1)
		f.ins("DECQ R9")
		f.ins("JMP tail")
		f.label("done")
	}
	red := reducer{f: f, isa: isaAVX2, float: true, out: "R10", tmp: 0}
	red.reduce(seq(acc0, tileRows*tokens), 0)
	f.ins("VZEROUPPER")
	f.ins("RET")
	return name
}

// genFloat writes the float product kernels and their dispatch function.
func genFloat(f *asmFile) {
	const maxTokens = 3
	d := &f.decls
	var cases []string
	for i, ft := range floatFormats {
		var names []string
		for t := 1; t <= maxTokens; t++ {
			names = append(names, floatKernel(f, ft, t))
		}
		fmt.Fprintf(d, "// %sAVX2 are the AVX2 %s x float32 kernels.\nvar %sAVX2 = floatKernels{id: %d, maxTokens: %d, stepElems: %d, stepBytes: %d}\n\n",
			ft.name, ft.title, ft.name, i, maxTokens, ft.stepElems, ft.stepBytes)
		for t, k := range names {
			cases = append(cases, fmt.Sprintf("\tcase %d<<4 | %d:\n\t\t%s(w0, w1, w2, w3, x, xstride, n, out)\n", i, t+1, k))
		}
	}
	var names []string
	for t := 1; t <= 2; t++ {
		names = append(names, q6Kernel(f, t))
	}
	i := len(floatFormats)
	fmt.Fprintf(d, "// q6kAVX2 are the AVX2 Q6_K x float32 kernels (token-major results).\nvar q6kAVX2 = floatKernels{id: %d, maxTokens: 2, stepElems: 256, stepBytes: 210, tokenMajor: true}\n\n", i)
	for t, k := range names {
		cases = append(cases, fmt.Sprintf("\tcase %d<<4 | %d:\n\t\t%s(w0, w1, w2, w3, x, xstride, n, out)\n", i, t+1, k))
	}
	fmt.Fprintf(d, "// floatTile runs the kernel of float kernel set id for nt tokens.\nfunc floatTile(id, nt int, %s) {\n\tswitch id<<4 | nt {\n%s", floatParams, strings.Join(cases, ""))
	d.WriteString("\tdefault:\n\t\tpanic(\"kernels: no such float tile kernel\")\n\t}\n}\n\n")
}
