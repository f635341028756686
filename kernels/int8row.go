package kernels

import "fmt"

// Int8RowMatrix is a weight matrix re-encoded to int8 with one scale per row:
// weight[r,k] ~ q[r,k] / scale[r], with scale[r] = 127 / max|row r| (the
// arithmetic of QuantizeRowsI8). It exists for the lm head: an F16 head is
// the largest tensor a decode step reads, and this form reads half its bytes.
// It lives in ordinary memory, filled once by NewInt8RowMatrix.
type Int8RowMatrix struct {
	Rows, Cols int

	q      []int8    // Rows x Cols
	scales []float32 // per row
}

// NewInt8RowMatrix re-encodes m (of any type) row by row, in parallel on p.
func NewInt8RowMatrix(p *Pool, m *Matrix) *Int8RowMatrix {
	out := &Int8RowMatrix{Rows: m.Rows, Cols: m.Cols, q: make([]int8, m.Rows*m.Cols), scales: make([]float32, m.Rows)}
	task := &int8RowTask{src: m, dst: out, rows: make([][]float32, p.Threads())}
	p.Parallel(p.Threads(), task)
	return out
}

// int8RowTask quantises the rows of a matrix; item i of the loop is one
// thread's share (rows i, i+threads, ...) so that each owns a float buffer.
type int8RowTask struct {
	src  *Matrix
	dst  *Int8RowMatrix
	rows [][]float32
}

func (t *int8RowTask) Run(lo, hi int) {
	n, cols := len(t.rows), t.src.Cols
	for i := lo; i < hi; i++ {
		buf := make([]float32, cols)
		for r := i; r < t.src.Rows; r += n {
			t.src.DequantizeRow(r, buf)
			t.dst.scales[r], _ = quantizeRowI8(t.dst.q[r*cols:(r+1)*cols], buf)
		}
	}
}

// Row returns the int8 values of row r.
func (m *Int8RowMatrix) Row(r int) []int8 { return m.q[r*m.Cols : (r+1)*m.Cols] }

// Scale returns row r's scale: its weights are Row(r)[k] / Scale(r).
func (m *Int8RowMatrix) Scale(r int) float32 { return m.scales[r] }

// Bytes returns the number of bytes a full product reads: the int8 values
// and the row scales.
func (m *Int8RowMatrix) Bytes() int { return len(m.q) + 4*len(m.scales) }

// A matMulInt8RowKernel computes output rows [lo, hi) of an Int8RowMatrix
// product for every one of the n activation rows of x.
type matMulInt8RowKernel func(dst []float32, m *Int8RowMatrix, x []float32, n, lo, hi int)

// matMulInt8Row is the dispatched Int8RowMatrix product.
var matMulInt8Row matMulInt8RowKernel = matMulInt8RowGeneric

// MatMulInt8Row multiplies m by each of the n float rows of x (n x m.Cols):
// dst[t*m.Rows + r] = (sum_k q[r,k] x[t,k]) / scale[r].
func (p *Pool) MatMulInt8Row(dst []float32, m *Int8RowMatrix, x []float32, n int) {
	if len(x) < n*m.Cols || len(dst) < n*m.Rows {
		panic(fmt.Sprintf("kernels: MatMulInt8Row shapes: matrix %dx%d, x %d for %d rows, dst %d",
			m.Rows, m.Cols, len(x), n, len(dst)))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mmInt8Row = matMulInt8RowTask{kernel: matMulInt8Row, dst: dst, m: m, x: x, n: n, tile: matMulF32TileRows}
	p.parallelLocked((m.Rows+matMulF32TileRows-1)/matMulF32TileRows, &p.mmInt8Row)
	p.mmInt8Row = matMulInt8RowTask{}
}

type matMulInt8RowTask struct {
	kernel matMulInt8RowKernel
	dst    []float32
	m      *Int8RowMatrix
	x      []float32
	n      int
	tile   int
}

func (t *matMulInt8RowTask) Run(lo, hi int) {
	t.kernel(t.dst, t.m, t.x, t.n, lo*t.tile, min(hi*t.tile, t.m.Rows))
}

// matMulInt8RowGeneric is the scalar oracle of Int8RowMatrix products.
func matMulInt8RowGeneric(dst []float32, m *Int8RowMatrix, x []float32, n, lo, hi int) {
	for r := lo; r < hi; r++ {
		q := m.Row(r)
		for t := 0; t < n; t++ {
			xs := x[t*m.Cols : (t+1)*m.Cols]
			var acc float32
			for k, v := range q {
				acc += float32(v) * xs[k]
			}
			dst[t*m.Rows+r] = acc / m.scales[r]
		}
	}
}
