package gemm

import (
	"fmt"

	"github.com/bitnet-go/bitnet/kernels"
)

// Tile and block sizes of Mul and MulTA. A tile is 6 rows of C by 16
// columns (two AVX registers each): each step of the shared dimension
// broadcasts 6 values of A against one row of 16 values of B. A panel of
// mulBlockK rows of B by mulBlockCols columns (128 KiB) stays in L2 while a
// block of mulBlockRows rows of A passes over it.
const (
	mulTileRows  = 6
	mulTileCols  = 16
	mulBlockRows = 8 * mulTileRows
	mulBlockCols = 8 * mulTileCols
	mulBlockK    = 256
)

// Mul computes C = A·B, or C += A·B when accumulate is true. A is m×k, B is
// k×n and C is m×n. C must not overlap A or B. It panics on mismatched
// shapes.
func Mul(p *kernels.Pool, c, a, b Mat, accumulate bool) {
	a.check("A")
	if a.Cols != b.Rows || c.Rows != a.Rows || c.Cols != b.Cols {
		panic(fmt.Sprintf("gemm: C(%d×%d) = A(%d×%d)·B(%d×%d)", c.Rows, c.Cols, a.Rows, a.Cols, b.Rows, b.Cols))
	}
	mul(p, c, a.Data, a.Stride, 1, b, a.Cols, accumulate)
}

// MulTA computes C = Aᵀ·B, or C += Aᵀ·B when accumulate is true. A is k×m,
// B is k×n and C is m×n. C must not overlap A or B. It panics on mismatched
// shapes.
func MulTA(p *kernels.Pool, c, a, b Mat, accumulate bool) {
	a.check("A")
	if a.Rows != b.Rows || c.Rows != a.Cols || c.Cols != b.Cols {
		panic(fmt.Sprintf("gemm: C(%d×%d) = A(%d×%d)ᵀ·B(%d×%d)", c.Rows, c.Cols, a.Rows, a.Cols, b.Rows, b.Cols))
	}
	mul(p, c, a.Data, 1, a.Stride, b, a.Rows, accumulate)
}

// mul computes C (+)= op(A)·B where op(A)(i, q) = a[i*aRow + q*aCol] and the
// shared dimension has k elements.
func mul(p *kernels.Pool, c Mat, a []float32, aRow, aCol int, b Mat, k int, accumulate bool) {
	b.check("B")
	c.check("C")
	t := &mulABTask{c: c, a: a, aRow: aRow, aCol: aCol, b: b, k: k, accumulate: accumulate}
	run(p, c, k, accumulate, t, mulBlockRows, mulBlockCols)
}

// mulABTask is the work of Mul and MulTA: one block of C at a time.
type mulABTask struct {
	c          Mat
	a          []float32
	aRow, aCol int
	b          Mat
	k          int
	accumulate bool
}

// block computes C[i0:i1, j0:j1] over the whole shared dimension, one
// mulBlockK-long slice of it at a time.
func (t *mulABTask) block(i0, i1, j0, j1 int) {
	c, b := t.c, t.b
	for k0 := 0; k0 < t.k; k0 += mulBlockK {
		kn := min(mulBlockK, t.k-k0)
		add := t.accumulate || k0 > 0
		for i := i0; i < i1; {
			rows := min(mulTileRows, i1-i)
			if !useAVX2 || rows < mulTileRows {
				rows = 1
			}
			ai := t.a[i*t.aRow+k0*t.aCol:]
			for j := j0; j < j1; j += mulTileCols {
				cols := min(mulTileCols, j1-j)
				bj := b.Data[k0*b.Stride+j:]
				cij := c.Data[i*c.Stride+j:]
				if cols < mulTileCols || !useAVX2 {
					mulTileGo(ai, t.aRow, t.aCol, bj, b.Stride, kn, cij, c.Stride, rows, cols, add)
					continue
				}
				// Bounds of the last elements each kernel reads and writes.
				_ = ai[(rows-1)*t.aRow+(kn-1)*t.aCol]
				_ = bj[(kn-1)*b.Stride+mulTileCols-1]
				_ = cij[(rows-1)*c.Stride+mulTileCols-1]
				if rows == mulTileRows {
					mulTile6x16AVX2(&ai[0], t.aRow, t.aCol, &bj[0], b.Stride, kn, &cij[0], c.Stride, add)
				} else {
					mulTile1x16AVX2(&ai[0], t.aCol, &bj[0], b.Stride, kn, &cij[0], add)
				}
			}
			i += rows
		}
	}
}

// mulTileGo is the portable tile: C[0:rows, 0:cols] (+)= op(A)·B over k.
func mulTileGo(a []float32, aRow, aCol int, b []float32, ldb, k int, c []float32, ldc, rows, cols int, add bool) {
	var acc [mulTileCols]float32
	for i := range rows {
		clear(acc[:cols])
		for q := range k {
			av := a[i*aRow+q*aCol]
			br := b[q*ldb : q*ldb+cols]
			for j, bv := range br {
				acc[j] += av * bv
			}
		}
		cr := c[i*ldc : i*ldc+cols]
		for j := range cr {
			if add {
				cr[j] += acc[j]
			} else {
				cr[j] = acc[j]
			}
		}
	}
}
