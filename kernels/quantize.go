package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
)

// This file holds encoders: float rows to the stored tensor types. They
// reproduce the reference quantisers (llama.cpp's quantize_row_*_ref and
// bitnet.cpp's I2_S quantiser) so that files written by bitnet are
// byte-identical to theirs.

// EncodedSize returns the byte size of a rows x cols tensor of type t,
// including the I2_S trailer.
func EncodedSize(t Type, rows, cols int) (int, error) {
	n, err := TensorBytes(t, uint64(cols), uint64(rows)*uint64(cols))
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// Encode converts src (a row-major tensor whose rows have cols elements) to
// type t. Ternary types expect values that are already ternary times a scale
// (see QuantizeTQ2_0); Q6_K is not supported as an output type.
func Encode(t Type, src []float32, cols int) ([]byte, error) {
	if cols <= 0 || len(src)%cols != 0 {
		return nil, fmt.Errorf("encode %v: %d values do not form rows of %d", t, len(src), cols)
	}
	size, err := EncodedSize(t, len(src)/cols, cols)
	if err != nil {
		return nil, fmt.Errorf("encode %v: %w", t, err)
	}
	dst := make([]byte, size)
	switch t {
	case F32:
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
		}
	case F16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], F32ToF16(v))
		}
	case BF16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], F32ToBF16(v))
		}
	case Q8_0:
		QuantizeQ8_0(dst, src)
	case TQ2_0:
		QuantizeTQ2_0(dst, src)
	case TQ1_0:
		QuantizeTQ1_0(dst, src)
	case I2_S:
		QuantizeI2S(dst, src)
	default:
		return nil, fmt.Errorf("encode: writing %v is not supported", t)
	}
	return dst, nil
}

// QuantizeQ8_0 encodes src (a multiple of 32 values) as Q8_0 blocks into dst:
// d = absmax/127, q = round(x/d).
func QuantizeQ8_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/32; b++ {
		x := src[b*32 : b*32+32]
		blk := dst[b*34 : b*34+34]
		amax := float32(0)
		for _, v := range x {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d := amax / 127
		id := float32(0)
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(blk, F32ToF16(d))
		for j, v := range x {
			blk[2+j] = byte(int8(math.Round(float64(v * id))))
		}
	}
}

// QuantizeTQ2_0 encodes src (a multiple of 256 values) as TQ2_0 blocks into
// dst, as llama.cpp does: d = block absmax, code = round(x/d) + 1.
func QuantizeTQ2_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/QK_K; b++ {
		x := src[b*QK_K : (b+1)*QK_K]
		blk := dst[b*66 : (b+1)*66]
		d, id := blockAbsmax(x)
		for j := 0; j < 2; j++ {
			for m := 0; m < 32; m++ {
				var q uint8
				for n := 0; n < 4; n++ {
					q |= uint8(ternaryCode(x[j*128+n*32+m], id)&3) << (2 * n)
				}
				blk[j*32+m] = q
			}
		}
		binary.LittleEndian.PutUint16(blk[64:], F32ToF16(d))
	}
}

// QuantizeTQ1_0 encodes src (a multiple of 256 values) as TQ1_0 blocks into
// dst, as llama.cpp does: five base-3 digits per byte stored as
// ceil(v*256/243), the first digit most significant.
func QuantizeTQ1_0(dst []byte, src []float32) {
	pack := func(x []float32, stride, digits int, id float32) uint8 {
		var q uint16
		for n := 0; n < digits; n++ {
			q = q*3 + uint16(ternaryCode(x[n*stride], id))
		}
		for n := digits; n < 5; n++ {
			q *= 3
		}
		return uint8((q*256 + 242) / 243)
	}
	for b := 0; b < len(src)/QK_K; b++ {
		x := src[b*QK_K : (b+1)*QK_K]
		blk := dst[b*54 : (b+1)*54]
		d, id := blockAbsmax(x)
		for m := 0; m < 32; m++ {
			blk[m] = pack(x[m:], 32, 5, id)
		}
		for m := 0; m < 16; m++ {
			blk[32+m] = pack(x[160+m:], 16, 5, id)
		}
		for j := 0; j < 4; j++ {
			blk[48+j] = pack(x[240+j:], 4, 4, id)
		}
		binary.LittleEndian.PutUint16(blk[52:], F32ToF16(d))
	}
}

// QuantizeI2S encodes a whole tensor src (a multiple of 128 values) as I2_S
// into dst (len(src)/4 + 32 bytes), as bitnet.cpp does for weights that are
// already ternary times a scale: the scale is the tensor's absmax, a value
// with |x| < 1e-6 is 0 and any other value is its sign.
func QuantizeI2S(dst []byte, src []float32) {
	amax := float32(0)
	for _, v := range src {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	codes := dst[:len(src)/4]
	clear(codes)
	for i, v := range src {
		c := uint8(1)
		switch {
		case math.Abs(float64(v)) < 1e-6:
		case v > 0:
			c = 2
		default:
			c = 0
		}
		blk, j := i/I2SBlock, i%I2SBlock
		codes[blk*32+j%32] |= c << (6 - 2*(j/32))
	}
	trailer := dst[len(src)/4 : len(src)/4+I2STrailer]
	clear(trailer)
	binary.LittleEndian.PutUint32(trailer, math.Float32bits(amax))
}

// blockAbsmax returns the largest |x| of a block and its inverse (0 for an
// all-zero block).
func blockAbsmax(x []float32) (d, id float32) {
	for _, v := range x {
		d = max(d, float32(math.Abs(float64(v))))
	}
	if d != 0 {
		id = 1 / d
	}
	return d, id
}

// ternaryCode returns round(x*id) + 1 in {0, 1, 2}, rounding half away from
// zero like C's lroundf.
func ternaryCode(x, id float32) int {
	return int(math.Round(float64(x*id))) + 1
}
