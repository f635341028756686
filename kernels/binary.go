package kernels

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"unsafe"
)

// BinaryMatrix is a matrix of ±1 weights packed one bit per weight, the
// weight format of BitNet's 1-bit BitLinear layer: bit j%8 of byte j/8 of a
// row is 1 where weight j is +1 and 0 where it is -1. Each row starts on a
// byte boundary and the bits after its last column are 0.
type BinaryMatrix struct {
	Rows, Cols int

	data     []byte
	rowBytes int
}

// BinaryRowBytes returns the number of bytes one packed row of cols weights
// occupies.
func BinaryRowBytes(cols int) int { return (cols + 7) / 8 }

// PackBinary packs the rows×cols weights w (row-major) into dst, which must
// hold rows*BinaryRowBytes(cols) bytes: +1 for a weight > 0, -1 otherwise.
func PackBinary(dst []byte, w []float32, rows, cols int) {
	rb := BinaryRowBytes(cols)
	dst = dst[:rows*rb]
	clear(dst)
	for r := 0; r < rows; r++ {
		for j, v := range w[r*cols : (r+1)*cols] {
			if v > 0 {
				dst[r*rb+j/8] |= 1 << (j % 8)
			}
		}
	}
}

// NewBinaryMatrix wraps packed data (see PackBinary) as a rows×cols matrix.
// The bytes are used in place, not copied.
func NewBinaryMatrix(rows, cols int, data []byte) (*BinaryMatrix, error) {
	if rows <= 0 || cols <= 0 {
		return nil, fmt.Errorf("binary matrix has an empty shape %dx%d", rows, cols)
	}
	rb := BinaryRowBytes(cols)
	if len(data) != rows*rb {
		return nil, fmt.Errorf("binary %dx%d matrix needs %d bytes, got %d", rows, cols, rows*rb, len(data))
	}
	return &BinaryMatrix{Rows: rows, Cols: cols, data: data, rowBytes: rb}, nil
}

// Row returns the packed bytes of row r.
func (m *BinaryMatrix) Row(r int) []byte { return m.data[r*m.rowBytes : (r+1)*m.rowBytes] }

// Bytes returns the number of packed bytes, the amount a full product reads.
func (m *BinaryMatrix) Bytes() int { return len(m.data) }

// A matMulBinaryI8Kernel computes output rows [lo, hi) of a binary x int8
// product for every activation row.
type matMulBinaryI8Kernel func(dst []int32, m *BinaryMatrix, a *QuantizedRows, lo, hi int)

// matMulBinaryI8 is the dispatched binary product: the portable SWAR kernel,
// until a SIMD path replaces it at initialisation.
var matMulBinaryI8 matMulBinaryI8Kernel = matMulBinaryI8SWAR

// MatMulBinaryI8 multiplies the ±1 matrix m by each int8 activation row of a
// and stores the exact integer dot products: dst[t*m.Rows + r] =
// Σ_k W[r,k]·q[t,k]. Rescaling is left to the caller, whose scales (per
// group, shifted inputs) this kernel does not need to know. a.Sum must hold
// each row's sum of q.
func (p *Pool) MatMulBinaryI8(dst []int32, m *BinaryMatrix, a *QuantizedRows) {
	if a.Cols != m.Cols || len(dst) < a.Rows*m.Rows || len(a.Sum) < a.Rows {
		panic(fmt.Sprintf("kernels: MatMulBinaryI8 shapes: matrix %dx%d, activations %dx%d with %d sums, dst %d",
			m.Rows, m.Cols, a.Rows, a.Cols, len(a.Sum), len(dst)))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mmBinary = matMulBinaryI8Task{kernel: matMulBinaryI8, dst: dst, m: m, a: a}
	p.parallelLocked(m.Rows, &p.mmBinary)
	p.mmBinary = matMulBinaryI8Task{}
}

type matMulBinaryI8Task struct {
	kernel matMulBinaryI8Kernel
	dst    []int32
	m      *BinaryMatrix
	a      *QuantizedRows
}

func (t *matMulBinaryI8Task) Run(lo, hi int) { t.kernel(t.dst, t.m, t.a, lo, hi) }

// matMulBinaryI8Generic is the scalar oracle of binary x int8 products. With
// b_k the weight bits, Σ_k (2b_k - 1)·q_k = 2·Σ_{b_k=1} q_k - Σ_k q_k, so only
// the activations under set bits are added.
func matMulBinaryI8Generic(dst []int32, m *BinaryMatrix, a *QuantizedRows, lo, hi int) {
	for r := lo; r < hi; r++ {
		row := m.Row(r)
		for t := 0; t < a.Rows; t++ {
			q := a.Row(t)
			var pos int32
			for i, bits := range row {
				blk := q[8*i : min(8*i+8, len(q))]
				for j, v := range blk {
					pos += int32(v) & -int32(bits>>j&1)
				}
			}
			dst[t*m.Rows+r] = 2*pos - a.Sum[t]
		}
	}
}

// byteMasks maps a byte of weight bits to a mask with 0xFF in each byte
// whose bit is set.
var byteMasks = func() (t [256]uint64) {
	for b := range t {
		for j := range 8 {
			if b>>j&1 == 1 {
				t[b] |= 0xFF << (8 * j)
			}
		}
	}
	return t
}()

// matMulBinaryI8SWAR computes the same sums eight activations at a time in
// a 64-bit word (binaryPosSWAR).
func matMulBinaryI8SWAR(dst []int32, m *BinaryMatrix, a *QuantizedRows, lo, hi int) {
	for t := 0; t < a.Rows; t++ {
		q := a.Row(t)
		for r := lo; r < hi; r++ {
			dst[t*m.Rows+r] = 2*binaryPosSWAR(m.Row(r), q) - a.Sum[t]
		}
	}
}

// binaryPosSWAR returns Σ_{b_k=1} q_k over the len(q) <= 8*len(row)
// activations q and the bits of row. With u = q + 128 (q XOR 0x80, so every
// byte is unsigned), Σ_{b_k=1} q_k = Σ_{b_k=1} u_k - 128·popcount(b): eight
// bytes at a time, the masked bytes of u are added as four 16-bit lanes of a
// 64-bit word. A last partial byte of bits is added one activation at a time.
func binaryPosSWAR(row []byte, q []int8) int32 {
	full := len(q) / 8
	qb := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(q))), len(q))
	var pos int32
	for i, w := range row[:full] {
		u := binary.LittleEndian.Uint64(qb[8*i:]) ^ 0x8080808080808080
		x := u & byteMasks[w]
		x = x&0x00FF00FF00FF00FF + x>>8&0x00FF00FF00FF00FF
		pos += int32(x*0x0001000100010001>>48) - 128*int32(bits.OnesCount8(w))
	}
	if 8*full < len(q) {
		w := row[full]
		for j, v := range q[8*full:] {
			pos += int32(v) & -int32(w>>j&1)
		}
	}
	return pos
}
