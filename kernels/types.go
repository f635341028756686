package kernels

import (
	"fmt"
	"math/bits"
)

// Type identifies how a tensor's elements are encoded. The values are the GGML
// type ids used in GGUF files, so a Type read from a file needs no translation.
type Type uint32

// The tensor encodings bitnet reads. Layouts are described in DESIGN.md §5.
const (
	F32   Type = 0  // IEEE-754 binary32
	F16   Type = 1  // IEEE-754 binary16
	Q8_0  Type = 8  // blocks of 32: fp16 scale + 32 int8
	Q6_K  Type = 14 // super-blocks of 256: 6-bit quants, int8 sub-scales, fp16 scale
	BF16  Type = 30 // bfloat16
	TQ1_0 Type = 34 // ternary, 1.6875 bits/weight: base-3 packed trits + fp16 scale per 256
	TQ2_0 Type = 35 // ternary, 2.0625 bits/weight: 2-bit codes + fp16 scale per 256
	I2_S  Type = 36 // bitnet.cpp ternary: 2-bit codes for the whole tensor, then one f32 scale
)

// QK_K is the number of elements in a K-quant super-block (Q6_K, TQ1_0, TQ2_0).
const QK_K = 256

// I2SBlock is the number of elements in one I2_S block (32 bytes of codes).
const I2SBlock = 128

// I2STrailer is the number of bytes after an I2_S tensor's codes: one
// little-endian f32 scale and 28 bytes of padding.
const I2STrailer = 32

type typeInfo struct {
	name       string
	blockElems int // elements per block
	blockBytes int // bytes per block
	ternary    bool
}

var typeInfos = map[Type]typeInfo{
	F32:   {"F32", 1, 4, false},
	F16:   {"F16", 1, 2, false},
	Q8_0:  {"Q8_0", 32, 34, false},
	Q6_K:  {"Q6_K", QK_K, 210, false},
	BF16:  {"BF16", 1, 2, false},
	TQ1_0: {"TQ1_0", QK_K, 54, true},
	TQ2_0: {"TQ2_0", QK_K, 66, true},
	I2_S:  {"I2_S", I2SBlock, 32, true},
}

// Known reports whether bitnet can decode tensors of type t.
func (t Type) Known() bool {
	_, ok := typeInfos[t]
	return ok
}

// String returns the conventional name of the type, such as "TQ2_0".
func (t Type) String() string {
	if ti, ok := typeInfos[t]; ok {
		return ti.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// BlockElems returns the number of elements in one block of t (1 for plain
// float types). It returns 0 for an unknown type.
func (t Type) BlockElems() int { return typeInfos[t].blockElems }

// BlockBytes returns the number of bytes of one block of t.
func (t Type) BlockBytes() int { return typeInfos[t].blockBytes }

// Ternary reports whether t stores weights in {-1, 0, +1} times a scale.
func (t Type) Ternary() bool { return typeInfos[t].ternary }

// SupportedTypes lists every type bitnet decodes, in id order.
func SupportedTypes() []Type {
	return []Type{F32, F16, Q8_0, Q6_K, BF16, TQ1_0, TQ2_0, I2_S}
}

// RowBytes returns the number of bytes one row of n elements occupies. The
// row length must be a whole number of blocks (128 elements for I2_S, whose
// blocks interleave their elements, so only whole blocks form a row). For
// I2_S it is the size of the row's codes only (n/4); the tensor's trailing
// scale is not part of any row.
func (t Type) RowBytes(n int) (int, error) {
	ti, ok := typeInfos[t]
	if !ok {
		return 0, fmt.Errorf("unsupported tensor type %v", t)
	}
	if n < 0 {
		return 0, fmt.Errorf("negative row length %d", n)
	}
	if n%ti.blockElems != 0 {
		return 0, fmt.Errorf("%v row length %d is not a multiple of its block size %d", t, n, ti.blockElems)
	}
	return n / ti.blockElems * ti.blockBytes, nil
}

// TensorBytes returns the byte size of a tensor of type t whose contiguous
// rows have rowLen elements and which holds nElems elements in all. It reports
// an error instead of overflowing. I2_S tensors include their 32-byte trailer.
func TensorBytes(t Type, rowLen, nElems uint64) (uint64, error) {
	ti, ok := typeInfos[t]
	if !ok {
		return 0, fmt.Errorf("unsupported tensor type %v", t)
	}
	if rowLen%uint64(ti.blockElems) != 0 {
		return 0, fmt.Errorf("%v row length %d is not a multiple of its block size %d", t, rowLen, ti.blockElems)
	}
	if t == I2_S {
		return nElems/4 + I2STrailer, nil
	}
	hi, lo := bits.Mul64(nElems/uint64(ti.blockElems), uint64(ti.blockBytes))
	if hi != 0 {
		return 0, fmt.Errorf("%v tensor of %d elements overflows", t, nElems)
	}
	return lo, nil
}
