package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
)

func randMat(rng *rand.Rand, rows, cols, stride int) Mat {
	data := make([]float32, max(0, (rows-1)*stride+cols))
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return Mat{Data: data, Rows: rows, Cols: cols, Stride: stride}
}

// naiveMulT is the definition of C = A·Bᵀ, summed in float64.
func naiveMulT(a, b Mat) []float64 {
	c := make([]float64, a.Rows*b.Rows)
	for i := range a.Rows {
		for j := range b.Rows {
			var s float64
			for k := range a.Cols {
				s += float64(a.Data[i*a.Stride+k]) * float64(b.Data[j*b.Stride+k])
			}
			c[i*b.Rows+j] = s
		}
	}
	return c
}

// closeTo reports whether got matches want within float32 rounding of a sum
// of k products of unit-variance values.
func closeTo(got float32, want float64, k int) bool {
	return math.Abs(float64(got)-want) <= 1e-5*math.Sqrt(float64(k)+1)*4+1e-6*math.Abs(want)
}

func TestMulTMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := kernels.NewPool(3)
	defer pool.Close()
	shapes := [][3]int{{1, 1, 1}, {4, 3, 8}, {5, 4, 9}, {7, 11, 13}, {64, 96, 256}, {65, 97, 257}, {130, 200, 600}, {3, 300, 40}, {300, 2, 17}, {9, 9, 0}}
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		for _, strided := range []bool{false, true} {
			pad := 0
			if strided {
				pad = 5
			}
			a := randMat(rng, m, k, k+pad)
			b := randMat(rng, n, k, k+pad)
			want := naiveMulT(a, b)
			for _, p := range []*kernels.Pool{nil, pool} {
				for _, acc := range []bool{false, true} {
					c := randMat(rng, m, n, n+pad)
					before := append([]float32(nil), c.Data...)
					MulT(p, c, a, b, acc)
					name := fmt.Sprintf("%dx%dx%d strided=%v pool=%v acc=%v", m, n, k, strided, p != nil, acc)
					for i := range m {
						for j := range n {
							w := want[i*n+j]
							if acc {
								w += float64(before[i*c.Stride+j])
							}
							if got := c.Data[i*c.Stride+j]; !closeTo(got, w, k) {
								t.Fatalf("%s: C[%d,%d] = %v, want %v", name, i, j, got, w)
							}
						}
					}
					// Padding between rows belongs to nobody and must survive.
					for i := 0; i+1 < m; i++ {
						for j := n; j < c.Stride; j++ {
							if c.Data[i*c.Stride+j] != before[i*c.Stride+j] {
								t.Fatalf("%s: wrote padding at row %d col %d", name, i, j)
							}
						}
					}
				}
			}
		}
	}
}

func TestTileKernelsAgree(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this machine: only the Go tile runs")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range []int{8, 16, 24, 256, 1000} {
		a := randMat(rng, 4, k, k+3)
		b := randMat(rng, 3, k, k+1)
		var asm, ref [12]float32
		tile4x3AVX2(&a.Data[0], a.Stride, &b.Data[0], b.Stride, k&^7, &asm)
		tile4x3Go(a.Data, a.Stride, b.Data, b.Stride, k&^7, &ref, false)
		for i := range asm {
			if !closeTo(asm[i], float64(ref[i]), k) {
				t.Fatalf("k=%d: sum %d: AVX2 %v, Go %v", k, i, asm[i], ref[i])
			}
		}
		if got, want := dotAVX2(&a.Data[0], &b.Data[0], k&^7), naiveMulT(a.Sub(0, 0, 1, k&^7), b.Sub(0, 0, 1, k&^7))[0]; !closeTo(got, want, k) {
			t.Fatalf("k=%d: dot %v, want %v", k, got, want)
		}
	}
}

func TestMulTPanicsOnMismatch(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("MulT accepted A 2×3 with B 2×4")
		}
	}()
	MulT(nil, View(make([]float32, 4), 2, 2), View(make([]float32, 6), 2, 3), View(make([]float32, 8), 2, 4), false)
}

