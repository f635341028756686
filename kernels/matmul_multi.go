package kernels

import "fmt"

// maxMulti is the most matrices MatMulI8Multi takes at once.
const maxMulti = 4

// MatMulI8Multi computes dst[i] as MatMulI8(dst[i], ms[i], a) for up to four
// ternary matrices that share their input (a layer's Q, K and V, or its gate
// and up projections), in one parallel loop: the workers are handed one loop
// instead of len(ms), and the chunks of all the products balance together.
// The results equal those of separate MatMulI8 calls.
func (p *Pool) MatMulI8Multi(dst [][]float32, ms []*Matrix, a *QuantizedRows) {
	if len(ms) > maxMulti || len(dst) != len(ms) {
		panic(fmt.Sprintf("kernels: MatMulI8Multi of %d matrices and %d outputs (at most %d)", len(ms), len(dst), maxMulti))
	}
	t := matMulI8MultiTask{dst: dst, ms: ms, a: a, tile: matMulI8TileRows, n: len(ms)}
	units := 0
	for i, m := range ms {
		k, ok := matMulI8Kernels[m.Type]
		if !ok {
			panic(fmt.Sprintf("kernels: MatMulI8Multi on non-ternary type %v", m.Type))
		}
		if a.Cols != m.Cols || len(dst[i]) < a.Rows*m.Rows {
			panic(fmt.Sprintf("kernels: MatMulI8Multi shapes: matrix %dx%d, activations %dx%d, dst %d",
				m.Rows, m.Cols, a.Rows, a.Cols, len(dst[i])))
		}
		units += (m.Rows + t.tile - 1) / t.tile
		t.kernels[i], t.ends[i] = k, units
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mmI8Multi = t
	p.parallelLocked(units, &p.mmI8Multi)
	p.mmI8Multi = matMulI8MultiTask{}
}

// matMulI8MultiTask spreads the units (tile-row groups) of several products
// over one index range: matrix i owns units [ends[i-1], ends[i]).
type matMulI8MultiTask struct {
	dst     [][]float32
	ms      []*Matrix
	a       *QuantizedRows
	tile    int
	n       int
	kernels [maxMulti]matMulI8Kernel
	ends    [maxMulti]int
}

func (t *matMulI8MultiTask) Run(lo, hi int) {
	start := 0
	for i := 0; i < t.n && lo < hi; i++ {
		end := t.ends[i]
		if lo < end {
			l, h := lo-start, min(hi, end)-start
			m := t.ms[i]
			t.kernels[i](t.dst[i], m, t.a, l*t.tile, min(h*t.tile, m.Rows))
			lo = min(hi, end)
		}
		start = end
	}
}
