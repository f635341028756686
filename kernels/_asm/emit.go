package main

import (
	"bytes"
	"fmt"
	"strings"
)

// asmFile accumulates the text of one Go assembly file and the Go
// declarations of the functions it defines.
type asmFile struct {
	s     bytes.Buffer // assembly
	decls bytes.Buffer // Go declarations
}

// ins writes one instruction.
func (f *asmFile) ins(format string, args ...any) {
	fmt.Fprintf(&f.s, "\t"+format+"\n", args...)
}

// label writes a label.
func (f *asmFile) label(name string) { fmt.Fprintf(&f.s, "%s:\n", name) }

// comment writes a comment line at the current indentation.
func (f *asmFile) comment(format string, args ...any) {
	fmt.Fprintf(&f.s, "\t// "+format+"\n", args...)
}

// text starts a function whose arguments are all 8 bytes wide, and declares it
// in Go with the given doc comment and parameter list.
func (f *asmFile) text(name, doc, params string, nargs, frame int) {
	fmt.Fprintf(&f.s, "\n// func %s(%s)\nTEXT ·%s(SB), NOSPLIT, $%d-%d\n", name, params, name, frame, 8*nargs)
	for _, line := range strings.Split(strings.TrimSpace(doc), "\n") {
		fmt.Fprintf(&f.decls, "// %s\n", line)
	}
	fmt.Fprintf(&f.decls, "//\n//go:noescape\nfunc %s(%s)\n\n", name, params)
}

// arg loads the 8-byte argument i (named name) into reg.
func (f *asmFile) arg(name string, i int, reg string) {
	f.ins("MOVQ %s+%d(FP), %s", name, 8*i, reg)
}

// y returns the name of vector register i at 256 bits.
func y(i int) string { return fmt.Sprintf("Y%d", i) }

// x returns the name of vector register i at 128 bits.
func x(i int) string { return fmt.Sprintf("X%d", i) }

// vecISA selects the encodings a kernel may use.
type vecISA int

const (
	isaAVX2 vecISA = iota // VEX encodings only, registers 0-15
	isaEVEX               // AVX-512 VL/BW/VNNI on 256-bit registers 0-31
)

// reducer sums the eight 32-bit lanes of each accumulator register and
// stores the sums, in accumulator order, as consecutive 32-bit values at an
// offset from the output pointer. Integer and float lanes use the same
// shuffles; only the additions differ. The accumulators are destroyed.
type reducer struct {
	f     *asmFile
	isa   vecISA
	float bool
	out   string // output pointer register
	tmp   int    // scratch vector register
	// accumulate adds the sums to the values already at the output
	// (integers only) instead of overwriting them.
	accumulate bool
}

func (r reducer) add(src, dst string) {
	if r.float {
		r.f.ins("VADDPS %s, %s, %s", src, dst, dst)
	} else {
		r.f.ins("VPADDD %s, %s, %s", src, dst, dst)
	}
}

// pairs folds b into a: a = [a02 b02 a13 b13 | a46 b46 a57 b57] (sums of
// the lanes named by the digits).
func (r reducer) pairs(a, b string) {
	t := y(r.tmp)
	r.f.ins("VPUNPCKLDQ %s, %s, %s", b, a, t)
	r.f.ins("VPUNPCKHDQ %s, %s, %s", b, a, a)
	r.add(t, a)
}

// quads folds the pair results a (of accumulators 0,1) and b (2,3) into a:
// per 128-bit half, one partial sum of each of the four accumulators.
func (r reducer) quads(a, b string) {
	t := y(r.tmp)
	r.f.ins("VPUNPCKLQDQ %s, %s, %s", b, a, t)
	r.f.ins("VPUNPCKHQDQ %s, %s, %s", b, a, a)
	r.add(t, a)
}

func (r reducer) store(src string, off int) {
	mov := "VMOVDQU"
	if r.isa == isaEVEX {
		mov = "VMOVDQU32"
	}
	if r.accumulate {
		r.add(fmt.Sprintf("%d(%s)", off, r.out), src)
	}
	r.f.ins("%s %s, %d(%s)", mov, src, off, r.out)
}

// reduce sums each accumulator (registers acc, a multiple of four of them)
// and stores the results from byte offset off.
func (r reducer) reduce(acc []int, off int) {
	if len(acc)%4 != 0 {
		panic("reduce: accumulator count not a multiple of 4")
	}
	for len(acc) >= 8 {
		a := make([]string, 8)
		for i := range a {
			a[i] = y(acc[i])
		}
		r.pairs(a[0], a[1])
		r.pairs(a[2], a[3])
		r.pairs(a[4], a[5])
		r.pairs(a[6], a[7])
		r.quads(a[0], a[2])
		r.quads(a[4], a[6])
		// a0 = [s0..s3 of lanes 0-3 | s0..s3 of lanes 4-7], a4 likewise for
		// accumulators 4-7: add the halves crosswise.
		t := y(r.tmp)
		if r.isa == isaEVEX {
			r.f.ins("VSHUFI64X2 $2, %s, %s, %s", a[4], a[0], t)
			r.f.ins("VSHUFI64X2 $1, %s, %s, %s", a[4], a[0], a[0])
		} else {
			r.f.ins("VPERM2I128 $0x30, %s, %s, %s", a[4], a[0], t)
			r.f.ins("VPERM2I128 $0x21, %s, %s, %s", a[4], a[0], a[0])
		}
		r.add(t, a[0])
		r.store(a[0], off)
		acc, off = acc[8:], off+32
	}
	if len(acc) == 4 {
		a := []string{y(acc[0]), y(acc[1]), y(acc[2]), y(acc[3])}
		r.pairs(a[0], a[1])
		r.pairs(a[2], a[3])
		r.quads(a[0], a[2])
		if r.isa == isaEVEX {
			r.f.ins("VEXTRACTI32X4 $1, %s, %s", a[0], x(r.tmp))
		} else {
			r.f.ins("VEXTRACTI128 $1, %s, %s", a[0], x(r.tmp))
		}
		r.add(x(r.tmp), x(acc[0]))
		r.store(x(acc[0]), off)
	}
}