func benchmarkMulT(bench *testing.B, m, n, k int) {
	rng := rand.New(rand.NewPCG(7, 8))
	a, b, c := randMat(rng, m, k, k), randMat(rng, n, k, k), randMat(rng, m, n, n)
	pool := kernels.NewPool(2)
	defer pool.Close()
	bench.ResetTimer()
	for bench.Loop() {
		MulT(pool, c, a, b, false)
	}
	bench.ReportMetric(float64(2*m*n*k)*float64(bench.N)/bench.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkMulT256x1024x256(b *testing.B) { benchmarkMulT(b, 256, 1024, 256) }
func BenchmarkMulT256x256x1024(b *testing.B) { benchmarkMulT(b, 256, 256, 1024) }
func BenchmarkMulT1024x256x256(b *testing.B) { benchmarkMulT(b, 1024, 256, 256) }

// naiveMul is the definition of C = op(A)·B, summed in float64; op(A) is A,
// or Aᵀ when transA is set.
func naiveMul(a, b Mat, transA bool) []float64 {
	m, k := a.Rows, a.Cols
	at := func(i, q int) float32 { return a.Data[i*a.Stride+q] }
	if transA {
		m, k = a.Cols, a.Rows
		at = func(i, q int) float32 { return a.Data[q*a.Stride+i] }
	}
	c := make([]float64, m*b.Cols)
	for i := range m {
		for j := range b.Cols {
			var s float64
			for q := range k {
				s += float64(at(i, q)) * float64(b.Data[q*b.Stride+j])
			}
			c[i*b.Cols+j] = s
		}
	}
	return c
}

func TestMulMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	pool := kernels.NewPool(3)
	defer pool.Close()
	// m, n, k: tails in every dimension, several blocks, and an empty k.
	shapes := [][3]int{{1, 1, 1}, {6, 16, 1}, {7, 17, 5}, {13, 33, 300}, {48, 128, 256}, {100, 150, 513}, {5, 300, 40}, {300, 16, 9}, {4, 4, 0}}
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		for _, transA := range []bool{false, true} {
			pad := 3
			var a Mat
			if transA {
				a = randMat(rng, k, m, m+pad)
			} else {
				a = randMat(rng, m, k, k+pad)
			}
			b := randMat(rng, k, n, n+pad)
			want := naiveMul(a, b, transA)
			for _, p := range []*kernels.Pool{nil, pool} {
				for _, acc := range []bool{false, true} {
					c := randMat(rng, m, n, n+pad)
					before := append([]float32(nil), c.Data...)
					if transA {
						MulTA(p, c, a, b, acc)
					} else {
						Mul(p, c, a, b, acc)
					}
					name := fmt.Sprintf("%dx%dx%d transA=%v pool=%v acc=%v", m, n, k, transA, p != nil, acc)
					for i := range m {
						for j := range n {
							w := want[i*n+j]
							if acc {
								w += float64(before[i*c.Stride+j])
							}
							if got := c.Data[i*c.Stride+j]; !closeTo(got, w, k) {
								t.Fatalf("%s: C[%d,%d] = %v, want %v", name, i, j, got, w)
							}
						}
						for j := n; j < c.Stride && i+1 < m; j++ {
							if c.Data[i*c.Stride+j] != before[i*c.Stride+j] {
								t.Fatalf("%s: wrote padding at row %d col %d", name, i, j)
							}
						}
					}
				}
			}
		}
	}
}

func TestMulTileKernelsAgree(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this machine: only the Go tile runs")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, k := range []int{1, 7, 256} {
		for _, transA := range []bool{false, true} {
			a := randMat(rng, 6, k, k+2)
			aRow, aCol := a.Stride, 1
			if transA {
				a = randMat(rng, k, 6, 9)
				aRow, aCol = 1, a.Stride
			}
			b := randMat(rng, k, 16, 20)
			for _, add := range []bool{false, true} {
				asm, ref := randMat(rng, 6, 16, 16), randMat(rng, 6, 16, 16)
				copy(ref.Data, asm.Data)
				mulTile6x16AVX2(&a.Data[0], aRow, aCol, &b.Data[0], b.Stride, k, &asm.Data[0], 16, add)
				mulTileGo(a.Data, aRow, aCol, b.Data, b.Stride, k, ref.Data, 16, 6, 16, add)
				for i := range asm.Data {
					if !closeTo(asm.Data[i], float64(ref.Data[i]), k) {
						t.Fatalf("k=%d transA=%v add=%v: 6x16 tile [%d] = %v, Go %v", k, transA, add, i, asm.Data[i], ref.Data[i])
					}
				}
				row, refRow := append([]float32(nil), ref.Data[:16]...), append([]float32(nil), ref.Data[:16]...)
				mulTile1x16AVX2(&a.Data[0], aCol, &b.Data[0], b.Stride, k, &row[0], add)
				mulTileGo(a.Data, aRow, aCol, b.Data, b.Stride, k, refRow, 16, 1, 16, add)
				for i := range row {
					if !closeTo(row[i], float64(refRow[i]), k) {
						t.Fatalf("k=%d transA=%v add=%v: 1x16 tile [%d] = %v, Go %v", k, transA, add, i, row[i], refRow[i])
					}
				}
			}
		}
	}
}

func benchmarkMul(bench *testing.B, m, n, k int, transA bool) {
	rng := rand.New(rand.NewPCG(7, 8))
	b, c := randMat(rng, k, n, n), randMat(rng, m, n, n)
	a := randMat(rng, m, k, k)
	if transA {
		a = randMat(rng, k, m, m)
	}
	pool := kernels.NewPool(2)
	defer pool.Close()
	for bench.Loop() {
		if transA {
			MulTA(pool, c, a, b, false)
		} else {
			Mul(pool, c, a, b, false)
		}
	}
	bench.ReportMetric(float64(2*m*n*k)*float64(bench.N)/bench.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkMul256x1024x256(b *testing.B)   { benchmarkMul(b, 256, 1024, 256, false) }
func BenchmarkMulTA1024x256x256(b *testing.B) { benchmarkMul(b, 1024, 256, 256, true) }
func BenchmarkMulTA256x256x1024(b *testing.B) { benchmarkMul(b, 256, 256, 1024, true) }
