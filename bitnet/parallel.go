package bitnet

import (
	"sync"

	"github.com/bitnet-go/bitnet/kernels"
)

// rangeFunc adapts a function to kernels.Task.
type rangeFunc func(lo, hi int)

func (f rangeFunc) Run(lo, hi int) { f(lo, hi) }

// parallelFor runs f over [0, n) on the pool's workers, or on the calling
// goroutine when p is nil. f must not use the pool itself.
func parallelFor(p *kernels.Pool, n int, f func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if p == nil {
		f(0, n)
		return
	}
	p.Parallel(n, rangeFunc(f))
}

// scratchPool recycles the large temporary buffers of backward passes
// (transposed operands), which are needed only during one call.
var scratchPool sync.Pool

// getScratch returns a buffer of n float32 values with unspecified contents.
func getScratch(n int) *[]float32 {
	if b, ok := scratchPool.Get().(*[]float32); ok && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	}
	b := make([]float32, n)
	return &b
}

// putScratch returns a buffer obtained from getScratch.
func putScratch(b *[]float32) { scratchPool.Put(b) }
