package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/bitnet-go/bitnet/kernels"
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
		for i := range dst {
			dst[i] = kernels.F16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = kernels.BF16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
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
