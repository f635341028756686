package model

import (
	"fmt"

	"github.com/bitnet-go/bitnet/kernels"
)

// SetThreads changes the number of threads the model's matrix products run
// on; n <= 0 means one per logical CPU. It replaces the worker pool, so it
// must not be called while a Forward or Generate of any session is running.
// Sessions made earlier keep working and give the same results; they split
// attention into as many parts as the model had threads when they were made.
func (m *Model) SetThreads(n int) error {
	if n > maxThreads {
		return fmt.Errorf("threads %d: at most %d", n, maxThreads)
	}
	pool := kernels.NewPool(n)
	old := m.pool
	m.pool = pool
	m.opts.Threads = pool.Threads()
	old.Close()
	return nil
}

// maxThreads bounds SetThreads so that a typing slip cannot start millions
// of goroutines.
const maxThreads = 1024
