package kernels

import "fmt"

// A matMulI8Kernel computes output rows [lo, hi) of a ternary x int8 product
// for every activation row: dst[t*m.Rows + r] for t < a.Rows, lo <= r < hi.
type matMulI8Kernel func(dst []float32, m *Matrix, a *QuantizedRows, lo, hi int)

// A matMulF32Kernel computes output rows [lo, hi) of a matrix x float product
// for every one of the n activation rows of x.
type matMulF32Kernel func(dst []float32, m *Matrix, x []float32, n, lo, hi int)

// The dispatch tables: the scalar oracles are registered here; faster paths
// replace entries at initialisation when the CPU supports them.
var (
	matMulI8Kernels = map[Type]matMulI8Kernel{
		TQ1_0: matMulI8Generic,
		TQ2_0: matMulI8Generic,
		I2_S:  matMulI8Generic,
	}
	// The pool hands the kernels rows in multiples of these (the tile
	// heights of the fastest kernels), so that only a matrix's last rows
	// form a partial tile.
	matMulI8TileRows  = 1
	matMulF32TileRows = 1

	matMulF32Kernels = map[Type]matMulF32Kernel{
		F32:   matMulF32Generic,
		F16:   matMulF32Generic,
		BF16:  matMulF32Generic,
		Q8_0:  matMulF32Generic,
		Q6_K:  matMulF32Generic,
		TQ1_0: matMulF32Generic,
		TQ2_0: matMulF32Generic,
		I2_S:  matMulF32Generic,
	}
)

// MatMulI8 multiplies the ternary matrix m by each int8 activation row of a:
// dst[t*m.Rows + r] = (sum over blocks b of d_b * sum_k W[r,k] q[t,k]) / a.Scale[t],
// where W are the weights' ternary values and d_b their block (TQ1_0, TQ2_0)
// or tensor (I2_S) scale. The integer sums are exact.
func (p *Pool) MatMulI8(dst []float32, m *Matrix, a *QuantizedRows) {
	k, ok := matMulI8Kernels[m.Type]
	if !ok {
		panic(fmt.Sprintf("kernels: MatMulI8 on non-ternary type %v", m.Type))
	}
	if a.Cols != m.Cols || len(dst) < a.Rows*m.Rows {
		panic(fmt.Sprintf("kernels: MatMulI8 shapes: matrix %dx%d, activations %dx%d, dst %d",
			m.Rows, m.Cols, a.Rows, a.Cols, len(dst)))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mmI8 = matMulI8Task{kernel: k, dst: dst, m: m, a: a, tile: matMulI8TileRows}
	p.parallelLocked((m.Rows+matMulI8TileRows-1)/matMulI8TileRows, &p.mmI8)
	p.mmI8 = matMulI8Task{}
}

// MatMulF32 multiplies m by each of the n float rows of x (n x m.Cols):
// dst[t*m.Rows + r] = sum_k W[r,k] x[t,k], with W decoded from any type.
func (p *Pool) MatMulF32(dst []float32, m *Matrix, x []float32, n int) {
	k := matMulF32Kernels[m.Type]
	if len(x) < n*m.Cols || len(dst) < n*m.Rows {
		panic(fmt.Sprintf("kernels: MatMulF32 shapes: matrix %dx%d, x %d for %d rows, dst %d",
			m.Rows, m.Cols, len(x), n, len(dst)))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mmF32 = matMulF32Task{kernel: k, dst: dst, m: m, x: x, n: n, tile: matMulF32TileRows}
	p.parallelLocked((m.Rows+matMulF32TileRows-1)/matMulF32TileRows, &p.mmF32)
	p.mmF32 = matMulF32Task{}
}

type matMulI8Task struct {
	kernel matMulI8Kernel
	dst    []float32
	m      *Matrix
	a      *QuantizedRows
	tile   int // rows per unit of work
}

func (t *matMulI8Task) Run(lo, hi int) {
	t.kernel(t.dst, t.m, t.a, lo*t.tile, min(hi*t.tile, t.m.Rows))
}

type matMulF32Task struct {
	kernel matMulF32Kernel
	dst    []float32
	m      *Matrix
	x      []float32
	n      int
	tile   int // rows per unit of work
}

func (t *matMulF32Task) Run(lo, hi int) {
	t.kernel(t.dst, t.m, t.x, t.n, lo*t.tile, min(hi*t.tile, t.m.Rows))
}

// matMulI8Generic is the scalar oracle of ternary x int8 products. Each
// block's integer dot product is exact; blocks are combined in order.
func matMulI8Generic(dst []float32, m *Matrix, a *QuantizedRows, lo, hi int) {
	var trits [QK_K]int8
	be, bb := m.Type.BlockElems(), m.Type.BlockBytes()
	nb := m.Cols / be
	for r := lo; r < hi; r++ {
		row := m.Row(r)
		for t := 0; t < a.Rows; t++ {
			q := a.Row(t)
			var acc float32 // TQ types: sum of d_b * dot_b
			var isum int32  // I2_S: one scale for the whole tensor
			for b := 0; b < nb; b++ {
				blk := row[b*bb : (b+1)*bb]
				switch m.Type {
				case TQ2_0:
					tq2Trits(blk, &trits)
				case TQ1_0:
					tq1Trits(blk, &trits)
				case I2_S:
					i2sTrits(blk, (*[I2SBlock]int8)(trits[:I2SBlock]))
				}
				var dot int32
				for i, w := range trits[:be] {
					dot += int32(w) * int32(q[b*be+i])
				}
				if m.Type == I2_S {
					isum += dot
				} else {
					acc += F16ToF32(le16(blk[bb-2:])) * float32(dot)
				}
			}
			if m.Type == I2_S {
				acc = float32(isum) * m.scale
			}
			dst[t*m.Rows+r] = acc / a.Scale[t]
		}
	}
}

// f32Chunk is how many weights the generic float product decodes at a time:
// a whole number of blocks of every type.
const f32Chunk = QK_K

// matMulF32Generic is the scalar oracle of float products: it decodes each
// row in chunks with the reference decoders and accumulates in float32.
func matMulF32Generic(dst []float32, m *Matrix, x []float32, n, lo, hi int) {
	var w [f32Chunk]float32
	for r := lo; r < hi; r++ {
		row := m.Row(r)
		for t := 0; t < n; t++ {
			dst[t*m.Rows+r] = 0
		}
		for off := 0; off < m.Cols; off += f32Chunk {
			c := min(f32Chunk, m.Cols-off)
			bytesOff, _ := m.Type.RowBytes(off)
			dequantizeRow(m.Type, row[bytesOff:], m.scale, w[:c])
			for t := 0; t < n; t++ {
				xs := x[t*m.Cols+off : t*m.Cols+off+c]
				var s float32
				for i, v := range w[:c] {
					s += v * xs[i]
				}
				dst[t*m.Rows+r] += s
			}
		}
	}
}
