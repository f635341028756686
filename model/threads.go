package model

import (
	"fmt"
	"runtime"

	"github.com/bitnet-go/bitnet/kernels"
)

// SetThreads changes the number of threads the model's matrix products run
// on: 0 means one per logical CPU, at most MaxThreads (ValidateThreads). It
// replaces the worker pool, so it must not be called while a Forward or
// Generate of any session is running. Sessions made earlier keep working and
// give the same results; they split attention into as many parts as the
// model had threads when they were made.
func (m *Model) SetThreads(n int) error {
	if err := ValidateThreads(n); err != nil {
		return err
	}
	if n == 0 {
		n = min(runtime.NumCPU(), MaxThreads)
	}
	// Each new session holds attention scores for every thread.
	o := m.opts
	o.Threads = n
	if err := checkSessionMemory(&m.Config, o); err != nil {
		return fmt.Errorf("threads %d: %w", n, err)
	}
	pool := kernels.NewPool(n)
	old := m.pool
	m.pool = pool
	m.opts.Threads = pool.Threads()
	old.Close()
	return nil
}
