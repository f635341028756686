package kernels

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Task is a unit of parallel work: Run processes the half-open index range
// [lo, hi). A Pool calls Run concurrently on disjoint ranges.
type Task interface {
	Run(lo, hi int)
}

// spinWait is how long a thread that waits for the pool (a worker for its
// next loop, the caller for the workers to finish) polls before it parks.
// Decoding one token runs about 150 parallel loops a few tens of
// microseconds apart; waking a parked goroutine costs tens of microseconds
// each time, which left the threads 40% idle on decode-sized products. A
// short spin catches the next loop while costing little when none comes.
const spinWait = 50 * time.Microsecond

// Pool is a fixed set of worker goroutines that run parallel loops. The
// workers are started once and reused, and a loop allocates nothing. A Pool
// runs one loop at a time; concurrent callers are serialised. The calling
// goroutine takes part in every loop, so a Pool of n threads starts n-1
// goroutines. Between loops the threads spin for a few microseconds before
// they park, so back-to-back loops (a decode step) start and end quickly.
type Pool struct {
	threads int
	mu      sync.Mutex // serialises loops and guards the task fields below
	workers []*poolWorker

	task    Task
	n       int
	grain   int
	next    atomic.Int64
	ticket  uint64       // number of the current loop, handed to its workers
	pending atomic.Int32 // workers of the current loop still running
	caller  parker       // the goroutine waiting for pending to reach zero

	closed bool

	// Preallocated task values for the pool's own operations, so that
	// passing them as a Task does not allocate.
	mmI8      matMulI8Task
	mmI8Multi matMulI8MultiTask
	mmF32     matMulF32Task
	mmInt8Row matMulInt8RowTask
	mmBinary  matMulBinaryI8Task
}

// closedTicket tells a worker to exit.
const closedTicket = math.MaxUint64

// poolWorker is one worker goroutine: it runs the loop whose number it is
// handed in ticket.
type poolWorker struct {
	ticket atomic.Uint64
	parker
}

// parker lets a goroutine sleep until another wakes it, without losing a
// wake-up that races with going to sleep: the sleeper announces itself in
// parked and checks its condition again; the waker hands a token over wake
// only when it takes the announcement back.
type parker struct {
	parked atomic.Bool
	wake   chan struct{} // capacity 1
}

func newParker() parker { return parker{wake: make(chan struct{}, 1)} }

// unpark wakes the goroutine if it is parked or about to park.
func (k *parker) unpark() {
	if k.parked.Load() && k.parked.CompareAndSwap(true, false) {
		k.wake <- struct{}{}
	}
}

// await returns once ready() holds: it polls for spinWait, then parks until
// unpark. ready must become true before the matching unpark is called.
func (k *parker) await(ready func() bool) {
	start := time.Now()
	for i := 1; !ready(); i++ {
		if i%64 != 0 || time.Since(start) < spinWait {
			continue
		}
		k.parked.Store(true)
		if ready() && k.parked.CompareAndSwap(true, false) {
			return
		}
		// Either the condition is still false, or a waker took the
		// announcement first and has sent (or will send) a token.
		<-k.wake
		start = time.Now()
	}
}

// NewPool starts a pool with the given number of threads; threads <= 0 means
// one per logical CPU.
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	p := &Pool{threads: threads, caller: newParker()}
	p.workers = make([]*poolWorker, threads-1)
	for i := range p.workers {
		w := &poolWorker{parker: newParker()}
		p.workers[i] = w
		go p.work(w)
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
	for _, w := range p.workers {
		w.ticket.Store(closedTicket)
		w.unpark()
	}
}

// work is a worker goroutine: it waits for each new ticket, takes part in
// that loop and reports when done.
func (p *Pool) work(w *poolWorker) {
	var seen uint64
	for {
		w.await(func() bool { return w.ticket.Load() != seen })
		seen = w.ticket.Load()
		if seen == closedTicket {
			return
		}
		p.drain()
		if p.pending.Add(-1) == 0 {
			p.caller.unpark()
		}
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
	workers := min(len(p.workers), (n+grain-1)/grain-1)
	if workers <= 0 || p.closed {
		t.Run(0, n)
		return
	}
	p.task, p.n, p.grain = t, n, grain
	p.next.Store(0)
	p.pending.Store(int32(workers))
	p.ticket++
	for _, w := range p.workers[:workers] {
		w.ticket.Store(p.ticket)
		w.unpark()
	}
	p.drain()
	p.caller.await(func() bool { return p.pending.Load() == 0 })
	p.task = nil
}
