package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"unsafe"
)

// Float32s returns the tensor's elements as a new float32 slice, converting
// F16 and BF16 exactly. Other dtypes are an error wrapping ErrDType.
func (t *Tensor) Float32s() ([]float32, error) {
	if !t.DType.IsFloat() {
		return nil, t.dtypeError("float32", "F32, F16, BF16")
	}
	out := make([]float32, t.Elems())
	return out, t.DecodeFloat32(out)
}

// DecodeFloat32 writes the tensor's elements into dst, which must hold exactly
// Elems() values, converting F16 and BF16 exactly. Other dtypes are an error
// wrapping ErrDType.
func (t *Tensor) DecodeFloat32(dst []float32) error {
	if !t.DType.IsFloat() {
		return t.dtypeError("float32", "F32, F16, BF16")
	}
	if uint64(len(dst)) != t.Elems() {
		return fmt.Errorf("%s: destination holds %d values, tensor has %d", t.where(), len(dst), t.Elems())
	}
	b := t.Data
	switch t.DType {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case F16:
		table := f16Table()
		for i := range dst {
			dst[i] = table[binary.LittleEndian.Uint16(b[2*i:])]
		}
	case BF16:
		for i := range dst {
			dst[i] = BF16ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	}
	return nil
}

// Uint8s returns the bytes of a U8 tensor without copying. Other dtypes are an
// error wrapping ErrDType.
func (t *Tensor) Uint8s() ([]uint8, error) {
	if t.DType != U8 {
		return nil, t.dtypeError("uint8", "U8")
	}
	return t.Data, nil
}

// Int8s returns the values of an I8 tensor without copying. Other dtypes are
// an error wrapping ErrDType.
func (t *Tensor) Int8s() ([]int8, error) {
	if t.DType != I8 {
		return nil, t.dtypeError("int8", "I8")
	}
	if len(t.Data) == 0 {
		return []int8{}, nil
	}
	return unsafe.Slice((*int8)(unsafe.Pointer(&t.Data[0])), len(t.Data)), nil
}

func (t *Tensor) dtypeError(as, want string) error {
	return fmt.Errorf("%s has dtype %s, which cannot be read as %s (want %s): %w", t.where(), t.DType, as, want, ErrDType)
}

// f16Table maps every binary16 bit pattern to its float32 value; built on
// first use, it makes decoding F16 tensors several times faster.
var f16Table = sync.OnceValue(func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = F16ToFloat32(uint16(i))
	}
	return &t
})

// F16ToFloat32 converts an IEEE-754 binary16 value to float32 exactly.
func F16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // infinity or NaN, payload kept
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: mant × 2^-24, exact in float32.
	v := float32(mant) * 0x1p-24
	if sign != 0 {
		v = -v
	}
	return v
}

// Float32ToF16 rounds a float32 to the nearest binary16 value, ties to even.
// Values too large become infinities; NaN stays NaN.
func Float32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15 // binary16 biased exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	var r, rem, half uint32
	if e > 0 {
		r = uint32(e)<<10 | mant>>13
		rem, half = mant&0x1fff, 0x1000
	} else {
		// Subnormal (or zero) in binary16: shift the full significand.
		shift := uint32(14 - e) // 14 for e == 0, growing as e falls
		if shift > 24 {
			return sign
		}
		m := mant | 0x800000
		r = m >> shift
		rem, half = m&(1<<shift-1), 1<<(shift-1)
	}
	if rem > half || (rem == half && r&1 == 1) {
		r++ // a carry into the exponent is the correct rounding
	}
	return sign | uint16(r)
}

// BF16ToFloat32 converts a bfloat16 value to float32 exactly.
func BF16ToFloat32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// Float32ToBF16 rounds a float32 to the nearest bfloat16, ties to even; NaN
// stays NaN.
func Float32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
