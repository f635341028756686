// Package gemm multiplies float32 matrices for bitnet's training code: the
// three products of a layer's forward and backward passes,
//
//	C = A·Bᵀ  (MulT: forward, y = x·Wᵀ)
//	C = A·B   (Mul: input gradient, dx = dy·W)
//	C = Aᵀ·B  (MulTA: weight gradient, dW = dyᵀ·x)
//
// on row-major operands with any row stride, so no operand is ever
// transposed in memory and heads of attention tensors are used in place.
//
// The products are blocked for the caches: a panel of B stays in L2 while a
// block of A's rows passes over it, and the innermost tile keeps its running
// sums in registers (MulT: 4×3 dot products; Mul, MulTA: 6×16 outputs
// updated by broadcasts of A). On amd64 with AVX2 and FMA the tiles are
// assembly kernels; elsewhere, and as the tests' oracle, portable Go. Work is
// split over the persistent workers of a kernels.Pool; a nil pool runs on the
// calling goroutine, which is what callers that are already parallel want.
package gemm

import (
	"fmt"

	"github.com/bitnet-go/bitnet/kernels"
)

// Tile and block sizes. A block of blockRows×blockK floats of A (64 KiB) and a
// panel of blockCols×blockK floats of B (96 KiB) fit in L2 together; a tile's
// 4 rows of A over blockK (4 KiB) stay in L1 while it sweeps the panel.
const (
	tileRows  = 4
	tileCols  = 3
	blockRows = 16 * tileRows
	blockCols = 32 * tileCols
	blockK    = 256
)

// MulT computes C = A·Bᵀ, or C += A·Bᵀ when accumulate is true. A is m×k, B is
// n×k and C is m×n. C must not overlap A or B. It panics on mismatched shapes.
func MulT(p *kernels.Pool, c, a, b Mat, accumulate bool) {
	a.check("A")
	b.check("B")
	c.check("C")
	if a.Cols != b.Cols || c.Rows != a.Rows || c.Cols != b.Rows {
		panic(fmt.Sprintf("gemm: C(%d×%d) = A(%d×%d)·Bᵀ with B %d×%d", c.Rows, c.Cols, a.Rows, a.Cols, b.Rows, b.Cols))
	}
	run(p, c, a.Cols, accumulate, &mulTask{c: c, a: a, b: b, accumulate: accumulate}, blockRows, blockCols)
}

// mulTask is MulT's work: one block of C at a time.
type mulTask struct {
	c, a, b    Mat
	accumulate bool
}

// blocker computes one block of a product's output, C[i0:i1, j0:j1].
type blocker interface {
	block(i0, i1, j0, j1 int)
}

// run computes every blockRows×blockCols block of C with b, split over the
// pool when there is more than one. Blocks are numbered column panel by
// column panel, so that the blocks a worker takes in a row share B's panel.
// An empty shared dimension (k = 0) makes C zero, or leaves it when
// accumulating.
func run(p *kernels.Pool, c Mat, k int, accumulate bool, b blocker, blockRows, blockCols int) {
	if c.Rows == 0 || c.Cols == 0 {
		return
	}
	if k == 0 {
		if !accumulate {
			for i := range c.Rows {
				clear(c.Row(i))
			}
		}
		return
	}
	g := &grid{b: b, rows: c.Rows, cols: c.Cols, blockRows: blockRows, blockCols: blockCols}
	g.rowBlocks = (c.Rows + blockRows - 1) / blockRows
	n := g.rowBlocks * ((c.Cols + blockCols - 1) / blockCols)
	if p == nil || n == 1 {
		g.Run(0, n)
		return
	}
	p.Parallel(n, g)
}

// grid is the kernels.Task that runs the blocks numbered [lo, hi).
type grid struct {
	b                    blocker
	rows, cols           int
	blockRows, blockCols int
	rowBlocks            int
}

func (g *grid) Run(lo, hi int) {
	for blk := lo; blk < hi; blk++ {
		i0 := (blk % g.rowBlocks) * g.blockRows
		j0 := (blk / g.rowBlocks) * g.blockCols
		g.b.block(i0, min(i0+g.blockRows, g.rows), j0, min(j0+g.blockCols, g.cols))
	}
}

// block computes C[i0:i1, j0:j1] over the whole shared dimension, one
// blockK-wide slice of it at a time.
func (t *mulTask) block(i0, i1, j0, j1 int) {
	a, b, c := t.a, t.b, t.c
	var sums [tileRows * tileCols]float32
	for k0 := 0; k0 < a.Cols; k0 += blockK {
		kn := min(blockK, a.Cols-k0)
		add := t.accumulate || k0 > 0
		i := i0
		for ; i+tileRows <= i1; i += tileRows {
			ar := a.Data[i*a.Stride+k0:]
			j := j0
			for ; j+tileCols <= j1; j += tileCols {
				tile4x3(ar, a.Stride, b.Data[j*b.Stride+k0:], b.Stride, kn, &sums)
				for r := range tileRows {
					cr := c.Data[(i+r)*c.Stride+j : (i+r)*c.Stride+j+tileCols]
					s := sums[r*tileCols : r*tileCols+tileCols]
					if add {
						cr[0] += s[0]
						cr[1] += s[1]
						cr[2] += s[2]
					} else {
						cr[0], cr[1], cr[2] = s[0], s[1], s[2]
					}
				}
			}
			for ; j < j1; j++ {
				bj := b.Data[j*b.Stride+k0 : j*b.Stride+k0+kn]
				for r := range tileRows {
					store(c.Data, (i+r)*c.Stride+j, dot(a.Data[(i+r)*a.Stride+k0:(i+r)*a.Stride+k0+kn], bj), add)
				}
			}
		}
		for ; i < i1; i++ {
			ai := a.Data[i*a.Stride+k0 : i*a.Stride+k0+kn]
			for j := j0; j < j1; j++ {
				store(c.Data, i*c.Stride+j, dot(ai, b.Data[j*b.Stride+k0:j*b.Stride+k0+kn]), add)
			}
		}
	}
}

func store(c []float32, at int, v float32, add bool) {
	if add {
		c[at] += v
	} else {
		c[at] = v
	}
}
