package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Task is a unit of parallel work: Run processes the half-open index range
// [lo, hi). A Pool calls Run concurrently on disjoint ranges.
type Task interface {
	Run(lo, hi int)
}

// Pool is a fixed set of worker goroutines that run parallel loops. The
// workers are started once and reused, so a parallel loop costs two channel
// operations per worker and allocates nothing. A Pool runs one loop at a time;
// concurrent callers are serialised. The calling goroutine takes part in every
// loop, so a Pool of n threads starts n-1 goroutines.
type Pool struct {
	threads int
	mu      sync.Mutex // serialises loops and guards the task fields below
	wake    []chan struct{}
	done    chan struct{}

	task  Task
	n     int
	grain int
	next  atomic.Int64

	closed bool

	// Preallocated task values for the pool's own operations, so that
	// passing them as a Task does not allocate.
	mmI8      matMulI8Task
	mmI8Multi matMulI8MultiTask
	mmF32     matMulF32Task
	mmInt8Row matMulInt8RowTask
}

// NewPool starts a pool with the given number of threads; threads <= 0 means
// one per logical CPU.
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	p := &Pool{threads: threads, done: make(chan struct{}, threads)}
	p.wake = make([]chan struct{}, threads-1)
	for i := range p.wake {
		p.wake[i] = make(chan struct{}, 1)
		go p.worker(p.wake[i])
	}
	return p
}

// Threads returns the number of threads the pool runs loops on.
func (p *Pool) Threads() int { return p.threads }

// Close stops the workers. The pool must not be used afterwards.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, w := range p.wake {
		close(w)
	}
}

func (p *Pool) worker(wake chan struct{}) {
	for range wake {
		p.drain()
		p.done <- struct{}{}
	}
}

// drain claims chunks of the current loop until none are left.
func (p *Pool) drain() {
	for {
		lo := int(p.next.Add(int64(p.grain))) - p.grain
		if lo >= p.n {
			return
		}
		p.task.Run(lo, min(lo+p.grain, p.n))
	}
}

// Parallel runs t over [0, n) split into chunks shared among the threads and
// returns when every chunk is done.
func (p *Pool) Parallel(n int, t Task) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.parallelLocked(n, t)
}

// parallelLocked is Parallel for callers that hold p.mu.
func (p *Pool) parallelLocked(n int, t Task) {
	if n <= 0 {
		return
	}
	// About four chunks per thread balances uneven progress without making
	// chunks so small that claiming them costs more than running them.
	chunks := 4 * p.threads
	grain := (n + chunks - 1) / chunks
	workers := min(len(p.wake), (n+grain-1)/grain-1)
	if workers <= 0 || p.closed {
		t.Run(0, n)
		return
	}
	p.task, p.n, p.grain = t, n, grain
	p.next.Store(0)
	for _, w := range p.wake[:workers] {
		w <- struct{}{}
	}
	p.drain()
	for range workers {
		<-p.done
	}
	p.task = nil
}
