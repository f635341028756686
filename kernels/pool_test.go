package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// coverTask counts how often each index is visited and checks the ranges it
// is given.
type coverTask struct {
	counts []atomic.Int32
	bad    atomic.Int32 // empty, reversed or out-of-range ranges
}

func newCoverTask(n int) *coverTask { return &coverTask{counts: make([]atomic.Int32, n)} }

func (c *coverTask) Run(lo, hi int) {
	if lo < 0 || hi > len(c.counts) || lo >= hi {
		c.bad.Add(1)
		return
	}
	for i := lo; i < hi; i++ {
		c.counts[i].Add(1)
	}
}

func (c *coverTask) check(t *testing.T, what string) {
	t.Helper()
	if b := c.bad.Load(); b != 0 {
		t.Errorf("%s: %d bad ranges", what, b)
	}
	for i := range c.counts {
		if n := c.counts[i].Load(); n != 1 {
			t.Errorf("%s: index %d visited %d times", what, i, n)
			return
		}
	}
}

func TestPoolCoversEveryIndexOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 4, 7, 16} {
		p := NewPool(threads)
		if p.Threads() != threads {
			t.Errorf("NewPool(%d).Threads() = %d", threads, p.Threads())
		}
		sizes := []int{0, 1, 2, threads - 1, threads, threads + 1, 4*threads - 1, 4 * threads, 4*threads + 1,
			13, 97, 101, 1009, 10007, 1 << 20}
		for _, n := range sizes {
			if n < 0 {
				continue
			}
			for rep := 0; rep < 3; rep++ { // the pool is reused
				c := newCoverTask(n)
				p.Parallel(n, c)
				c.check(t, "Parallel")
			}
		}
		c := newCoverTask(0)
		p.Parallel(-5, c) // a negative size is an empty loop
		c.check(t, "Parallel(-5)")
		p.Close()
	}
}

func TestNewPoolDefaultsToCPUCount(t *testing.T) {
	for _, n := range []int{0, -3} {
		p := NewPool(n)
		if p.Threads() != runtime.NumCPU() {
			t.Errorf("NewPool(%d).Threads() = %d, want NumCPU = %d", n, p.Threads(), runtime.NumCPU())
		}
		p.Close()
	}
}

// exclusiveTask records, for loop id, how many of its chunks are running
// and fails if a chunk of another loop runs at the same time.
type exclusiveTask struct {
	id       int
	inFlight []atomic.Int32 // per loop id, shared by all tasks
	overlaps *atomic.Int32
	cover    *coverTask
}

func (e *exclusiveTask) Run(lo, hi int) {
	e.inFlight[e.id].Add(1)
	for other := range e.inFlight {
		if other != e.id && e.inFlight[other].Load() != 0 {
			e.overlaps.Add(1)
		}
	}
	runtime.Gosched() // widen the window in which another loop could start
	e.cover.Run(lo, hi)
	e.inFlight[e.id].Add(-1)
}

// TestPoolSerialisesConcurrentCallers runs loops and products from several
// goroutines on one pool: no two loops may overlap and each must be complete.
func TestPoolSerialisesConcurrentCallers(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	const callers, loops = 6, 40
	inFlight := make([]atomic.Int32, callers)
	var overlaps atomic.Int32
	rng := newRand(20)
	m := randomMatrix(t, rng, TQ2_0, 13, 256, ordinaryScales)
	x := randomActivations(rng, 2, 256, true)
	var a QuantizedRows
	QuantizeRowsI8(&a, x, 2, 256)
	want := make([]float32, 26)
	p.MatMulI8(want, m, &a)

	var wg sync.WaitGroup
	errs := make(chan string, callers*loops)
	for id := 0; id < callers; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := make([]float32, 26)
			for l := 0; l < loops; l++ {
				n := 50 + 37*id + l
				c := newCoverTask(n)
				p.Parallel(n, &exclusiveTask{id: id, inFlight: inFlight, overlaps: &overlaps, cover: c})
				for i := range c.counts {
					if c.counts[i].Load() != 1 || c.bad.Load() != 0 {
						errs <- "a concurrent loop did not cover every index once"
						return
					}
				}
				p.MatMulI8(got, m, &a)
				for i := range got {
					if got[i] != want[i] {
						errs <- "a concurrent product differs from the serial one"
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := overlaps.Load(); n != 0 {
		t.Errorf("chunks of different loops ran at the same time %d times", n)
	}
}

func TestPoolClose(t *testing.T) {
	before := runtime.NumGoroutine()
	p := NewPool(8)
	if got := runtime.NumGoroutine(); got < before+7 {
		t.Fatalf("NewPool(8) started %d goroutines, want 7", got-before)
	}
	p.Close()
	p.Close() // idempotent
	// After Close a loop still runs, on the calling goroutine.
	c := newCoverTask(1000)
	p.Parallel(1000, c)
	c.check(t, "Parallel after Close")
	// The workers exit. Waiting for the scheduler is not a timing assertion:
	// the deadline only bounds a hang.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > before {
		t.Errorf("%d goroutines remain after Close, %d before NewPool", got, before)
	}
}

// countTask is a Task that allocates nothing.
type countTask struct{ n atomic.Int64 }

func (c *countTask) Run(lo, hi int) { c.n.Add(int64(hi - lo)) }

func TestPoolDoesNotAllocate(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	task := &countTask{}
	if allocs := testing.AllocsPerRun(100, func() { p.Parallel(1000, task) }); allocs != 0 {
		t.Errorf("Parallel allocates %v times per call", allocs)
	}
	rng := newRand(21)
	for _, typ := range SupportedTypes() {
		cols := testCols(typ)[1]
		m := randomMatrix(t, rng, typ, 37, cols, ordinaryScales)
		x := randomActivations(rng, 5, cols, true)
		dst := make([]float32, 5*37)
		if allocs := testing.AllocsPerRun(20, func() { p.MatMulF32(dst, m, x, 5) }); allocs != 0 {
			t.Errorf("MatMulF32 on %v allocates %v times per call", typ, allocs)
		}
		if !typ.Ternary() {
			continue
		}
		var a QuantizedRows
		QuantizeRowsI8(&a, x, 5, cols)
		if allocs := testing.AllocsPerRun(20, func() {
			QuantizeRowsI8(&a, x, 5, cols)
			p.MatMulI8(dst, m, &a)
		}); allocs != 0 {
			t.Errorf("QuantizeRowsI8 + MatMulI8 on %v allocate %v times per call", typ, allocs)
		}
	}
	bm, err := NewBinaryMatrix(37, 100, binaryWeights(rng, "random", 37, 100))
	if err != nil {
		t.Fatal(err)
	}
	var a QuantizedRows
	QuantizeRowsI8(&a, randomActivations(rng, 5, 100, true), 5, 100)
	dots := make([]int32, 5*37)
	if allocs := testing.AllocsPerRun(20, func() { p.MatMulBinaryI8(dots, bm, &a) }); allocs != 0 {
		t.Errorf("MatMulBinaryI8 allocates %v times per call", allocs)
	}
}
