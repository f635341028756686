package kernels

import (
	"encoding/binary"
	"math"
)

// This file holds the reference decoders of every tensor type: plain, easy
// to check against the format descriptions in DESIGN.md §5, and used as the
// oracle for all product kernels.

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }

// dequantizeRow decodes one encoded row into dst (len(dst) elements).
func dequantizeRow(t Type, row []byte, scale float32, dst []float32) {
	n := len(dst)
	switch t {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(row[4*i:]))
		}
	case F16:
		for i := range dst {
			dst[i] = F16ToF32(le16(row[2*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = BF16ToF32(le16(row[2*i:]))
		}
	case Q8_0:
		for b := 0; b < n/32; b++ {
			decodeQ8_0(row[b*34:], dst[b*32:b*32+32])
		}
	case Q6_K:
		for b := 0; b < n/QK_K; b++ {
			decodeQ6_K(row[b*210:], dst[b*QK_K:(b+1)*QK_K])
		}
	case TQ2_0, TQ1_0:
		var trits [QK_K]int8
		bb := t.BlockBytes()
		for b := 0; b < n/QK_K; b++ {
			blk := row[b*bb : (b+1)*bb]
			if t == TQ2_0 {
				tq2Trits(blk, &trits)
			} else {
				tq1Trits(blk, &trits)
			}
			d := F16ToF32(le16(blk[bb-2:]))
			out := dst[b*QK_K : (b+1)*QK_K]
			for i, v := range trits {
				out[i] = float32(v) * d
			}
		}
	case I2_S:
		var trits [I2SBlock]int8
		for b := 0; b < n/I2SBlock; b++ {
			i2sTrits(row[b*32:b*32+32], &trits)
			out := dst[b*I2SBlock : (b+1)*I2SBlock]
			for i, v := range trits {
				out[i] = float32(v) * scale
			}
		}
	default:
		panic("kernels: dequantize of unsupported type " + t.String())
	}
}

// decodeQ8_0 decodes one Q8_0 block: fp16 scale d, then 32 int8 values.
func decodeQ8_0(blk []byte, dst []float32) {
	d := F16ToF32(le16(blk))
	for j := 0; j < 32; j++ {
		dst[j] = float32(int8(blk[2+j])) * d
	}
}

// decodeQ6_K decodes one Q6_K super-block of 256 values: ql[128] (low four
// bits), qh[64] (high two bits), 16 int8 sub-block scales, fp16 scale d.
func decodeQ6_K(blk []byte, dst []float32) {
	d := F16ToF32(le16(blk[208:]))
	for half := 0; half < 2; half++ {
		ql := blk[64*half:]
		qh := blk[128+32*half:]
		sc := blk[192+8*half:]
		y := dst[128*half:]
		for l := 0; l < 32; l++ {
			is := l / 16
			q1 := int8(ql[l]&0xF|(qh[l]>>0&3)<<4) - 32
			q2 := int8(ql[l+32]&0xF|(qh[l]>>2&3)<<4) - 32
			q3 := int8(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
			q4 := int8(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
			y[l] = d * float32(int8(sc[is])) * float32(q1)
			y[l+32] = d * float32(int8(sc[is+2])) * float32(q2)
			y[l+64] = d * float32(int8(sc[is+4])) * float32(q3)
			y[l+96] = d * float32(int8(sc[is+6])) * float32(q4)
		}
	}
}

// tq2Trits decodes the 256 ternary values of a TQ2_0 block: element
// j*128 + l*32 + m is (qs[j*32+m] >> 2l) & 3, minus one.
func tq2Trits(blk []byte, dst *[QK_K]int8) {
	for j := 0; j < 2; j++ {
		for l := 0; l < 4; l++ {
			for m := 0; m < 32; m++ {
				dst[j*128+l*32+m] = int8(blk[j*32+m]>>(2*l)&3) - 1
			}
		}
	}
}

// pow3 are the multipliers that bring base-3 digit n of a TQ1_0 byte to the top.
var pow3 = [5]uint8{1, 3, 9, 27, 81}

// tq1Trit extracts base-3 digit n (0 = most significant) of a TQ1_0 byte,
// which stores ceil(value * 256 / 243).
func tq1Trit(b uint8, n int) int8 {
	q := b * pow3[n] // wraps modulo 256 on purpose
	return int8(uint16(q)*3>>8) - 1
}

// tq1Trits decodes the 256 ternary values of a TQ1_0 block: qs[0:32] hold
// elements m + 32n (five digits each), qs[32:48] hold 160 + m + 16n, and
// qh[0:4] hold 240 + j + 4n (four digits each).
func tq1Trits(blk []byte, dst *[QK_K]int8) {
	for n := 0; n < 5; n++ {
		for m := 0; m < 32; m++ {
			dst[n*32+m] = tq1Trit(blk[m], n)
		}
	}
	for n := 0; n < 5; n++ {
		for m := 0; m < 16; m++ {
			dst[160+n*16+m] = tq1Trit(blk[32+m], n)
		}
	}
	for n := 0; n < 4; n++ {
		for j := 0; j < 4; j++ {
			dst[240+n*4+j] = tq1Trit(blk[48+j], n)
		}
	}
}

// i2sTrits decodes one 32-byte I2_S block of 128 values: element j sits in
// byte j%32 at bit shift 6 - 2*(j/32), code 0 = -1, 1 = 0, 2 = +1.
func i2sTrits(blk []byte, dst *[I2SBlock]int8) {
	for j := 0; j < I2SBlock; j++ {
		dst[j] = int8(blk[j%32]>>(6-2*(j/32))&3) - 1
	}
}
