package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
)

// Matrix is a 2-D weight tensor kept in its stored encoding: Rows rows of
// Cols contiguous elements each. Products are computed on the encoded bytes
// directly; the matrix is never expanded to float.
type Matrix struct {
	Type       Type
	Rows, Cols int

	data     []byte  // the encoded rows (I2_S: codes only, without the trailer)
	rowBytes int     // bytes per row
	scale    float32 // I2_S per-tensor scale; 1 for other types

	// The block-scale analysis of ternary matrices (blockscale.go), done once.
	scaleOnce sync.Once
	uniform   float32 // the scale every block shares, when isUniform
	isUniform bool
}

// NewMatrix wraps encoded data as a rows x cols matrix of type t. data must
// hold exactly the tensor's encoded size (for I2_S including the 32-byte
// trailer that carries the scale). The bytes are used in place, not copied.
func NewMatrix(t Type, rows, cols int, data []byte) (*Matrix, error) {
	if !t.Known() {
		return nil, fmt.Errorf("unsupported tensor type %v", t)
	}
	if rows <= 0 || cols <= 0 {
		return nil, fmt.Errorf("%v matrix has an empty shape %dx%d", t, rows, cols)
	}
	rowBytes, err := t.RowBytes(cols)
	if err != nil {
		return nil, err
	}
	want, err := TensorBytes(t, uint64(cols), uint64(rows)*uint64(cols))
	if err != nil {
		return nil, err
	}
	if uint64(len(data)) != want {
		return nil, fmt.Errorf("%v %dx%d matrix needs %d bytes, got %d", t, rows, cols, want, len(data))
	}
	m := &Matrix{Type: t, Rows: rows, Cols: cols, rowBytes: rowBytes, scale: 1}
	m.data = data[:rows*rowBytes]
	if t == I2_S {
		m.scale = math.Float32frombits(binary.LittleEndian.Uint32(data[rows*rowBytes:]))
		if f := float64(m.scale); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("I2_S matrix has a non-finite scale %v", m.scale)
		}
	}
	return m, nil
}

// Row returns the encoded bytes of row r.
func (m *Matrix) Row(r int) []byte {
	return m.data[r*m.rowBytes : (r+1)*m.rowBytes]
}

// Data returns the encoded bytes of all rows (for I2_S without the trailer),
// in place: they must not be modified.
func (m *Matrix) Data() []byte { return m.data }

// Scale returns the per-tensor scale of an I2_S matrix, 1 for other types.
func (m *Matrix) Scale() float32 { return m.scale }

// Bytes returns the number of encoded bytes the matrix's rows occupy, the
// amount a full matrix-vector product reads.
func (m *Matrix) Bytes() int { return len(m.data) }

// DequantizeRow decodes row r into dst[:m.Cols]. This is the reference
// decoder every product kernel is tested against.
func (m *Matrix) DequantizeRow(r int, dst []float32) {
	dequantizeRow(m.Type, m.Row(r), m.scale, dst[:m.Cols])
}

// Dequantize decodes the whole matrix, row-major.
func (m *Matrix) Dequantize() []float32 {
	out := make([]float32, m.Rows*m.Cols)
	for r := 0; r < m.Rows; r++ {
		m.DequantizeRow(r, out[r*m.Cols:])
	}
	return out
}
