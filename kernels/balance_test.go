package kernels

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// timedMatMul is a ternary product split over a pool as MatMulI8 splits it
// (units of matMulI8TileRows rows), with every chunk timed, so that the
// threads' idle time can be measured: wall time x threads - busy time.
type timedMatMul struct {
	dst  []float32
	m    *Matrix
	a    *QuantizedRows
	busy atomic.Int64 // nanoseconds spent in chunks
}

func (t *timedMatMul) Run(lo, hi int) {
	start := time.Now()
	matMulI8Kernels[t.m.Type](t.dst, t.m, t.a, lo*matMulI8TileRows, min(hi*matMulI8TileRows, t.m.Rows))
	t.busy.Add(int64(time.Since(start)))
}

// BenchmarkPoolBalance reports how much of the threads' time a parallel
// ternary product leaves idle (waiting for work to start or for the last
// chunk to end), for decode (1 token) and prefill (64 tokens) at the 2B4T
// projection shapes. On a machine shared with other work, idle time also
// counts a thread that was descheduled.
func BenchmarkPoolBalance(b *testing.B) {
	threads := runtime.NumCPU()
	if threads < 2 {
		b.Skip("one CPU")
	}
	p := NewPool(threads)
	defer p.Close()
	for _, s := range ternaryBenchShapes {
		for _, tokens := range []int{1, 64} {
			b.Run(fmt.Sprintf("%dx%d/tokens=%d/threads=%d", s.rows, s.cols, tokens, threads), func(b *testing.B) {
				m := benchMatrix(b, I2_S, s.rows, s.cols)
				var a QuantizedRows
				QuantizeRowsI8(&a, randomActivations(newRand(1), tokens, s.cols, false), tokens, s.cols)
				t := &timedMatMul{dst: make([]float32, tokens*s.rows), m: m, a: &a}
				units := (m.Rows + matMulI8TileRows - 1) / matMulI8TileRows
				var wall time.Duration
				for b.Loop() {
					start := time.Now()
					p.Parallel(units, t)
					wall += time.Since(start)
				}
				idle := float64(threads)*float64(wall) - float64(t.busy.Load())
				b.ReportMetric(100*idle/(float64(threads)*float64(wall)), "idle%")
				b.ReportMetric(idle/float64(b.N)/1e3, "idle-µs/op")
			})
		}
	}
}
