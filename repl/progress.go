package repl

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progressDelay is how long work runs before Progress says anything, so that
// quick loads stay silent.
const progressDelay = 400 * time.Millisecond

// Progress tells the user on w that slow work is under way: when the work
// takes longer than a moment it prints "label..." and, on a terminal, the
// seconds elapsed, then "done in 2.3s" (or "failed") when the returned
// function is called. That function must be called once, when the work ends,
// with its error.
func Progress(w io.Writer, terminal bool, label string) (done func(err error)) {
	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	shown := false
	go func() {
		defer wg.Done()
		select {
		case <-stop:
			return
		case <-time.After(progressDelay):
		}
		shown = true
		fmt.Fprintf(w, "%s...", label)
		if !terminal {
			return
		}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				fmt.Fprintf(w, "\r%s... %ds", label, int(time.Since(start).Seconds()))
			}
		}
	}()
	return func(err error) {
		close(stop)
		wg.Wait()
		if !shown {
			return
		}
		outcome := fmt.Sprintf("done in %.1fs", time.Since(start).Seconds())
		if err != nil {
			outcome = "failed"
		}
		if terminal {
			fmt.Fprintf(w, "\r%s... %s\x1b[K\n", label, outcome)
		} else {
			fmt.Fprintf(w, " %s\n", outcome)
		}
	}
}
