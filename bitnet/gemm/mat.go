package gemm

import "fmt"

// Mat is a row-major view of a float32 matrix: element (i, j) is
// Data[i*Stride+j]. Views share their data; a sub-view of a wider matrix has a
// Stride larger than its Cols.
type Mat struct {
	Data   []float32
	Rows   int
	Cols   int
	Stride int
}

// View returns a dense rows×cols view of data. It panics when data holds
// fewer than rows*cols values.
func View(data []float32, rows, cols int) Mat {
	if rows < 0 || cols < 0 || len(data) < rows*cols {
		panic(fmt.Sprintf("gemm: view of %d×%d over %d values", rows, cols, len(data)))
	}
	return Mat{Data: data[:rows*cols], Rows: rows, Cols: cols, Stride: cols}
}

// Sub returns the rows×cols view whose top-left element is (r0, c0).
func (m Mat) Sub(r0, c0, rows, cols int) Mat {
	if r0 < 0 || c0 < 0 || rows < 0 || cols < 0 || r0+rows > m.Rows || c0+cols > m.Cols {
		panic(fmt.Sprintf("gemm: sub-view (%d,%d)+%d×%d of a %d×%d matrix", r0, c0, rows, cols, m.Rows, m.Cols))
	}
	if rows == 0 || cols == 0 {
		return Mat{Rows: rows, Cols: cols, Stride: m.Stride}
	}
	start := r0*m.Stride + c0
	end := (r0+rows-1)*m.Stride + c0 + cols
	return Mat{Data: m.Data[start:end], Rows: rows, Cols: cols, Stride: m.Stride}
}

// Row returns row i as a slice of Cols values.
func (m Mat) Row(i int) []float32 {
	return m.Data[i*m.Stride : i*m.Stride+m.Cols]
}

// check panics unless m's data covers all of its rows.
func (m Mat) check(name string) {
	if m.Rows < 0 || m.Cols < 0 || (m.Rows > 0 && m.Stride < m.Cols) {
		panic(fmt.Sprintf("gemm: %s is %d×%d with stride %d", name, m.Rows, m.Cols, m.Stride))
	}
	if m.Rows > 0 && m.Cols > 0 && len(m.Data) < (m.Rows-1)*m.Stride+m.Cols {
		panic(fmt.Sprintf("gemm: %s is %d×%d with stride %d over %d values", name, m.Rows, m.Cols, m.Stride, len(m.Data)))
	}
}
